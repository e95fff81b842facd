"""``pcsim demo`` as a user runs it (a real process, real ports): the printed example works."""
from __future__ import annotations

import re
import subprocess
import sys

import requests
from click.testing import CliRunner

from simulator import cli


def test_demo_prints_urls_and_a_working_connect_command(tmp_path):
    db = tmp_path / "demo.db"
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "demo", "--port", "0", "--partner-port", "0",
                             "--db", str(db), "--partner-db", str(tmp_path / "partner.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    try:
        lines = []
        for _ in range(20):  # bounded: the banner is eight lines
            line = proc.stdout.readline()
            lines.append(line)
            if "Ctrl-C" in line or not line:
                break
        banner = "".join(lines)
        sim_url = re.search(r"Simulator:\s+(\S+)", banner).group(1)
        command = re.search(r"connect (--db .*)$", banner, re.M).group(1)
        assert requests.get(sim_url + "/-/health", timeout=5).json()["status"] == "ok"
        args = ["connect"] + [a.strip("'") for a in re.findall(r"'[^']*'|\S+", command)]
        result = CliRunner().invoke(cli.main, args + ["--follow"])
        assert result.exit_code == 0, result.output
        assert "OK: Connected to Example Partner" in result.output and "answered 200" in result.output
        assert "redirect (allowed): http://127.0.0.1:" in result.output
    finally:
        proc.terminate()
        proc.wait(timeout=10)
