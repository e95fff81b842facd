"""prefect-databricks' own ``jobs_runs_submit_and_wait_for_completion`` against the simulator over
HTTPS: a two-task job to success, and a failing job to its documented exception.

Prefect runs in its own virtualenv (``.venv-prefect``, built here from
tests/prefect_env/requirements.txt on first use and reused afterwards), because its temporary API
server needs a fastapi version that should not constrain the main environment.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.clock import ScaledClock
from simulator.httpserver import ServerThread
from simulator.jobs import rules
from simulator.server import create_app
from simulator.tls import ssl_context_for

from .conftest import connect_partner

ROOT = Path(__file__).resolve().parents[2]
ENV_DIR = ROOT / "tests" / "prefect_env"
VENV = ROOT / ".venv-prefect"


@pytest.fixture(scope="session")
def prefect_python() -> str:
    """The Prefect virtualenv's python, (re)built when its requirements change."""
    requirements = ENV_DIR / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = VENV / ".requirements-sha256"
    python = VENV / "bin" / "python"
    if not (python.exists() and stamp.exists() and stamp.read_text() == digest):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
                        str(requirements)], check=True, timeout=900)
        stamp.write_text(digest)
    return str(python)


@pytest.fixture
def https_sim(world, tmp_path):
    """The simulator over TLS with accelerated time (a 60 s cluster start takes 60 ms)."""
    ssl_context, ca_path = ssl_context_for(tmp_path / "tls")
    world.clock = ScaledClock(1000)
    server = ServerThread(create_app(world), ssl_context=ssl_context).start()
    world.settings.public_url = server.url
    yield server, str(ca_path)
    server.stop()


def run_prefect(python: str, server, ca_path: str, token: str, scenario: str, tmp_path) -> dict:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
           "SSL_CERT_FILE": ca_path, "REQUESTS_CA_BUNDLE": ca_path}
    instance = server.url.removeprefix("https://")
    proc = subprocess.run([python, str(ENV_DIR / "run_job.py"), instance, token, ca_path, scenario],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"prefect printed no result (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return json.loads(lines[-1])


def test_prefect_submit_and_wait(prefect_python, https_sim, world, double, tmp_path):
    server, ca_path = https_sim
    payload = connect_partner(world, double)
    assert payload["workspace_url"].startswith("https://")
    token = payload["user_info"]["auth"]["personal_access_token"]
    rules.add(world, {"match": {"notebook_path": "/Shared/good/extract"}, "notebook_output": "3 rows"})
    good = run_prefect(prefect_python, server, ca_path, token, "good", tmp_path)
    assert good["ok"], good
    assert set(good["result"]) == {"extract", "load"}
    assert "3 rows" in json.dumps(good["result"]["extract"])

    rules.add(world, {"match": {"notebook_path": "/Shared/bad/load"}, "result_state": "FAILED",
                      "error": "ValueError: bad input"})
    bad = run_prefect(prefect_python, server, ca_path, token, "bad", tmp_path)
    assert not bad["ok"] and bad["exception"] == "DatabricksJobTerminated", bad
    assert "FAILED" in bad["message"]
