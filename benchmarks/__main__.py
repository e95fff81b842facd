"""``make bench``: how fast the Partner Connect flows run against the example partner, and how
much memory they take. Prints one line per measurement and exits 1 when a target is missed.

Targets (2-core laptop): new connection + delete p95 under 150 ms; sign-in p95 under 60 ms;
exchange log query of the newest 50 under 20 ms with 2,000 rows; peak traced memory under 64 MiB.
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from simulator import exchanges, fixtures, partners, workspaces
from simulator.context import Context, Settings
from simulator.partnerconnect import flows
from simulator.scenarios.example import start_example_partner
from simulator.store import Store

ROOT = Path(__file__).resolve().parent.parent
TARGETS_MS = {"connect+delete p95": 150.0, "sign-in p95": 60.0, "exchanges query": 20.0}
MEMORY_TARGET_MIB = 64.0
ROUNDS = 100


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    tracemalloc.start()
    tmp = Path(tempfile.mkdtemp(prefix="pcsim-bench-"))
    ctx = Context(store=Store(tmp / "bench.db"), settings=Settings(public_url="http://127.0.0.1:1"))
    fixtures.seed(ctx, ROOT / "fixtures")
    config = json.loads((ROOT / "fixtures" / "partners" / "example.json").read_text())
    server = start_example_partner(config, clock=None, db_path=tmp / "partner.db")
    partners.register(ctx, config, replace=True)
    ws = workspaces.list_workspaces(ctx)[0]["id"]
    admin = "ada@acme.databricks-test.com"
    results: dict[str, float] = {}
    try:
        cycle, sign_in = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            assert flows.connect(ctx, partner_name=config["name"], workspace_id=ws, user_email=admin).ok
            mid = time.perf_counter()
            assert flows.connect(ctx, partner_name=config["name"], workspace_id=ws, user_email=admin).ok
            after = time.perf_counter()
            assert flows.delete_connection(ctx, partner_name=config["name"], workspace_id=ws).ok
            done = time.perf_counter()
            cycle.append((mid - started + done - after) * 1000)
            sign_in.append((after - mid) * 1000)
        results["connect+delete p95"] = p95(cycle)
        results["sign-in p95"] = p95(sign_in)
        for _ in range(2000 - ctx.store.count("exchanges")):
            ctx.store.db["exchanges"].insert({"at": 0, "operation": "connect", "method": "POST", "url": "x",
                                              "request_headers": "{}", "duration_ms": 1, "attempt": 1})
        ctx.store.db.conn.commit()
        started = time.perf_counter()
        exchanges.recent(ctx, last=50, partner=config["name"])
        results["exchanges query"] = (time.perf_counter() - started) * 1000
    finally:
        server.stop()
    _, peak = tracemalloc.get_traced_memory()
    failed = 0
    for name, value in results.items():
        ok = value <= TARGETS_MS[name]
        failed += not ok
        print(f"{'ok  ' if ok else 'MISS'} {name}: {value:.1f} ms (target {TARGETS_MS[name]:.0f} ms)")
    peak_mib = peak / 2**20
    ok = peak_mib <= MEMORY_TARGET_MIB
    failed += not ok
    print(f"{'ok  ' if ok else 'MISS'} peak traced memory: {peak_mib:.1f} MiB (target {MEMORY_TARGET_MIB:.0f} MiB)")
    print(f"{len(results) + 1 - failed} met, {failed} missed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
