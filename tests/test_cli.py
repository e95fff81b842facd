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
        return runner.invoke(cli.main, [str(a) for a in args], env=env, catch_exceptions=False)
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


# ---------------------------------------------------------------- bad input: clear errors, nothing half-written

BIG = 2**63  # one more than SQLite's INTEGER holds
ID_CASES = [
    ("connect", "--partner", "Example Partner", "--workspace", BIG, "--user", ADA),
    ("disconnect", "--partner", "Example Partner", "--workspace", BIG),
    ("exchanges", "--workspace", BIG),
    ("users", "list", "--workspace", BIG),
    ("users", "add", "new@example.com", "--workspace", BIG),
    ("users", "join", ADA, "--workspace", BIG),
    ("connections", "list", "--workspace", BIG),
    ("hooks", "test-connection", "--partner", "Example Partner", "--workspace", BIG),
    ("hooks", "delete-connection", "--partner", "Example Partner", "--workspace", BIG),
    ("hooks", "delete-account", "--partner", "Example Partner", "--workspace", BIG, "--domain", "x.com"),
    ("hooks", "expire-account", "--partner", "Example Partner", "--workspace", BIG, "--email", ADA),
    ("workspaces", "add", "--cloud", "aws", "--region", "x", "--id", BIG),
    ("tokens", "create", "--workspace", BIG, "--user", ADA),
    ("tokens", "list", "--workspace", BIG),
]


@pytest.mark.parametrize("args", ID_CASES, ids=lambda a: " ".join(map(str, a[:2])))
@pytest.mark.parametrize("value", [BIG, 10**30, 0, "12abc"])
def test_ids_beyond_64_bits_are_usage_errors(run, args, value):
    args = tuple(value if a == BIG else a for a in args)
    result = run(*args)  # catch_exceptions=False: an OverflowError would fail the test with its trace
    assert result.exit_code == 2, result.output
    assert "positive 64-bit integer" in result.output or "is not a whole number" in result.output
    assert "Traceback" not in result.output


def test_every_id_option_uses_the_64_bit_type():
    untyped = [f"pcsim {' '.join(path)} {param.opts[0]}" for path, command in _commands(cli.main)
               for param in command.params
               if param.name in ("workspace_id", "workspace_ids") and param.type is not cli.ID]
    assert untyped == []


def test_non_utf8_config_is_a_usage_error(run, tmp_path):
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe")
    result = run("partners", "add", path)
    assert result.exit_code == 2
    assert "is not UTF-8 text (byte 0xff at offset 0)" in result.output


@pytest.mark.parametrize("name", ["Slash/Partner", "Back\\slash", " Leading", "Trailing ", "Tab\tName", ""])
def test_partner_names_must_be_usable_as_a_tile_address(run, tmp_path, name):
    cfg = partner_double.config("http://127.0.0.1:1", name=name)
    path = tmp_path / "named.json"
    path.write_text(json.dumps(cfg))
    result = run("partners", "add", path)
    assert result.exit_code == 2, result.output
    assert "name: must be non-empty, without '/', '\\', control characters or leading/trailing whitespace" \
        in result.output
    assert Store(run.db).count("partners", "name = ?", (name,)) == 0


def test_catalogs_are_validated_deduplicated_and_kept_in_declared_order(run):
    from simulator import workspaces
    from simulator.context import Context

    ok = run("workspaces", "add", "--cloud", "aws", "--region", "x", "--id", 42,
             "--catalog", "zeta", "--catalog", "alpha", "--catalog", "zeta", "--catalog", "ALPHA")
    assert ok.exit_code == 0, ok.output
    assert workspaces.catalogs(Context(store=Store(run.db)), 42) == ["zeta", "alpha", "hive_metastore"]
    for bad, message in [("", "catalog names must not be empty"), ("my catalog", "'my catalog' is not valid"),
                         ("a-b", "'a-b' is not valid"), ("hive_metastore", "is reserved")]:
        result = run("workspaces", "add", "--cloud", "aws", "--region", "x", "--id", 43, "--catalog", bad)
        assert result.exit_code == 2 and message in result.output, result.output
        if "reserved" not in message:
            assert "letters, digits and underscores only (Databricks identifier rules)" in result.output
    assert Store(run.db).count("workspaces", "id = 43") == 0


def _fixtures_dir(tmp_path, seed: dict):
    directory = tmp_path / "fx"
    directory.mkdir(exist_ok=True)
    (directory / "seed.json").write_text(json.dumps(seed))
    return directory


GOOD_WS = {"id": 77, "cloud": "aws", "region": "us-east-1", "catalogs": ["main", "raw"]}


@pytest.mark.parametrize("seed,message", [
    ({"workspaces": [GOOD_WS], "users": [{"email": "a@x.com", "memberships": [{"workspace_id": 77, "admin": "no"}]}]},
     "users[0] (a@x.com).memberships[0]: admin must be true or false, got \"no\""),
    ({"workspaces": [GOOD_WS, {"id": 78, "region": "r"}]}, "workspaces[1]: missing key 'cloud'"),
    ({"workspaces": [GOOD_WS], "users": [{"email": "a@x.com", "memberships": [{"workspace_id": 99}]}]},
     "users[0] (a@x.com).memberships[0]: no workspace with id 99"),
    ({"workspaces": [GOOD_WS, {**GOOD_WS, "id": 79, "catalogs": ["ok", "not ok"]}]},
     "workspaces[1] (id 79): catalog name 'not ok' is not valid"),
    ({"workspaces": [GOOD_WS], "users": ["a@x.com"]}, "users[0] must be a JSON object"),
    ([GOOD_WS], "a seed file is a JSON object"),
])
def test_seed_file_is_validated_and_loaded_all_or_nothing(run, tmp_path, seed, message):
    directory = _fixtures_dir(tmp_path, seed)
    result = run("seed", "--fixtures", directory)
    assert result.exit_code == 2, result.output
    assert f"{directory / 'seed.json'}" in result.output and message in result.output
    store = Store(run.db)
    assert store.count("workspaces") == 0 and store.count("users") == 0 and store.count("memberships") == 0


def test_non_utf8_seed_file_is_a_usage_error(run, tmp_path):
    directory = tmp_path / "fx"
    directory.mkdir()
    (directory / "seed.json").write_bytes(b"\xff\xfe{}")
    result = run("seed", "--fixtures", directory)
    assert result.exit_code == 2 and f"cannot read seed file {directory / 'seed.json'}: 'utf-8' codec" in result.output


def test_seed_does_not_load_the_bundled_data_first(run, tmp_path):
    directory = _fixtures_dir(tmp_path, {"workspaces": [GOOD_WS], "users": [
        {"email": "a@x.com", "memberships": [{"workspace_id": 77, "admin": True}]}]})
    result = run("seed", "--fixtures", directory)
    assert result.output == "Added 1 workspace(s), 1 user(s), 0 partner(s)\n"
    assert [w["id"] for w in json.loads(run("workspaces", "list", "--json").output)] == [77]  # no bundled data
    fresh = run("seed", env={"PCSIM_DB": str(tmp_path / "fresh.db")})
    assert fresh.output == "Added 3 workspace(s), 5 user(s), 1 partner(s)\n"


def test_existing_user_joins_more_workspaces(run):
    taken = run("users", "add", ADA, "--workspace", 9007199254740993)
    assert taken.exit_code == 2 and f"`pcsim users join {ADA} --workspace ID`" in taken.output
    joined = run("users", "join", ADA, "--workspace", 9007199254740993, "--workspace", 9007199254740993,
                 "--workspace", 7474650313055465)
    assert joined.exit_code == 0, joined.output
    assert joined.output == (f"{ADA} joined workspace(s) 9007199254740993\n"
                             f"{ADA} was already a member of workspace(s) 7474650313055465 (unchanged)\n")
    members = json.loads(run("users", "list", "--workspace", 9007199254740993, "--json").output)
    assert [(m["email"], m["is_admin"]) for m in members if m["email"] == ADA] == [(ADA, 0)]
    promoted = run("users", "join", ADA, "--workspace", 9007199254740993, "--admin", "--json")
    assert json.loads(promoted.output)["promoted"] == [9007199254740993]
    assert run("users", "join", "nobody@x.com", "--workspace", 42).exit_code == 2
    added = run("users", "add", "new@x.com", "--workspace", 7474650313055465, "--workspace", 7474650313055465)
    assert added.exit_code == 0 and added.output == "Added user new@x.com to workspace(s) 7474650313055465\n"


def test_tokens_create_shows_the_token_once_and_list_never(run):
    from simulator.context import Context
    from simulator.server import create_app

    created = run("tokens", "create", "--workspace", 7474650313055465, "--user", ADA, "--lifetime-seconds", 3600,
                  "--comment", "self-test CLI")
    assert created.exit_code == 0, created.output
    lines = created.output.splitlines()
    token = lines[1]
    assert token.startswith("dapi") and len(token) == 36
    assert "(admin of workspace 7474650313055465; expires: 20" in lines[0]
    assert lines[2].startswith("This is the only time the token is shown")
    listed = run("tokens", "list", "--workspace", 7474650313055465, "--user", ADA)
    assert token[:8] + "…" in listed.output and "self-test CLI" in listed.output and "active" in listed.output
    assert token not in listed.output and token not in run("tokens", "list", "--workspace", 7474650313055465,
                                                           "--json").output
    client = create_app(Context(store=Store(run.db))).test_client()
    me = client.get("/api/2.0/preview/scim/v2/Me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["userName"] == ADA
    as_json = run("tokens", "create", "--workspace", 7474650313055465, "--user", ADA, "--json")
    assert json.loads(as_json.stdout)["token_info"]["expires"] == "never"
    for args, message in [(("--user", "nobody@x.com"), "no user with email 'nobody@x.com'"),
                          (("--user", "kat@globex.databricks-test.com"), "is not a member of workspace"),
                          (("--user", ADA, "--lifetime-seconds", 0), "--lifetime-seconds")]:
        result = run("tokens", "create", "--workspace", 7474650313055465, *args)
        assert result.exit_code == 2 and message in result.output, result.output
    assert "no workspace with id 42" in run("tokens", "list", "--workspace", 42).output


@pytest.fixture
def never_serves(monkeypatch):
    """A command that should have refused its flags must not start serving (and block the test)."""
    from simulator.httpserver import ServerThread

    def refuse(self, *args, **kwargs):
        raise AssertionError("the command started a server instead of refusing its flags")
    monkeypatch.setattr(ServerThread, "serve_forever", refuse)
    monkeypatch.setattr(ServerThread, "start", refuse)


@pytest.mark.usefixtures("never_serves")
@pytest.mark.parametrize("args,message", [
    (("serve", "--port", 99999), "99999 is not in the range 0<=x<=65535"),
    (("demo", "--port", 70000), "70000 is not in the range 0<=x<=65535"),
    (("demo", "--partner-port", -1), "-1 is not in the range 0<=x<=65535"),
    (("partner", "serve", "--port", 65536), "65536 is not in the range 0<=x<=65535"),
    (("serve", "--port", 0, "--public-url", "not a url"), "'not a url' is not an absolute http(s) URL"),
    (("serve", "--port", 0, "--public-url", "ftp://host"), "is not an absolute http(s) URL"),
    (("serve", "--port", 0, "--public-url", "http://host:99999"), "is not a valid URL"),
    (("connect", "--partner", "P", "--workspace", 1, "--user", ADA, "--public-url", "127.0.0.1:8000"),
     "is not an absolute http(s) URL"),
])
def test_ports_and_urls_are_checked(run, args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.output, result.output


@pytest.mark.usefixtures("never_serves")
@pytest.mark.parametrize("command", [("workspaces", "list"), ("reset", "--yes"), ("serve", "--port", 0),
                                     ("demo", "--port", 0, "--partner-port", 0)])
def test_state_file_directory_must_exist(run, tmp_path, command):
    missing = tmp_path / "nonexistent" / "dir"
    result = run(*command, "--db", missing / "x.db")
    assert result.exit_code == 2
    assert f"directory {missing} does not exist; create it first" in result.output
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("command", ["serve", "demo", "reset", "seed", "connect", "tokens create"])
def test_db_option_mentions_the_environment_variable(command):
    group, *rest = command.split()
    cmd = cli.main.commands[group]
    for name in rest:
        cmd = cmd.commands[name]
    db = next(p for p in cmd.params if p.name == "db")
    assert "(env PCSIM_DB)" in db.help


def test_exchanges_filters_must_name_something(run):
    nope = run("exchanges", "--partner", "Nope")
    assert nope.exit_code == 2 and "no partner named 'Nope' (registered: Example Partner)" in nope.output
    unknown = run("exchanges", "--workspace", 42)
    assert unknown.exit_code == 2 and "no workspace with id 42" in unknown.output
    known = run("exchanges", "--partner", "Example Partner")
    assert known.exit_code == 0 and known.output == "(no exchanges)\n"


@pytest.fixture
def no_real_sleeps(monkeypatch):
    """Fails the test if anything really sleeps through the retry back-off; records the skipped waits."""
    from simulator import clock

    skipped = []
    original = clock.SkippingClock.sleep

    def real_sleep(self, seconds):
        raise AssertionError(f"slept {seconds} s for real")

    def skipping_sleep(self, seconds):
        skipped.append(seconds)
        original(self, seconds)
    monkeypatch.setattr(clock.RealClock, "sleep", real_sleep)
    monkeypatch.setattr(clock.SkippingClock, "sleep", skipping_sleep)
    return skipped


def test_run_no_retry_wait_retries_without_waiting(run, double, double_file, tmp_path, no_real_sleeps):
    double.script("connect", *[partner_double.error(500, "general_error", "down")] * 4)
    scenario = tmp_path / "down.yaml"
    scenario.write_text("name: Partner is down\nusers:\n  ada: {}\nworkspaces:\n  main: {admins: [ada]}\n"
                        "steps:\n  - connect: {user: ada}\n    expect: {ok: false, kind: partner_unavailable}\n")
    result = run("run", scenario, "--partner-config", double_file, "--no-retry-wait")
    assert result.exit_code == 0, result.output
    assert no_real_sleeps == [1.0, 2.0, 4.0]
    exchanges = sorted(json.loads(run("exchanges", "--json").output), key=lambda r: r["id"])
    assert [(r["attempt"], r["status"]) for r in exchanges] == [(1, 500), (2, 500), (3, 500), (4, 500)]
    gaps = [b["at"] - a["at"] for a, b in zip(exchanges, exchanges[1:])]
    assert all(gap >= wait for gap, wait in zip(gaps, [1.0, 2.0, 4.0]))  # simulated time jumped
    stamps = [int(c["headers"]["X-Databricks-Pc-Timestamp"]) for c in double.calls("connect")]
    assert max(stamps) - min(stamps) <= 2  # signatures on wall time, not 7 s ahead


def test_certify_no_retry_wait(run, tmp_path, no_real_sleeps):
    from .scenario_support import FIXTURE

    config = json.loads(FIXTURE.read_text())
    config["new_user_action"] = "error"  # P302 and P502 retry the partner's 500s
    path = tmp_path / "erroring.json"
    path.write_text(json.dumps(config))
    result = run("certify", "--partner-config", path, "--with-example-partner", "--no-retry-wait")
    assert result.exit_code == 0, result.output
    assert no_real_sleeps == [1.0, 2.0, 4.0] * 2
