"""Probes send the connect requests certification needs (a first-time connect although a connection
exists, a sign-in with an old id) through the real client, and never touch connection rows."""
from __future__ import annotations

import base64
import re

import pytest

from simulator import partners
from simulator.errors import Invalid
from simulator.ids import IdGenerator
from simulator.partnerconnect import flows, probe
from simulator.scenarios.runner import RESOURCE_QUERIES, wrong_credentials

from .conftest import WS_AWS
from .scenario_support import ctx, fast_dir  # noqa: F401 - fixtures (state on tmpfs)
from .partner_double import error, ok_connect, ok_sign_in

ADA = "ada@acme.databricks-test.com"


def connection_rows(ctx):
    return ctx.store.query("SELECT * FROM connections ORDER BY id")


def live_resources(ctx, workspace_id=WS_AWS):
    return sum(ctx.store.one(q, (workspace_id,))["n"] for q in RESOURCE_QUERIES)


def test_first_time_probe_with_an_existing_connection(world, double, double_partner):
    assert flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA).ok
    rows, resources = connection_rows(world), live_resources(world)
    double.script("connect", ok_connect(connection_id="conn-second"))

    result = probe.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA, established=False)

    sent = double.calls("connect")[-1]
    assert sent["json"]["user_info"]["is_connection_established"] is False
    assert re.fullmatch(r"dapi[0-9a-f]{32}", sent["json"]["user_info"]["auth"]["personal_access_token"])
    assert "connection_id" not in sent["json"]
    assert sent["headers"]["Authorization"].startswith("Basic ") and "X-Databricks-Pc-Signature" in sent["headers"]
    out = result.outcome
    assert out.ok and out.kind == "connected" and out.response["connection_id"] == "conn-second"
    assert out.redirect["allowed"] and out.exchange_ids and result.call.status == 200
    assert connection_rows(world) == rows  # nothing stored, nothing changed
    assert live_resources(world) == resources  # the temporary resources are gone, their PAT revoked
    token = sent["json"]["user_info"]["auth"]["personal_access_token"]
    assert world.store.one("SELECT revoked_at FROM tokens WHERE prefix = ?", (token[:8],))["revoked_at"] is not None
    assert world.store.count("service_principals", "connection_id IS NULL") == 0


def test_sign_in_probe_with_an_old_id_leaves_the_connection_active(world, double, double_partner):
    flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    double.script("connect", error(404, "connection_not_found"))
    result = probe.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA, established=True,
                           connection_id="conn-old")
    sent = double.calls("connect")[-1]["json"]
    assert sent["connection_id"] == "conn-old" and sent["user_info"]["is_connection_established"] is True
    assert "auth" not in sent["user_info"]
    assert result.outcome.kind == "connection_stale" and result.outcome.status == 404
    assert result.connection_id_sent == "conn-old"
    assert world.store.one("SELECT status FROM connections")["status"] == "active"  # flows would mark it stale


def test_sign_in_probe_checks_the_established_connection_rules(world, double, double_partner):
    flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    double.script("connect", ok_sign_in(connection_id="conn-123", configured_resources=True))
    out = probe.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA, established=True).outcome
    assert double.calls("connect")[-1]["json"]["connection_id"] == "conn-123"  # the stored id by default
    assert out.ok and out.kind == "signed_in"
    assert {w["field"] for w in out.warnings} == {"connection_id", "configured_resources"}
    checks = world.store.one("SELECT checks FROM exchanges ORDER BY id DESC LIMIT 1")["checks"]
    assert "must not be returned when the connection is already established" in checks


def test_first_time_probe_reports_a_missing_connection_id_and_a_foreign_redirect(world, double, double_partner):
    double.script("connect", ok_connect(connection_id=..., redirect_uri="https://evil.example.org/x"))
    out = probe.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA, established=False).outcome
    assert not out.ok and out.kind == "redirect_blocked"
    assert {v["field"] for v in out.violations} == {"connection_id", "redirect_uri"}
    assert world.store.count("connections") == 0 and live_resources(world) == 0


def test_probe_with_wrong_credentials(world, double, double_partner):
    double.script("connect", error(401, "unauthorized"))
    partner = wrong_credentials(partners.get(world, "Double"), IdGenerator(1))
    out = probe.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA, established=False,
                        partner=partner).outcome
    header = double.calls("connect")[-1]["headers"]["Authorization"]
    user, _, password = base64.b64decode(header.split()[1]).decode().partition(":")
    assert user == "dbx" and password.startswith("wrong-")  # same user, wrong password
    assert out.kind == "rejected" and out.status == 401 and not out.ok
    assert live_resources(world) == 0


def test_sign_in_probe_needs_a_connection_id(world, double_partner):
    with pytest.raises(Invalid, match="needs a connection id"):
        probe.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA, established=True)
