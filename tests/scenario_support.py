"""Fixtures shared by the scenario and certification tests (import them into a test module)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator import cli
from simulator.httpserver import ServerThread
from simulator.scenarios.example import example_app

from . import conftest

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "partners" / "example.json"


@pytest.fixture
def fast_dir(tmp_path):
    """A directory for SQLite files. A certification run commits a few hundred times (simulator and
    partner); on a busy disk the fsyncs, not the work, set the pace, so use tmpfs when there is one."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    directory = Path(tempfile.mkdtemp(prefix="pcsim-test-", dir=shm))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def ctx(fast_dir):
    """tests/conftest.py's ``ctx`` (manual clock, seeded ids), with its state file in ``fast_dir``."""
    yield from conftest.ctx.__wrapped__(fast_dir)


@pytest.fixture
def serve_partner(ctx, fast_dir, tmp_path):
    """Start the example partner (optionally wrapped in a broken variant) with config overrides, on
    127.0.0.1 with a free port and the test's manual clock; returns a config file pointing at it."""
    servers = []

    def start(wrap=None, **overrides):
        config = json.loads(FIXTURE.read_text())
        config.update(overrides)
        app = example_app(config, clock=ctx.clock, db_path=fast_dir / f"partner{len(servers)}.db")
        server = ServerThread(wrap(app) if wrap else app).start()
        servers.append(server)
        config["base_url"] = server.url
        path = tmp_path / f"partner{len(servers)}.json"
        path.write_text(json.dumps(config))
        start.url = server.url
        return path
    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def run_cli(ctx, monkeypatch, fast_dir):
    """Invoke pcsim with a fresh state file; its Context gets the test's manual clock (retries are free)."""
    real = cli.make_context

    def with_manual_clock(db, public_url=None, seed=True):
        made = real(db, public_url, seed)
        made.clock = ctx.clock
        return made
    monkeypatch.setattr(cli, "make_context", with_manual_clock)
    monkeypatch.setenv("PCSIM_DB", str(fast_dir / "cli.db"))
    monkeypatch.setattr(tempfile, "tempdir", str(fast_dir))  # --with-example-partner's state
    for name in ("BASIC_USER", "BASIC_PASSWORD", "PCSIM_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args, db=None):
        extra = ["--db", str(db)] if db else []
        return CliRunner().invoke(cli.main, [str(a) for a in args] + extra, catch_exceptions=False)
    return invoke
