"""Desktop partners: tools with no Partner Connect API that the user connects from their machine.

Their config says ``"pcsim": {"desktop": true}`` and may omit ``endpoints.connect_path``. Instead
of calling a partner, the tile offers a connection file for a warehouse or cluster the workspace
already has (hostname, port, HTTP path, JDBC URLs; never a secret: the user signs in with their
own credentials). :func:`ensure_starter_warehouse` gives a workspace something to pick; it is the
workspace's own compute, not a Partner Connect resource (``connection_id`` NULL), so deleting a
connection never removes it.
"""
from __future__ import annotations

import json
import re

from .. import partners as partner_registry
from .. import workspaces
from ..context import Context
from ..errors import Invalid, NotFound
from ..partners import Partner
from . import flows

STARTER_WAREHOUSE = "Starter Warehouse"


def is_desktop(partner: Partner) -> bool:
    """A desktop tool: flagged in the ``pcsim`` section, or no connect endpoint to call."""
    section = partner.config.get("pcsim") or {}
    return section.get("desktop") is True or "connect_path" not in partner.endpoints


def compute(ctx: Context, workspace_id: int) -> list[dict]:
    """The workspace's SQL warehouses and clusters, as ``{"kind", "id", "name"}``; warehouses first."""
    rows = ctx.store.query(
        "SELECT 'warehouse' AS kind, id, name, created_at FROM warehouses WHERE workspace_id = ? "
        "UNION ALL SELECT 'cluster' AS kind, id, name, created_at FROM clusters WHERE workspace_id = ? "
        "ORDER BY kind DESC, created_at, name", (workspace_id, workspace_id))
    return [{"kind": r["kind"], "id": r["id"], "name": r["name"]} for r in rows]


def ensure_starter_warehouse(ctx: Context, workspace_id: int) -> dict:
    """The workspace's "Starter Warehouse", created (stopped, Small, PRO) when it has none."""
    workspaces.get_workspace(ctx, workspace_id)
    existing = ctx.store.one("SELECT * FROM warehouses WHERE workspace_id = ? AND name = ? AND connection_id IS NULL",
                             (workspace_id, STARTER_WAREHOUSE))
    if existing:
        return existing
    row = {"id": ctx.ids.warehouse_id(), "workspace_id": workspace_id, "name": STARTER_WAREHOUSE,
           "cluster_size": "Small", "warehouse_type": "PRO", "enable_serverless_compute": 0, "state": "STOPPED",
           "connection_id": None, "creator": None, "created_at": ctx.clock.now()}
    with ctx.store.atomic() as db:
        db["warehouses"].insert(row)
    return row


def connection_details(ctx: Context, workspace_id: int, compute_id: str) -> dict:
    """Where a desktop tool connects to reach one warehouse or cluster of the workspace."""
    workspace = workspaces.get_workspace(ctx, workspace_id)
    found = next((c for c in compute(ctx, workspace_id) if c["id"] == compute_id), None)
    if found is None:
        raise NotFound(f"no SQL warehouse or cluster {compute_id!r} in workspace {workspace_id}")
    host, port = ctx.public_host_port
    ssl = ctx.public_url.startswith("https")
    if found["kind"] == "warehouse":
        http_path = f"/sql/1.0/warehouses/{found['id']}"
    else:
        http_path = f"sql/protocolv1/o/{workspace_id}/{found['id']}"
    jdbc, databricks_jdbc = flows.jdbc_urls(host, port, http_path, ssl)
    return {
        "workspace_id": workspace["id"], "workspace_url": f"{ctx.public_url}/?o={workspace['id']}",
        "cloud_provider": workspace["cloud"], "hostname": host, "port": port, "http_path": http_path,
        "jdbc_url": jdbc, "databricks_jdbc_url": databricks_jdbc,
        "compute": {"type": "sql_warehouse" if found["kind"] == "warehouse" else "cluster",
                    "id": found["id"], "name": found["name"]},
        "authentication": "Sign in with your own Databricks credentials (personal access token or OAuth); "
                          "this file holds no secret.",
    }


def connection_file(ctx: Context, partner_name: str, workspace_id: int, compute_id: str) -> tuple[str, str, bytes]:
    """``(filename, content type, bytes)`` of the JSON connection file a desktop partner's tile offers."""
    partner = partner_registry.get(ctx, partner_name)
    if not is_desktop(partner):
        raise Invalid(f"partner {partner.name!r} is not a desktop tool: connect to it instead")
    if not compute_id:
        raise Invalid("choose a SQL warehouse or cluster for the connection file")
    details = {"partner": partner.name, **connection_details(ctx, workspace_id, compute_id)}
    slug = re.sub(r"[^a-z0-9]+", "-", partner.name.lower()).strip("-") or "partner"
    filename = f"{slug}-{workspace_id}-{compute_id}.json"
    return filename, "application/json", (json.dumps(details, indent=2) + "\n").encode()
