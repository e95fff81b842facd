"""Reading the exchange log: every call the simulator made to a partner, secrets already masked."""
from __future__ import annotations

from .context import Context
from .store import loads


def _decode(row: dict) -> dict:
    for key in ("request_headers", "response_headers", "checks"):
        row[key] = loads(row[key])
    return row


def recent(ctx: Context, *, last: int = 20, partner: str | None = None, workspace_id: int | None = None) -> list[dict]:
    """The newest ``last`` exchanges (newest first), optionally for one partner / workspace."""
    where, params = [], []
    if partner:
        where.append("partner_name = ?")
        params.append(partner)
    if workspace_id is not None:
        where.append("workspace_id = ?")
        params.append(workspace_id)
    sql = "SELECT * FROM exchanges" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id DESC LIMIT ?"
    return [_decode(r) for r in ctx.store.query(sql, (*params, max(1, min(last, 10_000))))]


def get(ctx: Context, exchange_id: int) -> dict | None:
    row = ctx.store.one("SELECT * FROM exchanges WHERE id = ?", (exchange_id,))
    return _decode(row) if row else None
