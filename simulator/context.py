"""Everything a flow needs, injected in one object: state, clock, ids, settings, HTTP session.

The CLI, the web pages, the scenario runner and the pytest plugin each build one
:class:`Context` and pass it to the flow functions; tests build theirs with a manual clock.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from .clock import ManualClock, RealClock
from .ids import IdGenerator
from .store import Store

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass
class Settings:
    """Tunables of one simulator instance."""

    public_url: str | None = None  # where partners reach the simulator's workspace API
    partner_timeout_s: float = 10.0
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    redirect_timeout_s: float = 5.0
    max_connector_pages: int = 50
    oauth_token_lifetime_s: float = 3600.0  # lifetime of OAuth M2M access tokens
    sql_chunk_rows: int = 10_000  # rows per result chunk of the SQL Statement Execution API
    cluster_start_s: float = 60.0  # simulated seconds a job cluster (or a stopped cluster) takes to start
    task_duration_s: float = 20.0  # simulated run time of a job task without a run rule
    transitions: str = "immediate"  # warehouse/cluster state changes: immediate | delayed | manual
    transition_delay_s: float = 5.0  # simulated seconds a transition takes in "delayed" mode


@dataclass
class Context:
    store: Store
    clock: RealClock | ManualClock = field(default_factory=RealClock)
    ids: IdGenerator = field(default_factory=IdGenerator)
    settings: Settings = field(default_factory=Settings)
    session: requests.Session = field(default_factory=requests.Session)
    # Wall time for what crosses the wire (request-signature timestamps): a partner checks them
    # against its own clock, so a manual or accelerated simulator clock must not leak into them.
    # None: the same clock as ``clock`` (tests hand both sides one manual clock).
    wall_clock: RealClock | ManualClock | None = None

    def __post_init__(self):
        # Never pick up proxies from the environment: partner calls stay where they were aimed.
        self.session.trust_env = False

    @property
    def wall(self):
        return self.wall_clock or self.clock

    @property
    def public_url(self) -> str:
        """The simulator's own base URL: setting, else what ``pcsim serve`` recorded, else default."""
        url = self.settings.public_url or os.environ.get("PCSIM_PUBLIC_URL") or self.store.get_meta("public_url")
        return (url or DEFAULT_PUBLIC_URL).rstrip("/")

    @property
    def public_host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.public_url)
        default = 443 if parts.scheme == "https" else 80
        return parts.hostname or "127.0.0.1", parts.port or default
