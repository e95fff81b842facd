"""Shared fixtures: a fresh simulator context per test (file database, manual clock, seeded ids),
a programmable partner double and the example partner, both on 127.0.0.1 with a free port."""
from __future__ import annotations

import pytest

from simulator import partners, workspaces
from simulator.clock import ManualClock
from simulator.context import Context, Settings
from simulator.httpserver import ServerThread
from simulator.ids import IdGenerator
from simulator.store import Store

from . import partner_double

WS_AWS = 7_474_650_313_055_465_123  # above 2**53: a float would corrupt it
WS_GCP = 9_007_199_254_740_993


@pytest.fixture
def ctx(tmp_path):
    """A simulator context: file database, manual clock (sleeps are instant), seeded ids."""
    c = Context(store=Store(tmp_path / "sim.db"), clock=ManualClock(), ids=IdGenerator(seed=7),
                settings=Settings(public_url="http://127.0.0.1:9999", partner_timeout_s=1.0))
    yield c
    c.store.close()


@pytest.fixture
def world(ctx):
    """Two workspaces (AWS, GCP), an admin in both, a non-admin, a second admin."""
    workspaces.add_workspace(ctx, cloud="aws", region="us-west-2", workspace_id=WS_AWS, catalogs=("main", "sales"))
    workspaces.add_workspace(ctx, cloud="gcp", region="us-central1", workspace_id=WS_GCP)
    workspaces.add_user(ctx, email="ada@acme.databricks-test.com", first_name="Ada", last_name="L",
                        language="fr-FR")
    workspaces.add_user(ctx, email="bob@acme.databricks-test.com", first_name="Bob")
    workspaces.add_user(ctx, email="cy@acme.databricks-test.com", first_name="Cy")
    workspaces.add_member(ctx, WS_AWS, "ada@acme.databricks-test.com", admin=True)
    workspaces.add_member(ctx, WS_GCP, "ada@acme.databricks-test.com", admin=True)
    workspaces.add_member(ctx, WS_AWS, "bob@acme.databricks-test.com", admin=False)
    workspaces.add_member(ctx, WS_AWS, "cy@acme.databricks-test.com", admin=True)
    return ctx


@pytest.fixture
def double():
    d = partner_double.PartnerDouble()
    server = ServerThread(d.app).start()
    d.url = server.url
    yield d
    server.stop()


@pytest.fixture
def double_partner(world, double):
    """The double registered as partner "Double" in the world."""
    partners.register(world, partner_double.config(double.url))
    return partners.get(world, "Double")
