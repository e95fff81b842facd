"""Clusters: ``/api/2.0/clusters/*`` and ``/api/2.1/clusters/*`` (same handlers).

create/get/list/start/restart/delete (terminate; the record is kept)/permanent-delete/edit, plus
``spark-versions`` and ``list-node-types`` (node types of the workspace's cloud, every field the
SDK's ``select_node_type`` sorts on filled in). States follow :mod:`simulator.lifecycle`:
create/start PENDING→RUNNING, restart (and edit while running) RESTARTING→RUNNING, delete
TERMINATING→TERMINATED. An unknown cluster is a 400 ``INVALID_PARAMETER_VALUE`` "Cluster <id> does
not exist", as on Databricks. Permissions: :mod:`.permissions`.
"""
from __future__ import annotations

from flask import jsonify, request
from flask_smorest import Blueprint

from .. import lifecycle, workspaces
from ..store import dumps, loads
from . import permissions
from .common import arg, body, ctx, millis, page, principal, workspace_id
from .errors import ApiError, invalid

blp = Blueprint("clusters", __name__, description="Clusters (API 2.0 and 2.1)")

SPARK_VERSIONS = [
    ("17.2.x-scala2.13", "17.2 Beta (includes Apache Spark 4.0.0, Scala 2.13)"),
    ("17.1.x-scala2.13", "17.1 (includes Apache Spark 4.0.0, Scala 2.13)"),
    ("16.4.x-scala2.12", "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.4.x-scala2.13", "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.13)"),
    ("16.4.x-photon-scala2.12", "16.4 LTS Photon (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.4.x-cpu-ml-scala2.12", "16.4 LTS ML (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.4.x-gpu-ml-scala2.12", "16.4 LTS ML (includes Apache Spark 3.5.2, GPU, Scala 2.12)"),
    ("16.3.x-scala2.12", "16.3 (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("15.4.x-scala2.12", "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-aarch64-scala2.12", "15.4 LTS aarch64 (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-cpu-ml-scala2.12", "15.4 LTS ML (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("14.3.x-scala2.12", "14.3 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("13.3.x-scala2.12", "13.3 LTS (includes Apache Spark 3.4.1, Scala 2.12)"),
]
SPARK_VERSION_KEYS = {key for key, _ in SPARK_VERSIONS}


def _node(node_type_id, cores, memory_gb, category, description, *, gpus=0, disks=0, disk_gb=0, nvme=0, nvme_gb=0,
          deprecated=False, photon=True):
    return {
        "node_type_id": node_type_id, "instance_type_id": node_type_id, "memory_mb": memory_gb * 1024,
        "num_cores": float(cores), "num_gpus": gpus, "category": category, "description": description,
        "is_deprecated": deprecated, "is_hidden": False, "is_io_cache_enabled": bool(disks or nvme),
        "photon_worker_capable": photon, "photon_driver_capable": photon, "support_port_forwarding": True,
        "support_ebs_volumes": True, "is_graviton": False,
        "node_instance_type": {"instance_type_id": node_type_id, "local_disks": disks, "local_disk_size_gb": disk_gb,
                               "local_nvme_disks": nvme, "local_nvme_disk_size_gb": nvme_gb},
        "node_info": {"status": []},
    }


NODE_TYPES = {
    "aws": [
        _node("m5.large", 2, 8, "General Purpose", "m5.large"),
        _node("m5d.large", 2, 8, "General Purpose", "m5d.large", nvme=1, nvme_gb=75),
        _node("m5d.xlarge", 4, 16, "General Purpose", "m5d.xlarge", nvme=1, nvme_gb=150),
        _node("i3.xlarge", 4, 30, "Storage Optimized", "i3.xlarge", nvme=1, nvme_gb=950),
        _node("r5d.xlarge", 4, 32, "Memory Optimized", "r5d.xlarge", nvme=1, nvme_gb=150),
        _node("c5.2xlarge", 8, 16, "Compute Optimized", "c5.2xlarge"),
        _node("g4dn.xlarge", 4, 16, "GPU Accelerated", "g4dn.xlarge", gpus=1, nvme=1, nvme_gb=125, photon=False),
        _node("m4.large", 2, 8, "General Purpose", "m4.large (deprecated)", deprecated=True, photon=False),
    ],
    "azure": [
        _node("Standard_D4s_v3", 4, 16, "General Purpose", "Standard_D4s_v3"),
        _node("Standard_D4ds_v5", 4, 16, "General Purpose", "Standard_D4ds_v5", disks=1, disk_gb=150),
        _node("Standard_DS3_v2", 4, 14, "General Purpose", "Standard_DS3_v2", disks=1, disk_gb=28),
        _node("Standard_E4ds_v4", 4, 32, "Memory Optimized", "Standard_E4ds_v4", disks=1, disk_gb=150),
        _node("Standard_L8s_v2", 8, 64, "Storage Optimized", "Standard_L8s_v2", disks=1, disk_gb=80, nvme=1,
              nvme_gb=1788),
        _node("Standard_NC4as_T4_v3", 4, 28, "GPU Accelerated", "Standard_NC4as_T4_v3", gpus=1, disks=1, disk_gb=180,
              photon=False),
        _node("Standard_DS2_v2", 2, 7, "General Purpose", "Standard_DS2_v2 (deprecated)", disks=1, disk_gb=14,
              deprecated=True, photon=False),
    ],
    "gcp": [
        _node("n2-standard-4", 4, 16, "General Purpose", "n2-standard-4"),
        _node("n2-highmem-4", 4, 32, "Memory Optimized", "n2-highmem-4", disks=1, disk_gb=375),
        _node("n2-standard-8", 8, 32, "General Purpose", "n2-standard-8", disks=1, disk_gb=375),
        _node("c2-standard-8", 8, 32, "Compute Optimized", "c2-standard-8"),
        _node("a2-highgpu-1g", 12, 85, "GPU Accelerated", "a2-highgpu-1g", gpus=1, disks=1, disk_gb=375, photon=False),
        _node("n1-standard-4", 4, 15, "General Purpose", "n1-standard-4 (deprecated)", deprecated=True, photon=False),
    ],
}
DEFAULT_NODE = {"aws": "i3.xlarge", "azure": "Standard_DS3_v2", "gcp": "n2-highmem-4"}
DATA_SECURITY_MODES = ("NONE", "SINGLE_USER", "USER_ISOLATION", "LEGACY_TABLE_ACL", "LEGACY_PASSTHROUGH",
                       "LEGACY_SINGLE_USER", "LEGACY_SINGLE_USER_STANDARD", "DATA_SECURITY_MODE_AUTO",
                       "DATA_SECURITY_MODE_STANDARD", "DATA_SECURITY_MODE_DEDICATED")
CLUSTER_SOURCES = ("API", "UI", "JOB", "SQL", "PIPELINE", "MODELS", "PIPELINE_MAINTENANCE")
PASSTHROUGH = ("spark_conf", "custom_tags", "spark_env_vars", "aws_attributes", "azure_attributes", "gcp_attributes",
               "instance_pool_id", "driver_instance_pool_id", "policy_id", "init_scripts", "ssh_public_keys",
               "cluster_log_conf", "enable_elastic_disk", "enable_local_disk_encryption", "runtime_engine",
               "single_user_name", "data_security_mode", "docker_image", "workload_type", "kind",
               "use_ml_runtime", "is_single_node")
STATE_MESSAGES = {"PENDING": "Finding instances for new nodes, acquiring more instances if necessary",
                  "RESTARTING": "Restarting Spark", "TERMINATING": "Terminating cluster", "RUNNING": "",
                  "TERMINATED": ""}


def _cloud() -> str:
    return workspaces.get_workspace(ctx(), workspace_id())["cloud"]


def _node_types() -> list[dict]:
    return NODE_TYPES[_cloud()]


def _termination_reason(row: dict, details: dict) -> dict:
    reason = details.get("termination_reason")
    if reason:
        return reason
    minutes = details.get("autotermination_minutes", 120)
    return {"code": "INACTIVITY", "type": "SUCCESS", "parameters": {"inactivity_duration_min": str(minutes)}}


def to_json(row: dict, cloud: str) -> dict:
    """ClusterDetails for get and list (``cloud``: the workspace's)."""
    d = loads(row.get("details")) or {}
    state = row["state"]
    node = row["node_type_id"]
    out = {
        "cluster_id": row["id"], "cluster_name": row["name"], "spark_version": row["spark_version"],
        "node_type_id": node, "driver_node_type_id": d.get("driver_node_type_id", node),
        "autotermination_minutes": d.get("autotermination_minutes", 120),
        "spark_conf": d.get("spark_conf", {}), "custom_tags": d.get("custom_tags", {}),
        "default_tags": {"Vendor": "Databricks", "Creator": row.get("creator") or "", "ClusterName": row["name"],
                         "ClusterId": row["id"]},
        "creator_user_name": row.get("creator") or "", "cluster_source": d.get("cluster_source", "API"),
        "state": state, "state_message": STATE_MESSAGES.get(state, ""),
        "start_time": millis(row["created_at"]), "enable_elastic_disk": d.get("enable_elastic_disk", True),
        "init_scripts_safe_mode": False, "jdbc_port": 10000,
    }
    if "autoscale" in d:
        out["autoscale"] = d["autoscale"]
    else:
        out["num_workers"] = row["num_workers"]
    for key in PASSTHROUGH:
        if key in d and key not in out:
            out[key] = d[key]
    note = lifecycle.pending_text(row)
    if note:
        out["state_message"] = f"{out['state_message']} (simulated: {note})".lstrip()
    if state == "RUNNING":
        workers = d.get("autoscale", {}).get("min_workers", row["num_workers"])
        spec = next((n for n in NODE_TYPES.get(cloud, []) if n["node_type_id"] == node), None)
        out.update(spark_context_id=int(row["since"] * 1000) % (2**62), last_restarted_time=millis(row["since"]),
                   driver={"node_id": row["id"][-8:] + "-driver", "host_private_ip": "10.0.0.2",
                           "private_ip": "10.0.0.2", "start_timestamp": millis(row["since"])},
                   executors=[{"node_id": f"{row['id'][-8:]}-w{i}", "private_ip": f"10.0.1.{i + 2}",
                               "start_timestamp": millis(row["since"])} for i in range(workers)])
        if spec:
            out.update(cluster_memory_mb=spec["memory_mb"] * (workers + 1),
                       cluster_cores=spec["num_cores"] * (workers + 1))
    if state in ("TERMINATING", "TERMINATED"):
        out["termination_reason"] = _termination_reason(row, d)
    if state == "TERMINATED":
        out["terminated_time"] = millis(row["since"])
        out["state_message"] = d.get("termination_message") or "Inactive cluster terminated"
    return out


def _cluster_id(data: dict) -> str:
    value = data.get("cluster_id")
    if not isinstance(value, str) or not value:
        invalid("Missing required field: cluster_id")
    return value


def _load(cluster_id: str, need: str = "view", verb: str = "see") -> dict:
    row = lifecycle.get(ctx(), "cluster", cluster_id)
    if row is None or row["workspace_id"] != workspace_id():
        invalid(f"Cluster {cluster_id} does not exist")
    permissions.require(principal(), "cluster", row, need, verb)
    return row


def _unexpected(row: dict):
    raise ApiError(400, "INVALID_STATE", f"Cluster {row['id']} is in unexpected state {row['state'].capitalize()}.")


def _validated(data: dict, current: dict | None) -> tuple[dict, dict]:
    """(columns, details) for create (``current`` None) or edit (the request replaces the spec)."""
    cloud = _cloud()
    details = {k: v for k, v in (loads(current.get("details")) or {}).items()
               if k in ("cluster_source", "termination_reason", "termination_message")} if current else {}
    spark_version = data.get("spark_version")
    if spark_version is None and current is not None:
        spark_version = current["spark_version"]
    if not spark_version:
        invalid("Missing required field: spark_version")
    if spark_version not in SPARK_VERSION_KEYS:
        invalid(f"Invalid spark version {spark_version!r} (see GET /api/2.1/clusters/spark-versions)")
    known = {n["node_type_id"] for n in NODE_TYPES[cloud]}
    node = data.get("node_type_id") or (current["node_type_id"] if current else DEFAULT_NODE[cloud])
    for key, value in (("node_type_id", node), ("driver_node_type_id", data.get("driver_node_type_id"))):
        if value is not None and value not in known:
            invalid(f"Node type {value} is not supported on {cloud} (see GET /api/2.1/clusters/list-node-types)")
    if data.get("driver_node_type_id"):
        details["driver_node_type_id"] = data["driver_node_type_id"]
    num_workers = data.get("num_workers", 0 if current is None or "autoscale" in data else current["num_workers"])
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        invalid(f"num_workers must be an integer >= 0, got {num_workers!r}")
    if "autoscale" in data:
        scale = data["autoscale"]
        lo, hi = (scale.get("min_workers"), scale.get("max_workers")) if isinstance(scale, dict) else (None, None)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi)) or not 0 <= lo <= hi or hi < 1:
            invalid("autoscale needs integers 0 <= min_workers <= max_workers, max_workers >= 1")
        details["autoscale"] = {"min_workers": lo, "max_workers": hi}
    minutes = data.get("autotermination_minutes", 120 if current is None else
                       (loads(current.get("details")) or {}).get("autotermination_minutes", 120))
    if isinstance(minutes, bool) or not isinstance(minutes, int) or (minutes != 0 and not 10 <= minutes <= 43200):
        invalid(f"autotermination_minutes must be 0 (never) or between 10 and 43200, got {minutes!r}")
    details["autotermination_minutes"] = minutes
    if data.get("data_security_mode") not in (None, *DATA_SECURITY_MODES):
        invalid(f"data_security_mode must be one of {', '.join(DATA_SECURITY_MODES)}")
    if data.get("runtime_engine") not in (None, "STANDARD", "PHOTON", "NULL"):
        invalid("runtime_engine must be STANDARD or PHOTON")
    for key in ("spark_conf", "custom_tags", "spark_env_vars"):
        if key in data and not (isinstance(data[key], dict) and all(isinstance(v, str) for v in data[key].values())):
            invalid(f"{key} must be an object of strings")
    for key in PASSTHROUGH:
        if key in data:
            details[key] = data[key]
    name = data.get("cluster_name", current["name"] if current else "")
    if not isinstance(name, str) or len(name) > 100:
        invalid("cluster_name must be a string of at most 100 characters")
    columns = {"name": name, "spark_version": spark_version, "node_type_id": node, "num_workers": num_workers}
    return columns, details


# ---------------------------------------------------------------- routes (2.0 and 2.1)

def _create():
    """Create a cluster (admins, or principals with a workspace-wide CAN_MANAGE grant); PENDING→RUNNING."""
    who = principal()
    permissions.require_create(who, "cluster")
    data = body()
    columns, details = _validated(data, None)
    source = data.get("cluster_source", "API")
    details["cluster_source"] = source if source in CLUSTER_SOURCES else "API"
    c = ctx()
    now = c.clock.now()
    row = {"id": c.ids.cluster_id(now), "workspace_id": workspace_id(), **columns, "connection_id": None,
           "creator": who.user_name, "created_at": now, "details": dumps(details), **lifecycle.initial(c, "cluster")}
    with c.store.atomic() as db:
        db["clusters"].insert(row)
    return jsonify({"cluster_id": row["id"]})


def _get():
    cluster_id = arg("cluster_id")
    if not cluster_id:
        invalid("Missing required field: cluster_id")
    return jsonify(to_json(_load(cluster_id), _cloud()))


def _list():
    """Clusters the caller may see, newest first; ``filter_by.cluster_states``/``cluster_sources``,
    ``page_size``/``page_token``."""
    rows = permissions.visible(principal(), "cluster", lifecycle.list_rows(ctx(), "cluster", workspace_id()))
    cloud = _cloud()
    items = [to_json(r, cloud) for r in reversed(rows)]
    states = request.args.getlist("filter_by.cluster_states")
    sources = request.args.getlist("filter_by.cluster_sources")
    if states:
        items = [i for i in items if i["state"] in states]
    if sources:
        items = [i for i in items if i["cluster_source"] in sources]
    items, tokens = page(items)
    return jsonify({"clusters": items, **tokens})


def _start():
    """TERMINATED → PENDING → RUNNING (other states: 400 INVALID_STATE, as on Databricks)."""
    row = _load(_cluster_id(body()), "use", "start")
    if row["state"] != "TERMINATED":
        _unexpected(row)
    with ctx().store.atomic() as db:
        lifecycle.apply(ctx(), db, "cluster", row["id"], "start")
    return jsonify({})


def _restart():
    """RUNNING → RESTARTING → RUNNING (other states: 400 INVALID_STATE)."""
    row = _load(_cluster_id(body()), "use", "restart")
    if row["state"] != "RUNNING":
        _unexpected(row)
    with ctx().store.atomic() as db:
        lifecycle.apply(ctx(), db, "cluster", row["id"], "restart")
    return jsonify({})


def _delete():
    """Terminate: TERMINATING → TERMINATED with termination_reason USER_REQUEST; the record is kept."""
    row = _load(_cluster_id(body()), "use", "terminate")
    if row["state"] in ("TERMINATED", "TERMINATING"):
        return jsonify({})
    who = principal()
    details = loads(row.get("details")) or {}
    details.update(termination_reason={"code": "USER_REQUEST", "type": "SUCCESS",
                                       "parameters": {"username": who.user_name}},
                   termination_message=f"Terminated by {who.user_name}")
    with ctx().store.atomic() as db:
        lifecycle.apply(ctx(), db, "cluster", row["id"], "terminate", details=dumps(details))
    return jsonify({})


def _permanent_delete():
    """Remove the cluster record (it is terminated first); a later get says it does not exist."""
    row = _load(_cluster_id(body()), "manage", "permanently delete")
    with ctx().store.atomic() as db:
        db.execute("DELETE FROM clusters WHERE id = ?", (row["id"],))
    return jsonify({})


def _edit():
    """Replace the spec; a running cluster restarts (RESTARTING→RUNNING), a terminated one stays so."""
    data = body()
    row = _load(_cluster_id(data), "manage", "edit")
    if row["state"] not in ("RUNNING", "TERMINATED"):
        _unexpected(row)
    columns, details = _validated(data, row)
    changes = {**columns, "details": dumps(details)}
    with ctx().store.atomic() as db:
        if row["state"] == "RUNNING":
            lifecycle.apply(ctx(), db, "cluster", row["id"], "restart", **changes)
        else:
            db["clusters"].update(row["id"], changes)
    return jsonify({})


def _spark_versions():
    return jsonify({"versions": [{"key": key, "name": name} for key, name in SPARK_VERSIONS]})


def _node_types_view():
    return jsonify({"node_types": _node_types()})


ROUTES = [
    ("create", "POST", _create), ("get", "GET", _get), ("list", "GET", _list), ("start", "POST", _start),
    ("restart", "POST", _restart), ("delete", "POST", _delete), ("permanent-delete", "POST", _permanent_delete),
    ("edit", "POST", _edit), ("spark-versions", "GET", _spark_versions),
    ("list-node-types", "GET", _node_types_view),
]
for _version in ("2.0", "2.1"):
    for _name, _method, _view in ROUTES:
        blp.add_url_rule(f"/api/{_version}/clusters/{_name}", f"{_name.replace('-', '_')}_{_version.replace('.', '_')}",
                         _view, methods=[_method])
