"""``pcsim``: the command line, a thin skin over the flow functions and the registries.

Exit codes: 0 the flow succeeded; 1 the partner failed or broke the contract (the message says
which); 2 usage errors (bad flags, unknown partner/workspace/user, invalid config files).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import click

from . import __version__, exchanges, fixtures, partners, workspaces
from .context import Context, Settings
from .errors import PcsimError
from .partnerconnect import flows
from .store import DEFAULT_DB, Store


class Abort(click.ClickException):
    """A usage error: printed as ``Error: …`` with exit code 2."""

    exit_code = 2


class Int64Id(click.ParamType):
    """A workspace (or other) id: a positive 64-bit integer, as Databricks' ids are; anything larger
    could not be stored (SQLite's INTEGER) and could not exist."""

    name = "ID"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip(), 10)
            except ValueError:
                self.fail(f"{value!r} is not a whole number", param, ctx)
        if not 1 <= number <= workspaces.INT64_MAX:
            self.fail(f"must be a positive 64-bit integer (1 to {workspaces.INT64_MAX}), got {value}", param, ctx)
        return number


class HttpUrl(click.ParamType):
    """An absolute http(s) URL with a host, e.g. ``http://127.0.0.1:8000``."""

    name = "URL"

    def convert(self, value, param, ctx):
        try:
            parts = urlsplit(str(value).strip())
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError as exc:
            self.fail(f"{value!r} is not a valid URL ({exc})", param, ctx)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.fail(f"{value!r} is not an absolute http(s) URL (e.g. http://127.0.0.1:8000)", param, ctx)
        return str(value).strip()


ID = Int64Id()
PORT = click.IntRange(0, 65535)
URL = HttpUrl()


def check_db_path(db: str) -> None:
    """A state file may be created, but not its directory: a typo must not scatter directories."""
    if db == ":memory:":
        return
    parent = Path(os.path.abspath(os.path.expanduser(db))).parent
    if not parent.exists():
        raise Abort(f"cannot use state file {db}: directory {parent} does not exist; create it first")
    if not parent.is_dir():
        raise Abort(f"cannot use state file {db}: {parent} is not a directory")


def make_context(db: str, public_url: str | None = None, seed: bool = True) -> Context:
    check_db_path(db)
    try:
        ctx = Context(store=Store(db), settings=Settings(public_url=public_url))
    except Exception as exc:  # unreadable path, not a database, ...
        raise Abort(f"cannot open state database {db!r}: {exc}") from None
    if seed:
        fixtures.ensure_seeded(ctx)
    return ctx


db_option = click.option("--db", "db", envvar="PCSIM_DB", default=DEFAULT_DB, show_default=True,
                         help="SQLite state file (env PCSIM_DB).")


def common(func=None, *, seed: bool = True):
    """``--db`` (or ``PCSIM_DB``) on every command; PcsimError becomes a clean exit 2. A brand-new
    state file gets the bundled seed data first, unless ``seed=False``."""
    if func is None:
        return functools.partial(common, seed=seed)

    @db_option
    @functools.wraps(func)
    def wrapper(*args, db, **kwargs):
        ctx = make_context(db, kwargs.pop("public_url", None), seed=seed)
        try:
            return func(ctx, *args, **kwargs)
        except PcsimError as exc:
            raise Abort(str(exc)) from None
    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


def emit_json(value) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def report(outcome: flows.Outcome, as_json: bool) -> None:
    """Print an outcome and exit 0 (ok) or 1 (the partner failed or broke the contract)."""
    if as_json:
        emit_json(outcome.as_dict())
    else:
        mark = "OK" if outcome.ok else "FAILED"
        click.echo(f"{mark}: {outcome.message}")
        if outcome.status is not None or outcome.attempts:
            click.echo(f"  partner answered: {outcome.status if outcome.status is not None else 'no answer'}"
                       f" after {outcome.attempts} attempt(s)")
        if outcome.provisioned:
            for key, value in outcome.provisioned.items():
                if value:
                    click.echo(f"  {key}: {value}")
        if outcome.redirect_uri:
            verdict = "allowed" if (outcome.redirect or {}).get("allowed") else "BLOCKED"
            click.echo(f"  redirect ({verdict}): {outcome.redirect_uri}")
        if outcome.followed:
            click.echo(f"  followed: {outcome.followed['message']}")
        for v in outcome.violations:
            click.echo(f"  contract violation: {v['field']}: {v['rule']} (got {v['got']})")
        for v in outcome.warnings:
            click.echo(f"  contract warning: {v['field']}: {v['rule']} (got {v['got']})")
        if outcome.next_step:
            click.echo(f"  next step: {outcome.next_step}")
        if outcome.exchange_ids:
            click.echo(f"  exchanges: {', '.join(map(str, outcome.exchange_ids))} (see `pcsim exchanges`)")
    sys.exit(0 if outcome.ok else 1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pcsim")
def main():
    """Partner Connect Simulator: the Databricks side of Partner Connect, on your machine."""


# ---------------------------------------------------------------- servers

@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=PORT, help="Port (0 picks a free one).")
@click.option("--public-url", type=URL,
              help="Base URL partners use to reach the simulator, http(s)://host[:port] (default: the bound URL).")
@db_option
@click.option("--https", "https", is_flag=True,
              help="Serve TLS with a local test CA (written next to the state file, in .pcsim-tls/).")
@click.option("--transitions", type=click.Choice(["immediate", "delayed", "manual"]), default="immediate",
              show_default=True, help="How warehouse/cluster state changes happen (see /-/settings/transitions).")
@click.option("--transition-delay", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Seconds a transition takes with --transitions delayed.")
@click.option("--clock", "clock_mode", type=click.Choice(["real", "manual"]), default="real", show_default=True,
              help="Simulated time: real, or manual (moves only on POST /-/clock/advance).")
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True),
              help="Accelerated time: N simulated seconds per real second (60: a 5-minute cluster start takes 5 s).")
def serve(host, port, public_url, db, https, transitions, transition_delay, clock_mode, time_scale):
    """Run the simulator's HTTP server: the browser pages, the workspace API, the control API (/-/)."""
    from .clock import ManualClock, RealClock, ScaledClock
    from .httpserver import ServerThread
    from .server import create_app

    if clock_mode == "manual" and time_scale:
        raise Abort("--clock manual and --time-scale exclude each other")
    ctx = make_context(db)
    ctx.settings.transitions, ctx.settings.transition_delay_s = transitions, transition_delay
    if clock_mode == "manual" or time_scale:
        ctx.clock = ManualClock(start=time.time()) if clock_mode == "manual" else ScaledClock(time_scale)
        ctx.wall_clock = RealClock()  # partners check signature timestamps against real time
    ssl_context = ca_path = None
    if https:
        from .tls import ssl_context_for
        state_dir = Path.cwd() if db == ":memory:" else Path(db).resolve().parent
        ssl_context, ca_path = ssl_context_for(state_dir, extra_names=(host,))
    try:
        server = ServerThread(create_app(ctx), host, port, ssl_context=ssl_context)
    except OSError as exc:
        raise Abort(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    ctx.store.set_meta("public_url", public_url or server.url)
    click.echo(f"Simulator listening on {server.url} (state: {db}); Ctrl-C stops it.")
    if clock_mode == "manual" or time_scale:
        click.echo("Clock: manual (POST /-/clock/advance {\"seconds\": N})" if clock_mode == "manual"
                   else f"Clock: {time_scale:g}x real time")
    if ca_path:
        click.echo(f"TLS CA bundle: {ca_path}\n  export REQUESTS_CA_BUNDLE={ca_path} SSL_CERT_FILE={ca_path}")
    server.serve_forever()


@main.group()
def partner():
    """Run the bundled example partner service."""


def _example_partner_server(config_path, host, port, partner_db, basic_user, basic_password, signing_secret,
                            no_signature):
    from .example_partner import create_app as partner_app
    from .httpserver import ServerThread

    config = partners.read_config_file(config_path) if config_path else _default_example_config()
    section = config.get("pcsim") or {}
    if port is None:
        port = urlsplit(config.get("base_url", "")).port or 8484
    app = partner_app(config, db_path=partner_db,
                      basic_user=basic_user or section.get("basic_user"),
                      basic_password=basic_password or section.get("basic_password"),
                      signing_secret=None if no_signature else (signing_secret or section.get("signing_secret")))
    try:
        return ServerThread(app, host, port)
    except OSError as exc:
        raise Abort(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _default_example_config() -> dict:
    base = fixtures.fixtures_dir()
    if base is None or not (base / "partners" / "example.json").exists():
        raise Abort("no --config given and the bundled fixtures/partners/example.json was not found")
    return partners.read_config_file(base / "partners" / "example.json")


@partner.command("serve")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Partner config (default: example).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=PORT, help="Port (default: the port of the config's base_url).")
@click.option("--partner-db", default="example-partner.db", show_default=True, help="The partner's own state file.")
@click.option("--basic-user", envvar="BASIC_USER", help="Expected Basic user (env BASIC_USER).")
@click.option("--basic-password", envvar="BASIC_PASSWORD", help="Expected Basic password (env BASIC_PASSWORD).")
@click.option("--signing-secret", help="Check request signatures with this secret.")
@click.option("--no-signature", is_flag=True, help="Do not check request signatures.")
def partner_serve(config_path, host, port, partner_db, basic_user, basic_password, signing_secret, no_signature):
    """Serve the example partner (all six Partner Connect endpoints and landing pages)."""
    try:
        server = _example_partner_server(config_path, host, port, partner_db, basic_user, basic_password,
                                         signing_secret, no_signature)
    except PcsimError as exc:
        raise Abort(str(exc)) from None
    click.echo(f"Example partner listening on {server.url}; Ctrl-C stops it.")
    server.serve_forever()


@main.command()
@click.option("--port", default=8000, show_default=True, type=PORT, help="Simulator port.")
@click.option("--partner-port", default=8484, show_default=True, type=PORT, help="Example partner port.")
@db_option
@click.option("--partner-db", default="example-partner.db", show_default=True, help="The partner's state file.")
def demo(port, partner_port, db, partner_db):
    """Start the simulator and the example partner with the seeded workspaces."""
    from .httpserver import ServerThread
    from .server import create_app

    ctx = make_context(db)
    try:
        sim = ServerThread(create_app(ctx), "127.0.0.1", port)
        example = _example_partner_server(None, "127.0.0.1", partner_port, partner_db, None, None, None, False)
    except PcsimError as exc:
        raise Abort(str(exc)) from None
    ctx.store.set_meta("public_url", sim.url)
    config = _default_example_config()
    config["base_url"] = example.url
    partners.register(ctx, config, source="demo", replace=True)
    ws = workspaces.list_workspaces(ctx)[0]
    admin = next(u for u in workspaces.list_users(ctx, ws["id"]) if u["is_admin"])
    example.start()
    sim.start()
    click.echo(f"Simulator:       {sim.url}   (health: {sim.url}/-/health)")
    click.echo(f"Browser:         {sim.url}/   (Partner Connect as a Databricks user; API docs: {sim.url}/-/docs)")
    click.echo(f"Example partner: {example.url}")
    click.echo(f"State file:      {db}")
    exe = "pcsim" if shutil.which("pcsim") else str(Path(sys.executable).with_name("pcsim"))
    click.echo("Try, in another terminal:")
    click.echo(f"  {exe} connect --db {db} --partner '{config['name']}' --workspace {ws['id']} --user {admin['email']}")
    click.echo("Ctrl-C stops both.", nl=True)
    sys.stdout.flush()
    try:
        while True:  # until Ctrl-C / SIGTERM; the servers run in their threads
            signal.pause() if hasattr(signal, "pause") else time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        example.stop()


# ---------------------------------------------------------------- registries

@main.group("partners")
def partners_group():
    """Register, inspect and remove partner configs."""


@partners_group.command("list")
@json_option
@common
def partners_list(ctx, as_json):
    """List registered partners."""
    rows = [p.summary() for p in partners.list_partners(ctx)]
    if as_json:
        return emit_json(rows)
    table(rows, ["name", "category", "base_url", "source", "new_user_action"])


@partners_group.command("add")
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option("--basic-user", envvar="BASIC_USER", help="Basic user Databricks sends (env BASIC_USER).")
@click.option("--basic-password", envvar="BASIC_PASSWORD", help="Basic password (env BASIC_PASSWORD).")
@click.option("--authorization", help="Raw Authorization header value instead of Basic credentials.")
@click.option("--signing-secret", help="HMAC signing secret (default: the config's pcsim section, or generated).")
@click.option("--base-url", help="Override the config's base_url (e.g. your service's local port).")
@click.option("--replace", is_flag=True, help="Update a partner that is already registered.")
@json_option
@common
def partners_add(ctx, config_file, basic_user, basic_password, authorization, signing_secret, base_url, replace,
                 as_json):
    """Register a partner from a certification-format config FILE."""
    config = partners.read_config_file(config_file)
    if base_url and isinstance(config, dict):
        config["base_url"] = base_url
    p = partners.register(ctx, config, source=f"file:{Path(config_file).name}", basic_user=basic_user,
                          basic_password=basic_password, authorization=authorization,
                          signing_secret=signing_secret, replace=replace)
    if as_json:
        return emit_json(p.summary())
    click.echo(f"Registered partner {p.name!r} ({p.config['category']}) at {p.base_url}")


@partners_group.command("show")
@click.argument("name")
@click.option("--reveal", is_flag=True, help="Show credentials and the signing secret in full.")
@json_option
@common
def partners_show(ctx, name, reveal, as_json):
    """Show one partner; secrets are masked unless --reveal."""
    summary = partners.get(ctx, name).summary(reveal=reveal)
    if as_json:
        return emit_json(summary)
    for key, value in summary.items():
        click.echo(f"{key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")


@partners_group.command("remove")
@click.argument("name")
@common
def partners_remove(ctx, name):
    """Remove a partner that has no connections."""
    partners.remove(ctx, name)
    click.echo(f"Removed partner {name!r}")


@main.group("workspaces")
def workspaces_group():
    """List and add simulated workspaces."""


@workspaces_group.command("list")
@json_option
@common
def workspaces_list(ctx, as_json):
    """List workspaces (ids are exact 64-bit integers)."""
    rows = workspaces.list_workspaces(ctx)
    if as_json:
        return emit_json(rows)
    table(rows, ["id", "cloud", "region", "display_name"])


@workspaces_group.command("add")
@click.option("--cloud", required=True, type=click.Choice(workspaces.CLOUDS))
@click.option("--region", required=True)
@click.option("--name", "display_name")
@click.option("--id", "workspace_id", type=ID, help="64-bit workspace id (default: generated).")
@click.option("--free-trial", is_flag=True)
@click.option("--catalog", "catalogs", multiple=True,
              help="Unity Catalog catalog: letters, digits and underscores (repeatable, in order: the first one is "
                   "the default; default: main).")
@json_option
@common
def workspaces_add(ctx, cloud, region, display_name, workspace_id, free_trial, catalogs, as_json):
    """Add a workspace."""
    catalogs = workspaces.check_catalog_names(list(catalogs) or list(workspaces.DEFAULT_CATALOGS), strict=True)
    ws = workspaces.add_workspace(ctx, cloud=cloud, region=region, display_name=display_name,
                                  workspace_id=workspace_id, is_free_trial=free_trial, catalogs=catalogs)
    if as_json:
        return emit_json(ws)
    click.echo(f"Added workspace {ws['id']} ({cloud}, {region})")


@main.group("users")
def users_group():
    """List and add users and their workspace memberships."""


@users_group.command("list")
@click.option("--workspace", "workspace_id", type=ID, help="Only members of this workspace.")
@json_option
@common
def users_list(ctx, workspace_id, as_json):
    """List users with their per-cloud Databricks user ids."""
    rows = workspaces.list_users(ctx, workspace_id)
    if as_json:
        return emit_json(rows)
    table(rows, ["email", "first_name", "last_name", "language", "aws_user_id", "azure_user_id", "gcp_user_id",
                 "is_admin" if workspace_id is not None else "workspaces"])


@users_group.command("add")
@click.argument("email")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--language", default="en-US", show_default=True, help="Sent as Accept-Language.")
@click.option("--workspace", "workspace_ids", type=ID, multiple=True, help="Member of this workspace (repeatable).")
@click.option("--admin", is_flag=True, help="Admin in the given workspaces.")
@json_option
@common
def users_add(ctx, email, first_name, last_name, language, workspace_ids, admin, as_json):
    """Add a new user (and memberships). An existing user joins more workspaces with `users join`."""
    workspace_ids = list(dict.fromkeys(workspace_ids))  # a repeated --workspace counts once
    for wid in workspace_ids:
        workspaces.get_workspace(ctx, wid)  # fail before writing anything
    with ctx.store.atomic():
        user = workspaces.add_user(ctx, email=email, first_name=first_name, last_name=last_name, language=language)
        for wid in workspace_ids:
            workspaces.add_member(ctx, wid, email, admin=admin)
    if as_json:
        return emit_json(user)
    click.echo(f"Added user {email}" + (f" to workspace(s) {', '.join(map(str, workspace_ids))}" if workspace_ids else ""))


@users_group.command("join")
@click.argument("email")
@click.option("--workspace", "workspace_ids", type=ID, multiple=True, required=True,
              help="Workspace to join (repeatable).")
@click.option("--admin", is_flag=True, help="As an admin (also promotes an existing membership).")
@json_option
@common
def users_join(ctx, email, workspace_ids, admin, as_json):
    """Add an existing user to more workspaces; existing memberships keep their role unless --admin."""
    result = workspaces.join(ctx, email, workspace_ids, admin=admin)
    if as_json:
        return emit_json({"email": email, **result})
    ids = lambda wids: ", ".join(map(str, wids))  # noqa: E731
    if result["added"]:
        click.echo(f"{email} joined workspace(s) {ids(result['added'])}" + (" as an admin" if admin else ""))
    if result["promoted"]:
        click.echo(f"{email} is now an admin of workspace(s) {ids(result['promoted'])}")
    if result["unchanged"]:
        click.echo(f"{email} was already a member of workspace(s) {ids(result['unchanged'])} (unchanged)")


# ---------------------------------------------------------------- personal access tokens

MAX_TOKEN_LIFETIME_S = 100 * 365 * 86400


def _when(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _token_view(ctx: Context, row: dict) -> dict:
    """A token as `tokens list` shows it: ids, prefix, owner, times; never its value (not even stored)."""
    now = ctx.clock.now()
    status = "revoked" if row["revoked_at"] is not None else \
        "expired" if row["expiry_time"] is not None and row["expiry_time"] <= now else "active"
    owner = row["user_email"] if row["owner_kind"] == "user" else row["sp_application_id"]
    return {"token_id": row["token_id"], "prefix": row["prefix"] + "…", "owner": owner,
            "owner_kind": row["owner_kind"], "comment": row["comment"] or "",
            "created": _when(row["created_at"]), "expires": _when(row["expiry_time"]) or "never", "status": status}


def _token_rows(ctx: Context, workspace_id: int, email: str | None = None, token_id: str | None = None) -> list[dict]:
    sql = ("SELECT t.*, u.email AS user_email, sp.application_id AS sp_application_id FROM tokens t "
           "LEFT JOIN users u ON t.owner_kind = 'user' AND u.id = t.owner_id "
           "LEFT JOIN service_principals sp ON t.owner_kind = 'service_principal' AND sp.id = t.owner_id "
           "WHERE t.workspace_id = ?")
    params: list = [workspace_id]
    if email is not None:
        sql += " AND t.owner_kind = 'user' AND t.owner_id = ?"
        params.append(workspaces.get_user(ctx, email)["id"])
    if token_id is not None:
        sql += " AND t.token_id = ?"
        params.append(token_id)
    return ctx.store.query(sql + " ORDER BY t.created_at, t.token_id", params)


@main.group("tokens")
def tokens_group():
    """Personal access tokens (PATs) of workspace users, e.g. for the workspace API or the self-test CLI."""


@tokens_group.command("create")
@click.option("--workspace", "workspace_id", required=True, type=ID, help="Workspace the token is for.")
@click.option("--user", "email", required=True, help="The member who owns the token.")
@click.option("--lifetime-seconds", type=click.IntRange(1, MAX_TOKEN_LIFETIME_S),
              help="Expire after this many seconds (default: never).")
@click.option("--comment", default="", help="Shown by `tokens list` and the token API.")
@json_option
@common
def tokens_create(ctx, workspace_id, email, lifetime_seconds, comment, as_json):
    """Mint a PAT for a workspace member; the token is printed once, only its hash is kept."""
    from .partnerconnect import provisioning

    workspaces.get_workspace(ctx, workspace_id)
    member = workspaces.membership(ctx, workspace_id, email)
    with ctx.store.atomic() as db:
        value, token_id = provisioning.mint_pat(ctx, db, workspace_id=workspace_id, owner_kind="user",
                                                owner_id=member["id"], comment=comment, lifetime_s=lifetime_seconds)
    info = _token_view(ctx, _token_rows(ctx, workspace_id, token_id=token_id)[0])
    notice = "This is the only time the token is shown: the simulator keeps only its hash. Copy it now."
    if as_json:
        click.echo(notice, err=True)
        return emit_json({"token_value": value, "token_info": info})
    role = "admin" if member["is_admin"] else "member"
    click.echo(f"Created token {token_id} for {email} ({role} of workspace {workspace_id}; expires: {info['expires']})")
    click.echo(value)
    click.echo(notice)


@tokens_group.command("list")
@click.option("--workspace", "workspace_id", required=True, type=ID, help="Workspace whose tokens to list.")
@click.option("--user", "email", help="Only this user's tokens.")
@json_option
@common
def tokens_list(ctx, workspace_id, email, as_json):
    """List a workspace's tokens: ids, prefixes, owners, expiry (never the values)."""
    workspaces.get_workspace(ctx, workspace_id)
    rows = [_token_view(ctx, r) for r in _token_rows(ctx, workspace_id, email)]
    if as_json:
        return emit_json(rows)
    table(rows, ["token_id", "prefix", "owner", "comment", "created", "expires", "status"])


# ---------------------------------------------------------------- flows

partner_opt = click.option("--partner", "partner_name", required=True, help="Registered partner name.")
workspace_opt = click.option("--workspace", "workspace_id", required=True, type=ID, help="Workspace id.")


@main.command()
@partner_opt
@workspace_opt
@click.option("--user", "user_email", required=True, help="Email of the acting user (a workspace member).")
@click.option("--demo", is_flag=True, help="Send demo=true.")
@click.option("--catalog", help="Catalog to grant (a Unity Catalog name or hive_metastore).")
@click.option("--destination-location", help="Destination location URI (partners with DestLocation).")
@click.option("--follow", is_flag=True, help="Also open the redirect (GET without credentials).")
@click.option("--public-url", type=URL,
              help="The simulator URL sent to the partner (default: what `pcsim serve` recorded).")
@json_option
@common
def connect(ctx, partner_name, workspace_id, user_email, demo, catalog, destination_location, follow, as_json):
    """Connect to a partner as USER: a new connection, or sign-in through an existing one."""
    report(flows.connect(ctx, partner_name=partner_name, workspace_id=workspace_id, user_email=user_email,
                         demo=demo, catalog=catalog, destination_location=destination_location,
                         follow_redirect=follow), as_json)


@main.command()
@partner_opt
@workspace_opt
@click.option("--user", "user_email", help="Acting user (for Accept-Language).")
@json_option
@common
def disconnect(ctx, partner_name, workspace_id, user_email, as_json):
    """Delete a connection: Databricks-side resources first, then notify the partner."""
    report(flows.delete_connection(ctx, partner_name=partner_name, workspace_id=workspace_id,
                                   user_email=user_email), as_json)


@main.group("connections")
def connections_group():
    """Inspect connections."""


@connections_group.command("list")
@click.option("--workspace", "workspace_id", type=ID, help="Only this workspace's connections.")
@json_option
@common
def connections_list(ctx, workspace_id, as_json):
    """List connections with their status and resources."""
    rows = flows.list_connections(ctx, workspace_id)
    if as_json:
        return emit_json(rows)
    for row in rows:
        row["warehouse"] = (row["resources"]["warehouse"] or {}).get("id")
        row["cluster"] = (row["resources"]["cluster"] or {}).get("id")
    table(rows, ["partner_name", "workspace_id", "status", "partner_connection_id", "created_by_email",
                 "warehouse", "cluster"])


@main.command("exchanges")
@click.option("--last", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--partner", "partner_name", help="Only calls to this partner.")
@click.option("--workspace", "workspace_id", type=ID, help="Only calls for this workspace.")
@json_option
@common
def exchanges_cmd(ctx, last, partner_name, workspace_id, as_json):
    """Show the calls made to partners (secrets masked), newest first."""
    # a filter naming nothing is a typo, not "no calls" (a removed partner's calls still count)
    if partner_name and not ctx.store.one("SELECT 1 AS x FROM exchanges WHERE partner_name = ? LIMIT 1",
                                          (partner_name,)):
        partners.get(ctx, partner_name)
    if workspace_id is not None and not ctx.store.one("SELECT 1 AS x FROM exchanges WHERE workspace_id = ? LIMIT 1",
                                                      (workspace_id,)):
        workspaces.get_workspace(ctx, workspace_id)
    rows = exchanges.recent(ctx, last=last, partner=partner_name, workspace_id=workspace_id)
    if as_json:
        return emit_json(rows)
    if not rows:
        click.echo("(no exchanges)")
    for row in rows:
        failed = [c for c in row["checks"] or [] if not c["ok"]]
        status = row["status"] if row["status"] is not None else row["error"]
        click.echo(f"#{row['id']} {row['method']} {row['url']} -> {status} "
                   f"({row['duration_ms']:.0f} ms, attempt {row['attempt']})"
                   + (f"  {len(failed)} failed check(s)" if failed else ""))
        for check in failed:
            click.echo(f"    {check['field']}: {check['rule']} (got {check['got']})")


@main.command()
@click.option("--empty", is_flag=True, help="Do not load the bundled seed data afterwards.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@db_option
def reset(empty, yes, db):
    """Delete all state (then load the seed data again unless --empty)."""
    if not yes:
        click.confirm(f"Delete everything in {db}?", abort=True)
    ctx = make_context(db, seed=False)
    ctx.store.reset()
    if not empty:
        fixtures.seed(ctx)
    else:
        ctx.store.set_meta("seeded", "0")
    click.echo(f"Reset {db}" + ("" if empty else " and loaded the seed data"))


@main.command()
@click.option("--fixtures", "directory", type=click.Path(file_okay=False, exists=True),
              help="Directory with seed.json and partners/ (default: the bundled fixtures).")
@common(seed=False)  # not the bundled data first: `seed --fixtures DIR` loads DIR alone
def seed(ctx, directory):
    """Load seed workspaces, users and partner configs (existing rows are kept; all or nothing)."""
    result = fixtures.seed(ctx, directory)
    click.echo(f"Added {result['workspaces']} workspace(s), {result['users']} user(s), "
               f"{len(result['partners'])} partner(s)")


# ---------------------------------------------------------------- test hooks

@main.group()
def hooks():
    """Call the partner's test-only endpoints directly."""


connection_opts = [
    click.option("--workspace", "workspace_id", type=ID, help="Use this workspace's connection."),
    click.option("--connection-id", help="Partner connection id (instead of --workspace)."),
]


def with_options(options):
    def apply(func):
        for option in reversed(options):
            func = option(func)
        return func
    return apply


@hooks.command("connectors")
@partner_opt
@click.option("--max-pages", type=click.IntRange(1, 1000), help="Stop after this many pages.")
@json_option
@common
def hooks_connectors(ctx, partner_name, max_pages, as_json):
    """List the partner's connectors, following pagination."""
    outcome = flows.list_connectors(ctx, partner_name=partner_name, max_pages=max_pages)
    if not as_json and outcome.ok:
        for page in outcome.pages:
            for item in page["connectors"]:
                click.echo(f"  {item['type']:<6} {item['identifier']:<24} {item['name']}")
    report(outcome, as_json)


@hooks.command("test-connection")
@partner_opt
@with_options(connection_opts)
@json_option
@common
def hooks_test_connection(ctx, partner_name, workspace_id, connection_id, as_json):
    """Call the partner's test-connection endpoint."""
    report(flows.test_connection(ctx, partner_name=partner_name, workspace_id=workspace_id,
                                 connection_id=connection_id), as_json)


@hooks.command("delete-connection")
@partner_opt
@with_options(connection_opts)
@json_option
@common
def hooks_delete_connection(ctx, partner_name, workspace_id, connection_id, as_json):
    """Call the partner's delete-connection endpoint alone (Databricks keeps its side)."""
    report(flows.partner_delete_connection(ctx, partner_name=partner_name, workspace_id=workspace_id,
                                           connection_id=connection_id), as_json)


@hooks.command("delete-account")
@partner_opt
@workspace_opt
@click.option("--domain", required=True, help="Email domain whose partner account goes (test domains only).")
@json_option
@common
def hooks_delete_account(ctx, partner_name, workspace_id, domain, as_json):
    """Call the partner's delete-account endpoint."""
    report(flows.delete_account(ctx, partner_name=partner_name, domain=domain, workspace_id=workspace_id), as_json)


@hooks.command("expire-account")
@partner_opt
@workspace_opt
@click.option("--email", required=True, help="User whose trial expires.")
@json_option
@common
def hooks_expire_account(ctx, partner_name, workspace_id, email, as_json):
    """Call the partner's expire-account endpoint."""
    report(flows.expire_account(ctx, partner_name=partner_name, email=email, workspace_id=workspace_id), as_json)


# ---------------------------------------------------------------- scenarios and certification

scenario_partner_opts = [
    click.option("--partner-config", type=click.Path(dir_okay=False, exists=True),
                 help="Partner config file (certification format) to run against, instead of each file's partner."),
    click.option("--base-url", help="Partner base URL (overrides the config's base_url)."),
    click.option("--basic-user", envvar="BASIC_USER", help="Basic user Databricks sends (env BASIC_USER)."),
    click.option("--basic-password", envvar="BASIC_PASSWORD", help="Basic password (env BASIC_PASSWORD)."),
    click.option("--signing-secret", help="HMAC signing secret (default: the config's pcsim section)."),
    click.option("--with-example-partner", is_flag=True,
                 help="Serve each partner config with the bundled example partner on a free port."),
    click.option("--seed", type=int, help="Reproducible domains, emails and ids (use with a fresh --db)."),
    click.option("--junit-xml", type=click.Path(dir_okay=False), help="Write JUnit XML here."),
    click.option("--report", "report_path", type=click.Path(dir_okay=False),
                 help="Write a self-contained HTML report here."),
    click.option("--no-retry-wait", is_flag=True,
                 help="Retry a failing partner (1 s, 2 s, 4 s back-off) without really waiting: the retries "
                      "happen and are recorded, the simulated clock jumps ahead; request signatures keep real time."),
]


def _skip_retry_waits(ctx: Context) -> None:
    """Sleeps become jumps of the simulated clock; what crosses the wire stays on wall time."""
    from .clock import RealClock, SkippingClock

    ctx.clock = SkippingClock()
    ctx.wall_clock = RealClock()


def _partner_spec(partner_config, base_url, basic_user, basic_password, signing_secret):
    from .scenarios import PartnerSpec

    return PartnerSpec(config=partner_config, base_url=base_url, basic_user=basic_user,
                       basic_password=basic_password, signing_secret=signing_secret)


def _write_reports(ctx, result, junit_xml, report_path, title, extra=None):
    from .scenarios import report as reports

    if junit_xml:
        reports.write(junit_xml, reports.junit_xml(result))
    if report_path:
        reports.write(report_path, reports.html_report(ctx, result, title=title, extra=extra))


@main.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@with_options(scenario_partner_opts)
@json_option
@common
def run_cmd(ctx, paths, partner_config, base_url, basic_user, basic_password, signing_secret, with_example_partner,
            seed, junit_xml, report_path, no_retry_wait, as_json):
    """Replay scenario files (FILE or DIR of *.yaml) against the partner; exit 0 only if all pass."""
    from .scenarios import ScenarioError, load_paths, report as reports, run_scenarios

    if no_retry_wait:
        _skip_retry_waits(ctx)
    spec = _partner_spec(partner_config, base_url, basic_user, basic_password, signing_secret)
    try:
        scenarios = load_paths(paths, partner_given=partner_config is not None)
    except ScenarioError as exc:
        raise Abort(f"malformed scenario:\n{exc}") from None
    printer = reports.ConsolePrinter(click.echo)
    result = run_scenarios(ctx, scenarios, partner=spec, seed=seed, example_partner=with_example_partner,
                           on_step=None if as_json else printer.on_step,
                           on_scenario=None if as_json else printer.on_scenario)
    _write_reports(ctx, result, junit_xml, report_path, "pcsim scenario run")
    if as_json:
        emit_json(result.as_dict())
    else:
        click.echo(reports.summary_line(result.steps("passed"), result.steps("failed"), result.steps("skipped")))
    sys.exit(0 if result.ok else 1)


@main.command("certify")
@with_options([click.option("--partner-config", type=click.Path(dir_okay=False, exists=True), required=True,
                            help="Your partner config file (the certification suite's format).")]
              + scenario_partner_opts[1:])
@click.option("-v", "--verbose", is_flag=True, help="Print every step, not only those of failed cases.")
@json_option
@common
def certify_cmd(ctx, partner_config, base_url, basic_user, basic_password, signing_secret, with_example_partner,
                seed, junit_xml, report_path, no_retry_wait, verbose, as_json):
    """Run the certification catalogue (P100-P900) against your partner service."""
    from .scenarios import ScenarioError, report as reports
    from .scenarios.certification import certify

    if no_retry_wait:
        _skip_retry_waits(ctx)
    spec = _partner_spec(partner_config, base_url, basic_user, basic_password, signing_secret)
    printer = reports.ConsolePrinter(click.echo, per_case=True, verbose=verbose)
    try:
        result = certify(ctx, spec, example_partner=with_example_partner, seed=seed,
                         on_scenario=None if as_json else printer.on_scenario)
    except ScenarioError as exc:
        raise Abort(f"malformed certification scenario:\n{exc}") from None
    _write_reports(ctx, result.run, junit_xml, report_path, f"Certification of {result.partner or partner_config}",
                   extra={"partner config": partner_config, "manual": result.manual})
    if as_json:
        emit_json(result.as_dict())
    else:
        for line in reports.manual_checklist(result.manual):
            click.echo(line)
        counts = result.counts()
        click.echo(reports.summary_line(counts["passed"], counts["failed"], counts["skipped"]))
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
