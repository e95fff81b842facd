"""Saved SQL queries (minimal): what a job's ``sql_task.query.query_id`` points at.

``/api/2.0/sql/queries`` (create/get/list/delete, the current API's ``{"query": {...}}`` body) and
the legacy ``/api/2.0/preview/sql/queries`` create/get. Only the text, warehouse and default
catalog/schema are kept; the query runs when a job task uses it.
"""
from __future__ import annotations

from flask import jsonify
from flask_smorest import Blueprint

from ..sqlengine import queries as saved
from .common import body, ctx, millis, principal, required, workspace_id
from .errors import not_found

blp = Blueprint("queries", __name__, description="Saved SQL queries (for sql_task)")

def _create(data: dict) -> dict:
    c = ctx()
    c.store.ensure(saved.SCHEMA)
    row = {"id": c.ids.uuid(), "workspace_id": workspace_id(), "owner": principal().user_name,
           "display_name": data.get("display_name") or data.get("name") or "Untitled query",
           "query_text": required(data, "query_text"), "warehouse_id": data.get("warehouse_id"),
           "catalog": data.get("catalog"), "schema": data.get("schema"), "created_at": c.clock.now()}
    with c.store.atomic() as db:
        db["sql_queries"].insert(row)
    return row


def _view(row: dict) -> dict:
    return {"id": row["id"], "display_name": row["display_name"], "query_text": row["query_text"],
            "warehouse_id": row["warehouse_id"], "catalog": row["catalog"], "schema": row["schema"],
            "owner_user_name": row["owner"], "create_time": millis(row["created_at"])}


def _found(query_id: str) -> dict:
    row = saved.get(ctx().store, workspace_id(), query_id)
    if row is None:
        not_found(f"Query {query_id} does not exist.")
    return row


@blp.route("/api/2.0/sql/queries", methods=["POST"])
def create_query():
    """``{"query": {"display_name", "query_text", "warehouse_id", "catalog", "schema"}}``."""
    return jsonify(_view(_create(body().get("query") or {})))


@blp.route("/api/2.0/sql/queries", methods=["GET"])
def list_queries():
    c = ctx()
    c.store.ensure(saved.SCHEMA)
    rows = c.store.query("SELECT * FROM sql_queries WHERE workspace_id = ? ORDER BY created_at", (workspace_id(),))
    return jsonify({"results": [_view(r) for r in rows]})


@blp.route("/api/2.0/sql/queries/<query_id>", methods=["GET"])
def get_query_view(query_id):
    return jsonify(_view(_found(query_id)))


@blp.route("/api/2.0/sql/queries/<query_id>", methods=["DELETE"])
def delete_query(query_id):
    _found(query_id)
    with ctx().store.atomic() as db:
        db.execute("DELETE FROM sql_queries WHERE id = ?", (query_id,))
    return jsonify({})


@blp.route("/api/2.0/preview/sql/queries", methods=["POST"])
def create_legacy_query():
    """Legacy shape: ``{"name", "query", "data_source_id"}``."""
    data = body()
    row = _create({"display_name": data.get("name"), "query_text": data.get("query"),
                   "warehouse_id": data.get("data_source_id")})
    return jsonify({"id": row["id"], "name": row["display_name"], "query": row["query_text"]})


@blp.route("/api/2.0/preview/sql/queries/<query_id>", methods=["GET"])
def get_legacy_query(query_id):
    row = _found(query_id)
    return jsonify({"id": row["id"], "name": row["display_name"], "query": row["query_text"]})
