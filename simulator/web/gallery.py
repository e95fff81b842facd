"""The Partner Connect gallery: which tiles a workspace shows, grouped by category."""
from __future__ import annotations

from dataclasses import dataclass

from .. import partners as partner_registry
from ..context import Context
from ..partnerconnect import desktop, flows
from ..partnerconnect.wire import CATEGORIES
from ..partners import Partner

CATEGORY_LABELS = {
    "INGEST": "Data Ingestion",
    "DATA_PREP_AND_TRANSFORM": "Data Preparation and Transformation",
    "SECURITY_AND_GOVERNANCE": "Security and Governance",
    "BI_AND_VIZ": "BI and Visualization",
    "ML": "Machine Learning",
    "DATA_QUALITY": "Data Quality",
    "REVERSE_ETL": "Reverse ETL",
    "SEMANTIC_LAYER": "Semantic Layer",
    "DATA_GOVERNANCE": "Data Governance",
}


@dataclass
class Tile:
    partner: Partner
    connection: dict | None  # flows.list_connections row, or None

    @property
    def name(self) -> str:
        return self.partner.name

    @property
    def description(self) -> str:
        return self.partner.config.get("description_blurb") or ""

    @property
    def status(self) -> str | None:
        return self.connection["status"] if self.connection else None

    @property
    def self_test(self) -> bool:
        return self.partner.self_test_workspace_id is not None

    @property
    def desktop(self) -> bool:
        return desktop.is_desktop(self.partner)


hidden_reason = flows.hidden_reason  # one rule for the gallery and the connect flow


def tiles(ctx: Context, workspace: dict, query: str = "") -> tuple[list[tuple[str, str, list[Tile]]], int]:
    """``([(category, label, tiles)], number hidden for the cloud)``; categories in the contract's order,
    empty ones left out; ``query`` matches partner names (case-insensitive substring)."""
    connections = {c["partner_name"]: c for c in flows.list_connections(ctx, workspace["id"])}
    needle = query.strip().lower()
    by_category: dict[str, list[Tile]] = {c: [] for c in CATEGORIES}
    hidden_for_cloud = 0
    for partner in partner_registry.list_partners(ctx):
        reason = hidden_reason(partner, workspace)
        if reason:
            hidden_for_cloud += reason.startswith("does not support")
            continue
        if needle and needle not in partner.name.lower():
            continue
        by_category.setdefault(partner.config.get("category"), []).append(Tile(partner, connections.get(partner.name)))
    groups = [(cat, CATEGORY_LABELS.get(cat, cat), items) for cat, items in by_category.items() if items]
    return groups, hidden_for_cloud
