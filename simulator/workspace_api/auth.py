"""Authentication for the fake workspace API.

* ``Authorization: Bearer <PAT>``: users' own tokens and the partner service principal's PAT.
* ``Authorization: Bearer <OAuth access token>`` issued by ``POST /oidc/v1/token``
  (client_credentials with the service principal's application id and ``dose…`` secret).

The workspace is found from the token, so one server serves every workspace. A request that
addresses a workspace explicitly (``/w/<id>/…`` prefix, ``X-Databricks-Workspace-Id`` header or
``?o=<id>``) is refused when the token belongs to another one. Missing or malformed headers get
401; unknown, revoked, expired or foreign tokens get 403 "Invalid access token." and nothing more.
"""
from __future__ import annotations

import base64
import binascii
import hmac

from flask import g, jsonify, request
from flask_smorest import Blueprint

from ..partnerconnect.provisioning import secret_hash
from .common import INT64_MAX, Principal, ctx
from .errors import ApiError, invalid, not_found

blp = Blueprint("oauth", __name__, description="Host metadata, OIDC discovery and OAuth M2M tokens")

INVALID_TOKEN = "Invalid access token."
OAUTH_PREFIX = "pcoa"


def addressed_workspace() -> int | None:
    """The workspace a request names explicitly, if any."""
    value = request.environ.get("pcsim.workspace_id") or request.headers.get("X-Databricks-Workspace-Id") \
        or request.headers.get("X-Databricks-Org-Id") or request.args.get("o")
    if value is None:
        return None
    try:
        wid = int(value)
    except ValueError:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Workspace id must be an integer, got {value!r}") from None
    if not 0 < wid <= INT64_MAX:
        invalid(f"Workspace id must be a positive 64-bit integer (at most {INT64_MAX}), got {value}")
    return wid


def _user_principal(row: dict, workspace: dict, auth: str) -> Principal | None:
    member = ctx().store.one(
        "SELECT u.*, m.is_admin FROM users u JOIN memberships m ON m.user_id = u.id "
        "WHERE u.id = ? AND m.workspace_id = ?", (row["owner_id"], workspace["id"]))
    if member is None:
        return None
    name = f"{member['first_name']} {member['last_name']}".strip() or member["email"]
    return Principal("user", member["id"], member[f"{workspace['cloud']}_user_id"], workspace["id"],
                     member["email"], name, bool(member["is_admin"]), auth)


def _sp_principal(sp_id: int, workspace_id: int, auth: str) -> Principal | None:
    sp = ctx().store.one("SELECT * FROM service_principals WHERE id = ? AND workspace_id = ?", (sp_id, workspace_id))
    if sp is None:
        return None
    return Principal("service_principal", sp["id"], sp["id"], workspace_id, sp["application_id"],
                     sp["display_name"], False, auth)


def resolve_token(token: str) -> Principal | None:
    """The principal a bearer token stands for, or None (unknown, revoked or expired)."""
    c = ctx()
    now = c.clock.now()
    digest = secret_hash(token)
    if token.startswith(OAUTH_PREFIX):
        row = c.store.one("SELECT * FROM access_tokens WHERE token_hash = ?", (digest,))
        if row is None or row["expires_at"] <= now:
            return None
        return _sp_principal(row["service_principal_id"], row["workspace_id"], "oauth")
    row = c.store.one("SELECT * FROM tokens WHERE token_hash = ?", (digest,))
    if row is None or row["revoked_at"] is not None or (row["expiry_time"] is not None and row["expiry_time"] <= now):
        return None
    workspace = c.store.one("SELECT * FROM workspaces WHERE id = ?", (row["workspace_id"],))
    if workspace is None:
        return None
    if row["owner_kind"] == "user":
        return _user_principal(row, workspace, "pat")
    return _sp_principal(row["owner_id"], workspace["id"], "pat")


def authenticate() -> Principal:
    """Check the request's credentials; sets and returns ``g.pcsim_principal``."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(401, "UNAUTHENTICATED", "Missing Authorization header (expected: Bearer <token>)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "UNAUTHENTICATED", "Malformed Authorization header (expected: Bearer <token>)")
    who = resolve_token(token.strip())
    if who is None:
        raise ApiError(403, "PERMISSION_DENIED", INVALID_TOKEN)
    wanted = addressed_workspace()
    if wanted is not None and wanted != who.workspace_id:
        raise ApiError(403, "PERMISSION_DENIED", INVALID_TOKEN)
    g.pcsim_principal = who
    return who


# ---------------------------------------------------------------- host metadata and OIDC

def _base_url() -> str:
    return request.url_root.rstrip("/")


@blp.route("/.well-known/databricks-config", methods=["GET"])
def host_metadata():
    """Host metadata the newer SDK reads at construction (no auth): OIDC root and workspace id."""
    data = {"oidc_endpoint": f"{_base_url()}/oidc"}
    wid = addressed_workspace()
    if wid is not None:
        ws = ctx().store.one("SELECT * FROM workspaces WHERE id = ?", (wid,))
        if ws is None:
            not_found(f"Workspace {wid} does not exist")
        data.update(workspace_id=str(wid), cloud=ws["cloud"])
    return jsonify(data)


def _discovery():
    base = _base_url()
    return jsonify({
        "issuer": f"{base}/oidc", "authorization_endpoint": f"{base}/oidc/v1/authorize",
        "token_endpoint": f"{base}/oidc/v1/token", "jwks_uri": f"{base}/oidc/jwks.json",
        "grant_types_supported": ["client_credentials"], "scopes_supported": ["all-apis"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })


for _name in ("oauth-authorization-server", "openid-configuration"):
    blp.add_url_rule(f"/oidc/.well-known/{_name}", f"discovery_{_name.replace('-', '_')}", _discovery, methods=["GET"])


def _oauth_error(status: int, error: str, description: str):
    return jsonify({"error": error, "error_description": description}), status


def _client_credentials() -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = raw.partition(":")
        return client_id, secret
    return request.form.get("client_id"), request.form.get("client_secret")


@blp.route("/oidc/v1/token", methods=["POST"])
def token():
    """OAuth M2M: client_credentials for a service principal (Basic client id/secret, scope all-apis)."""
    c = ctx()
    grant = request.form.get("grant_type")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"grant_type must be client_credentials, got {grant!r}")
    client_id, secret = _client_credentials()
    if not client_id or not secret:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    row = c.store.one(
        "SELECT s.secret_hash, sp.id AS sp_id, sp.workspace_id FROM oauth_secrets s "
        "JOIN service_principals sp ON sp.id = s.service_principal_id "
        "WHERE sp.application_id = ? AND s.revoked_at IS NULL", (client_id,))
    if row is None or not hmac.compare_digest(row["secret_hash"], secret_hash(secret)):
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    wanted = addressed_workspace()
    if wanted is not None and wanted != row["workspace_id"]:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    scope = request.form.get("scope") or "all-apis"
    lifetime = int(c.settings.oauth_token_lifetime_s)
    value = OAUTH_PREFIX + c.ids.hex(60)
    now = c.clock.now()
    with c.store.atomic() as db:
        db["access_tokens"].insert({"token_hash": secret_hash(value), "workspace_id": row["workspace_id"],
                                    "service_principal_id": row["sp_id"], "client_id": client_id,
                                    "scope": scope, "created_at": now, "expires_at": now + lifetime})
    return jsonify({"access_token": value, "token_type": "Bearer", "expires_in": lifetime, "scope": scope})
