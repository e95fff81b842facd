"""Compute for job tasks on an existing all-purpose cluster: a terminated cluster is started
(through the same lifecycle as ``clusters/start``) and the task waits until it would be running."""
from __future__ import annotations

from .. import lifecycle
from ..context import Context


def ensure_running(ctx: Context, cluster: dict) -> float:
    """Start the cluster if needed; returns the simulated seconds until it runs."""
    current = lifecycle.get(ctx, "cluster", cluster["id"]) or cluster
    now = ctx.clock.now()
    fallback = float(ctx.settings.cluster_start_s)
    if current["state"] == "RUNNING":
        return 0.0
    if current["state"] in ("TERMINATED", "TERMINATING", "ERROR", "UNKNOWN"):
        with ctx.store.atomic() as db:
            lifecycle.apply(ctx, db, "cluster", cluster["id"], "start")
        current = lifecycle.get(ctx, "cluster", cluster["id"])
    if current["state"] == "RUNNING":
        return 0.0
    due = current.get("transition_at")
    return max(due - now, 0.0) if due is not None else fallback
