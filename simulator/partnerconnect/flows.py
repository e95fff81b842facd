"""The Partner Connect flows: the one door through which the CLI, the web pages, scenario
replays and the pytest plugin make Databricks do something with a partner.

* :func:`connect`: a new connection (provision, call connect with
  ``is_connection_established=false``, keep or roll back), a retry of a pending one, or a sign-in
  through an established connection.
* :func:`delete_connection`: Databricks-side teardown, then the partner's delete-connection.
* the test hooks: :func:`partner_delete_connection`, :func:`test_connection`,
  :func:`delete_account`, :func:`expire_account`, :func:`list_connectors`.

Every function returns an :class:`Outcome` (never raises for partner misbehaviour); usage
errors (unknown partner, user not in workspace, ...) raise :class:`~simulator.errors.PcsimError`.
"""
from __future__ import annotations

import re
import sqlite3
import uuid
from dataclasses import asdict, dataclass, field

from .. import partners as partner_registry
from .. import workspaces
from ..context import Context
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..partners import Partner
from . import provisioning, redirects
from .client import CallResult, EndpointMissing, PartnerClient
from .plan import needs_catalog
from .wire import Violation

_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")


@dataclass
class Outcome:
    """What happened, for people (``message``, ``next_step``) and machines (everything else)."""

    ok: bool
    kind: str
    message: str
    partner: str
    workspace_id: int | None = None
    operation: str = "connect"
    established: bool | None = None
    status: int | None = None
    response: object = None
    attempts: int = 0
    connection: dict | None = None
    provisioned: dict | None = None
    redirect_uri: str | None = None
    redirect: dict | None = None
    followed: dict | None = None
    next_step: str | None = None
    violations: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    exchange_ids: list[int] = field(default_factory=list)
    notification: dict | None = None
    pages: list | None = None
    # The PAT this call minted, for the one page that may reveal it on request; never serialised.
    minted_pat: str | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("minted_pat")
        return data


# ---------------------------------------------------------------- helpers

def find_connection(ctx: Context, partner_name: str, workspace_id: int) -> dict | None:
    """The workspace's connection to the partner, or None."""
    return ctx.store.one("SELECT * FROM connections WHERE partner_name = ? AND workspace_id = ?",
                         (partner_name, workspace_id))


def get_connection(ctx: Context, partner_name: str, workspace_id: int) -> dict:
    conn = find_connection(ctx, partner_name, workspace_id)
    if conn is None:
        raise NotFound(f"no connection to {partner_name!r} in workspace {workspace_id}")
    return conn


def list_connections(ctx: Context, workspace_id: int | None = None) -> list[dict]:
    sql = ("SELECT c.*, u.email AS created_by_email FROM connections c LEFT JOIN users u ON u.id = c.created_by"
           + (" WHERE c.workspace_id = ?" if workspace_id is not None else "") + " ORDER BY c.created_at, c.id")
    rows = ctx.store.query(sql, (workspace_id,) if workspace_id is not None else ())
    for row in rows:
        row["resources"] = provisioning.load(ctx, row["id"]).summary()
    return rows


def outcome_from_call(partner: Partner, workspace_id, call: CallResult, **kw) -> Outcome:
    """An Outcome carrying what the call got (status, body, attempts, exchanges, contract findings)."""
    return Outcome(partner=partner.name, workspace_id=workspace_id, operation=call.operation,
                   status=call.status, response=call.body if call.body is not None else (call.text or None),
                   attempts=call.attempts, exchange_ids=list(call.exchange_ids),
                   violations=[v.as_dict() for v in call.errors], warnings=[v.as_dict() for v in call.warnings],
                   **kw)


def violations_text(violations: list[Violation]) -> str:
    """``field: rule (got …)`` for each violation, joined for a message."""
    return "; ".join(map(str, violations))


def add_checks(ctx: Context, call: CallResult, extra: list[Violation], passed: list[str] = ()) -> None:
    """Flow-level checks (connection_id rules, redirect host) join the call's contract checks."""
    if not extra and not passed:
        return
    call.violations.extend(extra)
    call.passed.extend(passed)
    PartnerClient(ctx).record_checks(call)


def jdbc_urls(host: str, port: int, http_path: str, ssl: bool) -> tuple[str, str]:
    """(legacy Spark JDBC URL, Databricks JDBC URL) for one HTTP path."""
    flag = 1 if ssl else 0
    legacy = f"jdbc:spark://{host}:{port}/default;transportMode=http;ssl={flag};AuthMech=3;httpPath={http_path};"
    new = f"jdbc:databricks://{host}:{port}/default;transportMode=http;ssl={flag};AuthMech=3;httpPath={http_path};"
    return legacy, new


def build_connect_payload(ctx: Context, *, partner: Partner, workspace: dict, user: dict,
                          prov: provisioning.Provisioned, established: bool, demo: bool,
                          catalog_name: str | None, destination_location: str | None,
                          connection_id: str | None = None, pat: str | None = None,
                          oauth_secret: str | None = None) -> dict:
    """The connect request body, consistent with what was provisioned for the connection."""
    host, port = ctx.public_host_port
    cloud = workspace["cloud"]
    user_info = {
        "email": user["email"], "first_name": user["first_name"], "last_name": user["last_name"],
        "databricks_user_id": workspaces.databricks_user_id(user, cloud),
        "databricks_organization_id": workspace["id"], "is_connection_established": established,
    }
    if not established and pat:
        user_info["auth"] = {"personal_access_token": pat}
    body = {
        "user_info": user_info, "hostname": host, "port": port,
        "workspace_url": f"{ctx.public_url}/?o={workspace['id']}", "workspace_id": workspace["id"],
        "demo": bool(demo), "cloud_provider": cloud, "cloud_provider_region": workspace["region"],
        "is_free_trial": bool(workspace["is_free_trial"]), "connection_scope": "workspace",
    }
    if established:
        body["connection_id"] = connection_id
    if prov.warehouse:
        http_path = f"/sql/1.0/warehouses/{prov.warehouse['id']}"
        jdbc, databricks_jdbc = jdbc_urls(host, port, http_path, ctx.public_url.startswith("https"))
        body.update(http_path=http_path, jdbc_url=jdbc, databricks_jdbc_url=databricks_jdbc,
                    cluster_id=prov.warehouse["id"], is_sql_endpoint=True, is_sql_warehouse=True)
    elif prov.cluster:
        body.update(cluster_id=prov.cluster["id"], is_sql_endpoint=False, is_sql_warehouse=False)
    if catalog_name:
        body["catalog_name"] = catalog_name
    if destination_location:
        body["destination_location"] = destination_location
    if prov.service_principal:
        body["service_principal_id"] = prov.service_principal["application_id"]
    if oauth_secret:
        body["service_principal_oauth_secret"] = oauth_secret
    if prov.oauth_u2m_app_id:
        body["oauth_u2m_app_id"] = prov.oauth_u2m_app_id
    detail = partner.config.get("test_workspace_detail")
    if detail:
        body.update(hostname=detail["hostname"], port=detail["port"], jdbc_url=detail["jdbc_url"],
                    databricks_jdbc_url=detail["databricks_jdbc_url"], http_path=detail["http_path"],
                    cluster_id=detail["cluster_id"])
    return body


def answer_checks(partner: Partner, body: dict, status: int, *, established: bool
                  ) -> tuple[list[Violation], list[str], redirects.RedirectCheck]:
    """The rules for a successful connect answer beyond its schema (which the client checked):
    ``connection_id`` with ``configured_resources``; on sign-in no ``connection_id``, exactly 200
    and ``configured_resources=false`` (warnings); the redirect host. Returns (violations, passed
    checks, redirect check)."""
    extra: list[Violation] = []
    passed: list[str] = []
    if established:
        if "connection_id" in body:
            extra.append(Violation("connection_id", "must not be returned when the connection is already "
                                   "established", repr(body["connection_id"]), "warning"))
        if status != 200:
            extra.append(Violation("status", "sign-in with an established connection must answer 200",
                                   str(status), "warning"))
        if body["configured_resources"]:
            extra.append(Violation("configured_resources", "must be false when the connection is already "
                                   "established", "true", "warning"))
        if not extra:
            passed.append("sign-in answer follows the established-connection rules")
    elif body["configured_resources"] and not body.get("connection_id"):
        extra.append(Violation("connection_id", "is required (non-empty) when configured_resources is true",
                               repr(body.get("connection_id", "absent"))))
    elif body["configured_resources"]:
        passed.append("connection_id present with configured_resources=true")
    check = redirects.check(body["redirect_uri"], partner.config.get("hostnames") or [])
    if check.allowed:
        passed.append(f"redirect: {check.reason}")
    else:
        extra.append(Violation("redirect_uri", "host must be one of the partner's hostnames", check.reason))
    return extra, passed, check


def hidden_reason(partner: Partner, workspace: dict) -> str | None:
    """Why the partner's tile is not shown in this workspace (None: it is shown)."""
    clouds = partner.config.get("supported_clouds") or []
    if workspace["cloud"] not in clouds:
        return f"does not support {workspace['cloud']}"
    if partner.self_test_workspace_id is not None and partner.self_test_workspace_id != workspace["id"]:
        return "self-test partner of another workspace"
    return None


def _check_partner_visible(partner: Partner, workspace: dict) -> None:
    reason = hidden_reason(partner, workspace)
    if reason and reason.startswith("does not support"):
        clouds = ", ".join(partner.config.get("supported_clouds") or [])
        raise Invalid(f"partner {partner.name!r} does not support {workspace['cloud']} "
                      f"(supported_clouds: {clouds}); workspace {workspace['id']} is on {workspace['cloud']}")
    if reason:
        raise NotFound(f"self-test partner {partner.name!r} is only visible in workspace "
                       f"{partner.self_test_workspace_id}")


def choose_catalog(ctx: Context, partner: Partner, workspace: dict, catalog: str | None) -> str | None:
    """The catalog to grant: the one asked for (it must exist), else the first one when the partner needs data."""
    available = workspaces.catalogs(ctx, workspace["id"])
    if catalog is not None:
        if catalog not in available:
            raise Invalid(f"catalog {catalog!r} does not exist in workspace {workspace['id']} "
                          f"(available: {', '.join(available)})")
        return catalog
    return available[0] if needs_catalog(partner) else None


def _check_destination(partner: Partner, destination_location: str | None) -> None:
    if destination_location is None:
        return
    if "DestLocation" not in partner.resource_types:
        raise Invalid(f"partner {partner.name!r} does not take a destination location "
                      "(no DestLocation in resources_to_provision)")
    if not _URI.match(destination_location):
        raise Invalid(f"destination location must be a URI such as s3://bucket/path, got {destination_location!r}")


# ---------------------------------------------------------------- connect

def connect(ctx: Context, *, partner_name: str, workspace_id: int, user_email: str, demo: bool = False,
            catalog: str | None = None, destination_location: str | None = None,
            follow_redirect: bool = False) -> Outcome:
    """What "Connect to <partner>" does for this user in this workspace."""
    partner = partner_registry.get(ctx, partner_name)
    workspace = workspaces.get_workspace(ctx, workspace_id)
    user = workspaces.membership(ctx, workspace_id, user_email)
    _check_partner_visible(partner, workspace)
    if "connect_path" not in partner.endpoints:
        raise Invalid(f"partner {partner.name!r} has no connect endpoint")
    if demo and not partner.config.get("supports_demo"):
        raise Invalid(f"partner {partner.name!r} does not support the demo flag (supports_demo is not true)")
    conn = find_connection(ctx, partner.name, workspace_id)
    if conn and conn["status"] == "active":
        return _sign_in(ctx, partner, workspace, user, conn, demo, follow_redirect)
    if conn and conn["status"] == "stale":
        return Outcome(False, "connection_stale", f"The connection to {partner.name} is stale: the partner no "
                       "longer knows it. Delete the connection and create it again.", partner.name, workspace_id,
                       established=True, connection=conn)
    if not user["is_admin"] and "NON_ADMIN" not in (partner.config.get("supported_features") or []):
        raise Forbidden(f"{user['email']} is not an admin of workspace {workspace_id}; only admins can create a "
                        f"connection to {partner.name} (the partner does not list NON_ADMIN in supported_features)")
    if conn:  # pending: an earlier attempt kept the resources; try again with fresh credentials
        catalog_name, destination_location = conn["catalog_name"], conn["destination_location"]
        with ctx.store.atomic() as db:
            pat, oauth_secret = provisioning.rotate_credentials(ctx, db, partner=partner, connection_id=conn["id"])
        prov = provisioning.load(ctx, conn["id"])
        prov.pat, prov.oauth_secret = pat, oauth_secret
        return _new_connection(ctx, partner, workspace, user, conn["id"], prov, conn["demo"], catalog_name,
                               destination_location, follow_redirect)
    catalog_name = choose_catalog(ctx, partner, workspace, catalog)
    _check_destination(partner, destination_location)
    with ctx.store.atomic() as db:
        try:
            db["connections"].insert({
                "partner_name": partner.name, "workspace_id": workspace_id, "partner_connection_id": None,
                "status": "pending", "status_message": "connecting", "created_by": user["id"],
                "created_at": ctx.clock.now(), "catalog_name": catalog_name,
                "destination_location": destination_location, "demo": int(demo)})
        except sqlite3.IntegrityError as exc:  # the UNIQUE(partner, workspace) constraint: someone else was faster
            raise Conflict(f"a connection to {partner.name} in workspace {workspace_id} already exists") from exc
        connection_id = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        prov = provisioning.provision(ctx, db, partner=partner, workspace=workspace, connection_id=connection_id,
                                      catalog_name=catalog_name)
    return _new_connection(ctx, partner, workspace, user, connection_id, prov, demo, catalog_name,
                           destination_location, follow_redirect)


def _rollback(ctx: Context, connection_id: int) -> None:
    with ctx.store.atomic() as db:
        provisioning.deprovision(ctx, db, connection_id)
        db.execute("DELETE FROM connections WHERE id = ?", (connection_id,))


def _new_connection(ctx, partner, workspace, user, connection_id, prov, demo, catalog_name,
                    destination_location, follow_redirect) -> Outcome:
    body = build_connect_payload(ctx, partner=partner, workspace=workspace, user=user, prov=prov,
                                 established=False, demo=demo, catalog_name=catalog_name,
                                 destination_location=destination_location, pat=prov.pat,
                                 oauth_secret=prov.oauth_secret)
    call = PartnerClient(ctx).call(partner, "connect", body, language=user["language"],
                                   workspace_id=workspace["id"], flow_id=uuid.uuid4().hex)
    summary = prov.summary()
    common = dict(established=False, provisioned=summary)
    sign_up = partner.config.get("sign_up_page")

    if call.error or (call.status is not None and call.status >= 500):
        with ctx.store.atomic() as db:
            db["connections"].update(connection_id, {"status": "pending",
                                                     "status_message": f"partner failed: {call.describe_failure()}"})
        shown = f" The partner says: {call.display_message}" if call.display_message else ""
        out = outcome_from_call(partner, workspace["id"], call, ok=False, kind="partner_unavailable",
                                message=f"{partner.name} did not complete the connection "
                                        f"({call.describe_failure()}).{shown} The provisioned resources were kept: "
                                        "retry the connection, or delete it to remove them.",
                                next_step=f"Sign in at {sign_up}" if sign_up else None, **common)
        out.connection = ctx.store.one("SELECT * FROM connections WHERE id = ?", (connection_id,))
        return out

    if not call.succeeded or call.errors:
        _rollback(ctx, connection_id)
        kind, message = _failure_message(partner, call)
        return outcome_from_call(partner, workspace["id"], call, ok=False, kind=kind,
                                 message=message + " Databricks removed the resources it had provisioned.", **common)

    response = call.body
    extra, passed, check = answer_checks(partner, response, call.status, established=False)
    add_checks(ctx, call, extra, passed)

    if any(v.field == "connection_id" for v in extra):
        _rollback(ctx, connection_id)
        return outcome_from_call(partner, workspace["id"], call, ok=False, kind="contract_violation",
                                 message=f"{partner.name} broke the contract: {violations_text(extra[:1])}. "
                                         "Databricks removed the resources it had provisioned.", **common)
    if not response["configured_resources"]:
        _rollback(ctx, connection_id)
        kind, message = "not_configured", (f"{partner.name} did not configure the Databricks resources "
                                           "(configured_resources=false); Databricks deleted what it had provisioned "
                                           "and stored no connection.")
        connection = None
    else:
        with ctx.store.atomic() as db:
            db["connections"].update(connection_id, {"status": "active", "status_message": None,
                                                     "partner_connection_id": response["connection_id"]})
        connection = ctx.store.one("SELECT * FROM connections WHERE id = ?", (connection_id,))
        kind, message = "connected", f"Connected to {partner.name} (partner connection id {response['connection_id']})."
    out = _finish(ctx, partner, workspace, call, check, kind, message, connection, follow_redirect, **common)
    out.minted_pat = prov.pat if connection is not None else None
    return out


def _finish(ctx, partner, workspace, call, check, kind, message, connection, follow_redirect, **common) -> Outcome:
    response = call.body
    ok = check.allowed
    if not check.allowed:
        message += f" The redirect was blocked: {check.reason}."
        kind = "redirect_blocked"
    out = outcome_from_call(partner, workspace["id"], call, ok=ok, kind=kind, message=message,
                            connection=connection, redirect_uri=response["redirect_uri"], redirect=asdict(check),
                            **common)
    if follow_redirect and check.allowed:
        followed = redirects.follow(ctx.session, response["redirect_uri"], ctx.settings.redirect_timeout_s)
        out.followed = asdict(followed)
        if not followed.ok:
            out.ok = False
            out.message += f" Opening the redirect failed: {followed.message}."
    return out


def _failure_message(partner: Partner, call: CallResult) -> tuple[str, str]:
    if call.errors and call.succeeded:
        return "contract_violation", f"{partner.name} broke the contract: {violations_text(call.errors)}."
    status = call.status
    detail = f" ({call.display_message})" if call.display_message else ""
    if status == 401:
        return "rejected", f"{partner.name} rejected Databricks' credentials (HTTP 401){detail}."
    if status == 400:
        return "rejected", f"{partner.name} rejected the request as bad (HTTP 400){detail}."
    if status == 404:
        return "rejected", f"{partner.name} answered 404 {call.error_reason or ''}{detail}.".replace(" .", ".")
    text = f"{partner.name} answered HTTP {status}{detail}."
    if call.errors:
        text += f" Contract: {violations_text(call.errors)}."
    return "rejected", text


def _sign_in(ctx, partner, workspace, user, conn, demo, follow_redirect) -> Outcome:
    prov = provisioning.load(ctx, conn["id"])
    body = build_connect_payload(ctx, partner=partner, workspace=workspace, user=user, prov=prov,
                                 established=True, demo=demo, catalog_name=conn["catalog_name"],
                                 destination_location=conn["destination_location"],
                                 connection_id=conn["partner_connection_id"])
    call = PartnerClient(ctx).call(partner, "connect", body, language=user["language"],
                                   workspace_id=workspace["id"], flow_id=uuid.uuid4().hex)
    common = dict(established=True, connection=conn, provisioned=prov.summary())
    sign_up = partner.config.get("sign_up_page")
    if call.error or (call.status is not None and call.status >= 500):
        shown = f" The partner says: {call.display_message}" if call.display_message else ""
        return outcome_from_call(partner, workspace["id"], call, ok=False, kind="partner_unavailable",
                                 message=f"{partner.name} could not sign you in ({call.describe_failure()}).{shown}",
                                 next_step=f"Sign in at {sign_up}" if sign_up else None, **common)
    if call.status == 404 and call.error_reason == "connection_not_found":
        with ctx.store.atomic() as db:
            db["connections"].update(conn["id"], {"status": "stale",
                                                  "status_message": "partner answered connection_not_found"})
        common["connection"] = ctx.store.one("SELECT * FROM connections WHERE id = ?", (conn["id"],))
        return outcome_from_call(partner, workspace["id"], call, ok=False, kind="connection_stale",
                                 message=f"{partner.name} no longer knows this connection (connection_not_found). "
                                         "Delete the connection and create it again.", **common)
    if call.status == 404 and call.error_reason == "account_not_found":
        shown = call.display_message or f"{partner.name} has no account for you."
        return outcome_from_call(partner, workspace["id"], call, ok=False, kind="account_not_found",
                                 message=f"{shown} Contact your admin.", **common)
    if not call.succeeded or call.errors:
        kind, message = _failure_message(partner, call)
        return outcome_from_call(partner, workspace["id"], call, ok=False, kind=kind, message=message, **common)
    response = call.body
    warnings, passed, check = answer_checks(partner, response, call.status, established=True)
    add_checks(ctx, call, warnings, passed)
    message = f"Signed in to {partner.name} through the existing connection ({response['redirect_value']})."
    shown = [w for w in warnings if w.severity == "warning"]
    if shown:
        message += f" Contract warnings: {violations_text(shown)}."
    common.pop("connection")
    return _finish(ctx, partner, workspace, call, check, "signed_in", message, conn, follow_redirect, **common)


# ---------------------------------------------------------------- delete connection

def delete_connection(ctx: Context, *, partner_name: str, workspace_id: int, user_email: str | None = None) -> Outcome:
    """Databricks-side teardown first (it always stands), then notify the partner."""
    partner = partner_registry.get(ctx, partner_name)
    workspace = workspaces.get_workspace(ctx, workspace_id)
    conn = get_connection(ctx, partner.name, workspace_id)
    language = "en-US"
    if user_email:  # acting as a user (browser, CLI --user): only workspace admins delete connections
        user = workspaces.membership(ctx, workspace_id, user_email)
        if not user["is_admin"]:
            raise Forbidden(f"{user_email} is not an admin of workspace {workspace_id}; only admins can delete "
                            f"the connection to {partner.name}")
        language = user["language"]
    with ctx.store.atomic() as db:
        provisioning.deprovision(ctx, db, conn["id"])
        db.execute("DELETE FROM connections WHERE id = ?", (conn["id"],))
    base = f"Deleted the connection to {partner.name} in workspace {workspace_id} and its Databricks resources."
    out = Outcome(True, "deleted", base, partner.name, workspace_id, operation="delete_connection", connection=conn)
    if not conn["partner_connection_id"]:
        out.message += " The partner was not notified: it never confirmed a connection id."
        return out
    if "delete_connection_path" not in partner.endpoints:
        out.message += " The partner has no delete-connection endpoint to notify."
        return out
    call = PartnerClient(ctx).call(partner, "delete_connection", {
        "connection_id": conn["partner_connection_id"], "cloud_provider": workspace["cloud"],
        "databricks_organization_id": workspace_id}, language=language, workspace_id=workspace_id,
        flow_id=uuid.uuid4().hex)
    result = outcome_from_call(partner, workspace_id, call, ok=True, kind="deleted", message=base,
                               connection=conn)
    if call.succeeded and not call.errors:
        status = call.body["resource_status"]
        result.notification = {"ok": True, "resource_status": status}
        result.message += f" {partner.name} answered {status}."
    elif call.status == 404:
        result.notification = {"ok": True, "resource_status": None}
        result.message += f" {partner.name} had already removed the connection (404)."
    else:
        reason = violations_text(call.errors) if call.succeeded else call.describe_failure()
        result.ok = False
        result.kind = "deleted_partner_not_notified"
        result.notification = {"ok": False, "error": reason}
        result.message += f" Notifying {partner.name} failed ({reason}); the Databricks-side deletion stands."
    return result


# ---------------------------------------------------------------- test hooks

def _hook(ctx: Context, partner: Partner, operation: str, body: dict | None, workspace_id: int | None,
          describe_ok, query: dict | None = None) -> Outcome:
    try:
        call = PartnerClient(ctx).call(partner, operation, body, query=query, workspace_id=workspace_id,
                                       flow_id=uuid.uuid4().hex)
    except EndpointMissing as exc:
        raise Invalid(str(exc)) from None
    ok = call.succeeded and not call.errors
    if ok:
        message = describe_ok(call)
    elif call.succeeded:
        message = f"{partner.name} broke the contract: {violations_text(call.errors)}"
    else:
        message = f"{partner.name} answered {call.describe_failure()}" + (
            f": {call.display_message}" if call.display_message else "")
    return outcome_from_call(partner, workspace_id, call, ok=ok, kind=operation if ok else "failed", message=message)


def _resolve_partner_connection(ctx, partner, workspace_id, connection_id):
    if connection_id:
        return connection_id
    if workspace_id is None:
        raise Invalid("give a workspace (to use its connection) or a partner connection id")
    conn = get_connection(ctx, partner.name, workspace_id)
    if not conn["partner_connection_id"]:
        raise Invalid(f"the connection to {partner.name} in workspace {workspace_id} has no partner connection id yet")
    return conn["partner_connection_id"]


def partner_delete_connection(ctx: Context, *, partner_name: str, workspace_id: int | None = None,
                              connection_id: str | None = None) -> Outcome:
    """The partner's delete-connection endpoint alone (test hook): Databricks keeps its side."""
    partner = partner_registry.get(ctx, partner_name)
    if "delete_connection_path" not in partner.endpoints:
        raise Invalid(f"partner {partner.name!r} has no endpoints.delete_connection_path in its config")
    cid = _resolve_partner_connection(ctx, partner, workspace_id, connection_id)
    if workspace_id is None:  # find the workspace from the stored connection, if Databricks knows it
        row = ctx.store.one("SELECT workspace_id FROM connections WHERE partner_name = ? AND partner_connection_id = ?",
                            (partner.name, cid))
        if row is None:
            raise Invalid(f"no connection of {partner.name} has partner connection id {cid!r}; "
                          "give --workspace to say which workspace it belongs to")
        workspace_id = row["workspace_id"]
    cloud = workspaces.get_workspace(ctx, workspace_id)["cloud"]
    body = {"connection_id": cid, "cloud_provider": cloud, "databricks_organization_id": workspace_id}
    return _hook(ctx, partner, "delete_connection", body, workspace_id,
                 lambda c: f"{partner.name} deleted connection {cid}: {c.body['resource_status']}")


def test_connection(ctx: Context, *, partner_name: str, workspace_id: int | None = None,
                    connection_id: str | None = None) -> Outcome:
    partner = partner_registry.get(ctx, partner_name)
    cid = _resolve_partner_connection(ctx, partner, workspace_id, connection_id)

    def ok(call):
        results = ", ".join(f"{r['test_name']}={r['status']}" for r in call.body["test_results"]) or "no results"
        return f"test-connection for {cid}: {results}"
    return _hook(ctx, partner, "test_connection", {"connection_id": cid}, workspace_id, ok)


def delete_account(ctx: Context, *, partner_name: str, domain: str, workspace_id: int) -> Outcome:
    partner = partner_registry.get(ctx, partner_name)
    workspace = workspaces.get_workspace(ctx, workspace_id)
    body = {"domain": domain, "cloud_provider": workspace["cloud"], "databricks_organization_id": workspace_id}
    return _hook(ctx, partner, "delete_account", body, workspace_id,
                 lambda c: f"{partner.name} deleted the account of {domain}")


def expire_account(ctx: Context, *, partner_name: str, email: str, workspace_id: int) -> Outcome:
    partner = partner_registry.get(ctx, partner_name)
    workspace = workspaces.get_workspace(ctx, workspace_id)
    user = workspaces.get_user(ctx, email)
    body = {"email": email, "databricks_user_id": workspaces.databricks_user_id(user, workspace["cloud"]),
            "cloud_provider": workspace["cloud"], "databricks_organization_id": workspace_id}
    return _hook(ctx, partner, "expire_account", body, workspace_id,
                 lambda c: f"{partner.name} expired the account of {email}")


def list_connectors(ctx: Context, *, partner_name: str, max_pages: int | None = None) -> Outcome:
    """GET connectors, following ``pagination_token`` (bounded by ``max_pages``)."""
    partner = partner_registry.get(ctx, partner_name)
    limit = max_pages or ctx.settings.max_connector_pages
    pages, token, seen, exchange_ids = [], None, set(), []
    last = None
    for _ in range(limit):
        last = _hook(ctx, partner, "connectors", None, None,
                     lambda c: f"page of {len(c.body['connectors'])} connector(s)",
                     query={"pagination_token": token} if token else None)
        exchange_ids += last.exchange_ids
        if not last.ok:
            break
        pages.append(last.response)
        token = last.response.get("pagination_token")
        if not token:
            break
        if token in seen:
            last.ok, last.kind = False, "failed"
            last.message = f"{partner.name} returned pagination_token {token!r} twice: pagination would never end"
            break
        seen.add(token)
    assert last is not None
    total = sum(len(p["connectors"]) for p in pages)
    if last.ok:
        last.message = f"{total} connector(s) on {len(pages)} page(s)"
        if token:
            last.message += f" (stopped after {limit} pages; more remain)"
    last.pages = pages
    last.exchange_ids = exchange_ids  # every page's calls, not just the last one
    return last


test_connection.__test__ = False  # not a pytest test, despite the name
