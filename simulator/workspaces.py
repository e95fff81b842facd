"""Workspaces, users and their memberships: the Databricks tenants the simulator pretends to be.

A person has one ``databricks_user_id`` per cloud (Databricks runs one instance per cloud), is a
member of any number of workspaces, and is an admin or not in each.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .context import Context
from .errors import Conflict, Invalid, NotFound, PcsimError
from .partnerconnect.wire import CLOUDS

INT64_MAX = 2**63 - 1
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_CATALOGS = ("main",)
BUILTIN_CATALOGS = ("hive_metastore", "samples")  # every workspace has them; never declared
CATALOG_RULE = "letters, digits and underscores only (Databricks identifier rules)"
_CATALOG_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# What Unity Catalog itself refuses in a name (periods, spaces, slashes, control characters);
# the Python API (scenarios use names like ``run-1a2b``) accepts the rest.
_CATALOG_FORBIDDEN = re.compile(r"[.\s/\x00-\x1f\x7f]")


def _check_int64(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (0 < value <= INT64_MAX):
        raise Invalid(f"{what} must be a positive 64-bit integer, got {value!r}")
    return value


def is_int64_id(value) -> bool:
    """True for a positive integer that fits SQLite's INTEGER (ids beyond it cannot exist)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= INT64_MAX


def check_catalog_names(names, *, strict: bool = False) -> list[str]:
    """Catalog names, duplicates removed (case-insensitively, as Unity Catalog compares them), in
    the declared order. Every name must be a non-empty string; ``strict`` (the CLI, seed files)
    also requires the identifier rule: letters, digits and underscores."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise Invalid(f"catalogs must be a list of names, got {names!r}")
    out, seen = [], set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise Invalid(f"catalog names must not be empty; use {CATALOG_RULE} (got {name!r})")
        if (strict and not _CATALOG_NAME.match(name)) or _CATALOG_FORBIDDEN.search(name):
            raise Invalid(f"catalog name {name!r} is not valid: use {CATALOG_RULE}")
        if name.lower() in BUILTIN_CATALOGS:
            raise Invalid(f"catalog name {name!r} is reserved: every workspace already has "
                          f"{' and '.join(BUILTIN_CATALOGS)}")
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def add_workspace(ctx: Context, *, cloud: str, region: str, display_name: str | None = None,
                  workspace_id: int | None = None, is_free_trial: bool = False,
                  catalogs=DEFAULT_CATALOGS) -> dict:
    """Create a workspace (its id is generated when not given) with its Unity Catalog catalogs."""
    if cloud not in CLOUDS:
        raise Invalid(f"cloud must be one of {', '.join(CLOUDS)}, got {cloud!r}")
    if not region:
        raise Invalid("region must not be empty")
    wid = _check_int64(workspace_id if workspace_id is not None else ctx.ids.int64(), "workspace id")
    catalogs = check_catalog_names(catalogs)
    if ctx.store.one("SELECT id FROM workspaces WHERE id = ?", (wid,)):
        raise Conflict(f"workspace {wid} already exists")
    row = {"id": wid, "cloud": cloud, "region": region, "display_name": display_name or f"workspace-{wid}",
           "is_free_trial": int(is_free_trial), "created_at": ctx.clock.now()}
    with ctx.store.atomic() as db:
        db["workspaces"].insert(row)
        for name in catalogs:
            db["catalogs"].insert({"workspace_id": wid, "name": name, "created_at": ctx.clock.now()})
    return get_workspace(ctx, wid)


def get_workspace(ctx: Context, workspace_id: int) -> dict:
    row = ctx.store.one("SELECT * FROM workspaces WHERE id = ?", (workspace_id,)) \
        if is_int64_id(workspace_id) else None
    if row is None:
        raise NotFound(f"no workspace with id {workspace_id} (see `pcsim workspaces list`)")
    row["is_free_trial"] = bool(row["is_free_trial"])
    return row


def list_workspaces(ctx: Context) -> list[dict]:
    return ctx.store.query("SELECT * FROM workspaces ORDER BY created_at, id")


def catalogs(ctx: Context, workspace_id: int) -> list[str]:
    """Catalog names a Partner Connect user can pick in this workspace, in the order they were declared
    (the first one is the default catalog), ``hive_metastore`` last."""
    rows = ctx.store.query("SELECT name FROM catalogs WHERE workspace_id = ? ORDER BY rowid", (workspace_id,))
    return [r["name"] for r in rows] + ["hive_metastore"]


def add_user(ctx: Context, *, email: str, first_name: str = "", last_name: str = "", language: str = "en-US",
             user_ids: dict[str, int] | None = None) -> dict:
    """Create a person with one Databricks user id per cloud."""
    if not _EMAIL.match(email or ""):
        raise Invalid(f"not a valid email address: {email!r}")
    if ctx.store.one("SELECT id FROM users WHERE email = ?", (email,)):
        raise Conflict(f"user {email} already exists (to add them to more workspaces: "
                       f"`pcsim users join {email} --workspace ID`)")
    ids = dict(user_ids or {})
    unknown = set(ids) - set(CLOUDS)
    if unknown:
        raise Invalid(f"user ids are per cloud ({', '.join(CLOUDS)}); unknown key(s): {', '.join(sorted(unknown))}")
    row = {"email": email, "first_name": first_name or "", "last_name": last_name or "", "language": language or "en-US"}
    for cloud in CLOUDS:
        row[f"{cloud}_user_id"] = _check_int64(ids.get(cloud, ctx.ids.int64()), f"{cloud} user id")
    with ctx.store.atomic() as db:
        db["users"].insert(row)
    return get_user(ctx, email)


def get_user(ctx: Context, email: str) -> dict:
    row = ctx.store.one("SELECT * FROM users WHERE email = ?", (email,))
    if row is None:
        raise NotFound(f"no user with email {email!r} (see `pcsim users list`)")
    return row


def add_member(ctx: Context, workspace_id: int, email: str, *, admin: bool = False) -> None:
    get_workspace(ctx, workspace_id)
    user = get_user(ctx, email)
    with ctx.store.atomic() as db:
        db.execute("INSERT OR REPLACE INTO memberships (workspace_id, user_id, is_admin) VALUES (?, ?, ?)",
                   (workspace_id, user["id"], int(admin)))


def join(ctx: Context, email: str, workspace_ids, *, admin: bool = False) -> dict:
    """Make an existing user a member of more workspaces, in one transaction. New memberships are
    admin ones with ``admin``; an existing membership keeps its role (``admin`` promotes it).
    Returns the workspace ids ``added``, ``promoted`` and ``unchanged``."""
    user = get_user(ctx, email)
    wids = list(dict.fromkeys(workspace_ids))  # a repeated --workspace counts once
    if not wids:
        raise Invalid("name at least one workspace to join")
    for wid in wids:
        get_workspace(ctx, wid)  # fail before writing anything
    result = {"added": [], "promoted": [], "unchanged": []}
    with ctx.store.atomic() as db:
        for wid in wids:
            row = db.execute("SELECT is_admin FROM memberships WHERE workspace_id = ? AND user_id = ?",
                             (wid, user["id"])).fetchone()
            if row is None:
                db.execute("INSERT INTO memberships (workspace_id, user_id, is_admin) VALUES (?, ?, ?)",
                           (wid, user["id"], int(admin)))
                result["added"].append(wid)
            elif admin and not row[0]:
                db.execute("UPDATE memberships SET is_admin = 1 WHERE workspace_id = ? AND user_id = ?",
                           (wid, user["id"]))
                result["promoted"].append(wid)
            else:
                result["unchanged"].append(wid)
    return result


def membership(ctx: Context, workspace_id: int, email: str) -> dict:
    """The user as a member of the workspace (with ``is_admin``), or NotFound."""
    user = get_user(ctx, email)
    row = ctx.store.one("SELECT is_admin FROM memberships WHERE workspace_id = ? AND user_id = ?",
                        (workspace_id, user["id"]))
    if row is None:
        raise NotFound(f"user {email} is not a member of workspace {workspace_id}")
    return {**user, "is_admin": bool(row["is_admin"])}


def list_users(ctx: Context, workspace_id: int | None = None) -> list[dict]:
    if workspace_id is None:
        users = ctx.store.query("SELECT * FROM users ORDER BY email")
        for u in users:
            u["workspaces"] = [r["workspace_id"] for r in ctx.store.query(
                "SELECT workspace_id FROM memberships WHERE user_id = ? ORDER BY workspace_id", (u["id"],))]
        return users
    return ctx.store.query(
        "SELECT u.*, m.is_admin FROM users u JOIN memberships m ON m.user_id = u.id "
        "WHERE m.workspace_id = ? ORDER BY u.email", (workspace_id,))


def databricks_user_id(user: dict, cloud: str) -> int:
    return user[f"{cloud}_user_id"]


def _seed_entry(source: str, where: str, entry, required: dict, optional: dict) -> dict:
    """One object of a seed file, its keys checked: ``required``/``optional`` map key -> (types, what)."""
    if not isinstance(entry, dict):
        raise Invalid(f"{source}: {where} must be a JSON object, got {entry!r}")
    unknown = set(entry) - set(required) - set(optional)
    if unknown:
        raise Invalid(f"{source}: {where}: unknown key(s) {', '.join(sorted(unknown))} "
                      f"(allowed: {', '.join([*required, *optional])})")
    for key, (types, what) in {**required, **optional}.items():
        if key not in entry:
            if key in required:
                raise Invalid(f"{source}: {where}: missing key {key!r} ({what})")
            continue
        value = entry[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise Invalid(f"{source}: {where}: {key} must be {what}, got {json.dumps(value)}")
    return entry


_ID = ((int,), "a positive 64-bit integer")
_TEXT = ((str,), "a string")
_FLAG = ((bool,), "true or false")
_LIST = ((list,), "a JSON array")


def load_seed(ctx: Context, path: str | Path) -> dict:
    """Load workspaces, users and memberships from a seed JSON file; existing rows are kept.

    One transaction: an entry that is malformed (the message names the file and the entry) or
    refused leaves the state file as it was."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise Invalid(f"cannot read seed file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise Invalid(f"{source}: a seed file is a JSON object with \"workspaces\" and \"users\" arrays")
    _seed_entry(source, "the top level", data, {}, {"workspaces": _LIST, "users": _LIST})
    added = {"workspaces": 0, "users": 0}
    with ctx.store.atomic():
        for i, ws in enumerate(data.get("workspaces", [])):
            where = f"workspaces[{i}]"
            _seed_entry(source, where, ws, {"id": _ID, "cloud": _TEXT, "region": _TEXT},
                        {"display_name": _TEXT, "is_free_trial": _FLAG, "catalogs": _LIST})
            where += f" (id {ws['id']})"
            try:
                catalogs = check_catalog_names(ws.get("catalogs", list(DEFAULT_CATALOGS)), strict=True)
                if not ctx.store.one("SELECT id FROM workspaces WHERE id = ?", (_check_int64(ws["id"], "id"),)):
                    add_workspace(ctx, cloud=ws["cloud"], region=ws["region"], display_name=ws.get("display_name"),
                                  workspace_id=ws["id"], is_free_trial=ws.get("is_free_trial", False),
                                  catalogs=catalogs)
                    added["workspaces"] += 1
            except PcsimError as exc:
                raise Invalid(f"{source}: {where}: {exc}") from None
        for i, user in enumerate(data.get("users", [])):
            where = f"users[{i}]"
            _seed_entry(source, where, user, {"email": _TEXT},
                        {"first_name": _TEXT, "last_name": _TEXT, "language": _TEXT,
                         "user_ids": ((dict,), "an object of per-cloud ids"), "memberships": _LIST})
            where += f" ({user['email']})"
            try:
                if not ctx.store.one("SELECT id FROM users WHERE email = ?", (user["email"],)):
                    add_user(ctx, email=user["email"], first_name=user.get("first_name", ""),
                             last_name=user.get("last_name", ""), language=user.get("language", "en-US"),
                             user_ids=user.get("user_ids"))
                    added["users"] += 1
            except PcsimError as exc:
                raise Invalid(f"{source}: {where}: {exc}") from None
            for j, m in enumerate(user.get("memberships", [])):
                entry = f"{where}.memberships[{j}]"
                _seed_entry(source, entry, m, {"workspace_id": _ID}, {"admin": _FLAG})
                try:
                    add_member(ctx, m["workspace_id"], user["email"], admin=m.get("admin", False))
                except PcsimError as exc:
                    raise Invalid(f"{source}: {entry}: {exc}") from None
    return added
