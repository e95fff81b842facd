"""Personal access tokens: the caller's own (``/api/2.0/token/create|list|delete``) and token
management for admins (``/api/2.0/token-management/...``: on-behalf-of tokens for service
principals, list/get/delete of every token in the workspace).

Tokens are minted by :func:`simulator.partnerconnect.provisioning.mint_pat` (``dapi`` + 32 hex, only
the SHA-256 hash stored): the value appears in the create response and nowhere else. ``token_id``
is 64 hex characters; times are epoch milliseconds; ``expiry_time`` is ``-1`` for a token that
never expires. Revoked and expired tokens are left out of lists. Who created a token (an admin for
an on-behalf-of token) is kept in the ``token_creators`` table; other tokens count as created by
their owner.
"""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint

from .. import workspaces
from ..partnerconnect.provisioning import mint_pat
from ..store import dumps, loads
from .common import Principal, arg, body, ctx, millis, principal, required, workspace_id
from .errors import invalid, not_found, permission_denied

blp = Blueprint("tokens", __name__, description="Personal access tokens and token management")

SCHEMA = """
CREATE TABLE IF NOT EXISTS token_creators (
    token_id TEXT PRIMARY KEY,
    created_by_kind TEXT NOT NULL,
    created_by_id INTEGER NOT NULL,
    scopes TEXT
);
"""
MAX_COMMENT = 1000


def _ensure() -> None:
    ctx().store.ensure(SCHEMA)


def _owner_ids(kind: str, owner_id: int, cloud: str) -> tuple[int, str]:
    """(the id the API shows, the user name) of a token owner or creator."""
    if kind == "user":
        user = ctx().store.one("SELECT * FROM users WHERE id = ?", (owner_id,))
        return (user[f"{cloud}_user_id"], user["email"]) if user else (owner_id, "")
    sp = ctx().store.one("SELECT application_id FROM service_principals WHERE id = ?", (owner_id,))
    return owner_id, sp["application_id"] if sp else ""


def token_info(row: dict, *, cloud: str | None = None) -> dict:
    """TokenInfo; with ``cloud`` (the workspace's, which the ids shown depend on) also owner, creator
    and workspace (token-management shape)."""
    info = {"token_id": row["token_id"], "creation_time": millis(row["created_at"]),
            "expiry_time": -1 if row["expiry_time"] is None else millis(row["expiry_time"]),
            "comment": row["comment"] or ""}
    if row.get("scopes"):
        info["scopes"] = loads(row["scopes"])
    if cloud is not None:
        owner_id, _ = _owner_ids(row["owner_kind"], row["owner_id"], cloud)
        by_kind = row.get("created_by_kind") or row["owner_kind"]
        by_id = row.get("created_by_id") if row.get("created_by_id") is not None else row["owner_id"]
        created_by_id, created_by_name = _owner_ids(by_kind, by_id, cloud)
        info.update(owner_id=owner_id, created_by_id=created_by_id, created_by_username=created_by_name,
                    workspace_id=row["workspace_id"])
    return info


def _cloud() -> str:
    return workspaces.get_workspace(ctx(), workspace_id())["cloud"]


def _live_tokens(where: str = "", params=()) -> list[dict]:
    _ensure()
    return ctx().store.query(
        "SELECT t.*, c.created_by_kind, c.created_by_id, c.scopes FROM tokens t "
        "LEFT JOIN token_creators c ON c.token_id = t.token_id "
        "WHERE t.workspace_id = ? AND t.revoked_at IS NULL AND (t.expiry_time IS NULL OR t.expiry_time > ?)"
        + where + " ORDER BY t.created_at, t.token_id", (workspace_id(), ctx().clock.now(), *params))


def _lifetime(data: dict) -> float | None:
    value = data.get("lifetime_seconds")
    if value is None:
        return None
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        invalid(f"lifetime_seconds must be an integer, got {value!r}")
    return None if value <= 0 else float(value)


def _comment(data: dict) -> str:
    comment = data.get("comment", "")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        invalid(f"comment must be a string of at most {MAX_COMMENT} characters")
    return comment


def _scopes(data: dict):
    scopes = data.get("scopes")
    if scopes is not None and not (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)):
        invalid("scopes must be a list of strings")
    return scopes


def _mint(owner_kind: str, owner_id: int, creator: Principal, data: dict) -> tuple[str, dict]:
    c = ctx()
    _ensure()
    scopes = _scopes(data)
    with c.store.atomic() as db:
        value, token_id = mint_pat(c, db, workspace_id=workspace_id(), owner_kind=owner_kind, owner_id=owner_id,
                                   comment=_comment(data), lifetime_s=_lifetime(data))
        db["token_creators"].insert({"token_id": token_id, "created_by_kind": creator.kind,
                                     "created_by_id": creator.id, "scopes": dumps(scopes) if scopes else None})
    row = _live_tokens(" AND t.token_id = ?", (token_id,))[0]
    return value, row


def _revoke(token_id: str) -> None:
    with ctx().store.atomic() as db:
        db.execute("UPDATE tokens SET revoked_at = ? WHERE token_id = ?", (ctx().clock.now(), token_id))


# ---------------------------------------------------------------- the caller's own tokens

@blp.route("/api/2.0/token/create", methods=["POST"])
def create_token():
    """A new PAT for the caller; ``lifetime_seconds`` (none or <= 0: never expires), ``comment``."""
    who = principal()
    value, row = _mint(who.kind, who.id, who, body())
    return jsonify({"token_value": value, "token_info": token_info(row)})


def _own(where: str = "", params=()) -> list[dict]:
    who = principal()
    return _live_tokens(" AND t.owner_kind = ? AND t.owner_id = ?" + where, (who.kind, who.id, *params))


@blp.route("/api/2.0/token/list", methods=["GET"])
def list_tokens():
    """The caller's live tokens (never their values)."""
    return jsonify({"token_infos": [token_info(r) for r in _own()]})


@blp.route("/api/2.0/token/delete", methods=["POST"])
def delete_token():
    """Revoke one of the caller's tokens."""
    token_id = required(body(), "token_id")
    if not _own(" AND t.token_id = ?", (token_id,)):
        not_found(f"Token with id {token_id} does not exist")
    _revoke(token_id)
    return jsonify({})


# ---------------------------------------------------------------- token management (admins)

def _require_admin() -> Principal:
    who = principal()
    if not who.is_admin:
        permission_denied("Only workspace admins can use the token management API")
    return who


@blp.route("/api/2.0/token-management/on-behalf-of/tokens", methods=["POST"])
def create_obo_token():
    """A PAT for a service principal of this workspace (``application_id``), created by an admin."""
    who = _require_admin()
    data = body()
    application_id = required(data, "application_id")
    sp = ctx().store.one("SELECT id FROM service_principals WHERE application_id = ? AND workspace_id = ?",
                         (application_id, workspace_id()))
    if sp is None:
        not_found(f"Service principal with application id {application_id} does not exist in this workspace")
    value, row = _mint("service_principal", sp["id"], who, data)
    return jsonify({"token_value": value, "token_info": token_info(row, cloud=_cloud())})


@blp.route("/api/2.0/token-management/tokens", methods=["GET"])
def list_all_tokens():
    """Every live token of the workspace; ``created_by_id`` and ``created_by_username`` filter."""
    _require_admin()
    cloud = _cloud()
    infos = [token_info(r, cloud=cloud) for r in _live_tokens()]
    by_id = arg("created_by_id", None, int)
    by_name = arg("created_by_username")
    if by_id is not None:
        infos = [i for i in infos if i["created_by_id"] == by_id]
    if by_name:
        infos = [i for i in infos if i["created_by_username"].lower() == by_name.lower()]
    return jsonify({"token_infos": infos})


def _managed(token_id: str) -> dict:
    _require_admin()
    rows = _live_tokens(" AND t.token_id = ?", (token_id,))
    if not rows:
        not_found(f"Token with id {token_id} does not exist")
    return rows[0]


@blp.route("/api/2.0/token-management/tokens/<token_id>", methods=["GET"])
def get_managed_token(token_id):
    return jsonify({"token_info": token_info(_managed(token_id), cloud=_cloud())})


@blp.route("/api/2.0/token-management/tokens/<token_id>", methods=["DELETE"])
def delete_managed_token(token_id):
    """Revoke any token of the workspace (a Partner Connect PAT too: the partner loses access)."""
    _revoke(_managed(token_id)["token_id"])
    return jsonify({})
