"""The control namespace's read-only views of the state: ``GET /-/state`` (a JSON dump, never a secret)
and ``GET /-/exchanges.har`` (the exchange log as a HAR 1.2 document, masked as stored)."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from simulator.partnerconnect import flows
from simulator.server import create_app

from . import partner_double
from .conftest import WS_AWS, WS_GCP

ADA = "ada@acme.databricks-test.com"


@pytest.fixture
def connected(world, double, double_partner):
    """A connection of Double in WS_AWS (its connect call is in the exchange log), plus a failed call."""
    outcome = flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    assert outcome.ok, outcome.message
    double.script("test_connection", partner_double.error(500, "general_error", "down"))
    world.settings.retry_delays = ()
    flows.test_connection(world, partner_name="Double", workspace_id=WS_AWS)
    return double.calls("connect")[0]["json"]


def test_state_dumps_everything_but_secrets(world, connected):
    client = create_app(world).test_client()
    resp = client.get("/-/state")
    assert resp.status_code == 200
    state = resp.json
    spaces = {w["id"]: w for w in state["workspaces"]}
    assert set(spaces) == {WS_AWS, WS_GCP}  # exact 64-bit ids
    assert spaces[WS_AWS]["catalogs"] == ["main", "sales", "hive_metastore"]
    ada = next(u for u in state["users"] if u["email"] == ADA)
    assert sorted(ada["memberships"], key=lambda m: m["workspace_id"]) == [
        {"workspace_id": WS_GCP, "is_admin": True}, {"workspace_id": WS_AWS, "is_admin": True}]
    [partner] = state["partners"]
    assert partner["name"] == "Double" and partner["signing_secret"] != "test-signing-secret"
    [connection] = state["connections"]
    assert connection["partner_name"] == "Double" and connection["status"] == "active"
    assert connection["resources"]["warehouse"]["id"] and connection["resources"]["pat"].endswith("…")
    assert state["counts"]["workspaces"] == 2 and state["counts"]["connections"] == 1
    assert state["counts"]["tokens"] >= 1 and state["counts"]["exchanges"] == 2
    text = resp.get_data(as_text=True)
    pat = connected["user_info"]["auth"]["personal_access_token"]
    secrets = [pat, "test-signing-secret", world.store.get_meta("web_secret_key")]
    secrets += [r["token_hash"] for r in world.store.query("SELECT token_hash FROM tokens")]
    assert not [s for s in secrets if s in text]


def test_exchanges_har_is_a_masked_har_1_2_log(world, connected):
    client = create_app(world).test_client()
    resp = client.get("/-/exchanges.har")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert 'filename="pcsim-exchanges.har"' in resp.headers["Content-Disposition"]
    log = resp.json["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "Partner Connect Simulator"
    connect, test = log["entries"]  # oldest first
    assert connect["request"]["method"] == "POST" and connect["request"]["url"].endswith("/pc/connect")
    assert connect["response"]["status"] == 200 and connect["response"]["statusText"] == "OK"
    assert connect["request"]["postData"]["mimeType"] == "application/json"
    sent = json.loads(connect["request"]["postData"]["text"])
    assert sent["workspace_id"] == WS_AWS and sent["user_info"]["auth"]["personal_access_token"].endswith("…")
    headers = {h["name"]: h["value"] for h in connect["request"]["headers"]}
    assert headers["X-Databricks-PC-Signature"] == "v1=****"
    assert json.loads(connect["response"]["content"]["text"])["connection_id"] == "conn-123"
    datetime.fromisoformat(connect["startedDateTime"])
    for entry in log["entries"]:
        assert set(entry) >= {"startedDateTime", "time", "request", "response", "cache", "timings"}
        assert set(entry["request"]) >= {"method", "url", "httpVersion", "cookies", "headers", "queryString",
                                         "headersSize", "bodySize"}
        assert set(entry["response"]) >= {"status", "statusText", "httpVersion", "cookies", "headers", "content",
                                          "redirectURL", "headersSize", "bodySize"}
        assert entry["timings"]["wait"] == entry["time"] >= 0
    assert test["response"]["status"] == 500 and test["_operation"] == "test_connection"
    assert test["_workspaceId"] == WS_AWS and test["_partner"] == "Double" and test["_attempt"] == 1
    pat = connected["user_info"]["auth"]["personal_access_token"]
    assert pat not in resp.get_data(as_text=True) and "test-signing-secret" not in resp.get_data(as_text=True)


def test_exchanges_har_takes_the_filters_of_the_exchange_log(world, connected):
    client = create_app(world).test_client()
    assert len(client.get("/-/exchanges.har?last=1").json["log"]["entries"]) == 1
    assert client.get(f"/-/exchanges.har?workspace_id={WS_GCP}").json["log"]["entries"] == []
    assert client.get("/-/exchanges.har?partner=Nope").json["log"]["entries"] == []
    assert len(client.get(f"/-/exchanges.har?partner=Double&workspace_id={WS_AWS}").json["log"]["entries"]) == 2
    bad = client.get("/-/exchanges.har?workspace_id=abc")
    assert bad.status_code == 400 and bad.json == {"error_code": "INVALID_PARAMETER_VALUE",
                                                   "message": "workspace_id must be an integer, got 'abc'"}
