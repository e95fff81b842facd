"""Fault injection: rules that make the workspace API or a partner misbehave on demand.

A rule matches a method and a path (``fnmatch`` wildcards, e.g. ``/api/2.*/jobs/runs/*``), optionally
one workspace, and applies to ``target`` ``api`` (requests to the fake workspace API) or
``partner`` (the simulator's own calls to partners). It answers with ``status`` and ``body`` (a
Databricks error body by default), optional ``retry_after`` and ``latency_s``, or ``drop`` the
connection (for partner calls: behave as a refused connection; ``timeout`` behaves as a timeout).
``offset`` skips the first N matching requests, ``times`` limits how often it fires, and
``probability`` with ``seed`` fires at random, reproducibly. Rules live in the state file, so a
scenario, a test or ``curl`` can set them through ``/-/faults``.
"""
from __future__ import annotations

import fnmatch
import json
import random
from dataclasses import dataclass

from .context import Context
from .errors import Invalid, NotFound
from .workspaces import INT64_MAX

SCHEMA = """
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL DEFAULT 'api' CHECK (target IN ('api', 'partner')),
    method TEXT NOT NULL DEFAULT '*',
    path TEXT NOT NULL,
    workspace_id INTEGER,
    status INTEGER,
    body TEXT,
    retry_after INTEGER,
    latency_s REAL NOT NULL DEFAULT 0,
    drop_connection INTEGER NOT NULL DEFAULT 0,
    timeout INTEGER NOT NULL DEFAULT 0,
    times INTEGER,
    "offset" INTEGER NOT NULL DEFAULT 0,
    probability REAL,
    seed INTEGER,
    seen INTEGER NOT NULL DEFAULT 0,
    fired INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
"""
MAX_LATENCY_S = 120.0
DEFAULT_CODES = {429: "REQUEST_LIMIT_EXCEEDED", 500: "INTERNAL_ERROR", 503: "TEMPORARILY_UNAVAILABLE",
                 504: "DEADLINE_EXCEEDED", 400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "RESOURCE_DOES_NOT_EXIST", 409: "RESOURCE_CONFLICT"}


@dataclass
class Fault:
    id: int
    status: int | None
    body: object
    retry_after: int | None
    latency_s: float
    drop: bool
    timeout: bool

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}

    def response_body(self) -> object:
        if self.body is not None:
            return self.body
        code = DEFAULT_CODES.get(self.status or 500, "INTERNAL_ERROR")
        return {"error_code": code, "message": f"Injected fault #{self.id}: HTTP {self.status}"}


def _ensure(ctx: Context) -> None:
    ctx.store.ensure(SCHEMA)


def add(ctx: Context, rule: dict) -> dict:
    """Validate and store a rule; returns it with its id."""
    _ensure(ctx)
    allowed = {"target", "method", "path", "workspace_id", "status", "body", "retry_after", "latency_s", "drop",
               "timeout", "times", "offset", "probability", "seed"}
    unknown = set(rule) - allowed
    if unknown:
        raise Invalid(f"unknown fault field(s): {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(allowed))})")
    path = rule.get("path")
    if not isinstance(path, str) or not path.startswith(("/", "*")):
        raise Invalid("fault path must be a path pattern starting with '/' (wildcards * and ? allowed)")
    target = rule.get("target", "api")
    if target not in ("api", "partner"):
        raise Invalid("fault target must be 'api' or 'partner'")
    method = rule.get("method", "*")
    if not isinstance(method, str) or not method.strip():
        raise Invalid(f"fault method must be an HTTP method such as \"GET\" or \"*\" (any), got {json.dumps(method)}")
    for key in ("drop", "timeout"):
        if key in rule and not isinstance(rule[key], bool):
            raise Invalid(f"{key} must be a JSON boolean (true/false), got {json.dumps(rule[key])}")
    status = rule.get("status")
    drop, timeout = rule.get("drop", False), rule.get("timeout", False)
    if status is None and not drop and not timeout and not rule.get("latency_s"):
        raise Invalid("a fault needs a status, drop, timeout or latency_s")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599):
        raise Invalid(f"fault status must be an HTTP status code, got {status!r}")
    latency = rule.get("latency_s", 0)
    if not isinstance(latency, (int, float)) or isinstance(latency, bool) or not 0 <= latency <= MAX_LATENCY_S:
        raise Invalid(f"latency_s must be between 0 and {MAX_LATENCY_S:g}")
    probability = rule.get("probability")
    if probability is not None and not (isinstance(probability, (int, float)) and not isinstance(probability, bool)
                                        and 0 <= probability <= 1):
        raise Invalid("probability must be between 0 and 1")
    for key in ("times", "offset", "retry_after", "workspace_id", "seed"):
        value = rule.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= INT64_MAX):
            raise Invalid(f"{key} must be a non-negative integer of at most 64 bits ({INT64_MAX}), got {json.dumps(value)}")
    if rule.get("body") is not None:
        try:
            json.dumps(rule["body"], allow_nan=False)
        except ValueError:
            raise Invalid("body must be plain JSON (no NaN or Infinity)") from None
    row = {"target": target, "method": method.strip().upper(), "path": path,
           "workspace_id": rule.get("workspace_id"), "status": status,
           "body": None if rule.get("body") is None else json.dumps(rule["body"]),
           "retry_after": rule.get("retry_after"), "latency_s": float(latency), "drop_connection": int(drop),
           "timeout": int(timeout), "times": rule.get("times"), "offset": rule.get("offset", 0),
           "probability": probability, "seed": rule.get("seed"), "created_at": ctx.clock.now()}
    with ctx.store.atomic() as db:
        db["faults"].insert(row)
        fid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    return get(ctx, fid)


def _public(row: dict) -> dict:
    row = dict(row)
    row["body"] = None if row["body"] is None else json.loads(row["body"])
    row["drop"] = bool(row.pop("drop_connection"))
    row["timeout"] = bool(row["timeout"])
    return row


def get(ctx: Context, fault_id: int) -> dict:
    _ensure(ctx)
    row = ctx.store.one("SELECT * FROM faults WHERE id = ?", (fault_id,))
    if row is None:
        raise NotFound(f"no fault rule {fault_id}")
    return _public(row)


def list_rules(ctx: Context) -> list[dict]:
    _ensure(ctx)
    return [_public(r) for r in ctx.store.query("SELECT * FROM faults ORDER BY id")]


def remove(ctx: Context, fault_id: int | None = None) -> int:
    """Delete one rule, or all of them; returns how many went."""
    _ensure(ctx)
    with ctx.store.atomic() as db:
        cur = db.execute("DELETE FROM faults" + (" WHERE id = ?" if fault_id is not None else ""),
                         (fault_id,) if fault_id is not None else ())
        return cur.rowcount


def match(ctx: Context, target: str, method: str, path: str, workspace_id: int | None = None) -> Fault | None:
    """The first rule that fires for this request (its counters are updated), or None."""
    _ensure(ctx)
    if not ctx.store.one("SELECT 1 AS x FROM faults WHERE target = ? LIMIT 1", (target,)):
        return None
    with ctx.store.atomic() as db:
        for row in db.query("SELECT * FROM faults WHERE target = ? ORDER BY id", (target,)):
            if row["method"] not in ("*", method.upper()) or not fnmatch.fnmatchcase(path, row["path"]):
                continue
            if row["workspace_id"] is not None and row["workspace_id"] != workspace_id:
                continue
            seen = row["seen"] + 1
            fires = seen > row["offset"] and (row["times"] is None or row["fired"] < row["times"])
            if fires and row["probability"] is not None:
                fires = random.Random(f"{row['seed']}:{seen}").random() < row["probability"]
            db.execute("UPDATE faults SET seen = ?, fired = fired + ? WHERE id = ?", (seen, int(fires), row["id"]))
            if fires:
                return Fault(row["id"], row["status"], None if row["body"] is None else json.loads(row["body"]),
                             row["retry_after"], row["latency_s"], bool(row["drop_connection"]), bool(row["timeout"]))
    return None
