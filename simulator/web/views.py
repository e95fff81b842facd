"""The routes of the browser pages. Each view reads the identity, calls a flow or a registry, renders.

Routes:

* ``GET /`` the gallery (``?q=`` search); ``GET|POST /whoami`` choose the workspace and user;
* ``GET /partnerconnect/<name>`` the tile dialog; ``POST …/connect`` "Connect to <partner>";
  ``GET|POST …/delete`` delete the connection (with a confirmation page);
  ``GET …/connection-file?compute=ID`` a desktop partner's connection file;
  ``POST …/starter-warehouse`` give the workspace a warehouse to pick;
* ``GET /exchanges`` (``?partner=&workspace=&last=``) and ``GET /exchanges/<id>``.
"""
from __future__ import annotations

import functools

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for

from .. import exchanges as exchange_log
from .. import partners as partner_registry
from .. import workspaces
from ..context import Context
from ..errors import Conflict, Forbidden, Invalid, NotFound, PcsimError
from ..partnerconnect import desktop, flows
from ..partnerconnect.plan import needs_catalog, plan
from . import filters, gallery, identity

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/-/web-static")
filters.register(bp)

STATUS_FOR = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 400}


def _ctx() -> Context:
    return current_app.config["PCSIM_CONTEXT"]


def _status(exc: PcsimError) -> int:
    return next((code for cls, code in STATUS_FOR.items() if isinstance(exc, cls)), 400)


@bp.before_request
def _load_identity():
    g.me = None if request.endpoint == "web.static" else identity.current(_ctx())


@bp.context_processor
def _common():
    return {"me": g.get("me"), "identity_choices": identity.choices(_ctx()) if g.get("me") else []}


@bp.errorhandler(PcsimError)
def _usage_error(exc: PcsimError):
    return render_template("web/error.html", error=str(exc)), _status(exc)


@bp.errorhandler(OverflowError)
def _number_out_of_range(exc: OverflowError):
    """A number SQLite cannot store that no view checked: the request's fault, said on the page."""
    current_app.logger.warning("number out of range on %s %s: %s", request.method, request.path, exc)
    return render_template("web/error.html", error=f"a number in the address or form is out of range: ids are "
                                                   f"64-bit integers (at most {workspaces.INT64_MAX})"), 400


def needs_identity(view):
    """Pages that act as someone: without an identity, go and choose one first."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.me is None:  # after choosing, come back here (a form post cannot be replayed: the gallery)
            back = request.full_path.rstrip("?") if request.method == "GET" else url_for("web.gallery_page")
            return redirect(url_for("web.whoami", next=back))
        return view(*args, **kwargs)
    return wrapper


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else url_for("web.gallery_page")


# ---------------------------------------------------------------- who am I

@bp.route("/whoami", methods=["GET", "POST"])
def whoami():
    """Pick the workspace and the member to act as; one button per choice."""
    error, status = None, 200
    if request.method == "POST":
        try:
            chosen = identity.resolve(_ctx(), *identity.parse_token(request.form.get("identity")))
        except PcsimError as exc:
            error, status = str(exc), _status(exc)
        else:
            identity.remember(chosen)
            return redirect(_safe_next(request.form.get("next")))
    return render_template("web/whoami.html", choices=identity.choices(_ctx()), error=error,
                           next=request.values.get("next", "")), status


# ---------------------------------------------------------------- gallery

@bp.get("/")
def gallery_page():
    """The Partner Connect gallery of the current workspace. ``?o=<id>`` switches workspace when the
    current user is a member of it (the workspace URL Databricks sends partners looks like that)."""
    ctx = _ctx()
    wanted = request.args.get("o")
    if wanted and (g.me is None or wanted != str(g.me.workspace_id)):
        if g.me is not None:
            try:
                identity.remember(identity.resolve(ctx, *identity.parse_token(f"{wanted}:{g.me.email}")))
                return redirect(url_for("web.gallery_page"))
            except PcsimError:
                pass
        return redirect(url_for("web.whoami", next=url_for("web.gallery_page")))
    if g.me is None:
        return redirect(url_for("web.whoami"))
    query = request.args.get("q", "")
    groups, hidden = gallery.tiles(ctx, g.me.workspace, query)
    return render_template("web/gallery.html", groups=groups, hidden=hidden, query=query)


# ---------------------------------------------------------------- tile dialog

def _visible_partner(name: str):
    partner = partner_registry.get(_ctx(), name)
    reason = gallery.hidden_reason(partner, g.me.workspace)
    if reason:
        raise NotFound(f"{partner.name} is not available in workspace {g.me.workspace_id} ({reason})")
    return partner


def _connection(partner_name: str) -> dict | None:
    return next((c for c in flows.list_connections(_ctx(), g.me.workspace_id) if c["partner_name"] == partner_name),
                None)


def _dialog(partner, *, error: str | None = None, status: int = 200, form=None):
    ctx = _ctx()
    form = form if form is not None else request.values
    connection = _connection(partner.name)
    context = {"partner": partner, "connection": connection, "error": error, "form": form,
               "desktop": desktop.is_desktop(partner)}
    if context["desktop"]:
        context["compute"] = desktop.compute(ctx, g.me.workspace_id)
    else:
        catalogs = workspaces.catalogs(ctx, g.me.workspace_id)
        chosen = form.get("catalog") if form.get("catalog") in catalogs else None
        if needs_catalog(partner) and chosen is None:
            chosen = catalogs[0]
        context.update(catalogs=catalogs, plan=plan(partner, g.me.workspace, chosen))
    return render_template("web/dialog.html", **context), status


@bp.get("/partnerconnect/<name>")
@needs_identity
def dialog(name):
    """Step 1 (what will be provisioned), or the connected tile's details, or a desktop tool's file."""
    return _dialog(_visible_partner(name))


def _revealable_pat(outcome: flows.Outcome) -> str | None:
    """The PAT minted by this connect (the store keeps only its hash, so this result page is the
    only place it can be revealed, and only on an explicit click)."""
    return outcome.minted_pat if (outcome.connection or {}).get("status") == "active" else None


def _no_store(response) -> Response:
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/partnerconnect/<name>/connect")
@needs_identity
def connect(name):
    """Step 2, "Connect to <partner>": the same flow as ``pcsim connect``; the page shows its outcome."""
    partner = _visible_partner(name)
    form = request.form
    try:
        outcome = flows.connect(_ctx(), partner_name=partner.name,
                                workspace_id=g.me.workspace_id, user_email=g.me.email,
                                demo=form.get("demo") == "on", catalog=form.get("catalog") or None,
                                destination_location=(form.get("destination_location") or "").strip() or None)
    except PcsimError as exc:
        return _dialog(partner, error=str(exc), status=_status(exc), form=form)
    return _no_store(render_template("web/result.html", partner=partner, outcome=outcome,
                                     pat=_revealable_pat(outcome),
                                     partner_says=_partner_says(outcome)))


def _partner_says(outcome: flows.Outcome) -> str | None:
    """The partner's own display_message, when the outcome's message does not quote it already."""
    body = outcome.response if isinstance(outcome.response, dict) else {}
    shown = body.get("display_message") if not outcome.ok else None
    return shown if isinstance(shown, str) and shown and shown not in outcome.message else None


@bp.route("/partnerconnect/<name>/delete", methods=["GET", "POST"])
@needs_identity
def delete(name):
    """GET: the confirmation; POST: Databricks-side teardown, then the partner is notified."""
    partner = _visible_partner(name)
    if request.method == "GET":
        connection = _connection(partner.name)
        if connection is None:
            raise NotFound(f"there is no connection to {partner.name} in workspace {g.me.workspace_id}")
        return render_template("web/delete.html", partner=partner, connection=connection)
    outcome = flows.delete_connection(_ctx(), partner_name=partner.name, workspace_id=g.me.workspace_id,
                                      user_email=g.me.email)
    return render_template("web/deleted.html", partner=partner, outcome=outcome)


@bp.get("/partnerconnect/<name>/connection-file")
@needs_identity
def connection_file(name):
    """A desktop partner's connection file for the chosen warehouse or cluster (no secrets)."""
    partner = _visible_partner(name)
    try:
        filename, content_type, data = desktop.connection_file(_ctx(), partner.name, g.me.workspace_id,
                                                               request.args.get("compute", ""))
    except PcsimError as exc:
        return _dialog(partner, error=str(exc), status=_status(exc))
    return Response(data, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/partnerconnect/<name>/starter-warehouse")
@needs_identity
def starter_warehouse(name):
    """Give the workspace a "Starter Warehouse" (not a Partner Connect resource) to pick from."""
    partner = _visible_partner(name)
    desktop.ensure_starter_warehouse(_ctx(), g.me.workspace_id)
    return redirect(url_for("web.dialog", name=partner.name))


# ---------------------------------------------------------------- exchanges

@bp.get("/exchanges")
def exchanges_page():
    """Calls to partners, newest first, filterable by partner and workspace."""
    ctx = _ctx()
    error = None
    partner = request.args.get("partner") or None
    workspace_raw = (request.args.get("workspace") or "").strip()
    workspace_id, last = None, 50
    try:
        workspace_id = int(workspace_raw) if workspace_raw else None
        last = max(1, min(int(request.args.get("last") or 50), 1000))
    except ValueError:
        error = f"workspace and last must be whole numbers (got workspace={workspace_raw!r}, " \
                f"last={request.args.get('last')!r}); showing the latest 50 of every workspace"
        workspace_id = None
    if workspace_id is not None and not workspaces.is_int64_id(workspace_id):
        error = f"workspace ids are positive 64-bit integers (at most {workspaces.INT64_MAX}), " \
                f"got {workspace_raw}; showing the latest {last} of every workspace"
        workspace_id = None
    rows = exchange_log.recent(ctx, last=last, partner=partner, workspace_id=workspace_id)
    return render_template("web/exchanges.html", rows=rows, error=error, partner=partner,
                           workspace_id=workspace_id, last=last,
                           partner_names=[p.name for p in partner_registry.list_partners(ctx)],
                           workspace_list=workspaces.list_workspaces(ctx))


@bp.get("/exchanges/<int:exchange_id>")
def exchange_page(exchange_id):
    row = exchange_log.get(_ctx(), exchange_id) if exchange_id <= workspaces.INT64_MAX else None
    if row is None:
        raise NotFound(f"no exchange with id {exchange_id}")
    return render_template("web/exchange.html", row=row)
