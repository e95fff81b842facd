"""SQL warehouses: ``/api/2.0/sql/warehouses`` list/get/create/edit/start/stop/delete.

States follow :mod:`simulator.lifecycle`: create/start/edit-while-running STARTING→RUNNING, stop
STOPPING→STOPPED, delete DELETING→DELETED (a deleted warehouse still answers GET with state
DELETED, is left out of lists, and refuses other operations with 404). The warehouses Partner
Connect provisions appear here like any other. Connection details (``odbc_params``, ``jdbc_url``)
name the host and port the request was sent to. Permissions: :mod:`.permissions`.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import jsonify, request
from flask_smorest import Blueprint

from .. import lifecycle
from ..store import dumps, loads
from . import permissions
from .common import body, ctx, page, principal, workspace_id
from .errors import ApiError, invalid, not_found

blp = Blueprint("warehouses", __name__, url_prefix="/api/2.0/sql/warehouses", description="SQL warehouses")

CLUSTER_SIZES = ("2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large", "4X-Large")
WAREHOUSE_TYPES = ("CLASSIC", "PRO", "TYPE_UNSPECIFIED")
SPOT_POLICIES = ("COST_OPTIMIZED", "RELIABILITY_OPTIMIZED", "POLICY_UNSPECIFIED")
CHANNELS = ("CHANNEL_NAME_CURRENT", "CHANNEL_NAME_PREVIEW", "CHANNEL_NAME_PREVIOUS", "CHANNEL_NAME_CUSTOM",
            "CHANNEL_NAME_UNSPECIFIED")
MAX_CLUSTERS = 40
DEFAULTS = {"min_num_clusters": 1, "max_num_clusters": 1, "auto_stop_mins": 120, "enable_photon": True,
            "spot_instance_policy": "COST_OPTIMIZED", "channel": {"name": "CHANNEL_NAME_CURRENT"},
            "tags": {}}
DETAIL_KEYS = ("min_num_clusters", "max_num_clusters", "auto_stop_mins", "enable_photon", "spot_instance_policy",
               "channel", "tags", "instance_profile_arn", "max_dbu", "statement_timeout")
HEALTH = {
    "STARTING": "Warehouse is starting", "RUNNING": "Warehouse is running", "STOPPING": "Warehouse is stopping",
    "STOPPED": "Warehouse is stopped", "DELETING": "Warehouse is being deleted", "DELETED": "Warehouse is deleted",
}


def _endpoint() -> tuple[str, int, str]:
    """Host, port and scheme the caller used to reach this server."""
    parts = urlsplit(request.host_url)
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname or "127.0.0.1", parts.port or default, parts.scheme


def to_json(row: dict) -> dict:
    """The warehouse object of get and list."""
    d = {**DEFAULTS, **(loads(row.get("details")) or {})}
    host, port, scheme = _endpoint()
    http_path = f"/sql/1.0/warehouses/{row['id']}"
    state = row["state"]
    summary = HEALTH.get(state, state)
    note = lifecycle.pending_text(row)
    if note:
        summary += f" (simulated: {note})"
    out = {
        "id": row["id"], "name": row["name"], "cluster_size": row["cluster_size"],
        "min_num_clusters": d["min_num_clusters"], "max_num_clusters": d["max_num_clusters"],
        "num_clusters": d["min_num_clusters"] if state == "RUNNING" else 0, "num_active_sessions": 0,
        "auto_stop_mins": d["auto_stop_mins"], "enable_photon": d["enable_photon"],
        "enable_serverless_compute": bool(row["enable_serverless_compute"]),
        "warehouse_type": row["warehouse_type"], "spot_instance_policy": d["spot_instance_policy"],
        "channel": d["channel"], "tags": d["tags"], "creator_name": row.get("creator") or "",
        "state": state,
        "health": {"status": "HEALTHY", "summary": summary},
        "odbc_params": {"hostname": host, "path": http_path, "protocol": scheme, "port": port},
        "jdbc_url": (f"jdbc:spark://{host}:{port}/default;transportMode=http;ssl={1 if scheme == 'https' else 0};"
                     f"AuthMech=3;httpPath={http_path};"),
    }
    for key in ("instance_profile_arn", "max_dbu", "statement_timeout"):
        if key in d:
            out[key] = d[key]
    return out


def _load(warehouse_id: str, need: str = "view", verb: str = "see", *, allow_deleted: bool = False) -> dict:
    row = lifecycle.get(ctx(), "warehouse", warehouse_id)
    if row is None or row["workspace_id"] != workspace_id() or (row["state"] == "DELETED" and not allow_deleted):
        not_found(f"SQL warehouse {warehouse_id} does not exist.")
    permissions.require(principal(), "warehouse", row, need, verb)
    return row


def _bool(data: dict, key: str):
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        invalid(f"{key} must be a boolean, got {value!r}")
    return value


def _int(data: dict, key: str):
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        invalid(f"{key} must be an integer, got {value!r}")
    return value


def _validated(data: dict, current: dict | None) -> tuple[dict, dict]:
    """(columns, details) for a create (``current`` None) or an edit merged onto ``current``."""
    old_details = {**DEFAULTS, **(loads(current.get("details")) or {})} if current else dict(DEFAULTS)
    columns = {
        "name": current["name"] if current else None, "cluster_size": current["cluster_size"] if current else "Small",
        "warehouse_type": current["warehouse_type"] if current else "CLASSIC",
        "enable_serverless_compute": bool(current["enable_serverless_compute"]) if current else False,
    }
    if "name" in data:
        if not isinstance(data["name"], str) or not data["name"].strip():
            invalid("name must be a non-empty string")
        if len(data["name"]) >= 100:
            invalid("name must be less than 100 characters")
        columns["name"] = data["name"]
    if not columns["name"]:
        invalid("Missing required field: name")
    if "cluster_size" in data:
        if data["cluster_size"] not in CLUSTER_SIZES:
            invalid(f"cluster_size must be one of {', '.join(CLUSTER_SIZES)}, got {data['cluster_size']!r}")
        columns["cluster_size"] = data["cluster_size"]
    if "warehouse_type" in data:
        if data["warehouse_type"] not in WAREHOUSE_TYPES:
            invalid(f"warehouse_type must be one of {', '.join(WAREHOUSE_TYPES)}, got {data['warehouse_type']!r}")
        columns["warehouse_type"] = "CLASSIC" if data["warehouse_type"] == "TYPE_UNSPECIFIED" else data["warehouse_type"]
    serverless = _bool(data, "enable_serverless_compute")
    if serverless is not None:
        columns["enable_serverless_compute"] = serverless
    if columns["enable_serverless_compute"] and columns["warehouse_type"] != "PRO":
        invalid("Serverless compute (enable_serverless_compute: true) requires warehouse_type PRO, "
                f"got {columns['warehouse_type']}")
    details = {k: v for k, v in old_details.items() if k in DETAIL_KEYS}
    for key in ("min_num_clusters", "max_num_clusters", "auto_stop_mins", "max_dbu"):
        value = _int(data, key)
        if value is not None:
            details[key] = value
    if not 1 <= details["min_num_clusters"] <= details["max_num_clusters"] <= MAX_CLUSTERS:
        invalid(f"Need 1 <= min_num_clusters <= max_num_clusters <= {MAX_CLUSTERS}, got "
                f"{details['min_num_clusters']} and {details['max_num_clusters']}")
    stop = details["auto_stop_mins"]
    if stop != 0 and stop < (1 if columns["enable_serverless_compute"] else 10):
        invalid("auto_stop_mins must be 0 (never) or at least "
                f"{1 if columns['enable_serverless_compute'] else 10} minutes, got {stop}")
    photon = _bool(data, "enable_photon")
    if photon is not None:
        details["enable_photon"] = photon
    if "spot_instance_policy" in data:
        if data["spot_instance_policy"] not in SPOT_POLICIES:
            invalid(f"spot_instance_policy must be one of {', '.join(SPOT_POLICIES)}")
        details["spot_instance_policy"] = data["spot_instance_policy"]
    if "channel" in data:
        channel = data["channel"]
        if not isinstance(channel, dict) or channel.get("name", "CHANNEL_NAME_CURRENT") not in CHANNELS:
            invalid(f"channel.name must be one of {', '.join(CHANNELS)}")
        details["channel"] = channel
    if "tags" in data:
        tags = data["tags"]
        custom = tags.get("custom_tags", []) if isinstance(tags, dict) else None
        if not isinstance(custom, list) or not all(isinstance(t, dict) and isinstance(t.get("key"), str)
                                                   for t in custom):
            invalid("tags must be {\"custom_tags\": [{\"key\": ..., \"value\": ...}]}")
        details["tags"] = tags
    for key in ("instance_profile_arn", "statement_timeout"):
        if key in data:
            details[key] = data[key]
    columns["enable_serverless_compute"] = int(columns["enable_serverless_compute"])
    return columns, details


def _check_unique_name(name: str, except_id: str | None = None) -> None:
    clash = ctx().store.one("SELECT id FROM warehouses WHERE workspace_id = ? AND name = ? AND id IS NOT ? "
                            "AND state != 'DELETED'", (workspace_id(), name, except_id))
    if clash:
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"SQL warehouse with name {name!r} already exists")


@blp.route("", methods=["GET"])
def list_warehouses():
    """The warehouses the caller may see (deleted ones left out); ``page_size``/``page_token``."""
    live = [r for r in lifecycle.list_rows(ctx(), "warehouse", workspace_id()) if r["state"] != "DELETED"]
    rows, tokens = page(permissions.visible(principal(), "warehouse", live))
    tokens.pop("prev_page_token", None)  # the warehouses API has no previous-page token
    return jsonify({"warehouses": [to_json(r) for r in rows], **tokens})


@blp.route("/<warehouse_id>", methods=["GET"])
def get_warehouse(warehouse_id):
    return jsonify(to_json(_load(warehouse_id, allow_deleted=True)))


@blp.route("", methods=["POST"])
def create_warehouse():
    """Create a warehouse (admins); it starts at once (STARTING→RUNNING)."""
    who = principal()
    permissions.require_create(who, "warehouse")
    columns, details = _validated(body(), None)
    _check_unique_name(columns["name"])
    c = ctx()
    row = {"id": c.ids.warehouse_id(), "workspace_id": workspace_id(), **columns, "connection_id": None,
           "creator": who.user_name, "created_at": c.clock.now(), "details": dumps(details),
           **lifecycle.initial(c, "warehouse")}
    with c.store.atomic() as db:
        db["warehouses"].insert(row)
    return jsonify({"id": row["id"]})


@blp.route("/<warehouse_id>/edit", methods=["POST"])
def edit_warehouse(warehouse_id):
    """Change settings; a running (or starting) warehouse restarts, a stopped one stays stopped."""
    row = _load(warehouse_id, "manage", "edit")
    columns, details = _validated(body(), row)
    _check_unique_name(columns["name"], warehouse_id)
    with ctx().store.atomic() as db:
        changes = {**columns, "details": dumps(details)}
        if row["state"] in ("RUNNING", "STARTING"):
            lifecycle.apply(ctx(), db, "warehouse", warehouse_id, "restart", **changes)
        else:
            db["warehouses"].update(warehouse_id, changes)
    return jsonify({})


@blp.route("/<warehouse_id>/start", methods=["POST"])
def start_warehouse(warehouse_id):
    """STARTING→RUNNING; a running or starting warehouse is left as it is."""
    row = _load(warehouse_id, "use", "start")
    if row["state"] not in ("RUNNING", "STARTING"):
        with ctx().store.atomic() as db:
            lifecycle.apply(ctx(), db, "warehouse", warehouse_id, "start")
    return jsonify({})


@blp.route("/<warehouse_id>/stop", methods=["POST"])
def stop_warehouse(warehouse_id):
    """STOPPING→STOPPED; a stopped or stopping warehouse is left as it is."""
    row = _load(warehouse_id, "manage", "stop")
    if row["state"] not in ("STOPPED", "STOPPING"):
        with ctx().store.atomic() as db:
            lifecycle.apply(ctx(), db, "warehouse", warehouse_id, "stop")
    return jsonify({})


@blp.route("/<warehouse_id>", methods=["DELETE"])
def delete_warehouse(warehouse_id):
    """DELETING→DELETED (the record answers GET with state DELETED afterwards)."""
    row = _load(warehouse_id, "manage", "delete")
    if row["state"] != "DELETING":
        with ctx().store.atomic() as db:
            lifecycle.apply(ctx(), db, "warehouse", warehouse_id, "delete")
    return jsonify({})
