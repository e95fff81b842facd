"""Fixtures for the fake workspace API: a running simulator, a Partner Connect connection made
through the real flow (so the credentials under test are the ones a partner receives), and
databricks-sdk clients built from them."""
from __future__ import annotations

import pytest

from simulator import partners
from simulator.httpserver import ServerThread
from simulator.partnerconnect import flows
from simulator.server import create_app

from .. import partner_double
from ..conftest import WS_AWS


@pytest.fixture(autouse=True)
def _no_databricks_env(monkeypatch, tmp_path):
    """A developer's DATABRICKS_* variables or ~/.databrickscfg must not leak into SDK clients."""
    import os
    for key in list(os.environ):
        if key.startswith("DATABRICKS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no.databrickscfg"))


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory):
    """One local test CA for the whole session (``pcsim serve --https`` keeps its CA the same way)."""
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(params=["http", "https"])
def sim(request, world, tls_dir, monkeypatch):
    """The simulator app on a free port, once over plain HTTP and once over TLS (as ``pcsim serve
    --https``, trusted through REQUESTS_CA_BUNDLE like a user would); the context's public URL
    points at it. Every workspace API test runs both ways."""
    ssl_context = None
    if request.param == "https":
        from simulator import tls

        ssl_context, ca_path = tls.ssl_context_for(tls_dir)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_path)
    server = ServerThread(create_app(world), ssl_context=ssl_context).start()
    world.settings.public_url = server.url
    yield server
    server.stop()


def connect_partner(world, double, **overrides) -> dict:
    """Register the double with ``overrides`` and connect as ada in WS_AWS; returns the payload sent."""
    partners.register(world, partner_double.config(double.url, **overrides), replace=True)
    outcome = flows.connect(world, partner_name="Double", workspace_id=WS_AWS,
                            user_email="ada@acme.databricks-test.com")
    assert outcome.ok, outcome.message
    return double.calls("connect")[-1]["json"]


@pytest.fixture
def pat_connection(sim, world, double):
    """A connection with PAT auth: the connect payload (holding the service principal's PAT)."""
    return connect_partner(world, double)


@pytest.fixture
def m2m_connection(sim, world, double):
    """A connection with OAuth M2M auth: the payload holds service_principal_id and the secret."""
    return connect_partner(world, double, auth_options=["AUTH_OAUTH_M2M"])


def sdk(host: str, **kwargs):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    return WorkspaceClient(config=Config(host=host, retry_timeout_seconds=5, **kwargs))


@pytest.fixture
def sp_client(sim, pat_connection):
    """A WorkspaceClient authenticated with the partner service principal's PAT."""
    return sdk(sim.url, token=pat_connection["user_info"]["auth"]["personal_access_token"], auth_type="pat")


@pytest.fixture(autouse=True)
def _close_sql_engines():
    """The SQL engines (DuckDB connections) a test opened are closed when it ends."""
    yield
    from simulator import sqlengine
    sqlengine.close_engines()


def user_pat(world, email: str = "ada@acme.databricks-test.com", workspace_id: int = WS_AWS) -> str:
    """A PAT for a workspace member (ada is an admin of WS_AWS and WS_GCP; bob is not an admin)."""
    from simulator import workspaces
    from simulator.partnerconnect import provisioning

    user = workspaces.get_user(world, email)
    with world.store.atomic() as db:
        pat, _ = provisioning.mint_pat(world, db, workspace_id=workspace_id, owner_kind="user", owner_id=user["id"],
                                       comment="test")
    return pat


@pytest.fixture
def admin_client(sim, world):
    """A WorkspaceClient for ada, an admin of WS_AWS, with her own PAT."""
    return sdk(sim.url, token=user_pat(world), auth_type="pat")
