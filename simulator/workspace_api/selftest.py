"""Self-testing partners: ``/api/2.0/partnerhub/self-test-partners/create|get|update/<id>|delete/<id>``.

What the self-testing partner CLI (``databrickslabs/partner-connect-api``) calls: a workspace admin
creates a Partner Connect tile visible only in their workspace from a small config (``{"partner":
{...}}`` as the CLI sends its file, or the inner object alone)::

    name, category, sign_up_url, connect_url, delete_url?, terms_of_service_url, privacy_policy_url,
    hostname ("a.com,b.com"), supported_features? (UNITY_CATALOG, NON_ADMIN, EXTERNAL_LOCATION),
    integration_type, auth_options? (AUTH_PAT | AUTH_OAUTH_M2M, optional AUTH_OAUTH_U2M)

It is translated into the certification config format (``base_url`` from the connect URL's origin,
``endpoints.connect_path``/``delete_connection_path``, ``hostnames``...) and registered in the
partner registry with ``source="self-test"`` for the caller's workspace only. ``integration_type``
decides what Partner Connect provisions (:data:`INTEGRATION_TYPES`). One per workspace; ids are 15
uppercase hex characters. Update and delete first delete the partner's existing connections with
:func:`simulator.partnerconnect.flows.delete_connection` (so the partner is notified as usual).

The Authorization header sent to the partner is the secret at scope ``partner-connect``, key =
partner id (empty or absent: no header). It is copied into the registry whenever that secret, its
scope or the partner changes (:func:`sync_authorization`), so it holds at call time.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import jsonify
from flask_smorest import Blueprint

from .. import partners
from ..errors import Conflict, Invalid, PcsimError
from ..partnerconnect import flows
from ..partnerconnect.wire import CATEGORIES
from ..store import dumps
from .common import body, ctx, principal, workspace_id
from .errors import ApiError, not_found, permission_denied
from . import secrets as secrets_api
from .secrets import PARTNER_CONNECT_SCOPE, secret_value

blp = Blueprint("selftest", __name__, url_prefix="/api/2.0/partnerhub/self-test-partners",
                description="Self-testing Partner Connect partners")

SCHEMA = """
CREATE TABLE IF NOT EXISTS self_test_partners (
    id TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL UNIQUE,
    partner_name TEXT NOT NULL,
    config TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL
);
"""

UC_READ = ["USE_CATALOG", "USE_SCHEMA", "SELECT"]
UC_WRITE = ["USE_CATALOG", "USE_SCHEMA", "CREATE_SCHEMA", "CREATE_TABLE", "MODIFY"]
LEGACY_READ = ["USAGE", "SELECT", "READ_METADATA"]
LEGACY_WRITE = ["USAGE", "CREATE", "MODIFY"]

# integration_type -> what is provisioned: resources, data permissions (read/write) and object permissions
INTEGRATION_TYPES = {
    "NO_INTEGRATION": {"resources": [], "read": False, "write": False, "objects": []},
    "CLUSTER_COMPUTE": {"resources": ["InteractiveCluster"], "read": False, "write": False,
                        "objects": [("Cluster", "CAN_MANAGE")]},
    "WAREHOUSE_READ": {"resources": ["SqlEndpoint"], "read": True, "write": False,
                       "objects": [("SQL_Endpoint", "CAN_USE")]},
    "WAREHOUSE_WRITE": {"resources": ["SqlEndpoint"], "read": False, "write": True,
                        "objects": [("SQL_Endpoint", "CAN_USE")]},
    "WAREHOUSE_READ_WRITE": {"resources": ["SqlEndpoint"], "read": True, "write": True,
                             "objects": [("SQL_Endpoint", "CAN_USE")]},
    "WORKSPACE_MANAGEMENT": {"resources": ["PAT"], "read": False, "write": False,
                             "objects": [("Job", "CAN_MANAGE"), ("Pool", "CAN_MANAGE")]},
}
FEATURES = ("UNITY_CATALOG", "NON_ADMIN", "EXTERNAL_LOCATION")
AUTH_OPTIONS = ("AUTH_PAT", "AUTH_OAUTH_M2M", "AUTH_OAUTH_U2M")
REQUIRED = ("name", "category", "sign_up_url", "connect_url", "terms_of_service_url", "privacy_policy_url",
            "hostname", "integration_type")
URLS = ("sign_up_url", "connect_url", "delete_url", "terms_of_service_url", "privacy_policy_url")


def _ensure(c) -> None:
    """Create the tables used here (before any transaction: ``Store.ensure`` commits)."""
    secrets_api.ensure(c)
    c.store.ensure(SCHEMA)


def _data_permissions(kind: dict, unity_catalog: bool) -> list[dict]:
    read, write = (UC_READ, UC_WRITE) if unity_catalog else (LEGACY_READ, LEGACY_WRITE)
    names = (read if kind["read"] else []) + (write if kind["write"] else [])
    return [{"permission": p} for p in dict.fromkeys(names)]


def translate(selftest: dict, *, workspace: int, partner_id: str) -> dict:
    """The certification-format partner config for a self-testing partner config (pure).

    Raises :class:`~simulator.errors.Invalid` listing every problem."""
    if isinstance(selftest.get("partner"), dict):
        selftest = selftest["partner"]
    problems = [f"{key}: is required" for key in REQUIRED
                if not isinstance(selftest.get(key), str) or not selftest[key].strip()]
    for key in URLS:
        value = selftest.get(key)
        if isinstance(value, str) and value and not (value.startswith(("http://", "https://")) and urlsplit(value).netloc):
            problems.append(f"{key}: must be an absolute http(s) URL (got {value!r})")
    category = selftest.get("category")
    if isinstance(category, str) and category.strip() and category not in CATEGORIES:
        problems.append(f"category: must be one of {', '.join(CATEGORIES)} (got {category!r})")
    kind_name = selftest.get("integration_type")
    if isinstance(kind_name, str) and kind_name and kind_name not in INTEGRATION_TYPES:
        problems.append(f"integration_type: must be one of {', '.join(INTEGRATION_TYPES)} (got {kind_name!r})")
    features = selftest.get("supported_features", [])
    if not isinstance(features, list) or any(f not in FEATURES for f in features):
        problems.append(f"supported_features: must be a list of {', '.join(FEATURES)} (got {features!r})")
        features = []
    auth = selftest.get("auth_options")
    if auth is not None and (not isinstance(auth, list) or any(a not in AUTH_OPTIONS for a in auth)):
        problems.append(f"auth_options: must be a list of {', '.join(AUTH_OPTIONS)} (got {auth!r})")
    elif auth and "AUTH_PAT" in auth and "AUTH_OAUTH_M2M" in auth:
        problems.append("auth_options: AUTH_PAT and AUTH_OAUTH_M2M cannot be combined "
                        "(a partner gets either a PAT or an OAuth M2M secret)")
    connect = urlsplit(selftest["connect_url"]) if "connect_url: is required" not in problems else None
    delete_url = selftest.get("delete_url")
    if connect and isinstance(delete_url, str) and delete_url:
        delete = urlsplit(delete_url)
        if (delete.scheme, delete.netloc) != (connect.scheme, connect.netloc):
            problems.append(f"delete_url: must have the same scheme, host and port as connect_url "
                            f"({connect.scheme}://{connect.netloc}), got {delete_url!r}")
    hostnames = [h.strip() for h in str(selftest.get("hostname") or "").split(",") if h.strip()]
    if selftest.get("hostname") and not hostnames:
        problems.append("hostname: must name at least one host (comma-separated)")
    if problems:
        raise Invalid("invalid self-testing partner config:\n" + "\n".join(f"  - {p}" for p in problems))

    kind = INTEGRATION_TYPES[kind_name]
    resources = list(kind["resources"])
    if "EXTERNAL_LOCATION" in features and kind["write"]:
        resources.append("DestLocation")

    def path(parts) -> str:
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    endpoints = {"connect_path": path(connect)}
    if isinstance(delete_url, str) and delete_url:
        endpoints["delete_connection_path"] = path(urlsplit(delete_url))
    config = {
        "api_version": "2.1.1", "name": selftest["name"].strip(),
        "description_blurb": f"Self-testing partner (visible only in workspace {workspace})",
        "category": selftest["category"], "base_url": f"{connect.scheme}://{connect.netloc}",
        "endpoints": endpoints, "sign_up_page": selftest["sign_up_url"],
        "privacy_policy": selftest["privacy_policy_url"], "terms_of_service": selftest["terms_of_service_url"],
        "logo_file": "self-testing-partner.png", "icon_file": "self-testing-partner.png",
        "resources_to_provision": [{"resource_type": r} for r in resources],
        "data_permissions": _data_permissions(kind, "UNITY_CATALOG" in features),
        "object_permissions": [{"name": n, "level": lvl} for n, lvl in kind["objects"]],
        "supported_clouds": ["aws", "azure", "gcp"], "hostnames": hostnames, "new_user_action": "auto_add",
        "supported_features": list(features),
        "pcsim": {"self_test": {"id": partner_id, "integration_type": kind_name}},
    }
    if auth:
        config["auth_options"] = list(auth)
    return config


def authorization_for(c, workspace: int, partner_id: str) -> str:
    """The Authorization value for a self-testing partner: its secret, or "" (no header)."""
    value = secret_value(c, workspace, PARTNER_CONNECT_SCOPE, partner_id)
    return "" if value is None else value.decode("utf-8", "replace").strip()


def sync_authorization(c, workspace: int) -> None:
    """Copy the ``partner-connect`` secret into the registry for the workspace's self-testing partner."""
    _ensure(c)
    for row in c.store.query("SELECT * FROM self_test_partners WHERE workspace_id = ?", (workspace,)):
        with c.store.atomic() as db:
            db.execute("UPDATE partners SET authorization_value = ? WHERE name = ? AND source = 'self-test'",
                       (authorization_for(c, workspace, row["id"]), row["partner_name"]))


# ---------------------------------------------------------------- routes

def _require_admin():
    who = principal()
    if not who.is_admin:
        permission_denied("Workspace admin is required to manage self-testing partners")
    return who


def _rows() -> list[dict]:
    """The workspace's self-testing partners. Rows whose partner was removed elsewhere, or replaced by
    a partner that is not this workspace's self-testing partner (``pcsim partners add --replace``), are
    dropped: that registration is no longer this API's to update or delete."""
    c = ctx()
    _ensure(c)
    with c.store.atomic() as db:
        db.execute("DELETE FROM self_test_partners WHERE NOT EXISTS (SELECT 1 FROM partners p WHERE "
                   "p.name = self_test_partners.partner_name AND p.source = 'self-test' "
                   "AND p.self_test_workspace_id = self_test_partners.workspace_id)")
    return c.store.query("SELECT * FROM self_test_partners WHERE workspace_id = ? ORDER BY created_at",
                         (workspace_id(),))


def _find(partner_id: str) -> dict:
    row = next((r for r in _rows() if r["id"] == partner_id), None)
    if row is None:
        not_found(f"Self-testing partner {partner_id} does not exist in this workspace")
    return row


def _config(partner_id: str) -> dict:
    try:
        return translate(body(), workspace=workspace_id(), partner_id=partner_id)
    except Invalid as exc:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", str(exc)) from None


def _check_name_free(name: str, current: str | None = None) -> None:
    """409 unless ``name`` is free or is this workspace's own self-testing partner ``current``: a
    partner registered otherwise (CLI, fixtures, scenarios) or another workspace's self-testing
    partner is never taken over."""
    row = ctx().store.one("SELECT source, self_test_workspace_id FROM partners WHERE name = ?", (name,))
    if row is None or (name == current and row["source"] == "self-test"
                       and row["self_test_workspace_id"] == workspace_id()):
        return
    owner = ("the self-testing partner of another workspace" if row["source"] == "self-test"
             else f"registered with source {row['source']!r}, not a self-testing partner")
    raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"A partner named {name!r} already exists in the simulator "
                   f"({owner}); choose another name for the self-testing partner")


def _register(config: dict, partner_id: str, replace: bool) -> None:
    try:
        partners.register(ctx(), config, source="self-test", self_test_workspace_id=workspace_id(),
                          authorization=authorization_for(ctx(), workspace_id(), partner_id), replace=replace)
    except Conflict:  # registered by someone else since the name check
        raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"A partner named {config['name']!r} already exists in the "
                       "simulator; choose another name for the self-testing partner") from None
    except PcsimError as exc:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", str(exc)) from None


def _delete_connections(partner_name: str) -> None:
    """Tear down every connection of the partner exactly as "Delete connection" does."""
    who = principal()
    for conn in ctx().store.query("SELECT workspace_id FROM connections WHERE partner_name = ?", (partner_name,)):
        flows.delete_connection(ctx(), partner_name=partner_name, workspace_id=conn["workspace_id"],
                                user_email=None if who.is_service_principal else who.user_name)


@blp.route("/create", methods=["POST"])
def create():
    """Create the workspace's self-testing partner (admins; one per workspace) → ``{"id"}``."""
    who = _require_admin()
    existing = _rows()
    if existing:
        raise ApiError(409, "RESOURCE_ALREADY_EXISTS",
                       f"Only one self-testing partner can be active in a workspace: this one already has "
                       f"{existing[0]['partner_name']!r} (id {existing[0]['id']}); update or delete it first")
    c = ctx()
    partner_id = c.ids.hex(15).upper()
    while c.store.one("SELECT id FROM self_test_partners WHERE id = ?", (partner_id,)):
        partner_id = c.ids.hex(15).upper()
    config = _config(partner_id)
    _check_name_free(config["name"])
    with c.store.atomic() as db:
        _register(config, partner_id, replace=False)
        db["self_test_partners"].insert({"id": partner_id, "workspace_id": workspace_id(),
                                         "partner_name": config["name"], "config": dumps(body()),
                                         "created_by": who.user_name, "created_at": c.clock.now(),
                                         "updated_at": None})
    return jsonify({"id": partner_id})


@blp.route("/get", methods=["GET"])
def get():
    """``{"partners": [{"id", "name"}]}``; the key is left out when there is none."""
    _require_admin()
    rows = _rows()
    return jsonify({"partners": [{"id": r["id"], "name": r["partner_name"]} for r in rows]} if rows else {})


@blp.route("/update/<partner_id>", methods=["PUT"])
def update(partner_id):
    """Replace the config; the partner's existing connections are deleted first."""
    _require_admin()
    row = _find(partner_id)
    config = _config(partner_id)
    _check_name_free(config["name"], row["partner_name"])
    _delete_connections(row["partner_name"])
    c = ctx()
    with c.store.atomic() as db:
        if config["name"] != row["partner_name"]:
            partners.remove(c, row["partner_name"])
        _register(config, partner_id, replace=config["name"] == row["partner_name"])
        db["self_test_partners"].update(partner_id, {"partner_name": config["name"], "config": dumps(body()),
                                                     "updated_at": c.clock.now()})
    return jsonify({})


@blp.route("/delete/<partner_id>", methods=["DELETE"])
def delete(partner_id):
    """Delete the partner; its existing connections are deleted first (the secret stays)."""
    _require_admin()
    row = _find(partner_id)
    _delete_connections(row["partner_name"])
    c = ctx()
    with c.store.atomic() as db:
        partners.remove(c, row["partner_name"])
        db.execute("DELETE FROM self_test_partners WHERE id = ?", (partner_id,))
    return jsonify({})
