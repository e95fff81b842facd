"""The flows end to end against the example partner on a real port: new connection, sign-in by a
second user, delete then re-create, demo, two workspaces for one person, and each partner mode."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from simulator import partners, workspaces
from simulator.partnerconnect import flows
from simulator.scenarios.example import start_example_partner

from .conftest import WS_AWS, WS_GCP

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "partners" / "example.json"
ADA, BOB, CY = "ada@acme.databricks-test.com", "bob@acme.databricks-test.com", "cy@acme.databricks-test.com"


@pytest.fixture
def example(world, tmp_path):
    """Start the example partner with a config variant; register it with the simulator."""
    servers = []

    def start(**overrides):
        config = json.loads(FIXTURE.read_text())
        config.update(overrides)
        server = start_example_partner(config, clock=world.clock, db_path=tmp_path / f"partner{len(servers)}.db")
        servers.append(server)
        partners.register(world, config, replace=True)
        return server
    yield start
    for server in servers:
        server.stop()


def connect(ctx, user, workspace=WS_AWS, **kw):
    return flows.connect(ctx, partner_name="Example Partner", workspace_id=workspace, user_email=user, **kw)


def test_new_connection_lands_on_trial_page_with_masked_token(world, example):
    example()
    out = connect(world, ADA, follow_redirect=True)
    assert out.ok and out.kind == "connected", out.message
    assert out.response["redirect_value"] == "create_trial"
    assert out.response["user_status"] == "new" and out.response["account_status"] == "new"
    assert out.followed["status"] == 200
    page = requests.get(out.redirect_uri, timeout=5).text
    assert f"{WS_AWS}" in page and out.provisioned["warehouse"]["id"] in page
    assert "dapi…" in page and not re.search(r"dapi[0-9a-f]{32}", page)  # masked, never the whole token
    assert world.store.count("connections", "status = 'active'") == 1


def test_second_user_signs_in_through_established_connection(world, example):
    example()
    first = connect(world, ADA)
    second = connect(world, BOB)
    assert second.ok and second.kind == "signed_in", second.message
    assert second.response["configured_resources"] is False and "connection_id" not in second.response
    assert second.response["user_status"] == "new"  # auto_add
    again = connect(world, BOB)
    assert again.response["user_status"] == "existing" and again.response["redirect_value"] == "sign_in"
    assert world.store.count("connections") == 1
    assert world.store.one("SELECT partner_connection_id FROM connections")["partner_connection_id"] == \
        first.response["connection_id"]


def test_delete_then_recreate(world, example):
    example()
    first = connect(world, ADA)
    gone = flows.delete_connection(world, partner_name="Example Partner", workspace_id=WS_AWS)
    assert gone.ok and gone.notification == {"ok": True, "resource_status": "resources_deleted"}
    assert world.store.count("connections") == 0 and world.store.count("service_principals") == 0
    assert world.store.count("tokens", "revoked_at IS NULL") == 0
    again = connect(world, ADA)
    assert again.ok and again.kind == "connected"
    assert again.response["connection_id"] != first.response["connection_id"]
    assert again.response["user_status"] == "existing"


def test_partner_side_deletion_makes_connection_stale(world, example):
    example()
    connect(world, ADA)
    hook = flows.partner_delete_connection(world, partner_name="Example Partner", workspace_id=WS_AWS)
    assert hook.ok
    stale = connect(world, BOB)
    assert stale.kind == "connection_stale" and "Delete the connection" in stale.message
    assert world.store.one("SELECT status FROM connections")["status"] == "stale"


def test_demo_connects_are_fresh_trials(world, example):
    example()
    demo_ws = workspaces.add_workspace(world, cloud="azure", region="westeurope")["id"]
    workspaces.add_member(world, demo_ws, CY, admin=True)
    out = connect(world, ADA, demo=True)
    other = connect(world, CY, workspace=demo_ws, demo=True)
    for o in (out, other):
        assert o.ok and (o.response["redirect_value"], o.response["user_status"],
                         o.response["account_status"]) == ("create_trial", "new", "new")


def test_one_person_two_workspaces_gets_two_connections(world, example):
    example()
    aws, gcp = connect(world, ADA), connect(world, ADA, workspace=WS_GCP)
    assert aws.ok and gcp.ok
    assert aws.response["connection_id"] != gcp.response["connection_id"]
    assert connect(world, ADA).kind == "signed_in" and connect(world, ADA, workspace=WS_GCP).kind == "signed_in"
    assert world.store.count("connections", "status = 'active'") == 2


@pytest.mark.parametrize("action,kind,expect", [
    ("auto_add", "signed_in", ("sign_in", "new")),
    ("invite", "signed_in", ("contact_admin", "not_applicable")),
    ("not_found", "account_not_found", None),
    ("error", "partner_unavailable", None),
])
def test_new_user_action_modes(world, example, action, kind, expect):
    example(new_user_action=action)
    connect(world, ADA)
    out = connect(world, BOB)
    assert out.kind == kind, out.message
    if expect:
        assert (out.response["redirect_value"], out.response["user_status"]) == expect
    if kind == "partner_unavailable":
        assert out.attempts == 4 and world.clock.sleeps == [1.0, 2.0, 4.0]
        assert out.next_step.startswith("Sign in at")
    assert world.store.one("SELECT status FROM connections")["status"] == "active"


def test_manual_signup_partner(world, example):
    server = example(require_manual_signup=True)
    connect(world, ADA)
    before = connect(world, ADA)
    assert before.kind == "account_not_found" and "Contact your admin" in before.message
    requests.post(server.url + "/signup", data={"email": ADA}, timeout=5).raise_for_status()
    assert connect(world, ADA).kind == "signed_in"


@pytest.mark.parametrize("trial_type,second_status", [("account", "expired"), ("user", "active")])
def test_expire_account(world, example, trial_type, second_status):
    example(trial_type=trial_type)
    connect(world, ADA)
    connect(world, BOB)
    expired = flows.expire_account(world, partner_name="Example Partner", email=ADA, workspace_id=WS_AWS)
    assert expired.ok, expired.message
    ada = connect(world, ADA)
    assert (ada.response["redirect_value"], ada.response["account_status"]) == ("purchase_product", "expired")
    assert connect(world, BOB).response["account_status"] == second_status


def test_test_hooks(world, example):
    example()
    connect(world, ADA)
    tested = flows.test_connection(world, partner_name="Example Partner", workspace_id=WS_AWS)
    assert tested.ok and "PASS" in tested.message
    listed = flows.list_connectors(world, partner_name="Example Partner")
    assert listed.ok and len(listed.pages) >= 2
    assert all(c["type"] in ("source", "target") for p in listed.pages for c in p["connectors"])
    refused = flows.delete_account(world, partner_name="Example Partner", domain="acme.com", workspace_id=WS_AWS)
    assert not refused.ok and refused.status == 400
    deleted = flows.delete_account(world, partner_name="Example Partner", domain="acme.databricks-test.com",
                                   workspace_id=WS_AWS)
    assert deleted.ok
    assert connect(world, ADA).kind == "connection_stale"


def test_wrong_credentials_are_rejected(world, example):
    example()
    partners.register(world, {**partners.get(world, "Example Partner").config}, replace=True,
                      basic_password="wrong-password")
    out = connect(world, ADA)
    assert out.kind == "rejected" and "rejected Databricks' credentials" in out.message
    assert world.store.count("connections") == 0 and world.store.count("warehouses") == 0
