"""Saved SQL queries (the store side): text, warehouse and default catalog/schema, per workspace."""
from __future__ import annotations

from ..store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS sql_queries (
    id TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    owner TEXT NOT NULL,
    display_name TEXT NOT NULL,
    query_text TEXT NOT NULL,
    warehouse_id TEXT,
    catalog TEXT,
    schema TEXT,
    created_at REAL NOT NULL
);
"""


def get(store: Store, workspace_id: int, query_id: str) -> dict | None:
    store.ensure(SCHEMA)
    return store.one("SELECT * FROM sql_queries WHERE id = ? AND workspace_id = ?", (query_id, workspace_id))
