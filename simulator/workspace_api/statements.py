"""SQL Statement Execution (``/api/2.0/sql/statements``): statements really run on the workspace's
SQL engine (:mod:`simulator.sqlengine`), as the caller, with the caller's grants.

* ``POST`` runs the statement and answers the final state (``wait_timeout`` 5s–50s, default
  10s: the simulator always finishes in time, so ``on_wait_timeout`` never fires). With
  ``wait_timeout: "0s"`` the answer is ``PENDING`` and the statement runs when it is first polled
  (``GET``), so a ``cancel`` before that really cancels it and the poll sees ``CANCELED``.
* Results are ``INLINE`` + ``JSON_ARRAY`` only (every cell a string or null), cut into chunks of
  ``settings.sql_chunk_rows`` rows: ``result`` is chunk 0 with ``next_chunk_index`` and
  ``next_chunk_internal_link``; the others come from ``GET .../result/chunks/{n}``. ``row_limit``
  and ``byte_limit`` cut the result and set ``manifest.truncated``. ``EXTERNAL_LINKS`` answers 501;
  ``ARROW_STREAM``/``CSV`` with ``INLINE`` answer 400, as Databricks does.
* A statement that fails answers 200 with ``status.state: FAILED`` and ``status.error`` (``error_code``
  ``BAD_REQUEST`` — missing grants included, the message saying ``[INSUFFICIENT_PERMISSIONS]`` —
  or ``INTERNAL_ERROR``; ``status.sql_state`` carries the SQLSTATE).
* The warehouse must exist in the caller's workspace (404 ``RESOURCE_DOES_NOT_EXIST`` otherwise)
  and the caller needs ``CAN_USE`` on it (see ``permissions``; 403 otherwise). Its state is not
  checked: a STOPPED warehouse runs the statement anyway (Databricks would start it first;
  warehouse lifecycle belongs to the warehouses API).

State lives in the ``sql_statements`` table, so polling works across threads and restarts.
"""
from __future__ import annotations

import json
import logging
import re

from flask import jsonify, request
from flask_smorest import Blueprint

from .. import sqlengine
from ..sqlengine import Actor, Session, SqlError
from ..sqlengine.types import Column
from . import permissions
from .common import body, ctx, principal, required, workspace_id
from .errors import ApiError, invalid, not_found

log = logging.getLogger(__name__)

blp = Blueprint("statements", __name__, url_prefix="/api/2.0/sql/statements",
                description="SQL Statement Execution on the simulator's SQL engine")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sql_statements (
    id TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    warehouse_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    result TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""
FINAL = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")
MAX_STATEMENT_BYTES = 16 * 1024 * 1024
_WAIT = re.compile(r"^(\d+)s$")


def _store():
    store = ctx().store
    store.ensure(SCHEMA)
    return store


# ----------------------------------------------------------------------------- request validation

def _wait_timeout(value) -> int:
    match = _WAIT.match(str(value))
    seconds = int(match.group(1)) if match else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        invalid(f"wait_timeout must be 0s or between 5s and 50s, got {value!r}")
    return seconds


def _choice(data: dict, key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = str(data.get(key, default)).upper()
    if value not in allowed:
        invalid(f"{key} must be one of {', '.join(allowed)}, got {data.get(key)!r}")
    return value


def _limit(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        invalid(f"{key} must be a non-negative integer, got {value!r}")
    return value


def _parameters(data: dict) -> list[dict]:
    params = data.get("parameters") or []
    if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
        invalid("parameters must be a list of {name, value, type} objects")
    out = []
    for p in params:
        value = p.get("value")
        out.append({"name": p.get("name"), "value": None if value is None else str(value), "type": p.get("type")})
    return out


def _warehouse(warehouse_id: str) -> dict:
    """The warehouse, which must exist in this workspace and be usable (CAN_USE) by the caller."""
    row = ctx().store.one("SELECT * FROM warehouses WHERE id = ? AND workspace_id = ?", (warehouse_id, workspace_id()))
    if row is None or "DELETED" in (row["state"], row.get("target_state")):
        not_found(f"SQL warehouse {warehouse_id} does not exist.")
    permissions.require(principal(), "warehouse", row, "use", "run statements on")
    return row


# ----------------------------------------------------------------------------- execution

def _run(statement_id: str) -> None:
    """Execute a PENDING statement (whoever claims it first runs it) and store its outcome."""
    c = ctx()
    store = _store()
    now = c.clock.now()
    with store.atomic() as db:
        claimed = db.execute("UPDATE sql_statements SET state = 'RUNNING', updated_at = ? WHERE id = ? "
                             "AND state = 'PENDING'", (now, statement_id)).rowcount
    if not claimed:
        return
    row = store.one("SELECT * FROM sql_statements WHERE id = ?", (statement_id,))
    req = json.loads(row["request"])
    actor = Actor(row["principal"], bool(row["is_admin"]))
    state, error, result = "SUCCEEDED", None, None
    try:
        engine = sqlengine.engine_for(store, row["workspace_id"])
        session = None
        if req.get("catalog") or req.get("schema"):
            session = Session(req.get("catalog") or engine.default_session().catalog, req.get("schema") or "default")
        out = engine.execute(req["statement"], actor=actor, session=session, parameters=req["parameters"],
                             row_limit=req.get("row_limit"), byte_limit=req.get("byte_limit"), now=now)
        result = {"columns": [col.__dict__ for col in out.columns], "rows": out.rows, "truncated": out.truncated,
                  "chunk_rows": max(1, int(c.settings.sql_chunk_rows))}
    except SqlError as exc:
        state, error = "FAILED", {"error_code": exc.error_code, "message": exc.message, "sql_state": exc.sql_state}
    except Exception as exc:  # the engine's own bug: report it like Databricks would, keep serving
        log.exception("statement %s failed in the simulator", statement_id)
        state, error = "FAILED", {"error_code": "INTERNAL_ERROR", "sql_state": "XX000",
                                  "message": f"The simulator's SQL engine failed: {type(exc).__name__}: {exc}"}
    with store.atomic() as db:
        db.execute("UPDATE sql_statements SET state = ?, error = ?, result = ?, updated_at = ? WHERE id = ?",
                   (state, error and json.dumps(error), result and json.dumps(result), c.clock.now(), statement_id))


def _chunks(total_rows: int, chunk_rows: int) -> list[tuple[int, int, int]]:
    """(index, row_offset, row_count) per chunk; an empty result is one empty chunk."""
    if total_rows == 0:
        return [(0, 0, 0)]
    return [(i, offset, min(chunk_rows, total_rows - offset))
            for i, offset in enumerate(range(0, total_rows, chunk_rows))]


def _chunk(statement_id: str, result: dict, index: int) -> dict:
    chunks = _chunks(len(result["rows"]), result["chunk_rows"])
    if not 0 <= index < len(chunks):
        invalid(f"Chunk index {index} is out of range: the result has {len(chunks)} chunk(s)")
    _, offset, count = chunks[index]
    out = {"chunk_index": index, "row_offset": offset, "row_count": count,
           "data_array": result["rows"][offset:offset + count]}
    if index + 1 < len(chunks):
        out["next_chunk_index"] = index + 1
        out["next_chunk_internal_link"] = (f"{request.script_root}/api/2.0/sql/statements/{statement_id}"
                                           f"/result/chunks/{index + 1}")
    return out


def _response(row: dict) -> dict:
    state = row["state"]
    out = {"statement_id": row["id"], "status": {"state": state}}
    if state == "FAILED" and row["error"]:
        error = json.loads(row["error"])
        out["status"]["error"] = {"error_code": error["error_code"], "message": error["message"]}
        out["status"]["sql_state"] = error.get("sql_state")
    if state == "SUCCEEDED" and row["result"]:
        result = json.loads(row["result"])
        columns = [Column(**col).manifest(i) for i, col in enumerate(result["columns"])]
        chunks = _chunks(len(result["rows"]), result["chunk_rows"])
        out["manifest"] = {
            "format": "JSON_ARRAY", "schema": {"column_count": len(columns), "columns": columns},
            "total_chunk_count": len(chunks),
            "chunks": [{"chunk_index": i, "row_offset": o, "row_count": n} for i, o, n in chunks],
            "total_row_count": len(result["rows"]), "truncated": bool(result["truncated"])}
        out["result"] = _chunk(row["id"], result, 0)
    return out


def _find(statement_id: str) -> dict:
    row = _store().one("SELECT * FROM sql_statements WHERE id = ? AND workspace_id = ?", (statement_id, workspace_id()))
    who = principal()
    if row is None or (row["principal"] != who.user_name and not who.is_admin):
        not_found(f"Statement {statement_id} does not exist.")
    return row


# ----------------------------------------------------------------------------- routes

@blp.route("", methods=["POST"])
def execute_statement():
    """Execute a SQL statement on a warehouse of this workspace (INLINE, JSON_ARRAY)."""
    data = body()
    statement = required(data, "statement")
    warehouse_id = required(data, "warehouse_id")
    if len(statement.encode()) > MAX_STATEMENT_BYTES:
        invalid("The statement is larger than 16 MiB")
    wait = _wait_timeout(data.get("wait_timeout", "10s"))
    _choice(data, "on_wait_timeout", "CONTINUE", ("CONTINUE", "CANCEL"))
    disposition = _choice(data, "disposition", "INLINE", ("INLINE", "EXTERNAL_LINKS"))
    fmt = _choice(data, "format", "JSON_ARRAY", ("JSON_ARRAY", "ARROW_STREAM", "CSV"))
    if disposition == "EXTERNAL_LINKS":
        raise ApiError(501, "NOT_IMPLEMENTED", "The simulator does not implement disposition EXTERNAL_LINKS "
                                              "(it has no cloud storage); use INLINE with JSON_ARRAY")
    if fmt != "JSON_ARRAY":
        invalid(f"{fmt} format is not supported with INLINE disposition; INLINE supports only JSON_ARRAY")
    for key in ("catalog", "schema"):
        if key in data and not isinstance(data[key], str):
            invalid(f"{key} must be a string")
    _warehouse(warehouse_id)
    c = ctx()
    who = principal()
    req = {"statement": statement, "catalog": data.get("catalog"), "schema": data.get("schema"),
           "parameters": _parameters(data), "row_limit": _limit(data, "row_limit"),
           "byte_limit": _limit(data, "byte_limit")}
    statement_id = c.ids.uuid()
    now = c.clock.now()
    with _store().atomic() as db:
        db["sql_statements"].insert({
            "id": statement_id, "workspace_id": who.workspace_id, "warehouse_id": warehouse_id,
            "principal": who.user_name, "is_admin": int(who.is_admin), "request": json.dumps(req),
            "state": "PENDING", "error": None, "result": None, "created_at": now, "updated_at": now})
    if wait == 0:
        return jsonify({"statement_id": statement_id, "status": {"state": "PENDING"}})
    _run(statement_id)
    return jsonify(_response(_find(statement_id)))


@blp.route("/<statement_id>", methods=["GET"])
def get_statement(statement_id):
    """The statement's state, manifest and first chunk (a PENDING statement runs now)."""
    row = _find(statement_id)
    if row["state"] == "PENDING":
        _run(statement_id)
        row = _find(statement_id)
    return jsonify(_response(row))


@blp.route("/<statement_id>/result/chunks/<int:chunk_index>", methods=["GET"])
def get_statement_result_chunk(statement_id, chunk_index):
    """One chunk of a SUCCEEDED statement's result (a ResultData object)."""
    row = _find(statement_id)
    if row["state"] == "PENDING":
        _run(statement_id)
        row = _find(statement_id)
    if row["state"] != "SUCCEEDED":
        invalid(f"Statement {statement_id} is {row['state']}: results exist only for SUCCEEDED statements")
    return jsonify(_chunk(statement_id, json.loads(row["result"]), chunk_index))


@blp.route("/<statement_id>/cancel", methods=["POST"])
def cancel_execution(statement_id):
    """Cancel a statement that has not run yet (after ``wait_timeout: 0s``); finished ones stay as they are."""
    _find(statement_id)
    with _store().atomic() as db:
        db.execute("UPDATE sql_statements SET state = 'CANCELED', updated_at = ? WHERE id = ? AND state = 'PENDING'",
                   (ctx().clock.now(), statement_id))
    return jsonify({})
