"""``pcsim run``: the shipped scenarios pass against the example partner, every step is printed with
its verdict, reports are valid JUnit XML and one self-contained HTML file, runs are repeatable, and
failures say what was expected and what came."""
from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simulator import faults
from simulator.jobs import rules
from simulator.scenarios import PartnerSpec, load_file, run_scenarios
from simulator.scenarios.loader import ScenarioError, load_paths

from .scenario_support import FIXTURE, ctx, fast_dir, run_cli, serve_partner  # noqa: F401 - fixtures

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).replace("FIXTURE", str(FIXTURE)))
    return path


def test_shipped_scenarios_pass_with_reports(run_cli, serve_partner, tmp_path):
    serve_partner()
    junit, html = tmp_path / "out" / "junit.xml", tmp_path / "out" / "report.html"
    result = run_cli("run", SCENARIOS, "--base-url", serve_partner.url, "--junit-xml", junit, "--report", html)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Example partner journey  ({SCENARIOS / 'example-partner-journey.yaml'})"
    assert lines[1].startswith("  PASS  1. Ada connects the partner (new connection): 200 create_trial "
                               "(user new, account new), connection_id returned")
    steps = [line for line in lines if line.startswith("  PASS")]
    assert len(steps) == 34 and lines[-1] == "34 passed, 0 failed"

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "34" and root.get("failures") == "0"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["Example partner journey", "An expired trial",
                                               "Job run with faults", "The partner forgets a connection"]
    assert [len(s.findall("testcase")) for s in suites] == [8, 6, 12, 8]
    assert not list(root.iter("failure")) and not list(root.iter("skipped"))

    page = html.read_text()
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert not re.search(r"<link|<script|src=|@import|url\(", page)  # self-contained
    assert page.count('class="step is-passed"') == 34
    assert "POST " in page and "/partnerconnect/v1/connect" in page and "Basic ****" in page
    assert "dapi" in page and not re.search(r"dapi[0-9a-f]{32}", page)  # the PAT only masked
    assert "example-partner-demo-password" not in page


def test_running_the_same_file_twice_gives_the_same_verdicts(ctx, serve_partner):
    spec = PartnerSpec(config=serve_partner())
    files = [SCENARIOS / "example-partner-journey.yaml", SCENARIOS / "partner-forgets-connection.yaml"]
    first = run_scenarios(ctx, files, partner=spec)
    second = run_scenarios(ctx, files, partner=spec)

    def verdicts(run):
        return [(s.name, st.title, st.status) for s in run.scenarios for st in s.steps]
    assert first.ok and verdicts(first) == verdicts(second)
    assert ctx.store.count("workspaces") == 4  # each scenario had a workspace of its own, each time


def test_a_failing_step_says_expected_and_got_and_stops_its_scenario(run_cli, serve_partner, tmp_path):
    serve_partner()
    path = write(tmp_path, """\
        name: Wrong expectations
        partner: {config: FIXTURE}
        users: {ada: {}}
        workspaces: {main: {admins: [ada]}}
        steps:
          - name: first connect
            connect: {user: ada}
            expect: {redirect_value: create_trial}
          - name: sign-in expected to create a connection
            connect: {user: ada}
            expect: {status: 201, configured_resources: true, connection_id: present}
            hint: the scenario is wrong on purpose
          - name: never runs
            test_connection: {}
        """)
    junit = tmp_path / "junit.xml"
    result = run_cli("run", path, "--base-url", serve_partner.url, "--junit-xml", junit)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[2] == ("  FAIL  2. sign-in expected to create a connection: status: expected 201, got 200; "
                        "configured_resources: expected true, got false; connection_id: expected a non-empty "
                        "connection_id, got nothing  -> the scenario is wrong on purpose")
    assert lines[3] == "  SKIP  3. never runs: not run: step 2 failed"
    assert lines[-1] == "1 passed, 1 failed, 1 skipped"
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    failure = suite.findall("testcase")[1].find("failure")
    assert failure.get("message").startswith("status: expected 201, got 200")
    assert "hint: the scenario is wrong on purpose" in failure.text


def test_malformed_scenarios_are_rejected_before_anything_runs(run_cli, serve_partner, tmp_path, fast_dir):
    serve_partner()
    write(tmp_path, "name: fine\npartner: {config: FIXTURE}\nsteps:\n  - list_connectors:\n", "a.yaml")
    write(tmp_path, "name: broken\npartner: {config: FIXTURE}\nsteps:\n  - list_connectors: {max_pages: 0}\n",
          "b.yaml")
    db = fast_dir / "state.db"
    result = run_cli("run", tmp_path, "--base-url", serve_partner.url, db=db)
    assert result.exit_code == 2
    assert result.output == ("Error: malformed scenario:\n"
                             f"{tmp_path / 'b.yaml'}:4: steps[0].list_connectors.max_pages: must be between 1 and "
                             "1000 (got 0)\n")
    from simulator.store import Store
    assert Store(db).count("exchanges") == 0


def test_variables_captures_seed_and_json_output(run_cli, serve_partner, tmp_path, fast_dir, monkeypatch):
    monkeypatch.setenv("PCSIM_TEST_LANGUAGE", "de-DE")
    path = write(tmp_path, """\
        name: Variables
        partner: {config: FIXTURE}
        vars:
          company: {random: domain}
          tag: "run-${random.hex}"
        users:
          ada: {email: "ada@${company}", language: "${env.PCSIM_TEST_LANGUAGE}"}
          bob: {}
        workspaces:
          main: {admins: [ada], members: [bob], catalogs: [main, "${tag}"]}
        steps:
          - connect: {user: ada, catalog: "${tag}"}
            capture: {first: connection_id, where: response.redirect_uri}
          - name: bob signs in with the captured id
            connect: {user: bob, mode: sign_in, connection_id: "${first}"}
            expect: {status: 200, user_status: new}
          - follow_redirect: {uri: "${where}"}
            expect: {status: 200}
        """)

    def run(seed, db):  # a fresh state file and a fresh partner: --seed replays the same values
        serve_partner()
        result = run_cli("run", path, "--base-url", serve_partner.url, "--seed", seed, "--json", db=db)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    first, again, other = run(42, fast_dir / "1.db"), run(42, fast_dir / "2.db"), run(43, fast_dir / "3.db")
    assert first["ok"] and first["seed"] == 42 and first["summary"] == {"passed": 3, "failed": 0, "skipped": 0}
    from simulator.store import Store
    rows = [Store(fast_dir / f"{i}.db").query("SELECT email, language FROM users WHERE email LIKE 'ada@%' "
                                                "AND email != 'ada@acme.databricks-test.com'")
            for i in (1, 2, 3)]
    assert rows[0] == rows[1] != rows[2]  # --seed reproduces the fresh values
    assert again["ok"] and other["ok"]
    assert len(rows[0]) == 1 and rows[0][0]["language"] == "de-DE"
    catalogs = Store(fast_dir / "1.db").query("SELECT name FROM catalogs WHERE name LIKE 'run-%'")
    sent = Store(fast_dir / "1.db").query("SELECT request_body FROM exchanges ORDER BY id")
    assert f'"catalog_name": "{catalogs[0]["name"]}"' in sent[0]["request_body"]
    assert json.loads(sent[1]["request_body"])["connection_id"] == first["scenarios"][0]["steps"][0][
        "observation"]["connection_id"]


def test_skips_setup_errors_and_state_expectations(ctx, serve_partner, tmp_path):
    spec = PartnerSpec(config=serve_partner(supports_demo=False))
    skipped = load_file(write(tmp_path, """\
        name: Demo only
        partner: {config: FIXTURE}
        requires: [{config: supports_demo, equals: true}]
        steps:
          - list_connectors:
        """, "skip.yaml"))
    stepwise = load_file(write(tmp_path, """\
        name: State
        partner: {config: FIXTURE}
        users: {ada: {}}
        workspaces: {main: {admins: [ada]}}
        steps:
          - name: only for partners with a demo
            requires: [{config: supports_demo}]
            connect: {user: ada, demo: true}
          - connect: {user: ada}
            expect: {connection: active, resources: present, redirect_allowed: true}
          - delete_connection: {}
            expect: {connection: gone, resources: absent}
          - name: wrong on purpose
            connect: {user: ada}
            expect: {connection: stale}
        """, "state.yaml"))
    broken = load_file(write(tmp_path, "name: Not registered\npartner: {name: Nobody}\n"
                                       "steps:\n  - list_connectors:\n", "setup.yaml"))
    result = run_scenarios(ctx, [skipped, stepwise], partner=spec)
    skip, state = result.scenarios
    assert skip.status == "skipped" and skip.skip_reason == "not applicable: supports_demo is false, not true"
    assert [s.status for s in state.steps] == ["skipped", "passed", "passed", "failed"]
    assert state.steps[0].reason == "not applicable: supports_demo is false (needs a true value)"
    assert state.steps[3].reason == "connection: expected the simulator's connection to be stale, got active"
    assert (result.steps("passed"), result.steps("failed"), result.steps("skipped")) == (2, 1, 1)
    assert not result.ok

    setup = run_scenarios(ctx, [broken]).scenarios[0]  # a registered name: only the state file knows
    assert setup.status == "failed" and setup.steps[0].error and setup.steps[0].title == "0. setup"
    assert setup.steps[0].reason == ("partner: no partner named 'Nobody' is registered in this state file "
                                     "(registered: Example Partner); register it first (pcsim partners add FILE, "
                                     "same --db) or give partner: {config: FILE}")


def test_the_readme_format_example_runs(ctx, serve_partner, tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### The format"):]
    start = section.index("```yaml\n") + len("```yaml\n")
    example = section[start:section.index("\n```", start)]
    path = tmp_path / "scenarios" / "readme.yaml"
    path.parent.mkdir()
    path.write_text(example)
    (tmp_path / "fixtures" / "partners").mkdir(parents=True)  # the example's partner: {config: ../fixtures/...}
    (tmp_path / "fixtures" / "partners" / "example.json").write_text(FIXTURE.read_text())
    monkeypatch.setenv("PARTNER_PASSWORD", json.loads(FIXTURE.read_text())["pcsim"]["basic_password"])
    serve_partner()
    result = run_scenarios(ctx, [path], partner=PartnerSpec(base_url=serve_partner.url))
    steps = result.scenarios[0].steps
    assert [(s.title, s.status, s.reason) for s in steps if s.status != "passed"] == []
    assert len(steps) == 12 and result.ok


def test_a_run_puts_back_the_partner_registration_it_overrode(ctx, serve_partner):
    from simulator import partners

    config = json.loads(FIXTURE.read_text())
    partners.register(ctx, config, source="mine", basic_password="my-own-password")
    result = run_scenarios(ctx, [SCENARIOS / "expired-trial.yaml"], partner=PartnerSpec(base_url=None),
                           example_partner=True)
    assert result.ok
    after = partners.get(ctx, "Example Partner")
    assert (after.base_url, after.source, after.basic_password) == ("http://127.0.0.1:8484", "mine", "my-own-password")


def test_workspace_api_steps_faults_rules_and_clock(ctx, serve_partner, tmp_path):
    """api/fault/run_rule/advance_clock steps: the run follows the manual clock, and the scenario's
    fault rules and run rules are gone once it ends (scenarios stay independent)."""
    path = write(tmp_path, name="jobs.yaml", text="""
        name: Jobs on the manual clock
        partner: {config: FIXTURE}
        users: {admin: {}, viewer: {}}
        workspaces: {w: {admins: [admin], members: [viewer]}}
        steps:
          - connect: {user: admin}
          - run_rule: {match: {task_key: slow}, duration_s: 100, notebook_output: done}
          - api:
              path: /api/2.1/jobs/runs/submit
              body: {run_name: r, tasks: [{task_key: slow, notebook_task: {notebook_path: /n}}]}
            capture: {run: response.run_id}
          - api: {path: /api/2.1/jobs/runs/get, query: {run_id: "${run}"}}
            expect: {json: {state.life_cycle_state: RUNNING}}
          - advance_clock: {seconds: 200}
          - api: {path: /api/2.1/jobs/runs/get-output, query: {run_id: "${run}"}}
            expect: {json: {notebook_output.result: done, metadata.state.result_state: SUCCESS}}
          - fault: {path: /api/2.0/preview/scim/v2/Me, status: 503}
          - api: {path: /api/2.0/preview/scim/v2/Me, user: viewer}
            expect: {status: 503, json: {error_code: TEMPORARILY_UNAVAILABLE}}
        """)
    result = run_scenarios(ctx, [path], partner=PartnerSpec(config=serve_partner()))
    steps = result.scenarios[0].steps
    assert [s.status for s in steps] == ["passed"] * 8, [s.reason for s in steps]
    assert faults.list_rules(ctx) == [] and rules.list_rules(ctx) == []


def test_workspace_api_step_errors_are_caught_before_running(tmp_path):
    bad = write(tmp_path, name="bad.yaml", text="""
        name: Bad api steps
        partner: {config: FIXTURE}
        users: {a: {}}
        workspaces: {w: {admins: [a]}}
        steps:
          - api: {path: jobs/list}
          - fault: {status: 500}
          - advance_clock: {seconds: -1}
        """)
    with pytest.raises(ScenarioError) as info:
        load_paths([bad])
    text = str(info.value)
    assert "bad.yaml:7: steps[0].api.path: must start with /" in text
    assert "bad.yaml:8: steps[1].fault.path:" in text and "bad.yaml:9: steps[2].advance_clock.seconds: must be >= 0" in text
    stranger = write(tmp_path, name="stranger.yaml", text="""
        name: Unknown user
        partner: {config: FIXTURE}
        users: {a: {}}
        workspaces: {w: {admins: [a]}}
        steps:
          - api: {path: /api/2.1/jobs/list, user: nobody, workspace: elsewhere}
        """)
    with pytest.raises(ScenarioError) as info:
        load_paths([stranger])
    assert "unknown user 'nobody'" in str(info.value) and "unknown workspace 'elsewhere'" in str(info.value)


def test_partner_problems_are_usage_errors_before_anything_runs(run_cli, tmp_path, fast_dir, monkeypatch):
    """A scenario's unusable partner section (missing or invalid config, unset ${env.X}) and an unusable
    --partner-config are exit 2 with the file and the problem, not failed runs (exit 1)."""
    from simulator.store import Store

    monkeypatch.delenv("PCSIM_TEST_UNSET", raising=False)
    config = json.loads(FIXTURE.read_text())
    (tmp_path / "invalid.json").write_text(json.dumps({**config, "new_user_action": "shrug"}))
    (tmp_path / "latin1.json").write_bytes(FIXTURE.read_bytes().replace(b'"name": "Example Partner"',
                                                                       b'"name": "Caf\xe9 Partner"'))
    steps = "steps:\n  - list_connectors:\n"
    write(tmp_path, "name: missing\npartner: {config: nope.json}\n" + steps, "a.yaml")
    write(tmp_path, "name: invalid\npartner: {config: invalid.json}\n" + steps, "b.yaml")
    write(tmp_path, "name: env\npartner:\n  config: FIXTURE\n  basic_password: ${env.PCSIM_TEST_UNSET}\n" + steps,
          "c.yaml")
    write(tmp_path, "name: latin-1\npartner: {config: latin1.json}\n" + steps, "d.yaml")
    db = fast_dir / "state.db"
    result = run_cli("run", tmp_path, db=db)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["Error: malformed scenario:",
                         f"{tmp_path / 'a.yaml'}:2: partner.config: cannot read partner config "
                         f"{tmp_path / 'nope.json'}: No such file or directory"]
    assert lines[2:4] == [f"{tmp_path / 'b.yaml'}:2: partner.config: invalid partner config in "
                          f"{tmp_path / 'invalid.json'}:",
                          '  - new_user_action: must be one of auto_add, invite, not_found, error (got "shrug")']
    assert lines[4] == (f"{tmp_path / 'c.yaml'}:4: partner.basic_password: environment variable PCSIM_TEST_UNSET "
                        "is not set (used as ${env.PCSIM_TEST_UNSET})")
    assert lines[5].startswith(f"{tmp_path / 'd.yaml'}:2: partner.config: partner config {tmp_path / 'latin1.json'} "
                               "is not UTF-8 text (byte 0xe9") and len(lines) == 6
    assert Store(db).count("exchanges") == 0 and Store(db).count("workspaces", "display_name LIKE '%/%'") == 0

    good = write(fast_dir, "name: ok\npartner: {config: FIXTURE}\n" + steps, "ok.yaml")
    for command in (["run", good], ["certify"]):
        for name, why in (("invalid.json", f"invalid partner config in {tmp_path / 'invalid.json'}:"),
                          ("latin1.json", f"partner config {tmp_path / 'latin1.json'} is not UTF-8")):
            result = run_cli(*command, "--partner-config", tmp_path / name, db=db)
            assert result.exit_code == 2 and result.output.startswith(f"Error: {why}"), result.output
    assert Store(db).count("exchanges") == 0


def test_non_utf8_scenario_file_is_a_clean_usage_error(run_cli, tmp_path):
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
    result = run_cli("run", tmp_path / "bin.yaml")
    assert result.exit_code == 2
    assert result.output == ("Error: malformed scenario:\n"
                             f"{tmp_path / 'bin.yaml'}:1: not UTF-8 text (byte 0xff); save the file as UTF-8\n")
