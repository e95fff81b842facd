"""Identity: SCIM ``Me``, users, service principals (list honouring ``filter``, ``startIndex``/``count``,
get, create, delete) and read-only groups (``admins``, ``users``) under ``/api/2.0/preview/scim/v2``.

Lists take the SCIM ``filter`` subset real clients send (RFC 7644 §3.4.2.2): ``eq ne co sw ew pr``
on ``userName``, ``displayName``, ``id``, ``applicationId``, ``active`` and ``emails.value``, combined
with ``and``/``or`` and parentheses; anything else is a 400 naming what is unsupported. Every read
honours ``attributes``/``excludedAttributes`` on top-level attributes (``id`` is always returned).
"""
from __future__ import annotations

import json
import re

from flask import jsonify
from flask_smorest import Blueprint

from .. import workspaces
from ..errors import PcsimError
from .common import arg, body, ctx, principal, required, workspace_id
from .errors import ApiError, invalid, not_found, permission_denied

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


# ---------------------------------------------------------------- filter, attributes, pagination

FILTER_OPERATORS = ("eq", "ne", "co", "sw", "ew", "pr")
# attribute as written (lower case) -> (the resource's attribute, compared case-insensitively). SCIM
# (RFC 7643) makes userName, displayName and emails.value caseExact=false; applicationId is a UUID.
FILTER_ATTRIBUTES = {"username": ("userName", True), "displayname": ("displayName", True), "id": ("id", False),
                     "applicationid": ("applicationId", True), "active": ("active", False),
                     "emails.value": ("emails.value", True)}
_FILTER_TOKEN = re.compile(r'\s*(?:(?P<paren>[()])|(?P<string>"(?:[^"\\]|\\.)*")|(?P<word>[^\s()"]+)|(?P<bad>\S))')


class FilterError(Exception):
    """Why a filter is not supported (the 400's message says it after the filter)."""


def _filter_tokens(text: str) -> list[tuple[str, object, int]]:
    """(kind, value, position) with kind ``(``, ``)``, ``string`` (decoded as JSON) or ``word``."""
    tokens = []
    for m in _FILTER_TOKEN.finditer(text):
        pos = m.start(m.lastgroup)
        if m.lastgroup == "paren":
            tokens.append((m.group("paren"), m.group("paren"), pos))
        elif m.lastgroup == "string":
            try:
                tokens.append(("string", json.loads(m.group("string")), pos))
            except ValueError:
                raise FilterError(f"the string at position {pos + 1} is not a valid JSON string (escape \\\" and "
                                  "\\\\ with a backslash)") from None
        elif m.lastgroup == "word":
            tokens.append(("word", m.group("word"), pos))
        else:
            raise FilterError(f"unterminated string at position {pos + 1}" if m.group("bad") == '"'
                              else f"unexpected {m.group('bad')!r} at position {pos + 1}")
    return tokens


class _FilterParser:
    """``expr := term ("or" term)*``, ``term := factor ("and" factor)*``,
    ``factor := "(" expr ")" | ATTR "pr" | ATTR OP VALUE`` (keywords case-insensitive)."""

    def __init__(self, text: str):
        self.tokens = _filter_tokens(text)
        self.i = 0

    def _take(self, wanted: str):
        if self.i >= len(self.tokens):
            raise FilterError(f"expected {wanted} at the end")
        self.i += 1
        return self.tokens[self.i - 1]

    def _keyword(self, word: str) -> bool:
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "word" and self.tokens[self.i][1].lower() == word:
            self.i += 1
            return True
        return False

    def parse(self):
        if not self.tokens:
            raise FilterError("it is empty")
        node = self._or()
        if self.i < len(self.tokens):
            _, value, pos = self.tokens[self.i]
            raise FilterError(f"expected and, or or the end at position {pos + 1}, got {value!r}")
        return node

    def _or(self):
        node = self._and()
        while self._keyword("or"):
            node = ("or", node, self._and())
        return node

    def _and(self):
        node = self._factor()
        while self._keyword("and"):
            node = ("and", node, self._factor())
        return node

    def _factor(self):
        kind, value, pos = self._take("an attribute or '('")
        if kind == "(":
            node = self._or()
            if self._take("')'")[0] != ")":
                raise FilterError(f"expected ')' to close the '(' at position {pos + 1}")
            return node
        if kind != "word":
            raise FilterError(f"expected an attribute at position {pos + 1}, got {value!r}")
        if value.lower() == "not":
            raise FilterError("'not' is not supported")
        if "[" in value:
            raise FilterError(f"value filters ({value.split('[')[0]}[...]) are not supported; use emails.value")
        attribute = FILTER_ATTRIBUTES.get(value.lower())
        if attribute is None:
            raise FilterError(f"attribute {value!r} is not supported (supported: userName, displayName, id, "
                              "applicationId, active, emails.value)")
        kind, op, pos = self._take(f"an operator after {value!r} ({', '.join(FILTER_OPERATORS)})")
        if kind == "word" and op.lower() in ("gt", "ge", "lt", "le"):
            raise FilterError(f"operator {op!r} is not supported (supported: {', '.join(FILTER_OPERATORS)})")
        if kind != "word" or op.lower() not in FILTER_OPERATORS:
            raise FilterError(f"expected an operator ({', '.join(FILTER_OPERATORS)}) after {value!r} at position "
                              f"{pos + 1}, got {op!r}")
        op = op.lower()
        if op == "pr":
            return ("pr", attribute, None)
        kind, operand, pos = self._take(f"a value after {op!r}")
        if kind == "word" and operand.lower() in ("true", "false"):
            operand = operand.lower() == "true"
        elif kind != "string":
            raise FilterError(f"expected a quoted string, true or false at position {pos + 1}, got {operand!r}")
        if attribute[0] == "active":
            if not isinstance(operand, bool) or op not in ("eq", "ne"):
                raise FilterError("active is a boolean: use active eq true|false or active ne true|false")
        elif not isinstance(operand, str):
            raise FilterError(f"{attribute[0]} is a string: compare it with a quoted value")
        return (op, attribute, operand)


def parse_filter(text: str):
    """The parsed filter (a small tuple tree); raises :class:`FilterError` saying why not."""
    return _FilterParser(text).parse()


def _attribute_values(resource: dict, name: str) -> list:
    if name == "emails.value":
        return [e.get("value") for e in resource.get("emails") or [] if isinstance(e, dict)]
    return [resource.get(name)]


def filter_matches(node, resource: dict) -> bool:
    """Whether ``resource`` matches; a multi-valued attribute matches when one of its values does,
    ``ne`` is "no value equals" and an absent attribute is not ``pr`` and equals nothing."""
    op = node[0]
    if op == "and":
        return filter_matches(node[1], resource) and filter_matches(node[2], resource)
    if op == "or":
        return filter_matches(node[1], resource) or filter_matches(node[2], resource)
    (name, fold), operand = node[1], node[2]
    values = [v for v in _attribute_values(resource, name) if v is not None and v != ""]
    if op == "pr":
        return bool(values)
    if isinstance(operand, str):
        values = [str(v) for v in values]
        if fold:
            values, operand = [v.lower() for v in values], operand.lower()
    if op in ("eq", "ne"):
        return any(v == operand for v in values) == (op == "eq")
    test = {"co": str.__contains__, "sw": str.startswith, "ew": str.endswith}[op]
    return any(test(v, operand) for v in values)


def _filtered(resources: list[dict]) -> list[dict]:
    text = arg("filter")
    if text is None or not text.strip():
        return resources
    try:
        node = parse_filter(text)
    except FilterError as exc:
        invalid(f"Unsupported filter {text!r}: {exc}")
    return [r for r in resources if filter_matches(node, r)]


def _names(param: str) -> set[str]:
    """Lower-case top-level attribute names of ``attributes``/``excludedAttributes`` (URN prefixes and
    sub-attributes dropped: ``name.givenName`` keeps or drops all of ``name``)."""
    value = arg(param) or ""
    return {a.strip().rsplit(":", 1)[-1].split(".")[0].lower() for a in value.split(",") if a.strip()}


def _project(resource: dict) -> dict:
    """``attributes`` keeps only those (plus ``id`` and ``schemas``); else ``excludedAttributes`` drops."""
    keep, drop = _names("attributes"), _names("excludedAttributes") - {"id", "schemas"}
    if keep:
        keep |= {"id", "schemas"}
        return {k: v for k, v in resource.items() if k.lower() in keep}
    return {k: v for k, v in resource.items() if k.lower() not in drop}


def _one(resource: dict):
    return jsonify(_project(resource))


def _created(resource: dict):
    """201 with the new resource (in full: ``attributes`` apply to reads)."""
    resp = jsonify(resource)
    resp.status_code = 201
    return resp


def _page(resources: list[dict]):
    """SCIM list: ``filter`` first, then pagination (1-based ``startIndex``, ``count``; an empty page
    past the end); ``totalResults`` counts the filtered set."""
    matched = _filtered(resources)
    start = max(arg("startIndex", 1, int), 1)
    count = arg("count", 10_000, int)
    page = [_project(r) for r in matched[start - 1:start - 1 + max(count, 0)]]
    return jsonify({"schemas": [LIST_SCHEMA], "totalResults": len(matched), "startIndex": start,
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
    resp = _one(resource)
    resp.headers["X-Databricks-Org-Id"] = str(who.workspace_id)
    return resp


def _members() -> list[dict]:
    return workspaces.list_users(ctx(), workspace_id())


def _find_user(user_id: str) -> dict:
    cloud = _cloud()
    for u in _members():
        if str(u[f"{cloud}_user_id"]) == user_id:
            return u
    not_found(f"User {user_id} does not exist")


@blp.route("/Users", methods=["GET"])
def list_users():
    cloud = _cloud()
    return _page([user_resource(u, cloud) for u in _members()])


@blp.route("/Users/<user_id>", methods=["GET"])
def get_user(user_id):
    return _one(user_resource(_find_user(user_id), _cloud()))


@blp.route("/Users", methods=["POST"])
def create_user():
    """Add a user to this workspace (creating the person when new). Admins only."""
    _require_admin()
    data = body()
    email = required(data, "userName")
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
        invalid(str(exc))
    user = next(u for u in _members() if u["email"].lower() == email.lower())
    return _created(user_resource(user, _cloud()))


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
        not_found(f"Service principal {sp_id} does not exist")
    return sp


@blp.route("/ServicePrincipals", methods=["GET"])
def list_sps():
    return _page([sp_resource(sp) for sp in _sps()])


@blp.route("/ServicePrincipals/<sp_id>", methods=["GET"])
def get_sp(sp_id):
    return _one(sp_resource(_find_sp(sp_id)))


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
    return _created(sp_resource(row))


@blp.route("/ServicePrincipals/<sp_id>", methods=["DELETE"])
def delete_sp(sp_id):
    """Delete a service principal; one that belongs to a Partner Connect connection is refused."""
    _require_admin()
    sp = _find_sp(sp_id)
    if sp["connection_id"] is not None:
        invalid("This service principal belongs to a Partner Connect connection; delete the connection instead")
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
        not_found(f"Group {group_id} does not exist")
    return _one(_group(group_id))
