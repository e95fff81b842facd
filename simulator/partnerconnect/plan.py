"""What "Connect to <partner>" would provision, computed without writing anything.

The tile dialog's first step shows this list before the user confirms. :func:`plan` mirrors
:func:`simulator.partnerconnect.provisioning.provision` (same names, same credential choice, same
grants) but is a pure function of the partner config, the workspace row and the chosen catalog:
ids that only exist once something is created are shown as ``(new)``. ``tests/test_plan_and_desktop.py``
pins the two together.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..partners import Partner
from .provisioning import NODE_TYPES, SPARK_VERSION, grant_specs

NEW = "(new)"


@dataclass
class Plan:
    """The resources a new connection gets, described for people."""

    service_principal: str
    credentials: list[str] = field(default_factory=list)  # "Personal access token", "OAuth M2M secret", ...
    warehouse: dict | None = None
    cluster: dict | None = None
    grants: list[str] = field(default_factory=list)  # "USE_CATALOG on catalog main"
    catalog: str | None = None
    needs_catalog: bool = False
    takes_destination: bool = False


def needs_catalog(partner: Partner) -> bool:
    """The partner works on data, so the dialog offers a catalog picker (as flows choose one)."""
    return bool(partner.config.get("data_permissions")) or bool(
        partner.resource_types & {"SqlEndpoint", "InteractiveCluster"})


def plan(partner: Partner, workspace: dict, catalog: str | None) -> Plan:
    """Describe what :func:`provisioning.provision` would create for ``partner`` in ``workspace``."""
    out = Plan(service_principal=f"{partner.name} service principal (Partner Connect)",
               catalog=catalog, needs_catalog=needs_catalog(partner),
               takes_destination="DestLocation" in partner.resource_types)
    if partner.uses_pat:
        out.credentials.append("Personal access token (PAT) owned by the service principal")
    if "AUTH_OAUTH_M2M" in partner.auth_options:
        out.credentials.append("OAuth M2M secret for the service principal")
    if "AUTH_OAUTH_U2M" in partner.auth_options:
        out.credentials.append("OAuth U2M app (user-to-machine sign-in)")
    types = partner.resource_types
    if "SqlEndpoint" in types:
        out.warehouse = {"name": f"{partner.name} Endpoint", "cluster_size": "Small", "warehouse_type": "PRO"}
    if "InteractiveCluster" in types:
        out.cluster = {"name": f"{partner.name} Cluster", "spark_version": SPARK_VERSION,
                       "node_type_id": NODE_TYPES[workspace["cloud"]], "num_workers": 1}
    out.grants = [f"{privilege} on {kind} {name}"
                  for kind, name, privilege in grant_specs(partner, catalog, out.warehouse and NEW, out.cluster and NEW)]
    return out
