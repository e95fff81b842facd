"""State transitions of SQL warehouses and clusters, on the simulator clock.

An action (start, stop, delete, ...) moves an object to an *in-between* state (``STARTING``,
``PENDING``, ``RESTARTING``, ``STOPPING``, ``TERMINATING``, ``DELETING``) with a ``target_state``
and a ``transition_at`` time; reading the object later shows the target once the clock has passed
``transition_at``. Nothing runs in the background: the state is computed from timestamps when read
(and written back, so plain SQL readers catch up on the next API read).

How long a transition takes is a per-server setting (``ctx.settings.transitions``):

* ``immediate``: the final state at once (the SDK's ``.result()`` returns on its first poll);
* ``delayed``: the final state ``ctx.settings.transition_delay_s`` simulated seconds later;
* ``manual``: the in-between state until ``POST /-/transitions/advance`` (:func:`advance`).

Whatever the mode, the state right after an action is never a state the SDK waiters treat as a
failure for that action (a warehouse is never STOPPED right after start, a cluster never
TERMINATED right after start).

Rows written elsewhere (Partner Connect provisioning, desktop tools) have no transition columns
filled in; they read as settled in their ``state`` since ``created_at``.
"""
from __future__ import annotations

import math
import threading
import weakref

from .context import Context
from .errors import Invalid, NotFound

MODES = ("immediate", "delayed", "manual")
KINDS = {"warehouse": "warehouses", "cluster": "clusters"}

# (kind, action) -> (in-between state, final state)
TRANSITIONS = {
    ("warehouse", "create"): ("STARTING", "RUNNING"),
    ("warehouse", "start"): ("STARTING", "RUNNING"),
    ("warehouse", "restart"): ("STARTING", "RUNNING"),
    ("warehouse", "stop"): ("STOPPING", "STOPPED"),
    ("warehouse", "delete"): ("DELETING", "DELETED"),
    ("cluster", "create"): ("PENDING", "RUNNING"),
    ("cluster", "start"): ("PENDING", "RUNNING"),
    ("cluster", "restart"): ("RESTARTING", "RUNNING"),
    ("cluster", "terminate"): ("TERMINATING", "TERMINATED"),
}

# Columns this module needs on both tables (also in store.SCHEMA; added here to older state files).
COLUMNS = {"target_state": "TEXT", "transition_at": "REAL", "state_since": "REAL", "details": "TEXT"}
_migrated: "weakref.WeakSet" = weakref.WeakSet()
_migrating = threading.Lock()


def ensure_columns(ctx: Context) -> None:
    """Add the transition columns to state files created before they existed (once per store)."""
    store = ctx.store
    if store in _migrated:
        return
    with _migrating:
        if store in _migrated:
            return
        altered = False
        for table in KINDS.values():
            have = {row["name"] for row in store.query(f"PRAGMA table_info({table})")}
            for name, sql_type in COLUMNS.items():
                if name not in have:  # no COMMIT here: this may run inside the caller's transaction
                    store.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
                    altered = True
        if not (altered and store.db.conn.in_transaction):  # a rollback would undo it: check again next time
            _migrated.add(store)


# ---------------------------------------------------------------- pure functions

def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise Invalid(f"transitions must be one of {', '.join(MODES)}, got {mode!r}")
    return mode


def begin(kind: str, action: str, *, now: float, mode: str, delay_s: float) -> dict:
    """The column values that start ``action`` on an object of ``kind`` at ``now``."""
    between, final = TRANSITIONS[(kind, action)]
    if mode == "immediate" or (mode == "delayed" and delay_s <= 0):
        return {"state": final, "target_state": None, "transition_at": None, "state_since": now}
    due = now + delay_s if mode == "delayed" else None
    return {"state": between, "target_state": final, "transition_at": due, "state_since": now}


def settled(row: dict, now: float) -> dict:
    """The row as it reads at ``now``: the target state once ``transition_at`` has passed.

    Adds ``since`` (when the shown state began) and keeps ``target_state``/``transition_at`` only
    while the transition is still under way."""
    out = dict(row)
    target, due = row.get("target_state"), row.get("transition_at")
    if target and due is not None and now >= due:
        out.update(state=target, target_state=None, transition_at=None, state_since=due)
    out["since"] = out.get("state_since") or row["created_at"]
    return out


def pending_text(row: dict) -> str | None:
    """How a pending transition will end, for state messages (None when settled)."""
    if not row.get("target_state"):
        return None
    if row.get("transition_at") is None:
        return f"reaches {row['target_state']} on POST /-/transitions/advance; manual mode"
    return f"reaches {row['target_state']} at simulated time {row['transition_at']:.0f}"


# ---------------------------------------------------------------- store access

def _table(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown compute kind {kind!r}")
    return KINDS[kind]


def _settle(ctx: Context, table: str, rows: list[dict]) -> list[dict]:
    """The rows as they read now; transitions that completed are saved, in one transaction (guarded:
    a concurrent action on the same row wins)."""
    now = ctx.clock.now()
    out = [settled(row, now) for row in rows]
    done = [(before, after) for before, after in zip(rows, out)
            if after["state"] != before["state"] or after.get("target_state") != before.get("target_state")]
    if done:
        with ctx.store.atomic() as db:
            for before, after in done:
                db.execute(f"UPDATE {table} SET state = ?, target_state = NULL, transition_at = NULL, "
                           "state_since = ? WHERE id = ? AND target_state IS ? AND transition_at IS ?",
                           (after["state"], after["state_since"], before["id"], before.get("target_state"),
                            before.get("transition_at")))
    return out


def get(ctx: Context, kind: str, object_id: str) -> dict | None:
    """One warehouse or cluster row with its current state (settled transitions are saved)."""
    ensure_columns(ctx)
    table = _table(kind)
    row = ctx.store.one(f"SELECT * FROM {table} WHERE id = ?", (object_id,))
    return None if row is None else _settle(ctx, table, [row])[0]


def list_rows(ctx: Context, kind: str, workspace_id: int) -> list[dict]:
    """Every warehouse or cluster of a workspace with its current state, oldest first."""
    ensure_columns(ctx)
    table = _table(kind)
    rows = ctx.store.query(f"SELECT * FROM {table} WHERE workspace_id = ? ORDER BY created_at, rowid", (workspace_id,))
    return _settle(ctx, table, rows)


def _begin(ctx: Context, kind: str, action: str) -> dict:
    return begin(kind, action, now=ctx.clock.now(), mode=check_mode(ctx.settings.transitions),
                 delay_s=ctx.settings.transition_delay_s)


def apply(ctx: Context, db, kind: str, object_id: str, action: str, **changes) -> dict:
    """Start ``action`` on one object inside the caller's transaction ``db``; ``changes`` are other
    columns to set at the same time. Returns the columns written."""
    ensure_columns(ctx)
    values = _begin(ctx, kind, action)
    values.update(changes)
    assignments = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE {_table(kind)} SET {assignments} WHERE id = ?", (*values.values(), object_id))
    return values


def initial(ctx: Context, kind: str, action: str = "create") -> dict:
    """Column values for a new row that is being created (and so starting); the table has the
    transition columns once this returns."""
    ensure_columns(ctx)
    return _begin(ctx, kind, action)


def pending(ctx: Context) -> list[dict]:
    """Transitions under way (across workspaces): kind, id, workspace, state, target, due time."""
    ensure_columns(ctx)
    out = []
    for kind, table in KINDS.items():
        rows = ctx.store.query(f"SELECT * FROM {table} WHERE target_state IS NOT NULL ORDER BY state_since, id")
        for row, current in zip(rows, _settle(ctx, table, rows)):
            if current.get("target_state"):
                out.append({"kind": kind, "id": row["id"], "workspace_id": row["workspace_id"],
                            "state": current["state"], "target_state": current["target_state"],
                            "transition_at": current["transition_at"]})
    return out


def advance(ctx: Context, object_id: str | None = None) -> list[dict]:
    """Complete pending transitions now (all of them, or the one of ``object_id``)."""
    ensure_columns(ctx)
    if object_id is not None and not any(
            ctx.store.one(f"SELECT id FROM {t} WHERE id = ?", (object_id,)) for t in KINDS.values()):
        raise NotFound(f"no warehouse or cluster with id {object_id!r}")
    done = []
    now = ctx.clock.now()
    with ctx.store.atomic() as db:
        for item in pending(ctx):
            if object_id is not None and item["id"] != object_id:
                continue
            db.execute(f"UPDATE {KINDS[item['kind']]} SET state = target_state, target_state = NULL, "
                       "transition_at = NULL, state_since = ? WHERE id = ? AND target_state IS NOT NULL",
                       (now, item["id"]))
            done.append({"kind": item["kind"], "id": item["id"], "from": item["state"], "to": item["target_state"]})
    return done


def settings(ctx: Context) -> dict:
    return {"transitions": ctx.settings.transitions, "transition_delay_s": ctx.settings.transition_delay_s}


def configure(ctx: Context, mode: str | None = None, delay_s: float | None = None) -> dict:
    """Change the transition mode and/or delay. Pending transitions follow the new mode:
    ``immediate`` completes them, ``delayed`` schedules the manual ones ``delay_s`` from now,
    ``manual`` leaves already scheduled ones as they are."""
    if mode is not None:
        check_mode(mode)
    if delay_s is not None:
        if isinstance(delay_s, bool) or not isinstance(delay_s, (int, float)) or not math.isfinite(delay_s) \
                or delay_s < 0:
            raise Invalid(f"transition_delay_s must be a finite number of seconds >= 0, got {delay_s!r}")
        ctx.settings.transition_delay_s = float(delay_s)
    if mode is not None:
        ctx.settings.transitions = mode
        ensure_columns(ctx)
        if mode == "immediate":
            advance(ctx)
        elif mode == "delayed":
            due = ctx.clock.now() + ctx.settings.transition_delay_s
            with ctx.store.atomic() as db:
                for table in KINDS.values():
                    db.execute(f"UPDATE {table} SET transition_at = ? WHERE target_state IS NOT NULL "
                               "AND transition_at IS NULL", (due,))
    return settings(ctx)
