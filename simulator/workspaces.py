"""Workspaces, users and their memberships: the Databricks tenants the simulator pretends to be.

A person has one ``databricks_user_id`` per cloud (Databricks runs one instance per cloud), is a
member of any number of workspaces, and is an admin or not in each.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .context import Context
from .errors import Conflict, Invalid, NotFound

CLOUDS = ("aws", "azure", "gcp")
INT64_MAX = 2**63 - 1
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_CATALOGS = ("main",)


def _check_int64(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (0 < value <= INT64_MAX):
        raise Invalid(f"{what} must be a positive 64-bit integer, got {value!r}")
    return value


def add_workspace(ctx: Context, *, cloud: str, region: str, display_name: str | None = None,
                  workspace_id: int | None = None, is_free_trial: bool = False,
                  catalogs=DEFAULT_CATALOGS) -> dict:
    """Create a workspace (its id is generated when not given) with its Unity Catalog catalogs."""
    if cloud not in CLOUDS:
        raise Invalid(f"cloud must be one of {', '.join(CLOUDS)}, got {cloud!r}")
    if not region:
        raise Invalid("region must not be empty")
    wid = _check_int64(workspace_id if workspace_id is not None else ctx.ids.int64(), "workspace id")
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
    row = ctx.store.one("SELECT * FROM workspaces WHERE id = ?", (workspace_id,))
    if row is None:
        raise NotFound(f"no workspace with id {workspace_id} (see `pcsim workspaces list`)")
    row["is_free_trial"] = bool(row["is_free_trial"])
    return row


def list_workspaces(ctx: Context) -> list[dict]:
    return ctx.store.query("SELECT * FROM workspaces ORDER BY created_at, id")


def catalogs(ctx: Context, workspace_id: int) -> list[str]:
    """Catalog names a Partner Connect user can pick in this workspace (``hive_metastore`` last)."""
    rows = ctx.store.query("SELECT name FROM catalogs WHERE workspace_id = ? ORDER BY name", (workspace_id,))
    return [r["name"] for r in rows] + ["hive_metastore"]


def add_user(ctx: Context, *, email: str, first_name: str = "", last_name: str = "", language: str = "en-US",
             user_ids: dict[str, int] | None = None) -> dict:
    """Create a person with one Databricks user id per cloud."""
    if not _EMAIL.match(email or ""):
        raise Invalid(f"not a valid email address: {email!r}")
    if ctx.store.one("SELECT id FROM users WHERE email = ?", (email,)):
        raise Conflict(f"user {email} already exists")
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


def load_seed(ctx: Context, path: str | Path) -> dict:
    """Load workspaces, users and memberships from a seed JSON file; existing rows are kept."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise Invalid(f"cannot read seed file {path}: {exc}") from None
    added = {"workspaces": 0, "users": 0}
    for ws in data.get("workspaces", []):
        if not ctx.store.one("SELECT id FROM workspaces WHERE id = ?", (ws["id"],)):
            add_workspace(ctx, cloud=ws["cloud"], region=ws["region"], display_name=ws.get("display_name"),
                          workspace_id=ws["id"], is_free_trial=ws.get("is_free_trial", False),
                          catalogs=ws.get("catalogs", DEFAULT_CATALOGS))
            added["workspaces"] += 1
    for user in data.get("users", []):
        if not ctx.store.one("SELECT id FROM users WHERE email = ?", (user["email"],)):
            add_user(ctx, email=user["email"], first_name=user.get("first_name", ""),
                     last_name=user.get("last_name", ""), language=user.get("language", "en-US"),
                     user_ids=user.get("user_ids"))
            added["users"] += 1
        for m in user.get("memberships", []):
            add_member(ctx, m["workspace_id"], user["email"], admin=m.get("admin", False))
    return added
