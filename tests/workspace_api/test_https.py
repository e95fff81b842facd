"""The simulator over HTTPS with its generated test CA: the SDK (via REQUESTS_CA_BUNDLE), the Partner
Connect flow, and ``pcsim serve --https``."""
from __future__ import annotations

import ipaddress
import ssl
import time

import pytest
import requests
from click.testing import CliRunner
from cryptography import x509

from simulator import cli, tls
from simulator.httpserver import ServerThread
from simulator.server import create_app

from .conftest import connect_partner, sdk


@pytest.fixture
def https_sim(world, tmp_path, monkeypatch):
    context, ca_path = tls.ssl_context_for(tmp_path)
    server = ServerThread(create_app(world), ssl_context=context).start()
    world.settings.public_url = server.url
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_path)
    yield server, ca_path
    server.stop()


def test_sdk_and_partner_connect_flow_over_https(https_sim, world, double):
    server, ca_path = https_sim
    assert server.url.startswith("https://127.0.0.1:")
    payload = connect_partner(world, double)  # the partner is told about the https workspace
    assert payload["workspace_url"].startswith(server.url) and payload["port"] == server.port
    assert ";ssl=1;" in payload["databricks_jdbc_url"]

    w = sdk(server.url, token=payload["user_info"]["auth"]["personal_access_token"], auth_type="pat")
    assert w.current_user.me().user_name == payload["service_principal_id"]
    [warehouse] = w.warehouses.list()
    assert warehouse.id == payload["http_path"].rsplit("/", 1)[-1]
    assert (warehouse.odbc_params.protocol, warehouse.odbc_params.port) == ("https", server.port)
    assert ";ssl=1;" in warehouse.jdbc_url

    untrusting = requests.Session()
    untrusting.trust_env = False  # ignores REQUESTS_CA_BUNDLE: the default trust store does not know the CA
    with pytest.raises(requests.exceptions.SSLError):
        untrusting.get(server.url + "/-/health", timeout=5)
    assert requests.get(f"https://localhost:{server.port}/-/health", verify=ca_path, timeout=5).status_code == 200


def test_certificate_names_and_ca_reuse(https_sim, tmp_path):
    server, ca_path = https_sim
    pem = ssl.get_server_certificate(("127.0.0.1", server.port))
    names = x509.load_pem_x509_certificate(pem.encode()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                              ipaddress.ip_address("::1")}
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    before = open(ca_path).read()
    _, again = tls.ssl_context_for(tmp_path)  # a restart keeps the CA, so exported bundles stay valid
    assert again == ca_path and open(again).read() == before
    assert (tmp_path / ".pcsim-tls" / "ca-key.pem").stat().st_mode & 0o077 == 0


def test_serve_https_prints_the_ca_bundle(tmp_path, monkeypatch):
    started = {}

    def fake_forever(self):  # do not block: record what would be served
        started.update(url=self.url, settings=self._server.app.config["PCSIM_CONTEXT"].settings)
    monkeypatch.setattr(ServerThread, "serve_forever", fake_forever)
    db = tmp_path / "state" / "pcsim.db"
    db.parent.mkdir()  # pcsim creates the state file, never its directory
    result = CliRunner().invoke(cli.main, ["serve", "--port", "0", "--db", str(db), "--https",
                                           "--transitions", "delayed", "--transition-delay", "12"])
    assert result.exit_code == 0, result.output
    ca_path = db.parent / ".pcsim-tls" / "ca.pem"
    assert started["url"].startswith("https://127.0.0.1:") and ca_path.is_file()
    assert (started["settings"].transitions, started["settings"].transition_delay_s) == ("delayed", 12.0)
    assert f"REQUESTS_CA_BUNDLE={ca_path}" in result.output and f"SSL_CERT_FILE={ca_path}" in result.output
    bad = CliRunner().invoke(cli.main, ["serve", "--port", "0", "--db", str(db), "--transitions", "sometimes"])
    assert bad.exit_code == 2 and "sometimes" in bad.output


def test_a_silent_client_does_not_stall_the_https_server(https_sim):
    import socket

    server, ca_path = https_sim
    with socket.create_connection(("127.0.0.1", server.port)):  # connects, never starts a handshake
        answer = requests.get(server.url + "/-/health", verify=ca_path, timeout=3)
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


@pytest.mark.parametrize("args,clock,message", [
    (["--time-scale", "60"], "ScaledClock", "Clock: 60x real time"),
    (["--clock", "manual"], "ManualClock", "Clock: manual"),
])
def test_serve_clock_modes_keep_signatures_on_wall_time(tmp_path, monkeypatch, args, clock, message):
    started = {}

    def fake_forever(self):
        started["ctx"] = self._server.app.config["PCSIM_CONTEXT"]
    monkeypatch.setattr(ServerThread, "serve_forever", fake_forever)
    result = CliRunner().invoke(cli.main, ["serve", "--port", "0", "--db", str(tmp_path / "s.db"), *args])
    assert result.exit_code == 0, result.output
    ctx = started["ctx"]
    assert type(ctx.clock).__name__ == clock and message in result.output
    ctx.clock.advance(7200)  # two simulated hours later, signatures still carry the real time
    assert abs(ctx.wall.now() - time.time()) < 5 and ctx.clock.now() - time.time() > 7000
    both = CliRunner().invoke(cli.main, ["serve", "--port", "0", "--db", str(tmp_path / "s.db"), "--clock", "manual",
                                         "--time-scale", "2"])
    assert both.exit_code == 2 and "exclude each other" in both.output
