"""Run rules: scripted outcomes for simulated workloads.

A rule matches a task by run name, task key, notebook path or Python file (``fnmatch``
wildcards; all given fields must match; matching rules combine, newer ones overriding) and sets what happens: ``duration_s``, ``result_state``
(SUCCESS, FAILED, ...), ``error`` and ``error_trace``, ``notebook_output`` (the notebook's
``dbutils.notebook.exit`` value), ``pending_s`` (how long the task waits for compute; a huge value
keeps a run stuck in PENDING), or ``cluster_error`` (the cluster fails to start: the run ends
INTERNAL_ERROR with a CLUSTER_ERROR / CLOUD_FAILURE termination reason), or ``sql`` (statements the
task really runs on the SQL engine, e.g. a notebook's SQL cells). Without a matching rule
a task succeeds after the default duration.
"""
from __future__ import annotations

import fnmatch
import json
import math

from ..context import Context
from ..errors import Invalid

SCHEMA = """
CREATE TABLE IF NOT EXISTS run_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    match TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""
MATCH_KEYS = ("run_name", "task_key", "notebook_path", "python_file", "package_name", "workspace_id")
OUTCOME_KEYS = ("duration_s", "result_state", "error", "error_trace", "notebook_output", "pending_s",
                "cluster_error", "logs", "sql")
RESULT_STATES = ("SUCCESS", "FAILED", "SUCCESS_WITH_FAILURES", "TIMEDOUT", "CANCELED")


def add(ctx: Context, rule: dict) -> dict:
    ctx.store.ensure(SCHEMA)
    if not isinstance(rule, dict):
        raise Invalid("a run rule is a JSON object with 'match' and outcome fields")
    match = rule.get("match", {})
    if not isinstance(match, dict):
        raise Invalid(f"match must be a JSON object such as {{\"task_key\": \"transform\"}}, got {json.dumps(match)}")
    outcome = {k: v for k, v in rule.items() if k != "match"}
    unknown = (set(match) - set(MATCH_KEYS)) | (set(outcome) - set(OUTCOME_KEYS))
    if unknown:
        raise Invalid(f"unknown run rule field(s): {', '.join(sorted(unknown))} "
                      f"(match: {', '.join(MATCH_KEYS)}; outcome: {', '.join(OUTCOME_KEYS)})")
    for key, value in match.items():
        if not isinstance(value, str) and not (key == "workspace_id" and isinstance(value, int)
                                               and not isinstance(value, bool)):
            raise Invalid(f"match.{key} must be a string (wildcards * and ? allowed), got {json.dumps(value)}")
    if outcome.get("result_state", "SUCCESS") not in RESULT_STATES:
        raise Invalid(f"result_state must be one of {', '.join(RESULT_STATES)}")
    for key in ("duration_s", "pending_s"):
        value = outcome.get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)
                                  or not math.isfinite(value) or value < 0):
            raise Invalid(f"{key} must be a finite, non-negative number of seconds, got {json.dumps(value)}")
    for key in ("error", "error_trace", "logs"):
        if key in outcome and not isinstance(outcome[key], str):
            raise Invalid(f"{key} must be a string, got {json.dumps(outcome[key])}")
    if "sql" in outcome and not (isinstance(outcome["sql"], str) and outcome["sql"].strip()):
        raise Invalid("sql must be SQL text (one or more statements separated by ;)")
    if "cluster_error" in outcome and not isinstance(outcome["cluster_error"], (str, dict)):
        raise Invalid("cluster_error is a message, or {code, type, message}")
    try:
        json.dumps(outcome, allow_nan=False)
    except ValueError:
        raise Invalid("run rule values must be plain JSON (no NaN or Infinity)") from None
    with ctx.store.atomic() as db:
        db["run_rules"].insert({"match": json.dumps(match), "outcome": json.dumps(outcome),
                                "created_at": ctx.clock.now()})
        rid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    return {"id": rid, "match": match, **outcome}


def list_rules(ctx: Context) -> list[dict]:
    ctx.store.ensure(SCHEMA)
    return [{"id": r["id"], "match": json.loads(r["match"]), **json.loads(r["outcome"])}
            for r in ctx.store.query("SELECT * FROM run_rules ORDER BY id")]


def remove(ctx: Context, rule_id: int) -> int:
    ctx.store.ensure(SCHEMA)
    with ctx.store.atomic() as db:
        return db.execute("DELETE FROM run_rules WHERE id = ?", (rule_id,)).rowcount


def clear(ctx: Context) -> int:
    ctx.store.ensure(SCHEMA)
    with ctx.store.atomic() as db:
        return db.execute("DELETE FROM run_rules").rowcount


def outcome_for(run_rules: list[dict], facts: dict) -> dict:
    """The outcome for a task described by ``facts`` under ``run_rules`` (:func:`list_rules`): every
    matching rule applied oldest first, so a newer rule overrides the fields it sets and keeps the
    rest ({} when none matches)."""
    outcome: dict = {}
    for rule in run_rules:
        match = rule["match"]
        if all(fnmatch.fnmatchcase(str(facts.get(k) or ""), str(v)) for k, v in match.items()):
            outcome.update({k: v for k, v in rule.items() if k not in ("id", "match")})
    return outcome
