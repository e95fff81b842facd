"""The ``pcsim`` pytest plugin, as a partner's CI uses it: installed as an entry point, a running
simulator, a fresh workspace per test, factories, the example partner, and a partner's own service
registered from its config file in a few lines."""
from __future__ import annotations

import importlib.metadata
import json
import textwrap

import pytest

from simulator.httpserver import ServerThread
from simulator.scenarios.example import example_app

from .scenario_support import FIXTURE, fast_dir  # noqa: F401 - fixture

pytest_plugins = ["pytester"]


def test_registered_as_a_pytest11_entry_point():
    points = {e.name: e.value for e in importlib.metadata.entry_points(group="pytest11")}
    assert points["pcsim"] == "simulator.pytest_plugin"


@pytest.fixture
def partner_service(tmp_path, fast_dir):
    """A partner's "own service" (the example partner, real clock) and its config file."""
    config = json.loads(FIXTURE.read_text())
    with ServerThread(example_app(config, db_path=fast_dir / "service.db")) as server:
        config["base_url"] = "http://127.0.0.1:1"  # wrong on purpose: the test passes base_url
        path = tmp_path / "partner-connect.json"
        path.write_text(json.dumps(config))
        yield path, server.url


def test_a_partners_test_suite_uses_the_fixtures(pytester, partner_service, fast_dir):
    config_path, url = partner_service
    pytester.makepyfile(test_partner=textwrap.dedent(f"""
        import json

        import requests

        CONFIG, URL = {str(config_path)!r}, {url!r}

        def test_new_user_gets_a_trial(pcsim_workspace, make_partner):
            partner = make_partner(CONFIG, base_url=URL)
            outcome = pcsim_workspace.connect(partner)
            assert outcome.ok, outcome.message
            assert outcome.response["redirect_value"] == "create_trial"
            colleague = pcsim_workspace.add_user()
            assert pcsim_workspace.connect(partner, user=colleague).kind == "signed_in"

        def test_each_test_gets_a_fresh_workspace(pcsim, pcsim_workspace, make_partner):
            partner = make_partner(CONFIG, base_url=URL)
            assert pcsim_workspace.connection(partner) is None
            assert pcsim_workspace.connect(partner).kind == "connected"
            assert pcsim.ctx.store.count("workspaces") == 2

        def test_factories_and_the_example_partner(pcsim, example_partner, make_workspace, make_user):
            ws = make_workspace(cloud="gcp", catalogs=("main", "sales"))
            ada = make_user(workspace=ws, admin=True)
            out = example_partner.connect(ws, user=ada, catalog="sales", follow_redirect=True)
            assert out.ok and out.followed["status"] == 200, out.message
            assert pcsim.exchanges(last=1, partner=example_partner)[0]["status"] == 200
            assert requests.get(pcsim.url + "/-/health", timeout=5).json()["status"] == "ok"

        def test_retries_do_not_sleep(pcsim, pcsim_workspace):
            slow = pcsim.start_example_partner(name="Failing Partner", new_user_action="error")
            pcsim_workspace.connect(slow)
            before = list(pcsim.clock.sleeps)
            out = pcsim_workspace.connect(slow, user=pcsim_workspace.add_user())
            assert out.kind == "partner_unavailable" and out.attempts == 4
            assert pcsim.clock.sleeps[len(before):] == [1.0, 2.0, 4.0]

        def test_certification_from_a_test(pcsim, example_partner):
            result = pcsim.certify(example_partner)
            assert result.ok, result.failed_cases()

        def test_certify_a_partner_registered_with_explicit_credentials(pcsim, make_partner):
            config = json.load(open(CONFIG))
            secrets = config.pop("pcsim")
            partner = make_partner(config, base_url=URL, basic_user=secrets["basic_user"],
                                   basic_password=secrets["basic_password"], signing_secret=secrets["signing_secret"])
            result = pcsim.certify(partner)
            assert result.ok, result.failed_cases()
            assert partner.partner.basic_password == secrets["basic_password"]  # still registered as it was

        def test_reset_forgets_everything(pcsim, pcsim_workspace):
            pcsim.reset()
            assert pcsim.ctx.store.count("workspaces") == 0
    """))
    result = pytester.runpytest("-p", "no:cacheprovider", "--basetemp", str(fast_dir / "inner"))
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["pcsim: Partner Connect Simulator *"])
