"""The ``pcsim`` command line: exit codes, human and JSON output, secrets kept out of output."""
from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from simulator import cli
from simulator.store import Store

from . import partner_double
from .conftest import WS_AWS

ADA = "ada@acme.databricks-test.com"


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke pcsim against a fresh state file with the bundled seed data."""
    db = tmp_path / "cli.db"
    monkeypatch.setenv("PCSIM_DB", str(db))
    monkeypatch.setenv("PCSIM_PUBLIC_URL", "http://127.0.0.1:9999")
    runner = CliRunner()

    def invoke(*args, env=None):
        result = runner.invoke(cli.main, [str(a) for a in args], env=env, catch_exceptions=False)
        return result
    invoke.db = db
    return invoke


@pytest.fixture
def double_file(tmp_path, double):
    cfg = partner_double.config(double.url)
    path = tmp_path / "double.json"
    path.write_text(json.dumps(cfg))
    return path


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


@pytest.mark.parametrize("path,command", list(_commands(cli.main)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_has_help(path, command):
    assert (command.help or "").strip(), f"pcsim {' '.join(path)} has no help text"


def test_seeded_on_first_use_with_exact_ids(run):
    result = run("workspaces", "list", "--json")
    assert result.exit_code == 0
    ids = {w["id"] for w in json.loads(result.output)}
    assert 9007199254740993 in ids and 3141592653589793238 in ids  # > 2**53, exact
    users = json.loads(run("users", "list", "--json").output)
    ada = next(u for u in users if u["email"] == ADA)
    assert len(ada["workspaces"]) == 2
    assert len({ada["aws_user_id"], ada["azure_user_id"], ada["gcp_user_id"]}) == 3
    assert "Example Partner" in run("partners", "list").output


def test_connect_sign_in_disconnect_exit_codes(run, double_file, double):
    assert run("partners", "add", double_file).exit_code == 0
    ok = run("connect", "--partner", "Double", "--workspace", 7474650313055465, "--user", ADA)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK: Connected to Double")
    assert "dapi" in ok.output and len(double.calls("connect")) == 1
    pat = double.calls("connect")[0]["json"]["user_info"]["auth"]["personal_access_token"]
    assert pat not in ok.output  # only the prefix is shown
    second = run("connect", "--partner", "Double", "--workspace", 7474650313055465,
                 "--user", "grace@acme.databricks-test.com", "--json")
    assert second.exit_code == 0
    assert json.loads(second.output)["kind"] == "signed_in"
    listed = json.loads(run("connections", "list", "--json").output)
    assert [c["status"] for c in listed] == ["active"]
    exchanges = run("exchanges", "--last", 5)
    assert exchanges.exit_code == 0 and "/pc/connect -> 200" in exchanges.output
    assert pat not in run("exchanges", "--json").output
    gone = run("disconnect", "--partner", "Double", "--workspace", 7474650313055465)
    assert gone.exit_code == 0 and "resources_deleted" in gone.output
    assert json.loads(run("connections", "list", "--json").output) == []


def test_partner_failure_exits_1_with_reason(run, double_file, double):
    run("partners", "add", double_file)
    double.script("connect", partner_double.error(401, "unauthorized", "bad key"))
    result = run("connect", "--partner", "Double", "--workspace", 7474650313055465, "--user", ADA)
    assert result.exit_code == 1
    assert "rejected Databricks' credentials" in result.output


@pytest.mark.parametrize("args,message", [
    (("connect", "--partner", "Nope", "--workspace", WS_AWS, "--user", ADA), "no partner named 'Nope'"),
    (("connect", "--partner", "Example Partner", "--workspace", 1, "--user", ADA), "no workspace with id 1"),
    (("connect", "--partner", "Example Partner", "--workspace", 9007199254740993, "--user", ADA),
     "is not a member of workspace 9007199254740993"),
    (("connect", "--partner", "Example Partner", "--workspace", 7474650313055465, "--user",
      "grace@acme.databricks-test.com"), "not an admin"),
    (("workspaces", "add", "--cloud", "aws", "--region", "x", "--id", -5), "positive 64-bit integer"),
    (("users", "add", "not-an-email"), "not a valid email address"),
    (("partners", "remove", "Nope"), "no partner named"),
])
def test_usage_errors_exit_2_with_specific_message(run, args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_invalid_partner_config_names_fields(run, tmp_path):
    cfg = partner_double.config("http://127.0.0.1:1")
    del cfg["endpoints"]["connect_path"]
    cfg["category"] = "GAMES"
    cfg["auth_options"] = ["AUTH_PAT", "AUTH_OAUTH_M2M"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(cfg))
    result = run("partners", "add", path)
    assert result.exit_code == 2
    assert "endpoints.connect_path: is required" in result.output
    assert "category: must be one of INGEST" in result.output
    assert "auth_options: AUTH_PAT and AUTH_OAUTH_M2M cannot be combined" in result.output
    (tmp_path / "broken.json").write_text("{not json")
    assert "is not valid JSON" in run("partners", "add", tmp_path / "broken.json").output
    assert Store(run.db).count("partners", "name = 'Double'") == 0


def test_credentials_from_env_and_reveal(run, double_file):
    result = run("partners", "add", double_file, "--replace",
                 env={"BASIC_USER": "env-user", "BASIC_PASSWORD": "env-password-123"})
    assert result.exit_code == 0
    shown = run("partners", "show", "Double")
    assert "env-user" in shown.output and "env-password-123" not in shown.output
    assert "test-signing-secret" not in shown.output
    revealed = run("partners", "show", "Double", "--reveal")
    assert "env-password-123" in revealed.output and "test-signing-secret" in revealed.output


def test_generated_signing_secret_when_config_has_none(run, tmp_path, double):
    cfg = partner_double.config(double.url)
    del cfg["pcsim"]
    path = tmp_path / "nosecret.json"
    path.write_text(json.dumps(cfg))
    run("partners", "add", path)
    secret = json.loads(run("partners", "show", "Double", "--reveal", "--json").output)["signing_secret"]
    assert secret.startswith("pcsk_") and len(secret) > 40


def test_reset_empties_and_reseeds(run):
    run("workspaces", "add", "--cloud", "gcp", "--region", "europe-west1", "--id", 42)
    assert run("reset", "--yes", "--empty").exit_code == 0
    assert json.loads(run("workspaces", "list", "--json").output) == []
    run("reset", "--yes")
    assert len(json.loads(run("workspaces", "list", "--json").output)) == 3
