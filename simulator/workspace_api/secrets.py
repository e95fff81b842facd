"""Secrets: scopes, secrets and ACLs under ``/api/2.0/secrets`` (Databricks-backed scopes only).

Values are stored as given, because they must be retrievable (``get`` answers them base64
encoded), but they are never logged or shown anywhere else. Permissions: workspace admins manage
every scope; otherwise the scope's ACLs count (for the caller's user name, or ``users`` for
everyone): READ lists and reads secrets, WRITE also puts and deletes them, MANAGE also changes ACLs
and deletes the scope. The creator of a scope gets MANAGE; ``initial_manage_principal: "users"``
gives MANAGE to everyone.

Writes to the scope ``partner-connect`` refresh the Authorization value of the workspace's
self-testing partner (see :mod:`.selftest`).
"""
from __future__ import annotations

import base64
import binascii
import re

from flask import jsonify
from flask_smorest import Blueprint

from .common import arg, body, ctx, millis, principal, required, workspace_id
from .errors import ApiError, invalid, not_found, permission_denied

blp = Blueprint("secrets", __name__, url_prefix="/api/2.0/secrets", description="Secret scopes, secrets and ACLs")

SCHEMA = """
CREATE TABLE IF NOT EXISTS secret_scopes (
    workspace_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    backend_type TEXT NOT NULL DEFAULT 'DATABRICKS',
    created_at REAL NOT NULL,
    PRIMARY KEY (workspace_id, name)
);
CREATE TABLE IF NOT EXISTS secrets (
    workspace_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    last_updated REAL NOT NULL,
    PRIMARY KEY (workspace_id, scope, key)
);
CREATE TABLE IF NOT EXISTS secret_acls (
    workspace_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    principal TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (workspace_id, scope, principal)
);
"""
SCOPE_NAME = re.compile(r"^[A-Za-z0-9_\-@.]{1,128}$")
KEY_NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,128}$")
PERMISSIONS = ("READ", "WRITE", "MANAGE")
MAX_VALUE_BYTES = 128 * 1024
MAX_SCOPES = 1000
PARTNER_CONNECT_SCOPE = "partner-connect"


def ensure(c) -> None:
    c.store.ensure(SCHEMA)


def secret_value(c, workspace: int, scope: str, key: str) -> bytes | None:
    """A stored secret's bytes (None when absent); for simulator code, not for responses."""
    ensure(c)
    row = c.store.one("SELECT value FROM secrets WHERE workspace_id = ? AND scope = ? AND key = ?",
                      (workspace, scope, key))
    return None if row is None else bytes(row["value"])


def _changed(scope: str) -> None:
    if scope == PARTNER_CONNECT_SCOPE:
        from . import selftest  # selftest reads secrets: import here to keep the modules acyclic
        selftest.sync_authorization(ctx(), workspace_id())


def _scope(name) -> dict:
    ensure(ctx())
    if not isinstance(name, str) or not name:
        invalid("Missing required field: scope")
    row = ctx().store.one("SELECT * FROM secret_scopes WHERE workspace_id = ? AND name = ?", (workspace_id(), name))
    if row is None:
        not_found(f"Scope {name} does not exist!")
    return row


RANK = {"READ": 1, "WRITE": 2, "MANAGE": 3}


def _permission(scope: str) -> int:
    who = principal()
    if who.is_admin:
        return RANK["MANAGE"]
    rows = ctx().store.query("SELECT permission FROM secret_acls WHERE workspace_id = ? AND scope = ? "
                             "AND principal IN (?, 'users')", (workspace_id(), scope, who.user_name))
    return max((RANK[r["permission"]] for r in rows), default=0)


def _require(scope: str, permission: str, verb: str) -> None:
    if _permission(scope) < RANK[permission]:
        permission_denied(f"{principal().user_name} does not have {permission} permission on scope {scope} "
                          f"(needed to {verb})")


# ---------------------------------------------------------------- scopes

@blp.route("/scopes/create", methods=["POST"])
def create_scope():
    """A Databricks-backed scope; the creator (and ``users`` with initial_manage_principal) get MANAGE."""
    c = ctx()
    ensure(c)
    data = body()
    name = required(data, "scope")
    if not SCOPE_NAME.match(name):
        invalid(f"Scope name {name!r} is invalid: use up to 128 letters, digits, '-', '_', '@' and '.'")
    backend = data.get("scope_backend_type", "DATABRICKS")
    if backend != "DATABRICKS":
        invalid(f"scope_backend_type {backend!r} is not supported by the simulator (only DATABRICKS)")
    manager = data.get("initial_manage_principal")
    if manager not in (None, "users"):
        invalid("initial_manage_principal must be \"users\" when given")
    if c.store.one("SELECT 1 AS x FROM secret_scopes WHERE workspace_id = ? AND name = ?", (workspace_id(), name)):
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Scope {name} already exists!")
    if c.store.count("secret_scopes", "workspace_id = ?", (workspace_id(),)) >= MAX_SCOPES:
        raise ApiError(400, "MAX_SECRET_SCOPES_EXCEEDED", f"A workspace may hold at most {MAX_SCOPES} secret scopes")
    with c.store.atomic() as db:
        db["secret_scopes"].insert({"workspace_id": workspace_id(), "name": name, "backend_type": "DATABRICKS",
                                    "created_at": c.clock.now()})
        db["secret_acls"].insert({"workspace_id": workspace_id(), "scope": name, "principal": principal().user_name,
                                  "permission": "MANAGE"}, replace=True)
        if manager == "users":
            db["secret_acls"].insert({"workspace_id": workspace_id(), "scope": name, "principal": "users",
                                      "permission": "MANAGE"}, replace=True)
    return jsonify({})


@blp.route("/scopes/list", methods=["GET"])
def list_scopes():
    """The scopes the caller holds any permission on (all of them for admins)."""
    c = ctx()
    ensure(c)
    who = principal()
    rows = c.store.query("SELECT * FROM secret_scopes WHERE workspace_id = ? ORDER BY name", (workspace_id(),))
    if not who.is_admin:  # any ACL (READ or more) of the caller or of ``users``, for all scopes in one query
        held = {r["scope"] for r in c.store.query("SELECT DISTINCT scope FROM secret_acls WHERE workspace_id = ? "
                                                   "AND principal IN (?, 'users')", (workspace_id(), who.user_name))}
        rows = [r for r in rows if r["name"] in held]
    return jsonify({"scopes": [{"name": r["name"], "backend_type": r["backend_type"]} for r in rows]})


@blp.route("/scopes/delete", methods=["POST"])
def delete_scope():
    """Delete a scope with its secrets and ACLs (MANAGE)."""
    name = _scope(body().get("scope"))["name"]
    _require(name, "MANAGE", "delete the scope")
    with ctx().store.atomic() as db:
        for table, column in (("secrets", "scope"), ("secret_acls", "scope"), ("secret_scopes", "name")):
            db.execute(f"DELETE FROM {table} WHERE workspace_id = ? AND {column} = ?", (workspace_id(), name))
    _changed(name)
    return jsonify({})


# ---------------------------------------------------------------- secrets

@blp.route("/put", methods=["POST"])
def put_secret():
    """Create or overwrite a secret from ``string_value`` or base64 ``bytes_value`` (WRITE)."""
    data = body()
    scope = _scope(data.get("scope"))["name"]
    key = required(data, "key")
    if not KEY_NAME.match(key):
        invalid(f"Key name {key!r} is invalid: use up to 128 letters, digits, '-', '_' and '.'")
    has_string, has_bytes = "string_value" in data, "bytes_value" in data
    if has_string == has_bytes:
        invalid("Exactly one of string_value and bytes_value must be given")
    if has_string:
        if not isinstance(data["string_value"], str):
            invalid("string_value must be a string")
        value = data["string_value"].encode()
    else:
        try:
            value = base64.b64decode(data["bytes_value"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            value = None
        if value is None:
            invalid("bytes_value must be base64-encoded")
    if len(value) > MAX_VALUE_BYTES:
        invalid(f"A secret value may hold at most {MAX_VALUE_BYTES} bytes, got {len(value)}")
    _require(scope, "WRITE", "put secrets")
    with ctx().store.atomic() as db:
        db["secrets"].insert({"workspace_id": workspace_id(), "scope": scope, "key": key, "value": value,
                              "last_updated": ctx().clock.now()}, replace=True)
    _changed(scope)
    return jsonify({})


@blp.route("/list", methods=["GET"])
def list_secrets():
    """Keys and update times of a scope, never values (READ)."""
    scope = _scope(arg("scope"))["name"]
    _require(scope, "READ", "list secrets")
    rows = ctx().store.query("SELECT key, last_updated FROM secrets WHERE workspace_id = ? AND scope = ? ORDER BY key",
                             (workspace_id(), scope))
    return jsonify({"secrets": [{"key": r["key"], "last_updated_timestamp": millis(r["last_updated"])} for r in rows]})


@blp.route("/get", methods=["GET"])
def get_secret():
    """One secret's value, base64 encoded (READ)."""
    scope = _scope(arg("scope"))["name"]
    key = arg("key")
    if not key:
        invalid("Missing required field: key")
    _require(scope, "READ", "read secrets")
    value = secret_value(ctx(), workspace_id(), scope, key)
    if value is None:
        not_found(f"Secret does not exist with scope: {scope} and key: {key}")
    return jsonify({"key": key, "value": base64.b64encode(value).decode()})


@blp.route("/delete", methods=["POST"])
def delete_secret():
    """Delete one secret (WRITE)."""
    data = body()
    scope = _scope(data.get("scope"))["name"]
    key = required(data, "key")
    _require(scope, "WRITE", "delete secrets")
    if secret_value(ctx(), workspace_id(), scope, key) is None:
        not_found(f"Secret does not exist with scope: {scope} and key: {key}")
    with ctx().store.atomic() as db:
        db.execute("DELETE FROM secrets WHERE workspace_id = ? AND scope = ? AND key = ?", (workspace_id(), scope, key))
    _changed(scope)
    return jsonify({})


# ---------------------------------------------------------------- ACLs

def _acl_principal(data_or_value) -> str:
    if not isinstance(data_or_value, str) or not data_or_value.strip():
        invalid("Missing required field: principal")
    return data_or_value


@blp.route("/acls/put", methods=["POST"])
def put_acl():
    """Give a user, service principal (application id) or group READ, WRITE or MANAGE (MANAGE)."""
    data = body()
    scope = _scope(data.get("scope"))["name"]
    who = _acl_principal(data.get("principal"))
    permission = data.get("permission")
    if permission not in PERMISSIONS:
        invalid(f"permission must be one of {', '.join(PERMISSIONS)}, got {permission!r}")
    _require(scope, "MANAGE", "change ACLs")
    with ctx().store.atomic() as db:
        db["secret_acls"].insert({"workspace_id": workspace_id(), "scope": scope, "principal": who,
                                  "permission": permission}, replace=True)
    return jsonify({})


def _acl(scope: str, who: str) -> dict:
    row = ctx().store.one("SELECT principal, permission FROM secret_acls WHERE workspace_id = ? AND scope = ? "
                          "AND principal = ?", (workspace_id(), scope, who))
    if row is None:
        not_found(f"No ACL for principal {who} in scope {scope}")
    return row


@blp.route("/acls/get", methods=["GET"])
def get_acl():
    scope = _scope(arg("scope"))["name"]
    who = _acl_principal(arg("principal"))
    _require(scope, "MANAGE", "read ACLs")
    return jsonify(_acl(scope, who))


@blp.route("/acls/list", methods=["GET"])
def list_acls():
    scope = _scope(arg("scope"))["name"]
    _require(scope, "MANAGE", "read ACLs")
    rows = ctx().store.query("SELECT principal, permission FROM secret_acls WHERE workspace_id = ? AND scope = ? "
                             "ORDER BY principal", (workspace_id(), scope))
    return jsonify({"items": rows})


@blp.route("/acls/delete", methods=["POST"])
def delete_acl():
    data = body()
    scope = _scope(data.get("scope"))["name"]
    who = _acl_principal(data.get("principal"))
    _require(scope, "MANAGE", "change ACLs")
    _acl(scope, who)
    with ctx().store.atomic() as db:
        db.execute("DELETE FROM secret_acls WHERE workspace_id = ? AND scope = ? AND principal = ?",
                   (workspace_id(), scope, who))
    return jsonify({})
