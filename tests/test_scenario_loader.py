"""Scenario files are validated before anything runs: every problem is reported with file, line and
what is wrong, and a valid file loads into steps with their parameters and expectations."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from simulator.scenarios import ScenarioError, load_file, load_paths
from simulator.scenarios.loader import expand

VALID = """\
name: Valid
partner: {name: Example Partner}
vars:
  other: {random: domain, parent: example.com}
users:
  ada: {first_name: Ada}
  bob: {email: "bob@${other}"}
workspaces:
  main: {cloud: gcp, admins: [ada], members: [bob]}
steps:
  - connect: {user: ada}
    expect: {status: [200, 201], connection_id: present}
    capture: {first: connection_id}
  - name: bob signs in with the first id
    connect: {user: bob, mode: sign_in, connection_id: "${first}"}
    expect: {status: 404, error_reason: connection_not_found}
  - list_connectors:
"""


def write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path, text, **kw) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_file(path, **kw)
    return [str(p).replace(f"{path}:", "") for p in info.value.problems]


def test_valid_file_loads_with_defaults_and_lines(tmp_path):
    s = load_file(write(tmp_path, VALID))
    assert s.name == "Valid" and s.contract == "errors" and s.partner == {"name": "Example Partner"}
    assert [(st.index, st.kind, st.name, st.line) for st in s.steps] == [
        (1, "connect", "connect", 11), (2, "connect", "bob signs in with the first id", 14),
        (3, "list_connectors", "list connectors", 17)]
    assert s.steps[0].expect == {"status": [200, 201], "connection_id": {"is": "present"}}
    assert s.steps[2].params == {}
    assert s.vars["other"] == {"random": "domain", "parent": "example.com"}


@pytest.mark.parametrize("text,expected", [
    ("name: X\npartner: {name: P}\nusers: {ada: {}}\nworkspaces: {main: {admins: [ada]}}\nsteps:\n"
     "  - conect: {user: ada}\n",
     ["6: steps[0].conect: unknown key (did you mean connect?)"]),
    ("name: X\npartner: {name: P}\nusers: {ada: {}}\nworkspaces: {main: {admins: [ada]}}\nsteps:\n"
     "  - connect: {user: ada}\n    expect:\n      status: two hundred\n",
     ["8: steps[0].expect.status: must be an integer (got \"two hundred\")"]),
    ("name: X\npartner: {name: P}\nusers: {ada: {}}\nworkspaces: {main: {admins: [ada]}}\nsteps:\n"
     "  - connect: {user: ada}\n    expect: {redirect_value: [sign_in, creat_trial]}\n",
     ["7: steps[0].expect.redirect_value[1]: must be one of create_trial, purchase_product, sign_in, "
      "contact_admin, not_applicable (got \"creat_trial\")"]),
    ("name: X\npartner: {name: P}\nsteps:\n  - connect: {user: ada}\n    delete_account: {}\n",
     ["4: steps[0]: a step does exactly one of: connect, delete_connection, partner_delete_connection, "
      "delete_account, expire_account, test_connection, list_connectors, follow_redirect, fault, run_rule, "
      "advance_clock, api (found connect, delete_account)"]),
    ("name: X\nsteps: []\n", ["2: steps: must not be empty"]),
    ("steps:\n  - list_connectors:\n", ["1: name: is required"]),
    ("name: X\npartner: {name: P}\nsteps:\n  - connect: {user: ada, mode: auto, connection_id: abc}\n",
     ["4: steps[0].connect.connection_id: goes with mode: sign_in (got \"abc\")"]),
    ("name: X\npartner: {name: P}\nsteps:\n  - connect: {user: ada, credentials: wrong}\n",
     ["4: steps[0].connect.credentials: needs mode: first_time or mode: sign_in (a probe) (got \"wrong\")"]),
    ("name: X\npartner: {name: P}\nrequires: [{endpoint: connect_path, config: x}]\nsteps:\n  - list_connectors:\n",
     ["3: requires[0]: give exactly one of endpoint, config or credentials"]),
])
def test_schema_problems_name_line_and_rule(tmp_path, text, expected):
    found = problems(tmp_path, text)
    assert [p for p in found if p in expected] == expected, found


def test_reference_problems_are_all_reported(tmp_path):
    found = problems(tmp_path, """\
        name: References
        users:
          ada: {}
          bob: {}
        workspaces:
          main: {admins: [ada, zoe]}
        steps:
          - connect: {user: bob}
          - connect: {user: ada, workspace: other}
          - name: uses a capture before it exists
            connect: {user: ada, mode: sign_in, connection_id: "${later}"}
          - connect: {user: ada}
            capture: {later: connection_id}
          - delete_account: {domain: "${nope}"}
        """)
    assert found == [
        "1: no partner: add partner: {config: FILE} or {name: REGISTERED_NAME}, or pass --partner-config",
        "6: workspaces.main.admins: unknown user 'zoe' (declared users: ada, bob)",
        "8: step 1: user 'bob' is not a member of workspace 'main' (add it to admins or members)",
        "9: step 2: unknown workspace 'other' (declared: main)",
        "11: step 3: unknown variable ${later} (defined: domain, partner.name, scenario, users.ada.email, "
        "users.bob.email, workspaces.main.id; captures are visible after their step)",
        "14: step 5: unknown variable ${nope} (defined: domain, later, partner.name, scenario, users.ada.email, "
        "users.bob.email, workspaces.main.id; captures are visible after their step)",
    ]


def test_partner_may_come_from_the_command_line(tmp_path):
    text = "name: X\nusers: {ada: {}}\nworkspaces: {main: {admins: [ada]}}\nsteps:\n  - connect: {user: ada}\n"
    assert problems(tmp_path, text)[0].startswith("1: no partner")
    assert load_file(write(tmp_path, text), partner_given=True).partner is None


def test_yaml_syntax_errors_and_non_mappings(tmp_path):
    syntax = problems(tmp_path, "name: X\nsteps:\n  - connect: {user: ada\n")
    assert len(syntax) == 1 and syntax[0].startswith("4: YAML syntax error: while parsing a flow mapping")
    assert problems(tmp_path, "- just\n- a list\n") == [
        "1: a scenario file is a YAML mapping (name, partner, users, workspaces, steps, ...)"]
    assert problems(tmp_path, "name: X\nname: Y\nsteps: []\n") == [
        "2: YAML syntax error: duplicate key 'name'"]


def test_anchors_and_x_keys_are_allowed(tmp_path):
    s = load_file(write(tmp_path, """\
        name: Anchors
        partner: {name: P}
        x-sign-in: &sign_in {status: 200, connection_id: absent}
        users: {ada: {}}
        workspaces: {main: {admins: [ada]}}
        steps:
          - connect: {user: ada}
            expect: *sign_in
          - connect: {user: ada}
            expect: {<<: *sign_in, status: 201}
        """))
    assert s.steps[0].expect == {"status": [200], "connection_id": {"is": "absent"}}
    assert s.steps[1].expect == {"status": [201], "connection_id": {"is": "absent"}}


def test_directories_give_their_yaml_files_and_all_problems_come_together(tmp_path):
    write(tmp_path, VALID, "a.yaml")
    write(tmp_path, "name: broken\nsteps: 3\n", "b.yml")
    write(tmp_path, "name: broken too\n", "c.yaml")
    (tmp_path / "notes.txt").write_text("not a scenario")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", VALID, "d.yaml")
    assert [p.name for p in expand([tmp_path])] == ["a.yaml", "b.yml", "c.yaml"]
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path])
    text = str(info.value)
    assert f"{tmp_path / 'b.yml'}:2: steps: must be a JSON array" in text  # the wire field's message
    assert f"{tmp_path / 'c.yaml'}:1: steps: is required" in text
    assert "a.yaml" not in text


FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "partners" / "example.json"


def partner_file(tmp_path, name="partner.json", **changes) -> Path:
    config = json.loads(FIXTURE.read_text())
    config.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del config[key]
    (tmp_path / name).write_text(json.dumps(config))
    return tmp_path / name


def test_partner_config_problems_are_malformed_scenarios(tmp_path, monkeypatch):
    monkeypatch.delenv("PCSIM_TEST_UNSET", raising=False)
    steps = "steps:\n  - list_connectors:\n"
    missing = problems(tmp_path, "name: X\npartner: {config: nope.json}\n" + steps)
    assert missing == [f"2: partner.config: cannot read partner config {tmp_path / 'nope.json'}: "
                       "No such file or directory"]
    bad = partner_file(tmp_path, "bad.json", category="GAMES", hostnames=[])
    assert problems(tmp_path, "name: X\npartner:\n  config: bad.json\n" + steps) == [
        f"3: partner.config: invalid partner config in {bad}:\n"
        "  - category: must be one of INGEST, DATA_PREP_AND_TRANSFORM, SECURITY_AND_GOVERNANCE, BI_AND_VIZ, ML, "
        "DATA_QUALITY, REVERSE_ETL, SEMANTIC_LAYER, DATA_GOVERNANCE (got \"GAMES\")\n"
        "  - hostnames: must name at least one redirect host (got [])"]
    (tmp_path / "broken.json").write_text('{"name": "X",\n')
    [not_json] = problems(tmp_path, "name: X\npartner: {config: broken.json}\n" + steps)
    assert not_json.startswith(f"2: partner.config: partner config {tmp_path / 'broken.json'} is not valid JSON")
    (tmp_path / "utf16.json").write_bytes('{"name": "X"}'.encode("utf-16"))
    [not_utf8] = problems(tmp_path, "name: X\npartner: {config: utf16.json}\n" + steps)
    assert not_utf8.startswith(f"2: partner.config: partner config {tmp_path / 'utf16.json'} is not UTF-8 text "
                               "(byte 0xff")
    env = problems(tmp_path, "name: X\npartner:\n  config: nope.json\n  basic_password: ${env.PCSIM_TEST_UNSET}\n"
                   "  basic_user: ${users.ada.email}\n" + steps)
    assert env == [
        "5: partner.basic_user: unknown variable ${users.ada.email} (the partner section is read before the "
        "scenario's variables exist: use ${env.NAME} or ${random.KIND})",
        "4: partner.basic_password: environment variable PCSIM_TEST_UNSET is not set (used as ${env.PCSIM_TEST_UNSET})",
        f"3: partner.config: cannot read partner config {tmp_path / 'nope.json'}: No such file or directory"]
    assert problems(tmp_path, "name: X\npartner: {config: '${env.HOME}/p.json'}\n" + steps) == [
        "2: partner.config: ${env.HOME} is not expanded here (variables work in base_url, basic_user, "
        "basic_password, authorization, signing_secret)"]
    # a partner from the command line replaces the section: nothing of it is checked
    assert load_file(write(tmp_path, "name: X\npartner: {config: nope.json}\n" + steps), partner_given=True)


def test_partner_config_is_found_next_to_the_scenario_and_base_url_overrides(tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "partners").mkdir()
    partner_file(tmp_path / "partners", "p.json", base_url=None)
    monkeypatch.chdir(tmp_path / "partners")  # not the scenario's directory
    monkeypatch.setenv("PCSIM_TEST_URL", "http://127.0.0.1:5000")
    text = ("name: X\npartner: {config: ../partners/p.json, base_url: '${env.PCSIM_TEST_URL}'}\n"
            "steps:\n  - list_connectors:\n")
    assert load_file(write(tmp_path / "scenarios", text)).partner["config"] == "../partners/p.json"
    without = "name: X\npartner: {config: ../partners/p.json}\nsteps:\n  - list_connectors:\n"
    [problem] = problems(tmp_path / "scenarios", without)
    assert problem.startswith(f"2: partner.config: invalid partner config in {tmp_path / 'partners' / 'p.json'}:\n"
                              "  - base_url: is required")


def test_non_utf8_scenario_files_are_clean_errors(tmp_path):
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
    (tmp_path / "late.yaml").write_bytes(b"name: X\nsteps:\n  - list_connectors: {}  # caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path])
    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path / 'bin.yaml'}:1: not UTF-8 text (byte 0xff); save the file as UTF-8",
        f"{tmp_path / 'late.yaml'}:3: not UTF-8 text (byte 0xe9); save the file as UTF-8"]
