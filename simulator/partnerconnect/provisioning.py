"""What "Next" in a partner tile creates on the Databricks side, and what teardown removes.

Everything here runs inside the caller's transaction (``ctx.store.atomic()``), so a failure
leaves no half-provisioned rows. Plain-text secrets (PAT, OAuth secret) exist only in the returned
:class:`Provisioned` object; the database keeps a SHA-256 hash and a display prefix.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..context import Context
from ..partners import Partner
from ..store import RESOURCE_TABLES

SPARK_VERSION = "15.4.x-scala2.12"
NODE_TYPES = {"aws": "i3.xlarge", "azure": "Standard_DS3_v2", "gcp": "n2-highmem-4"}


def secret_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Provisioned:
    """The resources of one connection, with the secrets minted in this call (if any)."""

    service_principal: dict | None = None
    pat: str | None = None
    pat_prefix: str | None = None
    oauth_secret: str | None = None
    oauth_u2m_app_id: str | None = None
    warehouse: dict | None = None
    cluster: dict | None = None
    grants: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        """Safe to print: ids and names, token prefixes, never secret values."""
        return {
            "service_principal": self.service_principal and {
                "application_id": self.service_principal["application_id"],
                "display_name": self.service_principal["display_name"]},
            "pat": self.pat_prefix and self.pat_prefix + "…",
            "oauth_secret": bool(self.oauth_secret) or None,
            "oauth_u2m_app_id": self.oauth_u2m_app_id,
            "warehouse": self.warehouse and {"id": self.warehouse["id"], "name": self.warehouse["name"]},
            "cluster": self.cluster and {"id": self.cluster["id"], "name": self.cluster["name"]},
            "grants": [f"{g['privilege']} on {g['securable_type']} {g['securable_name']}" for g in self.grants],
        }


def mint_pat(ctx: Context, db, *, workspace_id: int, owner_kind: str, owner_id: int, comment: str,
             connection_id: int | None = None, lifetime_s: float | None = None) -> tuple[str, str]:
    """Create a PAT (``dapi`` + 32 hex); returns (token value, token id). Only the hash is stored."""
    value = ctx.ids.pat()
    token_id = ctx.ids.token_id()
    now = ctx.clock.now()
    db["tokens"].insert({
        "token_id": token_id, "workspace_id": workspace_id, "owner_kind": owner_kind, "owner_id": owner_id,
        "token_hash": secret_hash(value), "prefix": value[:8], "comment": comment,
        "connection_id": connection_id, "created_at": now,
        "expiry_time": None if lifetime_s is None else now + lifetime_s, "revoked_at": None,
    })
    return value, token_id


def _mint_oauth_secret(ctx: Context, db, sp: dict, connection_id: int) -> str:
    """Create an OAuth M2M secret (``dose`` + 32 hex) for the service principal; only the hash is stored."""
    value = ctx.ids.oauth_secret()
    db["oauth_secrets"].insert({
        "id": ctx.ids.hex(32), "service_principal_id": sp["id"], "secret_hash": secret_hash(value),
        "prefix": value[:8], "connection_id": connection_id, "created_at": ctx.clock.now(), "revoked_at": None})
    return value


def provision(ctx: Context, db, *, partner: Partner, workspace: dict, connection_id: int,
              catalog_name: str | None) -> Provisioned:
    """Create the partner's service principal, credentials, compute and grants for one connection."""
    now = ctx.clock.now()
    wid = workspace["id"]
    out = Provisioned()
    sp = {"id": ctx.ids.int64(), "application_id": ctx.ids.uuid(),
          "display_name": f"{partner.name} service principal (Partner Connect)",
          "workspace_id": wid, "connection_id": connection_id, "created_at": now}
    db["service_principals"].insert(sp)
    out.service_principal = sp
    if partner.uses_pat:
        out.pat, _ = mint_pat(ctx, db, workspace_id=wid, owner_kind="service_principal", owner_id=sp["id"],
                              comment=f"Partner Connect: {partner.name}", connection_id=connection_id)
        out.pat_prefix = out.pat[:8]
    if "AUTH_OAUTH_M2M" in partner.auth_options:
        out.oauth_secret = _mint_oauth_secret(ctx, db, sp, connection_id)
    if "AUTH_OAUTH_U2M" in partner.auth_options:
        out.oauth_u2m_app_id = ctx.ids.uuid()
        db["oauth_apps"].insert({"client_id": out.oauth_u2m_app_id, "name": f"{partner.name} (Partner Connect)",
                                 "workspace_id": wid, "connection_id": connection_id, "created_at": now})
    types = partner.resource_types
    if "SqlEndpoint" in types:
        out.warehouse = {"id": ctx.ids.warehouse_id(), "workspace_id": wid,
                         "name": f"{partner.name} Endpoint", "cluster_size": "Small", "warehouse_type": "PRO",
                         "enable_serverless_compute": 0, "state": "STOPPED", "connection_id": connection_id,
                         "creator": sp["application_id"], "created_at": now}
        db["warehouses"].insert(out.warehouse)
    if "InteractiveCluster" in types:
        out.cluster = {"id": ctx.ids.cluster_id(now), "workspace_id": wid, "name": f"{partner.name} Cluster",
                       "spark_version": SPARK_VERSION, "node_type_id": NODE_TYPES[workspace["cloud"]],
                       "num_workers": 1, "state": "TERMINATED", "connection_id": connection_id,
                       "creator": sp["application_id"], "created_at": now}
        db["clusters"].insert(out.cluster)
    specs = grant_specs(partner, catalog_name, out.warehouse and out.warehouse["id"], out.cluster and out.cluster["id"])
    out.grants = [{"workspace_id": wid, "connection_id": connection_id, "principal": sp["application_id"],
                   "securable_type": kind, "securable_name": name, "privilege": privilege}
                  for kind, name, privilege in specs]
    if out.grants:
        db["grants"].insert_all(out.grants)
    return out


def grant_specs(partner: Partner, catalog_name: str | None, warehouse_id: str | None,
                cluster_id: str | None) -> list[tuple[str, str, str]]:
    """(securable type, securable name, privilege) of each grant the partner's permissions ask for:
    ``data_permissions`` on the catalog, ``object_permissions`` on the warehouse or cluster (when
    there is one) or on every object of their kind."""
    specs = []
    if catalog_name:
        specs += [("catalog", catalog_name, p["permission"]) for p in partner.config.get("data_permissions") or []]
    for perm in partner.config.get("object_permissions") or []:
        name, level = perm["name"], perm["level"]
        if name == "SQL_Endpoint" and warehouse_id:
            specs.append(("sql_warehouse", warehouse_id, level))
        elif name == "Cluster" and cluster_id:
            specs.append(("cluster", cluster_id, level))
        elif name not in ("SQL_Endpoint", "Cluster"):
            specs.append((name.lower(), "*", level))
    return specs


def load(ctx: Context, connection_id: int) -> Provisioned:
    """The resources a connection holds now (no secrets: those were only shown when minted)."""
    q = ctx.store
    out = Provisioned()
    out.service_principal = q.one("SELECT * FROM service_principals WHERE connection_id = ?", (connection_id,))
    token = q.one("SELECT prefix FROM tokens WHERE connection_id = ? AND revoked_at IS NULL "
                  "ORDER BY created_at DESC LIMIT 1", (connection_id,))
    out.pat_prefix = token and token["prefix"]
    app = q.one("SELECT client_id FROM oauth_apps WHERE connection_id = ?", (connection_id,))
    out.oauth_u2m_app_id = app and app["client_id"]
    out.warehouse = q.one("SELECT * FROM warehouses WHERE connection_id = ?", (connection_id,))
    out.cluster = q.one("SELECT * FROM clusters WHERE connection_id = ?", (connection_id,))
    out.grants = q.query("SELECT * FROM grants WHERE connection_id = ? ORDER BY id", (connection_id,))
    return out


def deprovision(ctx: Context, db, connection_id: int) -> None:
    """Remove a connection's Databricks-side resources: revoke its tokens, delete the rest."""
    db.execute("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?), connection_id = NULL "
               "WHERE connection_id = ?", (ctx.clock.now(), connection_id))
    for table in RESOURCE_TABLES:
        db.execute(f"DELETE FROM {table} WHERE connection_id = ?", (connection_id,))


def rotate_credentials(ctx: Context, db, *, partner: Partner, connection_id: int) -> tuple[str | None, str | None]:
    """Revoke the connection's PAT and OAuth M2M secret and mint new ones, as the partner's auth options
    say (a retried connect must carry fresh credentials); returns (PAT, OAuth secret), None where unused."""
    sp = ctx.store.one("SELECT * FROM service_principals WHERE connection_id = ?", (connection_id,))
    if not sp:
        return None, None
    now = ctx.clock.now()
    pat = oauth_secret = None
    if partner.uses_pat:
        db.execute("UPDATE tokens SET revoked_at = ? WHERE connection_id = ? AND revoked_at IS NULL",
                   (now, connection_id))
        pat, _ = mint_pat(ctx, db, workspace_id=sp["workspace_id"], owner_kind="service_principal",
                          owner_id=sp["id"], comment=f"Partner Connect: {partner.name}", connection_id=connection_id)
    if "AUTH_OAUTH_M2M" in partner.auth_options:
        db.execute("UPDATE oauth_secrets SET revoked_at = ? WHERE connection_id = ? AND revoked_at IS NULL",
                   (now, connection_id))
        oauth_secret = _mint_oauth_secret(ctx, db, sp, connection_id)
    return pat, oauth_secret
