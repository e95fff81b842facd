"""Command execution API 1.2 (camelCase): execution contexts and commands on a cluster.

* ``sql`` commands really run on the workspace's SQL engine (the same data as SQL warehouses),
  as the caller and with the caller's grants; ``USE CATALOG``/``USE SCHEMA`` persist in the
  context. Success is ``resultType: "table"`` with ``data`` rows (typed JSON values) and a
  ``schema`` of ``{name, type, metadata}``; a failing statement is ``Finished`` with
  ``resultType: "error"``, ``summary`` and ``cause`` (how a notebook exception looks).
* ``python``, ``scala`` and ``r`` commands are **simulated** (except a ``%sql`` first line,
  which runs the rest as SQL): they answer the newest matching
  script set through ``POST /-/commands/script``, else ``Finished`` with an empty text result.
  A script with ``"status": "Running"`` keeps the command running until it is cancelled.
* Everything finishes at once: the SDK's waiters return on their first poll.
* The cluster must exist in the caller's workspace (400 ``INVALID_PARAMETER_VALUE``
  "Cluster <id> does not exist") and the caller must be allowed to attach to it (``CAN_ATTACH_TO``
  or more, see ``permissions``; 403 otherwise). Its state is not checked: a TERMINATED cluster
  runs commands anyway (cluster lifecycle belongs to the clusters API).
* ``cancel`` marks the command ``Cancelled`` (also when it already finished, so that the SDK's
  cancel waiter, which only accepts ``Cancelled``, returns) unless it ended in ``Error``.

Control endpoint (no auth, like every ``/-/`` route): ``POST /-/commands/script`` with
``{"match": "substring or regex", "language"?: "python", "status"?: "Finished|Error|Running",
"resultType"?: "text|table|error|image|images", "data"?, "cause"?, "summary"?, "schema"?,
"truncated"?, "workspace_id"?, "cluster_id"?}``; ``GET`` lists scripts, ``DELETE`` clears them.
"""
from __future__ import annotations

import json
import logging
import re

from flask import jsonify
from flask_smorest import Blueprint

from .. import sqlengine
from ..workspaces import is_int64_id
from ..sqlengine import Actor, Session, SqlError
from ..sqlengine.types import native
from . import permissions
from .common import INT64_MAX, arg, body, ctx, principal, required, workspace_id
from .errors import invalid

log = logging.getLogger(__name__)

blp = Blueprint("commands", __name__, description="Command execution 1.2 (SQL on the simulator's engine; "
                                                  "other languages scripted)")

SCHEMA = """
CREATE TABLE IF NOT EXISTS command_contexts (
    id TEXT PRIMARY KEY,
    workspace_id INTEGER NOT NULL,
    cluster_id TEXT NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    principal TEXT NOT NULL,
    catalog TEXT,
    schema_name TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    context_id TEXT NOT NULL,
    workspace_id INTEGER NOT NULL,
    cluster_id TEXT NOT NULL,
    language TEXT NOT NULL,
    command TEXT NOT NULL,
    status TEXT NOT NULL,
    results TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS command_scripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    match TEXT NOT NULL,
    language TEXT,
    workspace_id INTEGER,
    cluster_id TEXT,
    status TEXT NOT NULL,
    results TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""
LANGUAGES = ("python", "scala", "sql", "r")
STATUSES = ("Queued", "Running", "Finished", "Error", "Cancelled")
RESULT_TYPES = ("text", "table", "error", "image", "images")
TABLE_ROW_LIMIT = 10_000
# Spark's JSON type names for the 1.2 table schema (``isJsonSchema: true``)
_SPARK_JSON = {"BYTE": "byte", "SHORT": "short", "INT": "integer", "LONG": "long", "FLOAT": "float",
               "DOUBLE": "double", "BOOLEAN": "boolean", "STRING": "string", "DATE": "date", "BINARY": "binary",
               "NULL": "null", "INTERVAL": "calendarinterval"}


def _store():
    store = ctx().store
    store.ensure(SCHEMA)
    return store


def _cluster(cluster_id: str | None) -> dict:
    if not cluster_id:
        invalid("Missing required field: clusterId")
    row = ctx().store.one("SELECT * FROM clusters WHERE id = ? AND workspace_id = ?", (cluster_id, workspace_id()))
    if row is None:
        invalid(f"Cluster {cluster_id} does not exist")
    permissions.require(principal(), "cluster", row, "view", "attach to")
    return row


def _context(cluster_id: str | None, context_id: str | None) -> dict:
    _cluster(cluster_id)
    if not context_id:
        invalid("Missing required field: contextId")
    row = _store().one("SELECT * FROM command_contexts WHERE id = ? AND cluster_id = ? AND workspace_id = ?",
                       (context_id, cluster_id, workspace_id()))
    if row is None:
        invalid(f"Context {context_id} does not exist on cluster {cluster_id}")
    return row


def _language(value, default: str | None = None) -> str:
    if value is not None and not isinstance(value, str):
        invalid(f"language must be one of {', '.join(LANGUAGES)}, got {json.dumps(value)}")
    language = (value or default or "").lower()
    if language not in LANGUAGES:
        invalid(f"language must be one of {', '.join(LANGUAGES)}, got {value!r}")
    return language


# ----------------------------------------------------------------------------- contexts

@blp.route("/api/1.2/contexts/create", methods=["POST"])
def create_context():
    """Create an execution context on a cluster; it is Running at once."""
    data = body()
    cluster = _cluster(data.get("clusterId"))
    c = ctx()
    context_id = str(c.ids.int64())
    with _store().atomic() as db:
        db["command_contexts"].insert({
            "id": context_id, "workspace_id": workspace_id(), "cluster_id": cluster["id"],
            "language": _language(data.get("language"), "python"), "status": "Running",
            "principal": principal().user_name, "catalog": None, "schema_name": None, "created_at": c.clock.now()})
    return jsonify({"id": context_id})


@blp.route("/api/1.2/contexts/status", methods=["GET"])
def context_status():
    row = _context(arg("clusterId"), arg("contextId"))
    return jsonify({"id": row["id"], "status": row["status"]})


@blp.route("/api/1.2/contexts/destroy", methods=["POST"])
def destroy_context():
    data = body()
    row = _context(data.get("clusterId"), data.get("contextId"))
    with _store().atomic() as db:
        db.execute("DELETE FROM command_contexts WHERE id = ?", (row["id"],))
    return jsonify({})


# ----------------------------------------------------------------------------- commands

def _sql(context: dict, command: str) -> tuple[str, dict]:
    """Run SQL in the context's session; the session (USE ...) is kept for the next command."""
    store = _store()
    session = Session(context["catalog"], context["schema_name"] or "default") if context["catalog"] else None
    try:
        engine = sqlengine.engine_for(store, context["workspace_id"])
        out = engine.execute(command, actor=Actor.of(principal()), session=session, row_limit=TABLE_ROW_LIMIT,
                             script=True, now=ctx().clock.now())
    except SqlError as exc:
        kind = "ParseException" if exc.error_class == "PARSE_SYNTAX_ERROR" else "AnalysisException"
        return "Finished", {"resultType": "error", "summary": f"{kind}: {exc.message}", "cause": exc.message}
    except Exception as exc:  # the engine's own bug: an Error result, and the server keeps serving
        log.exception("SQL command failed in the simulator")
        message = f"The simulator's SQL engine failed: {type(exc).__name__}: {exc}"
        return "Error", {"resultType": "error", "summary": message, "cause": message}
    if out.session is not None and out.session != (session or engine.default_session()):
        with store.atomic() as db:
            db.execute("UPDATE command_contexts SET catalog = ?, schema_name = ? WHERE id = ?",
                       (out.session.catalog, out.session.schema, context["id"]))
    schema = [{"name": col.name, "type": json.dumps(_SPARK_JSON.get(col.type_name, col.type_text)),
               "metadata": "{}"} for col in out.columns]
    data = [[native(value, col) for value, col in zip(row, out.columns)] for row in out.rows]
    return "Finished", {"resultType": "table", "data": data, "schema": schema, "truncated": out.truncated,
                        "isJsonSchema": True}


def _matches(pattern: str, command: str) -> bool:
    if pattern in command:
        return True
    try:
        return re.search(pattern, command) is not None
    except re.error:
        return False


def _scripted(context: dict, language: str, command: str) -> tuple[str, dict]:
    rows = _store().query("SELECT * FROM command_scripts ORDER BY id DESC")
    for row in rows:
        if row["language"] and row["language"] != language:
            continue
        if row["workspace_id"] is not None and row["workspace_id"] != context["workspace_id"]:
            continue
        if row["cluster_id"] and row["cluster_id"] != context["cluster_id"]:
            continue
        if _matches(row["match"], command):
            return row["status"], json.loads(row["results"])
    return "Finished", {"resultType": "text", "data": ""}


@blp.route("/api/1.2/commands/execute", methods=["POST"])
def execute_command():
    """Run a command in a context: SQL on the engine, other languages from the scripts."""
    data = body()
    context = _context(data.get("clusterId"), data.get("contextId"))
    command = required(data, "command")
    language = _language(data.get("language"), context["language"])
    if language == "sql":
        status, results = _sql(context, command)
    elif command.lstrip().startswith("%sql"):  # a notebook's SQL magic in a python/scala/r context
        status, results = _sql(context, command.lstrip()[4:])
    else:
        status, results = _scripted(context, language, command)
    c = ctx()
    command_id = c.ids.hex(32)
    now = c.clock.now()
    with _store().atomic() as db:
        db["commands"].insert({"id": command_id, "context_id": context["id"], "workspace_id": context["workspace_id"],
                               "cluster_id": context["cluster_id"], "language": language, "command": command,
                               "status": status, "results": json.dumps(results), "created_at": now,
                               "updated_at": now})
    return jsonify({"id": command_id})


def _command(cluster_id, context_id, command_id) -> dict:
    context = _context(cluster_id, context_id)
    if not command_id:
        invalid("Missing required field: commandId")
    row = _store().one("SELECT * FROM commands WHERE id = ? AND context_id = ?", (command_id, context["id"]))
    if row is None:
        invalid(f"Command {command_id} does not exist in context {context_id}")
    return row


def _status(row: dict) -> dict:
    out = {"id": row["id"], "status": row["status"]}
    if row["status"] in ("Finished", "Error") and row["results"]:
        out["results"] = json.loads(row["results"])
    return out


@blp.route("/api/1.2/commands/status", methods=["GET"])
def command_status():
    return jsonify(_status(_command(arg("clusterId"), arg("contextId"), arg("commandId"))))


@blp.route("/api/1.2/commands/cancel", methods=["POST"])
def cancel_command():
    data = body()
    row = _command(data.get("clusterId"), data.get("contextId"), data.get("commandId"))
    if row["status"] != "Error":
        with _store().atomic() as db:
            db.execute("UPDATE commands SET status = 'Cancelled', updated_at = ? WHERE id = ?",
                       (ctx().clock.now(), row["id"]))
    return jsonify({})


# ----------------------------------------------------------------------------- control endpoint

def _script_from(data: dict) -> dict:
    match = data.get("match")
    if not isinstance(match, str) or not match:
        invalid("match (a substring or regular expression of the command) is required")
    status = data.get("status", "Finished")
    if status not in STATUSES:
        invalid(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    result_type = data.get("resultType", "error" if status == "Error" else "text")
    if result_type not in RESULT_TYPES:
        invalid(f"resultType must be one of {', '.join(RESULT_TYPES)}, got {result_type!r}")
    results = {"resultType": result_type}
    for key in ("data", "cause", "summary", "schema", "truncated", "isJsonSchema", "fileName", "fileNames"):
        if key in data:
            results[key] = data[key]
    if result_type == "text":
        results.setdefault("data", "")
    language = data.get("language")
    if language is not None:
        language = _language(language)
    wid = data.get("workspace_id")
    if isinstance(wid, str) and wid.isdigit():  # 64-bit ids often travel as strings
        wid = int(wid)
    if wid is not None and not is_int64_id(wid):
        invalid(f"workspace_id must be a positive 64-bit integer (at most {INT64_MAX}), got {json.dumps(wid)}")
    cluster_id = data.get("cluster_id")
    if cluster_id is not None and not isinstance(cluster_id, str):
        invalid(f"cluster_id must be a string, got {json.dumps(cluster_id)}")
    try:
        results_json = json.dumps(results, allow_nan=False)
    except ValueError:
        invalid("script values must be plain JSON (no NaN or Infinity)")
    return {"match": match, "language": language, "workspace_id": wid,
            "cluster_id": cluster_id, "status": status, "results": results_json,
            "created_at": ctx().clock.now()}


def _script_view(row: dict) -> dict:
    return {"id": row["id"], "match": row["match"], "language": row["language"],
            "workspace_id": row["workspace_id"], "cluster_id": row["cluster_id"], "status": row["status"],
            **json.loads(row["results"])}


@blp.route("/-/commands/script", methods=["POST"])
def add_script():
    """Script the answer of matching non-SQL commands (the newest matching script wins)."""
    data = body()
    row = _script_from(data)
    with _store().atomic() as db:
        row["id"] = db["command_scripts"].insert(row).last_rowid
    return jsonify(_script_view(row))


@blp.route("/-/commands/script", methods=["GET"])
def list_scripts():
    return jsonify({"scripts": [_script_view(r) for r in _store().query("SELECT * FROM command_scripts ORDER BY id")]})


@blp.route("/-/commands/script", methods=["DELETE"])
def clear_scripts():
    """Forget every command script (``?id=N`` forgets one)."""
    script_id = arg("id", None, int)
    with _store().atomic() as db:
        if script_id is not None:
            db.execute("DELETE FROM command_scripts WHERE id = ?", (script_id,))
        else:
            db.execute("DELETE FROM command_scripts")
    return jsonify({})
