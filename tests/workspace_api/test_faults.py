"""Fault injection: rules on the workspace API and on the simulator's calls to partners."""
from __future__ import annotations

import pytest
import requests

from simulator import faults
from simulator.errors import Invalid
from simulator.partnerconnect import flows

from ..conftest import WS_AWS


ADA = "ada@acme.databricks-test.com"


def test_offset_times_and_probability(ctx):
    faults.add(ctx, {"path": "/api/2.*/jobs/*", "method": "GET", "status": 503, "offset": 1, "times": 2})
    hits = [faults.match(ctx, "api", "GET", "/api/2.1/jobs/runs/get") is not None for _ in range(5)]
    assert hits == [False, True, True, False, False]
    assert faults.match(ctx, "api", "POST", "/api/2.1/jobs/runs/get") is None  # method filter
    assert faults.match(ctx, "partner", "GET", "/api/2.1/jobs/runs/get") is None  # target filter
    faults.remove(ctx)
    faults.add(ctx, {"path": "/x", "status": 500, "probability": 0.5, "seed": 42})
    first = [faults.match(ctx, "api", "GET", "/x") is not None for _ in range(40)]
    assert 5 < sum(first) < 35
    faults.remove(ctx)
    faults.add(ctx, {"path": "/x", "status": 500, "probability": 0.5, "seed": 42})
    assert [faults.match(ctx, "api", "GET", "/x") is not None for _ in range(40)] == first  # reproducible


@pytest.mark.parametrize("rule,message", [
    ({"path": "api/x", "status": 500}, "starting with '/'"),
    ({"path": "/x"}, "needs a status, drop, timeout or latency_s"),
    ({"path": "/x", "status": 999}, "HTTP status code"),
    ({"path": "/x", "status": 500, "times": -1}, "times must be a non-negative integer"),
    ({"path": "/x", "status": 500, "colour": "red"}, "unknown fault field(s): colour"),
    ({"path": "/x", "status": 500, "target": "moon"}, "target must be"),
])
def test_invalid_rules_are_refused_with_reason(ctx, rule, message):
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        faults.add(ctx, rule)
    assert faults.list_rules(ctx) == []


def test_sdk_retries_an_injected_429_with_retry_after(sim, sp_client):
    added = requests.post(sim.url + "/-/faults", json={"path": "/api/2.0/preview/scim/v2/Me", "status": 429,
                                                        "retry_after": 0, "times": 1}, timeout=5)
    assert added.status_code == 201
    assert sp_client.current_user.me().user_name  # the SDK retried after the 429
    rule = requests.get(sim.url + "/-/faults", timeout=5).json()["faults"][0]
    assert (rule["seen"], rule["fired"]) == (2, 1)


def test_api_fault_scoped_to_a_workspace_and_dropped_connection(sim, pat_connection, world):
    token = pat_connection["user_info"]["auth"]["personal_access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = sim.url + "/api/2.0/preview/scim/v2/Me"
    faults.add(world, {"path": "/api/*", "status": 503, "workspace_id": WS_AWS + 1})
    assert requests.get(url, headers=headers, timeout=5).status_code == 200  # other workspace: no fault
    faults.remove(world)
    faults.add(world, {"path": "/api/*", "status": 500, "times": 1})
    failed = requests.get(url, headers=headers, timeout=5)
    assert failed.status_code == 500 and failed.json()["error_code"] == "INTERNAL_ERROR"
    faults.add(world, {"path": "/api/*", "drop": True, "times": 1})
    with pytest.raises(requests.ConnectionError):
        requests.get(url, headers=headers, timeout=5)
    assert requests.get(url, headers=headers, timeout=5).status_code == 200


def test_control_api_errors_and_delete(sim):
    bad = requests.post(sim.url + "/-/faults", data="nope", timeout=5)
    assert bad.status_code == 400 and bad.json()["error_code"] == "MALFORMED_REQUEST"
    invalid = requests.post(sim.url + "/-/faults", json={"path": "/x"}, timeout=5)
    assert invalid.status_code == 400 and "needs a status" in invalid.json()["message"]
    rule = requests.post(sim.url + "/-/faults", json={"path": "/x", "status": 500}, timeout=5).json()
    assert requests.delete(f"{sim.url}/-/faults/{rule['id']}", timeout=5).status_code == 200
    assert requests.delete(f"{sim.url}/-/faults/{rule['id']}", timeout=5).status_code == 404


@pytest.mark.parametrize("rule,kind,error", [
    ({"status": 500}, "partner_unavailable", None),
    ({"drop": True}, "partner_unavailable", "connection refused"),
    ({"timeout": True}, "partner_unavailable", "timeout"),
    ({"status": 401}, "rejected", None),
])
def test_partner_faults_drive_the_retry_paths(world, double, double_partner, rule, kind, error):
    faults.add(world, {"target": "partner", "path": "/pc/connect", **rule})
    out = flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    assert out.kind == kind, out.message
    assert double.calls("connect") == []  # the partner itself was never reached
    if kind == "partner_unavailable":
        assert out.attempts == 4 and world.clock.sleeps == [1.0, 2.0, 4.0]
        assert world.store.one("SELECT status FROM connections")["status"] == "pending"
    if error:
        assert error in out.message
    last = world.store.one("SELECT * FROM exchanges ORDER BY id DESC LIMIT 1")
    assert (last["status"] is None) == (error is not None)


def test_partner_fault_then_recovery(world, double, double_partner):
    faults.add(world, {"target": "partner", "path": "*/connect", "status": 500, "times": 2})
    out = flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    assert out.ok and out.attempts == 3 and world.clock.sleeps == [1.0, 2.0]
    assert len(double.calls("connect")) == 1
