"""SQL that job tasks really execute on the workspace's SQL engine.

* ``sql_task`` with ``query.query_id`` runs the saved query (``/api/2.0/sql/queries``) on the
  task's ``warehouse_id``;
* any task whose run rule carries ``sql`` runs those statements (the SQL cells of a notebook the
  simulator cannot see).

The statements run when the run is planned (at submit), as the run's creator and with its
grants, unless an upstream task already decided the task will not run; their effects are
visible at once, and a failure makes the task FAILED with the engine's error message.
"""
from __future__ import annotations

from .. import sqlengine
from ..context import Context
from ..sqlengine import queries as saved


def run(ctx: Context, *, workspace_id: int, actor: sqlengine.Actor, task: dict, outcome: dict) -> dict:
    """Outcome fields that the SQL decides ({} when the task runs no SQL)."""
    sql_task = task.get("sql_task") or {}
    if (sql_task.get("query") or {}).get("query_id"):
        return _saved_query(ctx, workspace_id, actor, sql_task)
    if outcome.get("sql"):
        return _execute(ctx, workspace_id, actor, outcome["sql"], None, None, script=True)
    return {}


def _saved_query(ctx: Context, workspace_id: int, actor, sql_task: dict) -> dict:
    query_id = sql_task["query"]["query_id"]
    warehouse = sql_task.get("warehouse_id")
    if not warehouse or not ctx.store.one("SELECT id FROM warehouses WHERE id = ? AND workspace_id = ?",
                                          (warehouse, workspace_id)):
        return {"result_state": "FAILED", "error": f"SQL warehouse {warehouse} does not exist."}
    query = saved.get(ctx.store, workspace_id, query_id)
    if query is None:
        return {"result_state": "FAILED", "error": f"Query {query_id} does not exist."}
    out = _execute(ctx, workspace_id, actor, query["query_text"], query["catalog"], query["schema"], script=False)
    if "error" not in out:
        out["sql_output"] = {"query_output": {"query_text": query["query_text"], "warehouse_id": warehouse,
                                              "sql_statements": [{"lookup_key": ctx.ids.uuid()}]}}
    return out


def _execute(ctx, workspace_id, actor, text, catalog, schema, *, script: bool) -> dict:
    engine = sqlengine.engine_for(ctx.store, workspace_id)
    session = None
    if catalog:
        session = sqlengine.Session(catalog, schema or "default")
    try:
        engine.execute(text, actor=actor, session=session, script=script, now=ctx.clock.now())
    except sqlengine.SqlError as exc:
        return {"result_state": "FAILED", "error": exc.message}
    return {}
