"""The ``pcsim`` pytest plugin (registered as a ``pytest11`` entry point, so installing
``partner-connect-simulator`` is enough): a running simulator and factories for partners' CI.

Fixtures:

* ``pcsim`` (session): a :class:`Simulator` serving on ``127.0.0.1`` (free port) in a thread, with
  its own state file; ``pcsim.url``, ``pcsim.ctx`` (for the flow functions), ``pcsim.reset()``.
* ``pcsim_workspace``: a fresh, isolated workspace with an admin user (fresh email domain).
* ``make_workspace``, ``make_user``, ``make_partner``: factories (the :class:`Simulator` methods).
* ``example_partner``: the bundled example partner on a free port, registered with the simulator.

Retries (1 s, 2 s, 4 s) do not really sleep: the clock follows real time (so signatures stay
valid for your service) and jumps forward when the simulator would sleep.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simulator.clock import SkippingClock  # also used by `pcsim run|certify --no-retry-wait`


@dataclass
class PartnerHandle:
    """A partner registered with the simulator (and, for the example partner, its server)."""

    sim: "Simulator"
    name: str
    base_url: str
    server: object = None

    @property
    def partner(self):
        from simulator import partners

        return partners.get(self.sim.ctx, self.name)

    def connect(self, workspace: "WorkspaceHandle", user: str | None = None, **kwargs):
        return workspace.connect(self, user=user, **kwargs)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@dataclass
class WorkspaceHandle:
    """A simulated workspace: ``id``, its admin's email, and shortcuts to the flows."""

    sim: "Simulator"
    id: int
    admin: str
    cloud: str
    domain: str
    users: list[str] = field(default_factory=list)

    def add_user(self, email: str | None = None, *, admin: bool = False, **kwargs) -> str:
        """A new member (default: a fresh user on this workspace's email domain)."""
        return self.sim.make_user(email or f"user-{self.sim.ids.hex(6)}@{self.domain}", workspace=self,
                                  admin=admin, **kwargs)

    def connect(self, partner, user: str | None = None, **kwargs):
        """``flows.connect`` as ``user`` (default: the admin); kwargs: demo, catalog, follow_redirect, ..."""
        from simulator.partnerconnect import flows

        return flows.connect(self.sim.ctx, partner_name=_partner_name(partner), workspace_id=self.id,
                             user_email=user or self.admin, **kwargs)

    def delete_connection(self, partner, user: str | None = None):
        from simulator.partnerconnect import flows

        return flows.delete_connection(self.sim.ctx, partner_name=_partner_name(partner), workspace_id=self.id,
                                       user_email=user)

    def connection(self, partner) -> dict | None:
        return self.sim.ctx.store.one("SELECT * FROM connections WHERE partner_name = ? AND workspace_id = ?",
                                      (_partner_name(partner), self.id))


def _partner_name(partner) -> str:
    return partner if isinstance(partner, str) else partner.name


class Simulator:
    """A running simulator for tests: HTTP server, state, and the Python API around the flows."""

    def __init__(self, directory: Path):
        from simulator.context import Context, Settings
        from simulator.httpserver import ServerThread
        from simulator.ids import IdGenerator
        from simulator.server import create_app
        from simulator.store import Store

        self.directory = Path(directory)
        self.clock = SkippingClock()
        self.ids = IdGenerator()
        # In memory: a test session's state needs no file, and commits then cost no fsync.
        self.ctx = Context(store=Store(":memory:"), clock=self.clock, settings=Settings())
        self.server = ServerThread(create_app(self.ctx)).start()
        self.url = self.server.url
        self.ctx.settings.public_url = self.url
        self._partners: list[PartnerHandle] = []

    # -------------------------------------------------------- lifecycle

    def stop(self) -> None:
        for handle in self._partners:
            handle.stop()
        self.server.stop()
        self.ctx.store.close()

    def reset(self) -> None:
        """Forget every workspace, user, partner, connection and exchange."""
        self.ctx.store.reset()

    # -------------------------------------------------------- factories

    def make_workspace(self, cloud: str = "aws", region: str | None = None, *, admin: str | None = None,
                       catalogs=("main",), workspace_id: int | None = None) -> WorkspaceHandle:
        """A fresh workspace with an admin (default: a new user on a fresh ``databricks-test.com`` domain)."""
        from simulator import workspaces
        from simulator.scenarios.runner import REGIONS
        from simulator.scenarios.templating import fresh_domain

        ws = workspaces.add_workspace(self.ctx, cloud=cloud, region=region or REGIONS[cloud], catalogs=tuple(catalogs),
                                      workspace_id=workspace_id if workspace_id is not None else self.ids.int64())
        domain = admin.rpartition("@")[2] if admin else fresh_domain(self.ids)
        handle = WorkspaceHandle(self, ws["id"], "", cloud, domain)
        handle.admin = self.make_user(admin or f"admin-{self.ids.hex(6)}@{domain}", workspace=handle, admin=True)
        return handle

    def make_user(self, email: str | None = None, *, workspace: WorkspaceHandle | int | None = None,
                  admin: bool = False, first_name: str = "Test", last_name: str = "User",
                  language: str = "en-US") -> str:
        """A user (created when new), optionally made a member of ``workspace``; returns the email."""
        from simulator import workspaces
        from simulator.scenarios.templating import fresh_domain

        email = email or f"user-{self.ids.hex(6)}@{fresh_domain(self.ids)}"
        if self.ctx.store.one("SELECT id FROM users WHERE email = ?", (email,)) is None:
            workspaces.add_user(self.ctx, email=email, first_name=first_name, last_name=last_name, language=language)
        if workspace is not None:
            wid = workspace.id if isinstance(workspace, WorkspaceHandle) else workspace
            workspaces.add_member(self.ctx, wid, email, admin=admin)
            if isinstance(workspace, WorkspaceHandle):
                workspace.users.append(email)
        return email

    def make_partner(self, config: dict | str | Path, *, base_url: str | None = None, basic_user: str | None = None,
                     basic_password: str | None = None, authorization: str | None = None,
                     signing_secret: str | None = None) -> PartnerHandle:
        """Register a partner from a config (dict or file in the certification format)."""
        from simulator import partners

        config = dict(config) if isinstance(config, dict) else partners.read_config_file(config)
        if base_url:
            config["base_url"] = base_url
        p = partners.register(self.ctx, config, source="pytest", basic_user=basic_user, basic_password=basic_password,
                              authorization=authorization, signing_secret=signing_secret, replace=True)
        return PartnerHandle(self, p.name, p.base_url)

    def start_example_partner(self, **overrides) -> PartnerHandle:
        """The bundled example partner (config ``overrides`` applied, e.g. ``new_user_action="invite"``)
        on a free port with its own state, registered with the simulator; stopped at session end."""
        from simulator.scenarios.example import example_config, start_example_partner

        config = {**example_config(), **overrides}
        db = self.directory / f"example-partner-{len(self._partners)}-{self.ids.hex(6)}.db"
        server = start_example_partner(config, clock=self.clock, db_path=db)
        handle = self.make_partner(config)
        handle.server = server
        self._partners.append(handle)
        return handle

    # -------------------------------------------------------- runs

    def exchanges(self, last: int = 20, partner=None) -> list[dict]:
        from simulator import exchanges

        return exchanges.recent(self.ctx, last=last, partner=_partner_name(partner) if partner else None)

    def run_scenarios(self, *paths, partner=None, seed: int | None = None):
        """Run scenario files/directories (``partner``: a handle or config file replacing theirs)."""
        from simulator.scenarios import run_scenarios

        return run_scenarios(self.ctx, paths, partner=_spec(partner), seed=seed)

    def certify(self, partner):
        """The certification catalogue against ``partner`` (a handle, a registered name or a config file)."""
        from simulator.scenarios.certification import certify

        return certify(self.ctx, _spec(partner))


def _spec(partner):
    from simulator.scenarios import PartnerSpec

    if partner is None:
        return None
    if isinstance(partner, PartnerHandle):
        return PartnerSpec(name=partner.name)
    if isinstance(partner, Path) or str(partner).endswith(".json"):
        return PartnerSpec(config=partner)
    return PartnerSpec(name=partner)


# ------------------------------------------------------------ fixtures

@pytest.fixture(scope="session")
def pcsim(tmp_path_factory) -> Simulator:
    """A running simulator for the whole session (URL, Python API, ``reset()``)."""
    sim = Simulator(tmp_path_factory.mktemp("pcsim"))
    yield sim
    sim.stop()


@pytest.fixture
def pcsim_workspace(pcsim) -> WorkspaceHandle:
    """A fresh workspace of its own, with an admin user, for this test."""
    return pcsim.make_workspace()


@pytest.fixture
def make_workspace(pcsim):
    """``make_workspace(cloud="aws", region=None, admin=None, catalogs=("main",))``."""
    return pcsim.make_workspace


@pytest.fixture
def make_user(pcsim):
    """``make_user(email=None, workspace=None, admin=False, ...)`` -> email."""
    return pcsim.make_user


@pytest.fixture
def make_partner(pcsim):
    """``make_partner(config_dict_or_file, base_url=None, basic_user=None, basic_password=None, ...)``."""
    return pcsim.make_partner


@pytest.fixture
def example_partner(pcsim) -> PartnerHandle:
    """The bundled example partner, started for this test and registered with the simulator."""
    handle = pcsim.start_example_partner()
    yield handle
    handle.stop()


def pytest_report_header(config):
    try:
        from simulator import __version__
    except Exception:  # pragma: no cover - never break a partner's test run over a header
        return None
    return f"pcsim: Partner Connect Simulator {__version__} (fixtures: pcsim, pcsim_workspace, example_partner)"


__all__ = ["PartnerHandle", "Simulator", "SkippingClock", "WorkspaceHandle"]
