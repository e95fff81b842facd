"""Running scenarios: every step goes through the flow functions (or, for ``mode: first_time`` /
``mode: sign_in`` connects, through :mod:`simulator.partnerconnect.probe`), exactly like the CLI.

Each scenario gets fresh users (on a fresh email domain) and fresh workspaces in the simulator's
state, so running the same file twice gives the same verdicts. A step that fails stops its
scenario: the steps after it are reported as skipped.
"""
from __future__ import annotations

import base64
import dataclasses
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .. import faults
from .. import partners as partner_registry
from .. import workspaces
from ..context import Context
from ..errors import Invalid, NotFound, PcsimError
from ..jobs import rules
from ..ids import IdGenerator
from ..partners import Partner
from ..partnerconnect import flows, probe, provisioning, redirects
from . import expectations, templating
from .expectations import Check
from .loader import Scenario, Step, load_paths, partner_config_problem

REGIONS = {"aws": "us-west-2", "azure": "westus2", "gcp": "us-central1"}
# What Partner Connect provisioned in a workspace (not what a partner later created through the
# workspace API): rows tied to a connection, plus any Partner Connect service principal left over.
RESOURCE_QUERIES = (
    "SELECT COUNT(*) AS n FROM service_principals WHERE workspace_id = ? "
    "AND (connection_id IS NOT NULL OR display_name LIKE '% (Partner Connect)')",
    "SELECT COUNT(*) AS n FROM warehouses WHERE workspace_id = ? AND connection_id IS NOT NULL",
    "SELECT COUNT(*) AS n FROM clusters WHERE workspace_id = ? AND connection_id IS NOT NULL",
    "SELECT COUNT(*) AS n FROM grants WHERE workspace_id = ? AND connection_id IS NOT NULL",
    "SELECT COUNT(*) AS n FROM oauth_apps WHERE workspace_id = ? AND connection_id IS NOT NULL",
    "SELECT COUNT(*) AS n FROM tokens WHERE workspace_id = ? AND owner_kind = 'service_principal' "
    "AND revoked_at IS NULL AND comment LIKE 'Partner Connect: %'",
)
RESOURCE_COUNT = "SELECT " + " + ".join(f"({q})" for q in RESOURCE_QUERIES) + " AS n"  # one round trip per step


@dataclass
class PartnerSpec:
    """Which partner a scenario runs against; fields given on the command line win over the file's."""

    config: str | Path | None = None
    name: str | None = None
    base_url: str | None = None
    basic_user: str | None = None
    basic_password: str | None = None
    authorization: str | None = None
    signing_secret: str | None = None

    def over(self, base: "PartnerSpec") -> "PartnerSpec":
        """This spec over ``base``; naming a partner (config or name) replaces ``base`` entirely."""
        if self.config is not None or self.name is not None:
            return dataclasses.replace(self)
        merged = dataclasses.replace(base)
        for f in ("base_url", "basic_user", "basic_password", "authorization", "signing_secret"):
            if getattr(self, f) is not None:
                setattr(merged, f, getattr(self, f))
        return merged


@dataclass
class StepResult:
    index: int
    name: str
    kind: str
    status: str  # passed | failed | skipped
    reason: str
    line: int = 0
    checks: list[Check] = field(default_factory=list)
    hint: str | None = None
    error: bool = False  # failed by an exception (usage error), not by an expectation
    observation: dict = field(default_factory=dict)
    exchange_ids: list[int] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def title(self) -> str:
        return f"{self.index}. {self.name}"

    @property
    def fix_hint(self) -> str | None:
        """The step's hint, when it is about what failed: an expectation (the contract findings of a
        step that only broke the contract already say what to fix) or an error."""
        if self.status != "failed" or not self.hint:
            return None
        return self.hint if self.error or any(not c.ok and c.name != "contract" for c in self.checks) else None

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["title"] = self.title
        out["fix_hint"] = self.fix_hint
        return out


@dataclass
class ScenarioResult:
    name: str
    id: str | None
    path: str
    description: str = ""
    status: str = "passed"  # passed | failed | skipped
    skip_reason: str | None = None
    partner: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}" if self.id else self.name

    def count(self, status: str) -> int:
        return sum(1 for s in self.steps if s.status == status)

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["label"] = self.label
        out["steps"] = [s.as_dict() for s in self.steps]
        return out


@dataclass
class RunResult:
    scenarios: list[ScenarioResult] = field(default_factory=list)
    seed: int | None = None

    def steps(self, status: str) -> int:
        return sum(s.count(status) for s in self.scenarios)

    def cases(self, status: str) -> int:
        return sum(1 for s in self.scenarios if s.status == status)

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.scenarios)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "seed": self.seed,
                "summary": {k: self.steps(k) for k in ("passed", "failed", "skipped")},
                "scenarios": [s.as_dict() for s in self.scenarios]}


class ScenarioSetupError(Exception):
    pass


class Runner:
    """Runs scenarios in one simulator :class:`Context` (its clock sleeps through retries).

    ``partner`` overrides each file's partner section; ``example_partner`` serves every partner
    config the scenarios use with the bundled example partner on a free port; ``contract`` forces
    a contract mode (certification uses ``strict``); ``on_step(scenario_result, step_result)`` is
    called as each step finishes (the CLI prints lines as they come).
    """

    def __init__(self, ctx: Context, *, partner: PartnerSpec | None = None, seed: int | None = None,
                 example_partner: bool = False, contract: str | None = None, on_step=None, on_scenario=None):
        self.ctx = ctx
        self.partner = partner or PartnerSpec()
        self.seed = seed
        self.gen = IdGenerator(seed)
        self.example_partner = example_partner
        self.contract = contract
        self.on_step = on_step
        self.on_scenario = on_scenario
        self._registered: dict[tuple, str] = {}
        self._snapshots: dict[str, dict | None] = {}  # registrations as they were before this run
        self._servers: list = []
        self._api = None
        self._partner_name = None
        self._tmp = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop example partners and put back partner registrations the run overrode (base URL,
        credentials), so ``pcsim connect`` afterwards talks to the partner it talked to before."""
        for row in self._snapshots.values():
            if row is not None:
                with self.ctx.store.atomic() as db:
                    db["partners"].upsert(row, pk="name")
        self._snapshots.clear()
        for server in self._servers:
            server.stop()
        self._servers.clear()
        self._api = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def run(self, scenarios: list[Scenario]) -> RunResult:
        """Run the scenarios; a partner config given to the run (``--partner-config``) that cannot be
        used raises :class:`~simulator.errors.Invalid` before anything runs (the loader checks the files')."""
        self._check_given_partner()
        result = RunResult(seed=self.seed)
        for scenario in scenarios:
            result.scenarios.append(self.run_scenario(scenario))
            if self.on_scenario:
                self.on_scenario(result.scenarios[-1])
        return result

    # ------------------------------------------------------------ partner

    def _check_given_partner(self) -> None:
        spec = self.partner
        if spec.config is None:
            return
        base_url = None
        if spec.base_url is not None and not self.example_partner:  # the runner registers it with this base_url
            try:
                base_url = templating.Scope(IdGenerator()).render(spec.base_url)
            except templating.TemplateError as exc:
                raise Invalid(f"base URL: {exc}") from None
        why = partner_config_problem(spec.config, base_url)
        if why:
            raise Invalid(why)

    def _partner(self, scenario: Scenario) -> Partner:
        file_spec = PartnerSpec(**(scenario.partner or {}))
        if file_spec.config is not None and self.partner.config is None:
            file_spec.config = (scenario.path.parent / str(file_spec.config)).resolve()
        spec = self.partner.over(file_spec)
        if spec.config is None and spec.name is None:
            raise ScenarioSetupError("no partner: the scenario names none and none was given (--partner-config)")
        scope = templating.Scope(self.gen)
        try:
            creds = {f: scope.render(getattr(spec, f)) for f in ("basic_user", "basic_password", "authorization",
                                                                  "signing_secret", "base_url")}
        except templating.TemplateError as exc:
            raise ScenarioSetupError(f"partner: {exc}") from None
        key = (str(spec.config), spec.name, *sorted(creds.items()))
        if key in self._registered:
            return partner_registry.get(self.ctx, self._registered[key])
        if spec.config is not None:
            config = partner_registry.read_config_file(spec.config)
            if not isinstance(config, dict):
                raise ScenarioSetupError(f"partner config {spec.config} is not a JSON object")
            source = f"scenario:{Path(str(spec.config)).name}"
        else:
            try:
                existing = partner_registry.get(self.ctx, spec.name)
            except NotFound:  # only knowable at run time: the registry is in the state file
                known = ", ".join(p.name for p in partner_registry.list_partners(self.ctx)) or "none"
                raise ScenarioSetupError(f"partner: no partner named {spec.name!r} is registered in this state file "
                                         f"(registered: {known}); register it first (pcsim partners add FILE, same "
                                         "--db) or give partner: {config: FILE}") from None
            if not self.example_partner and not any(creds.values()):
                self._registered[key] = existing.name
                return existing  # a registered partner, used as it is
            config, source = dict(existing.config), existing.source
            for field_name, value in (("basic_user", existing.basic_user), ("basic_password", existing.basic_password),
                                      ("authorization", existing.authorization_value),
                                      ("signing_secret", existing.signing_secret)):
                if creds[field_name] is None:
                    creds[field_name] = value
        if self.example_partner:
            partner_registry.validate_config(config, str(spec.config or spec.name))
            self._servers.append(self._start_example(config))
        elif creds["base_url"]:
            config["base_url"] = creds["base_url"]
        name = config.get("name")
        if isinstance(name, str) and name not in self._snapshots:
            self._snapshots[name] = self.ctx.store.one("SELECT * FROM partners WHERE name = ?", (name,))
        registered = partner_registry.register(
            self.ctx, config, source=source, basic_user=creds["basic_user"], basic_password=creds["basic_password"],
            authorization=creds["authorization"], signing_secret=creds["signing_secret"], replace=True)
        self._registered[key] = registered.name
        return registered

    def _start_example(self, config: dict):
        from .example import start_example_partner

        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pcsim-example-")
        db = Path(self._tmp.name) / f"partner-{len(self._servers)}.db"
        return start_example_partner(config, clock=self.ctx.wall, db_path=db)  # it checks signatures on wall time

    # ------------------------------------------------------------ scenario

    def run_scenario(self, scenario: Scenario) -> ScenarioResult:
        started = time.perf_counter()
        result = ScenarioResult(name=scenario.name, id=scenario.id, path=str(scenario.path),
                                description=scenario.description)
        try:
            partner = self._partner(scenario)
        except (PcsimError, ScenarioSetupError) as exc:
            return self._setup_failed(result, scenario, str(exc), started)
        result.partner = partner.name
        self._partner_name = partner.name
        why = expectations.unmet(scenario.requires, partner)
        if why:
            result.status, result.skip_reason = "skipped", f"not applicable: {why}"
            result.duration_s = time.perf_counter() - started
            return result
        try:
            world = self._setup(scenario, partner)
        except (PcsimError, templating.TemplateError, ScenarioSetupError) as exc:
            return self._setup_failed(result, scenario, str(exc), started)
        failed_at = None
        for step in scenario.steps:
            if failed_at is not None:
                sr = StepResult(step.index, step.name, step.kind, "skipped", f"not run: step {failed_at} failed",
                                line=step.line)
            else:
                sr = self._run_step(scenario, step, partner, world)
                if sr.status == "failed":
                    failed_at = step.index
            result.steps.append(sr)
            if self.on_step:
                self.on_step(result, sr)
        for undo in reversed(world.cleanup):  # this scenario's fault rules and run rules
            undo()
        result.status = "failed" if failed_at is not None else "passed"
        result.duration_s = time.perf_counter() - started
        return result

    def _setup_failed(self, result: ScenarioResult, scenario: Scenario, message: str, started: float):
        sr = StepResult(0, "setup", "setup", "failed", message, line=scenario.line, error=True)
        result.steps.append(sr)
        result.status = "failed"
        result.duration_s = time.perf_counter() - started
        if self.on_step:
            self.on_step(result, sr)
        return result

    def _setup(self, scenario: Scenario, partner: Partner) -> "World":
        ctx, gen = self.ctx, self.gen
        domain = templating.fresh_domain(gen)
        scope = templating.Scope(gen, domain=domain)
        scope.set("domain", domain)
        scope.set("scenario", scenario.name)
        scope.set("partner.name", partner.name)
        for name, spec in scenario.vars.items():
            if isinstance(spec, dict):
                params = scope.render({k: v for k, v in spec.items() if k != "random"})
                if spec["random"] == "email":
                    params.setdefault("domain", domain)
                scope.set(name, templating.fresh_value(gen, spec["random"], **params))
            else:
                scope.set(name, scope.render(spec))
        users = {}
        for alias, spec in scenario.users.items():
            spec = scope.render(spec)
            email = spec.get("email") or f"{alias}@{domain}"
            existing = ctx.store.one("SELECT email FROM users WHERE email = ?", (email,))
            if existing is None:
                workspaces.add_user(ctx, email=email, first_name=spec.get("first_name", alias.capitalize()),
                                    last_name=spec.get("last_name", "Tester"), language=spec.get("language", "en-US"),
                                    user_ids={c: gen.int64() for c in workspaces.CLOUDS})
            users[alias] = email
            scope.set(f"users.{alias}.email", email)
        clouds = partner.config.get("supported_clouds") or ["aws"]
        spaces = {}
        for alias, spec in scenario.workspaces.items():
            spec = scope.render(spec)
            cloud = spec.get("cloud") or clouds[0]
            wid = spec.get("id") or gen.int64()
            if ctx.store.one("SELECT id FROM workspaces WHERE id = ?", (wid,)):
                raise ScenarioSetupError(f"workspace {wid} already exists in this state file (a fixed id, or --seed "
                                         "replaying into the same state: use a fresh --db)")
            workspaces.add_workspace(ctx, cloud=cloud, region=spec.get("region") or REGIONS[cloud],
                                     display_name=f"{scenario.label} / {alias}", workspace_id=wid,
                                     is_free_trial=spec.get("free_trial", False),
                                     catalogs=tuple(spec.get("catalogs") or workspaces.DEFAULT_CATALOGS))
            for user in spec.get("admins") or []:
                workspaces.add_member(ctx, wid, users[user], admin=True)
            for user in spec.get("members") or []:
                workspaces.add_member(ctx, wid, users[user], admin=False)
            spaces[alias] = wid
            scope.set(f"workspaces.{alias}.id", wid)
        return World(scope=scope, users=users, workspaces=spaces, domain=domain,
                     default_workspace=next(iter(spaces), None))

    # ------------------------------------------------------------ steps

    def _run_step(self, scenario: Scenario, step: Step, partner: Partner, world: "World") -> StepResult:
        started = time.perf_counter()
        sr = StepResult(step.index, step.name, step.kind, "passed", "", line=step.line, hint=step.hint)
        why = expectations.unmet(step.requires, partner)
        if why:
            sr.status, sr.reason = "skipped", f"not applicable: {why}"
            return sr
        before = self.ctx.store.one("SELECT COALESCE(MAX(id), 0) AS n FROM exchanges")["n"]
        try:
            params = world.scope.render(step.params)
            obs = self._execute(step.kind, params, partner, world)
            expect = world.scope.render(expectations.effective(step, partner))
        except (PcsimError, templating.TemplateError) as exc:
            sr.status, sr.error, sr.reason = "failed", True, f"error: {exc}"
            obs, expect = None, None
        if obs is not None:
            wid = world.workspaces.get(params.get("workspace") or world.default_workspace) \
                if isinstance(params, dict) else None
            obs.update(self._state(partner, wid))
            sr.checks = expectations.evaluate(expect, obs, self.contract or scenario.contract)
            failed = [c for c in sr.checks if not c.ok]
            sr.status = "failed" if failed else "passed"
            sr.reason = "; ".join(map(str, failed)) if failed else summarize(step.kind, obs)
            sr.observation = _public(obs)
            for name, source in step.capture.items():
                value = expectations.lookup(obs.get("response"), source[len("response."):]) \
                    if source.startswith("response.") else obs.get(source)
                world.scope.set(name, None if value is expectations.MISSING else value)
            if obs.get("redirect_uri"):
                world.last_redirect = obs["redirect_uri"]
        sr.exchange_ids = [r["id"] for r in self.ctx.store.query(
            "SELECT id FROM exchanges WHERE id > ? ORDER BY id", (before,))]
        sr.duration_s = time.perf_counter() - started
        return sr

    def _execute(self, kind: str, p: dict, partner: Partner, world: "World") -> dict:
        ctx, name = self.ctx, partner.name
        wid = world.workspaces.get(p.get("workspace") or world.default_workspace)
        if kind == "connect":
            email = world.users[p["user"]]
            mode = p.get("mode", "auto")
            if mode == "auto":
                out = flows.connect(ctx, partner_name=name, workspace_id=wid, user_email=email,
                                    demo=p.get("demo", False), catalog=p.get("catalog"),
                                    destination_location=p.get("destination_location"),
                                    follow_redirect=p.get("follow", False))
                if out.minted_pat:  # what the partner received: later api steps authenticate with it
                    world.tokens[("partner", wid)] = out.minted_pat
            else:
                out = probe.connect(ctx, partner_name=name, workspace_id=wid, user_email=email,
                                    established=mode == "sign_in", connection_id=p.get("connection_id"),
                                    demo=p.get("demo", False), catalog=p.get("catalog"),
                                    destination_location=p.get("destination_location"),
                                    follow_redirect=p.get("follow", False),
                                    partner=wrong_credentials(partner, world.scope.gen)
                                    if p.get("credentials") == "wrong" else None).outcome
            return observe(out)
        if kind == "delete_connection":
            user = p.get("user")
            return observe(flows.delete_connection(ctx, partner_name=name, workspace_id=wid,
                                                   user_email=world.users[user] if user else None))
        if kind == "partner_delete_connection":  # an explicit connection_id wins over the workspace's
            return observe(flows.partner_delete_connection(ctx, partner_name=name, workspace_id=wid,
                                                           connection_id=p.get("connection_id")))
        if kind == "test_connection":
            return observe(flows.test_connection(ctx, partner_name=name, workspace_id=wid,
                                                 connection_id=p.get("connection_id")))
        if kind == "delete_account":
            return observe(flows.delete_account(ctx, partner_name=name, domain=p.get("domain") or world.domain,
                                                workspace_id=wid))
        if kind == "expire_account":
            return observe(flows.expire_account(ctx, partner_name=name, email=world.users[p["user"]],
                                                workspace_id=wid))
        if kind == "list_connectors":
            return observe(flows.list_connectors(ctx, partner_name=name, max_pages=p.get("max_pages")))
        if kind == "follow_redirect":
            uri = p.get("uri") or world.last_redirect
            if not uri:
                return {"ok": False, "kind": "no_redirect", "message": "no earlier step returned a redirect_uri"}
            followed = redirects.follow(ctx.session, uri, ctx.settings.redirect_timeout_s)
            return {"ok": followed.ok, "kind": "followed" if followed.ok else "follow_failed",
                    "status": followed.status, "message": followed.message, "redirect_uri": uri}
        if kind in ("fault", "run_rule", "advance_clock", "api"):
            return self._workspace_step(kind, p, partner, world, wid)
        raise AssertionError(kind)  # the loader only lets known kinds through

    # ------------------------------------------------------------ workspace API steps

    def _workspace_step(self, kind: str, p: dict, partner: Partner, world: "World", wid: int | None) -> dict:
        ctx = self.ctx
        if kind == "fault":
            rule = {k: v for k, v in p.items() if k != "workspace"}
            if p.get("workspace"):
                rule["workspace_id"] = wid
            added = faults.add(ctx, rule)
            world.cleanup.append(lambda: faults.remove(ctx, added["id"]))
            return {"ok": True, "kind": "fault", "message": f"fault #{added['id']} on {added['method']} {added['path']}"}
        if kind == "run_rule":
            added = rules.add(ctx, p)
            world.cleanup.append(lambda: rules.remove(ctx, added["id"]))
            return {"ok": True, "kind": "run_rule", "message": f"run rule #{added['id']} for {p.get('match') or 'every task'}"}
        if kind == "advance_clock":
            if not hasattr(ctx.clock, "advance"):
                raise Invalid("advance_clock needs a manual or accelerated clock (this run uses real time)")
            ctx.clock.advance(p["seconds"])
            return {"ok": True, "kind": "advance_clock", "message": f"simulated time +{p['seconds']:g} s"}
        server = self._api_server()
        token = self._token(world, wid, p.get("user"))
        method = p.get("method", "POST" if "body" in p else "GET")
        try:
            resp = ctx.session.request(method, server.url + p["path"], params=p.get("query"), json=p.get("body"),
                                       headers={"Authorization": f"Bearer {token}"}, timeout=60)
        except requests.RequestException as exc:
            return {"ok": False, "kind": "api", "message": f"{method} {p['path']} failed: {type(exc).__name__}"}
        try:
            data = resp.json()
        except ValueError:
            data = resp.text
        detail = f": {data.get('error_code')} {data.get('message')}" if isinstance(data, dict) and "error_code" in data else ""
        return {"ok": resp.ok, "kind": "api", "status": resp.status_code, "response": data,
                "message": f"{method} {p['path']} answered {resp.status_code}{detail}"}

    def _api_server(self):
        """The simulator's HTTP server, started on a free port the first time a step needs it."""
        if self._api is None:
            from ..httpserver import ServerThread
            from ..server import create_app

            self._api = ServerThread(create_app(self.ctx)).start()
            self._servers.append(self._api)
        return self._api

    def _token(self, world: "World", wid: int, user: str | None) -> str:
        """A bearer token: the partner's PAT from the connect step, or a PAT minted for ``user``."""
        key = ("user", user, wid) if user else ("partner", wid)
        if key in world.tokens:
            return world.tokens[key]
        with self.ctx.store.atomic() as db:
            if user:
                owner = workspaces.membership(self.ctx, wid, world.users[user])
                value, _ = provisioning.mint_pat(self.ctx, db, workspace_id=wid, owner_kind="user",
                                                 owner_id=owner["id"], comment="pcsim scenario")
            else:
                sp = self.ctx.store.one("SELECT s.* FROM service_principals s JOIN connections c ON c.id = s.connection_id "
                                        "WHERE c.partner_name = ? AND c.workspace_id = ?", (self._partner_name, wid))
                if sp is None:
                    raise Invalid("an api step as the partner needs a connection in that workspace (connect first), "
                                  "or give user: to call as a workspace user")
                value, _ = provisioning.mint_pat(self.ctx, db, workspace_id=wid, owner_kind="service_principal",
                                                 owner_id=sp["id"], comment="pcsim scenario")
        world.tokens[key] = value
        return value

    def _state(self, partner: Partner, workspace_id: int | None) -> dict:
        if workspace_id is None:
            return {}
        conn = self.ctx.store.one("SELECT status, partner_connection_id FROM connections WHERE partner_name = ? "
                                  "AND workspace_id = ?", (partner.name, workspace_id))
        count = self.ctx.store.one(RESOURCE_COUNT, (workspace_id,) * len(RESOURCE_QUERIES))["n"]
        return {"connection_state": conn["status"] if conn else "gone",
                "stored_connection_id": conn["partner_connection_id"] if conn else None,
                "resources_in_workspace": count}


@dataclass
class World:
    """What a scenario's setup created: aliases to emails and workspace ids, and its variables."""

    scope: templating.Scope
    users: dict
    workspaces: dict
    domain: str
    default_workspace: str | None
    last_redirect: str | None = None
    tokens: dict = field(default_factory=dict)  # bearer tokens for api steps (memory only)
    cleanup: list = field(default_factory=list)  # undo actions for this scenario's faults and run rules


def wrong_credentials(partner: Partner, gen: IdGenerator) -> Partner:
    """A copy of the partner whose Authorization header is deliberately wrong (same scheme when Basic)."""
    if partner.authorization_value is None and (partner.basic_user is not None or partner.basic_password is not None):
        return dataclasses.replace(partner, basic_password=f"wrong-{gen.hex(12)}")
    raw = base64.b64encode(f"pcsim-wrong:{gen.hex(12)}".encode()).decode()
    return dataclasses.replace(partner, authorization_value=f"Basic {raw}", basic_user=None, basic_password=None)


def observe(out: flows.Outcome) -> dict:
    """The observation dict the expectations read, from a flow outcome."""
    response = out.response if isinstance(out.response, dict) else {}
    success = out.status is not None and 200 <= out.status < 300
    return {
        "ok": out.ok, "kind": out.kind, "message": out.message, "status": out.status, "response": out.response,
        "established": out.established,
        "redirect_value": response.get("redirect_value") if success else None,
        "user_status": response.get("user_status") if success else None,
        "account_status": response.get("account_status") if success else None,
        "configured_resources": response.get("configured_resources") if success else None,
        "connection_id": response.get("connection_id") if success else None,
        "error_reason": response.get("error_reason") if not success else None,
        "resource_status": response.get("resource_status") if success else None,
        "test_results": response.get("test_results") if success else None,
        "redirect_uri": out.redirect_uri or (response.get("redirect_uri") if success else None),
        "redirect_allowed": (out.redirect or {}).get("allowed"),
        "followed": out.followed, "pages": out.pages, "attempts": out.attempts,
        "violations": out.violations, "warnings": out.warnings,
    }


def _public(obs: dict) -> dict:
    """What reports show of an observation (the raw exchanges carry the rest)."""
    keep = ("ok", "kind", "message", "status", "redirect_value", "user_status", "account_status",
            "configured_resources", "connection_id", "error_reason", "resource_status", "redirect_uri",
            "redirect_allowed", "attempts", "connection_state", "resources_in_workspace", "violations", "warnings")
    out = {k: obs.get(k) for k in keep if obs.get(k) is not None}
    if obs.get("pages") is not None:
        out["pages"] = [len(p.get("connectors") or []) for p in obs["pages"]]
    return out


def summarize(kind: str, obs: dict) -> str:
    """A short "what happened" for a passing step."""
    if kind in ("follow_redirect", "fault", "run_rule", "advance_clock"):
        return obs.get("message") or obs.get("kind", "")
    status = obs.get("status")
    head = str(status) if status is not None else obs.get("kind", "")
    parts = []
    if kind == "connect":
        if obs.get("redirect_value"):
            parts.append(f"{obs['redirect_value']} (user {obs.get('user_status')}, "
                         f"account {obs.get('account_status')})")
        if obs.get("connection_id"):
            parts.append("connection_id returned")
    elif kind == "list_connectors" and obs.get("pages") is not None:
        pages = obs["pages"]
        parts.append(f"{sum(len(p.get('connectors') or []) for p in pages)} connector(s) on {len(pages)} page(s)")
    elif kind == "test_connection" and obs.get("test_results"):
        parts.append(", ".join(f"{r.get('test_name')}={r.get('status')}" for r in obs["test_results"]
                               if isinstance(r, dict)))
    elif obs.get("resource_status"):
        parts.append(obs["resource_status"])
    if obs.get("error_reason"):
        parts.append(obs["error_reason"])
    return " ".join([head, ", ".join(p for p in parts if p)]).strip() or obs.get("message", "")


def run_scenarios(ctx: Context, paths_or_scenarios, *, partner: PartnerSpec | None = None, seed: int | None = None,
                  example_partner: bool = False, contract: str | None = None, on_step=None,
                  on_scenario=None) -> RunResult:
    """Load (when given paths) and run scenarios; the Python API behind ``pcsim run``."""
    items = list(paths_or_scenarios)
    scenarios = items if all(isinstance(s, Scenario) for s in items) else load_paths(
        items, partner_given=partner is not None and (partner.config is not None or partner.name is not None))
    with Runner(ctx, partner=partner, seed=seed, example_partner=example_partner, contract=contract,
                on_step=on_step, on_scenario=on_scenario) as runner:
        return runner.run(scenarios)
