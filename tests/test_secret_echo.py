"""A partner that echoes the credentials Databricks sent (in error messages, plain-text bodies,
redirect URLs, any letter case): nothing of them survives in outcomes, the exchange log or the CLI."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from simulator import cli
from simulator.partnerconnect import flows

from . import partner_double as pd
from .conftest import WS_AWS

ADA = "ada@acme.databricks-test.com"
BASIC = "Basic ZGJ4OnMzY3JldC1iYXNpYy1wdw=="  # dbx:s3cret-basic-pw, the double's credentials


def everything_kept(world, outcome) -> str:
    rows = world.store.query("SELECT * FROM exchanges")
    return json.dumps(outcome.as_dict()) + json.dumps(rows) + outcome.message


@pytest.mark.parametrize("reply", [
    pd.Reply(400, {"error_reason": "bad_request", "display_message": "your token %PAT% is bad (auth %AUTH%)"}),
    pd.Reply(500, raw="Internal error token=%PAT%; auth %AUTH%", content_type="text/plain"),
    pd.Reply(200, raw=json.dumps(pd.ok_connect(redirect_uri="http://127.0.0.1/trial?next=%PAT_URL%").body)),
    pd.Reply(401, {"error_reason": "unauthorized", "display_message": "TOK_%PAT%_X s3cret-basic-pw"}),
])
def test_echoed_credentials_are_masked_everywhere(world, double, double_partner, reply):
    double.script("connect", reply, reply, reply, reply)
    out = flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    pat = double.calls("connect")[0]["json"]["user_info"]["auth"]["personal_access_token"]
    kept = everything_kept(world, out)
    for secret in (pat, pat.upper(), BASIC, "ZGJ4OnMzY3JldC1iYXNpYy1wdw==", "s3cret-basic-pw"):
        assert secret not in kept and secret.lower() not in kept.lower()
    assert "must not echo the credentials" in kept  # the partner is told, as a contract warning


def test_cli_output_never_shows_an_echoed_pat(tmp_path, double, monkeypatch):
    monkeypatch.setenv("PCSIM_DB", str(tmp_path / "cli.db"))
    path = tmp_path / "double.json"
    path.write_text(json.dumps(pd.config(double.url)))
    runner = CliRunner()
    assert runner.invoke(cli.main, ["partners", "add", str(path)]).exit_code == 0
    double.script("connect", pd.Reply(400, {"error_reason": "bad_request", "display_message": "bad %PAT%"}))
    result = runner.invoke(cli.main, ["connect", "--partner", "Double", "--workspace", "7474650313055465",
                                      "--user", ADA])
    pat = double.calls("connect")[0]["json"]["user_info"]["auth"]["personal_access_token"]
    assert result.exit_code == 1 and "bad dapi" in result.output and pat not in result.output
    exchanges = runner.invoke(cli.main, ["exchanges", "--json"])
    assert pat not in exchanges.output
