"""The certification run: the example partner passes every applicable case in each of its modes,
inapplicable cases are skipped with the reason, and subtly broken partners fail exactly the cases
that catch their bug, with a message that says what to fix."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simulator.scenarios import PartnerSpec
from simulator.scenarios.certification import catalogue, certification_dir, certify, manual_checks

from . import broken_partners
from .scenario_support import FIXTURE, ctx, fast_dir, run_cli, serve_partner  # noqa: F401 - fixtures
ALL_CASES = {"AUTH", "P100", "P300", "P302", "P400", "P401", "P402", "P403", "P404", "P405", "P501", "P502",
             "P600", "P700", "P800", "P801", "P900"}


def verdicts(result) -> dict[str, str]:
    return {case.id: case.status for case in result.run.scenarios}


def failure_text(result, case_id: str) -> str:
    case = next(c for c in result.run.scenarios if c.id == case_id)
    return "\n".join(f"{s.reason} | hint: {s.hint}" for s in case.steps if s.status == "failed")


def test_catalogue_is_shipped_with_the_package_and_linked_from_the_repo():
    cases = catalogue()
    assert {c.id for c in cases} == ALL_CASES
    assert all(c.contract == "strict" for c in cases)
    top_level = Path(__file__).resolve().parent.parent / "scenarios" / "certification"
    assert top_level.resolve() == certification_dir().resolve()
    assert [m["id"] for m in manual_checks()] == ["P101", "P200", "P201", "P301", "P500"]
    assert all(len(m["check"]) > 60 for m in manual_checks())


@pytest.mark.parametrize("overrides", [
    {},
    {"new_user_action": "invite"},
    {"new_user_action": "not_found"},
    {"new_user_action": "error"},
    {"require_manual_signup": True},
    {"trial_type": "user"},
], ids=["auto_add", "invite", "not_found", "error", "manual_signup", "trial_type_user"])
def test_example_partner_passes_every_case_in_each_mode(ctx, serve_partner, overrides):
    result = certify(ctx, PartnerSpec(config=serve_partner(**overrides)))
    failed = {c: failure_text(result, c) for c, status in verdicts(result).items() if status == "failed"}
    assert failed == {}
    assert result.ok and result.counts() == {"passed": len(ALL_CASES), "failed": 0, "skipped": 0}
    if overrides.get("new_user_action") == "error":  # P302 and P502 retried 500s: 1, 2, 4 s, on the manual clock
        assert ctx.clock.sleeps == [1.0, 2.0, 4.0] * 2
    # every case ran in workspaces of its own and left no probe resources behind
    assert ctx.store.count("workspaces") == sum(len(c.workspaces) for c in catalogue())
    assert ctx.store.count("service_principals", "connection_id IS NULL") == 0
    assert ctx.store.count("tokens", "connection_id IS NULL AND revoked_at IS NULL") == 0


def test_inapplicable_cases_are_skipped_with_the_reason(ctx, serve_partner):
    path = serve_partner(category="BI_AND_VIZ", supports_demo=False,
                         endpoints={"connect_path": "/partnerconnect/v1/connect"})
    result = certify(ctx, PartnerSpec(config=path))
    assert result.ok
    status = verdicts(result)
    assert {c for c, s in status.items() if s == "passed"} == {"AUTH", "P100", "P300", "P302", "P400", "P600"}
    reasons = {c.id: c.skip_reason for c in result.run.scenarios if c.status == "skipped"}
    assert reasons["P401"] == "not applicable: the partner config has no endpoints.delete_connection_path"
    assert reasons["P501"] == "not applicable: the partner config has no endpoints.expire_account_path"
    assert reasons["P700"] == "not applicable: supports_demo is false, not true"
    assert reasons["P900"] == "not applicable: category is BI_AND_VIZ, not INGEST"


def test_ingest_partner_without_connectors_endpoint_fails_p900(ctx, serve_partner):
    endpoints = json.loads(FIXTURE.read_text())["endpoints"]
    del endpoints["get_connectors_path"]
    result = certify(ctx, PartnerSpec(config=serve_partner(endpoints=endpoints)))
    assert {c for c, s in verdicts(result).items() if s == "failed"} == {"P900"}
    assert "has no endpoints.get_connectors_path" in failure_text(result, "P900")


def test_partner_without_credentials_skips_the_credentials_case(ctx, serve_partner):
    path = serve_partner()
    config = json.loads(path.read_text())
    config["pcsim"] = {"signing_secret": config["pcsim"]["signing_secret"]}  # simulator sends no Authorization
    path.write_text(json.dumps(config))
    result = certify(ctx, PartnerSpec(config=path))
    auth = next(c for c in result.run.scenarios if c.id == "AUTH")
    assert auth.status == "skipped" and "no credentials are registered" in auth.skip_reason
    # ...and the example partner, which does expect credentials, refuses every other call
    assert verdicts(result)["P100"] == "failed" and "401" in failure_text(result, "P100")


REDIRECTING = ALL_CASES - {"AUTH", "P405", "P900"}  # every case with a successful connect


@pytest.mark.parametrize("variant,failing,fragments", [
    (broken_partners.echoes_connection_id, {"P300", "P302", "P501", "P502", "P600"},
     ["connection_id: expected no connection_id, got",
      "connection_id: must not be returned when the connection is already established"]),
    (broken_partners.keeps_deleted_connections, {"P402", "P801"},
     ["status: expected 404, got 200", "error_reason: expected connection_not_found, got nothing"]),
    (broken_partners.null_in_error_bodies, {"AUTH", "P402", "P404", "P405", "P801"},
     ["debugging_message: error body values must be strings (got null)"]),
    (broken_partners.redirects_elsewhere, REDIRECTING,
     ["redirect host app.evil-partner.example is not in the partner's hostnames allow-list [127.0.0.1, localhost]"]),
    (broken_partners.created_on_sign_in, {"P300", "P302", "P501", "P502", "P600"},
     ["status: expected 200, got 201", "sign-in with an established connection must answer 200 (got 201)"]),
], ids=["echoes_connection_id", "keeps_deleted_connections", "null_in_error_bodies", "redirects_elsewhere",
        "201_on_sign_in"])
def test_broken_partner_fails_exactly_the_right_cases(ctx, serve_partner, variant, failing, fragments):
    result = certify(ctx, PartnerSpec(config=serve_partner(wrap=variant)))
    assert not result.ok
    assert set(result.failed_cases()) == failing
    assert {c for c, s in verdicts(result).items() if s == "passed"} == ALL_CASES - failing
    for case in failing:
        text = failure_text(result, case)
        assert any(fragment in text for fragment in fragments), (case, text)


# ---------------------------------------------------------------- the command line


def test_cli_certify_passes_writes_reports_and_prints_the_manual_checklist(run_cli, serve_partner, tmp_path):
    path = serve_partner(new_user_action="error")
    junit, html = tmp_path / "cert.xml", tmp_path / "cert.html"
    result = run_cli("certify", "--partner-config", path, "--junit-xml", junit, "--report", html)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "PASS  P100 A new user in a new workspace creates a connection" in lines
    assert "  [ ] P101 An existing user connects from a new workspace" in lines
    assert lines[-1] == "17 passed, 0 failed"
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert [s.get("name").split()[0] for s in suites] == sorted(ALL_CASES)
    page = html.read_text()
    assert "Certification of Example Partner" in page and "P500 An expired trial, then a new connection" in page


def test_cli_certify_fails_a_broken_partner_with_what_to_fix(run_cli, serve_partner):
    result = run_cli("certify", "--partner-config", serve_partner(wrap=broken_partners.created_on_sign_in))
    assert result.exit_code == 1
    assert "FAIL  P300 The user who created the connection signs in through it" in result.output
    assert ("FAIL  2. ada signs in through the established connection: status: expected 200, got 201; "
            "contract: expected no contract violations or warnings, got status: sign-in with an established "
            "connection must answer 200 (got 201)  -> A sign-in (is_connection_established=true) must answer "
            "exactly 200") in result.output
    assert result.output.splitlines()[-1] == "12 passed, 5 failed"


def test_cli_certify_with_the_bundled_example_partner(run_cli):
    result = run_cli("certify", "--partner-config", FIXTURE, "--with-example-partner", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and data["summary"] == {"passed": 17, "failed": 0, "skipped": 0}
    assert data["partner"] == "Example Partner" and [m["id"] for m in data["manual"]][0] == "P101"


def test_cli_certify_requires_a_partner_config(run_cli):
    result = run_cli("certify")
    assert result.exit_code == 2 and "--partner-config" in result.output
