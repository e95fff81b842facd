"""Identity: SCIM ``Me``, users, service principals (list honouring ``startIndex``/``count``, get,
create, delete) and read-only groups (``admins``, ``users``) under ``/api/2.0/preview/scim/v2``."""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint

from .. import workspaces
from ..errors import PcsimError
from .common import arg, body, ctx, principal, workspace_id
from .errors import ApiError, permission_denied

blp = Blueprint("scim", __name__, url_prefix="/api/2.0/preview/scim/v2", description="SCIM identity")

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def scim_error(status: int, detail: str):
    """SCIM-style errors (the SDK maps them to SCIM_<status>)."""
    resp = jsonify({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail,
                    "status": str(status)})
    resp.status_code = status
    return resp


def _groups(is_admin: bool) -> list[dict]:
    groups = [{"display": "users", "value": "users", "$ref": "Groups/users"}]
    if is_admin:
        groups.insert(0, {"display": "admins", "value": "admins", "$ref": "Groups/admins"})
    return groups


def user_resource(u: dict, cloud: str) -> dict:
    name = f"{u['first_name']} {u['last_name']}".strip() or u["email"]
    return {
        "schemas": [USER_SCHEMA], "id": str(u[f"{cloud}_user_id"]), "userName": u["email"], "displayName": name,
        "active": True, "name": {"givenName": u["first_name"], "familyName": u["last_name"]},
        "emails": [{"value": u["email"], "type": "work", "primary": True}],
        "groups": _groups(bool(u.get("is_admin"))), "entitlements": [{"value": "workspace-access"}],
        "externalId": None,
    }


def sp_resource(sp: dict) -> dict:
    return {"schemas": [SP_SCHEMA], "id": str(sp["id"]), "applicationId": sp["application_id"],
            "displayName": sp["display_name"], "active": True, "entitlements": [{"value": "workspace-access"}],
            "groups": _groups(False)}


def _cloud() -> str:
    return workspaces.get_workspace(ctx(), workspace_id())["cloud"]


def _page(resources: list[dict]):
    """SCIM pagination: 1-based ``startIndex``, ``count``; an empty page past the end."""
    start = max(arg("startIndex", 1, int), 1)
    count = arg("count", 10_000, int)
    page = resources[start - 1:start - 1 + max(count, 0)]
    return jsonify({"schemas": [LIST_SCHEMA], "totalResults": len(resources), "startIndex": start,
                    "itemsPerPage": len(page), "Resources": page})


def _require_admin():
    if not principal().is_admin:
        permission_denied("Only workspace admins can change users and service principals")


@blp.route("/Me", methods=["GET"])
def me():
    """The caller (a user or the partner's service principal), with ``X-Databricks-Org-Id``."""
    who = principal()
    if who.is_service_principal:
        sp = ctx().store.one("SELECT * FROM service_principals WHERE id = ?", (who.id,))
        resource = sp_resource(sp)
        resource.update(schemas=[USER_SCHEMA], userName=sp["application_id"])
    else:
        cloud = _cloud()
        user = ctx().store.one("SELECT u.*, m.is_admin FROM users u JOIN memberships m ON m.user_id = u.id "
                               "WHERE u.id = ? AND m.workspace_id = ?", (who.id, who.workspace_id))
        resource = user_resource(user, cloud)
    resp = jsonify(resource)
    resp.headers["X-Databricks-Org-Id"] = str(who.workspace_id)
    return resp


def _members() -> list[dict]:
    return workspaces.list_users(ctx(), workspace_id())


def _find_user(user_id: str) -> dict:
    cloud = _cloud()
    for u in _members():
        if str(u[f"{cloud}_user_id"]) == user_id:
            return u
    raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"User {user_id} does not exist")


@blp.route("/Users", methods=["GET"])
def list_users():
    cloud = _cloud()
    return _page([user_resource(u, cloud) for u in _members()])


@blp.route("/Users/<user_id>", methods=["GET"])
def get_user(user_id):
    return jsonify(user_resource(_find_user(user_id), _cloud()))


@blp.route("/Users", methods=["POST"])
def create_user():
    """Add a user to this workspace (creating the person when new). Admins only."""
    _require_admin()
    data = body()
    email = data.get("userName")
    if not email:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "Missing required field: userName")
    name = data.get("name") or {}
    c = ctx()
    try:
        if c.store.one("SELECT id FROM users WHERE email = ?", (email,)) is None:
            workspaces.add_user(c, email=email, first_name=name.get("givenName", ""),
                                last_name=name.get("familyName", ""))
        elif c.store.one("SELECT 1 AS x FROM memberships m JOIN users u ON u.id = m.user_id "
                         "WHERE u.email = ? AND m.workspace_id = ?", (email, workspace_id())):
            raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"User with username {email} already exists.")
        workspaces.add_member(c, workspace_id(), email, admin=False)
    except PcsimError as exc:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", str(exc)) from None
    user = next(u for u in _members() if u["email"].lower() == email.lower())
    resp = jsonify(user_resource(user, _cloud()))
    resp.status_code = 201
    return resp


@blp.route("/Users/<user_id>", methods=["DELETE"])
def delete_user(user_id):
    """Remove a user from this workspace (the person stays in others). Admins only."""
    _require_admin()
    user = _find_user(user_id)
    with ctx().store.atomic() as db:
        db.execute("DELETE FROM memberships WHERE user_id = ? AND workspace_id = ?", (user["id"], workspace_id()))
    return jsonify({})


def _sps() -> list[dict]:
    return ctx().store.query("SELECT * FROM service_principals WHERE workspace_id = ? ORDER BY created_at, id",
                             (workspace_id(),))


def _find_sp(sp_id: str) -> dict:
    sp = next((s for s in _sps() if str(s["id"]) == sp_id), None)
    if sp is None:
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Service principal {sp_id} does not exist")
    return sp


@blp.route("/ServicePrincipals", methods=["GET"])
def list_sps():
    return _page([sp_resource(sp) for sp in _sps()])


@blp.route("/ServicePrincipals/<sp_id>", methods=["GET"])
def get_sp(sp_id):
    return jsonify(sp_resource(_find_sp(sp_id)))


@blp.route("/ServicePrincipals", methods=["POST"])
def create_sp():
    """Create a service principal (not tied to a Partner Connect connection). Admins only."""
    _require_admin()
    data = body()
    c = ctx()
    row = {"id": c.ids.int64(), "application_id": data.get("applicationId") or c.ids.uuid(),
           "display_name": data.get("displayName") or "service principal", "workspace_id": workspace_id(),
           "connection_id": None, "created_at": c.clock.now()}
    if c.store.one("SELECT id FROM service_principals WHERE application_id = ?", (row["application_id"],)):
        raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"Service principal {row['application_id']} already exists")
    with c.store.atomic() as db:
        db["service_principals"].insert(row)
    resp = jsonify(sp_resource(row))
    resp.status_code = 201
    return resp


@blp.route("/ServicePrincipals/<sp_id>", methods=["DELETE"])
def delete_sp(sp_id):
    """Delete a service principal; one that belongs to a Partner Connect connection is refused."""
    _require_admin()
    sp = _find_sp(sp_id)
    if sp["connection_id"] is not None:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "This service principal belongs to a Partner Connect "
                       "connection; delete the connection instead")
    with ctx().store.atomic() as db:
        db.execute("UPDATE tokens SET revoked_at = ? WHERE owner_kind = 'service_principal' AND owner_id = ? "
                   "AND revoked_at IS NULL", (ctx().clock.now(), sp["id"]))
        db.execute("DELETE FROM oauth_secrets WHERE service_principal_id = ?", (sp["id"],))
        db.execute("DELETE FROM service_principals WHERE id = ?", (sp["id"],))
    return jsonify({})


def _group(name: str) -> dict:
    cloud = _cloud()
    members = [u for u in _members() if name == "users" or u["is_admin"]]
    return {"schemas": [GROUP_SCHEMA], "id": name, "displayName": name,
            "members": [{"value": str(u[f"{cloud}_user_id"]), "display": u["email"],
                         "$ref": f"Users/{u[f'{cloud}_user_id']}"} for u in members],
            "entitlements": [], "groups": [], "roles": []}


@blp.route("/Groups", methods=["GET"])
def list_groups():
    return _page([_group("admins"), _group("users")])


@blp.route("/Groups/<group_id>", methods=["GET"])
def get_group(group_id):
    if group_id not in ("admins", "users"):
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Group {group_id} does not exist")
    return jsonify(_group(group_id))
