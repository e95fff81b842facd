"""The example partner over real HTTP: every Partner Connect branch it is meant to exercise."""
from __future__ import annotations

import base64
import json
import threading

import pytest
import requests
from sqlite_utils import Database

from simulator import signing
from simulator.clock import ManualClock
from simulator.example_partner import create_app
from simulator.httpserver import ServerThread

PAT = "dapi0123456789abcdef0123456789ab12"
SP_SECRET = "dose00112233445566778899aabbccddeeff"
BIG_USER_ID = 2**63 - 1
BIG_ORG_ID = 2**53 + 1  # the first integer a float cannot hold

ENDPOINTS = {
    "connect_path": "/connect",
    "get_connectors_path": "/connectors",
    "test_connection_path": "/test-connection",
    "delete_account_path": "/delete-account",
    "expire_account_path": "/expire-account",
    "delete_connection_path": "/delete-connection",
}
BASE_CONFIG = {
    "name": "Example Partner",
    "category": "INGEST",
    "base_url": "http://127.0.0.1",
    "endpoints": ENDPOINTS,
    "hostnames": ["127.0.0.1"],
    "new_user_action": "auto_add",
    "require_manual_signup": False,
    "trial_type": "account",
    "supports_demo": True,
    "some_future_key": {"ignored": True},
}


def connect_body(email, *, connection_id=None, workspace_id=1001, demo=False, user_id=11, **extra):
    """A connect request as Databricks sends it; established when ``connection_id`` is given."""
    established = connection_id is not None
    user_info = {
        "email": email, "first_name": "Ada", "last_name": "Lovelace",
        "databricks_user_id": user_id, "databricks_organization_id": workspace_id,
        "is_connection_established": established,
    }
    body = {
        "user_info": user_info, "hostname": "dbc-1.cloud.databricks.com", "port": 443,
        "workspace_url": "https://dbc-1.cloud.databricks.com", "workspace_id": workspace_id,
        "http_path": "/sql/1.0/warehouses/44a1419108002906", "cluster_id": "44a1419108002906",
        "catalog_name": "main", "demo": demo, "cloud_provider": "aws",
        "cloud_provider_region": "us-west-2", "is_free_trial": False, "is_sql_endpoint": True,
        "is_sql_warehouse": True, "service_principal_id": "a2a25a05-3d59-4515-a73b-b8bc5ab79e31",
    }
    if established:
        body["connection_id"] = connection_id
    else:
        user_info["auth"] = {"personal_access_token": PAT}
        body["service_principal_oauth_secret"] = SP_SECRET
    body.update(extra)
    return body


class Partner:
    """A thin client for one running example partner."""

    def __init__(self, url: str, db_path: str, headers: dict | None = None):
        self.url, self.db_path, self.headers = url, db_path, headers or {}

    def call(self, method, path, body=None, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, json=body, headers=headers, timeout=5, **kwargs)

    def connect(self, email, **kwargs):
        return self.call("POST", "/connect", connect_body(email, **kwargs))

    def sign_up(self, email, **kwargs):
        """First-time connect that must succeed; returns the response body."""
        response = self.connect(email, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def sign_in(self, email, connection_id, **kwargs):
        return self.connect(email, connection_id=connection_id, **kwargs)

    def expire(self, email):
        body = {"email": email, "databricks_user_id": 11, "cloud_provider": "aws",
                "databricks_organization_id": 1001}
        return self.call("PUT", "/expire-account", body)


@pytest.fixture(scope="module")
def _servers():
    """Every server the module starts; stopped together at the end (each stop waits ~0.5 s)."""
    servers = []
    yield servers
    stoppers = [threading.Thread(target=server.stop) for server in servers]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()


@pytest.fixture
def start(tmp_path, _servers):
    """Start an example partner from config overrides and create_app keyword arguments."""
    count = 0

    def _start(overrides: dict | None = None, headers: dict | None = None, **kwargs) -> Partner:
        nonlocal count
        count += 1
        db_path = str(tmp_path / f"partner{count}.db")
        app = create_app({**BASE_CONFIG, **(overrides or {})}, db_path=db_path, **kwargs)
        server = ServerThread(app, "127.0.0.1", 0).start()
        _servers.append(server)
        return Partner(server.url, db_path, headers)

    return _start


def statuses(body: dict) -> tuple[str, str, str]:
    """(user_status, account_status, redirect_value) of a connect answer."""
    return body["user_status"], body["account_status"], body["redirect_value"]


def debug_of_bad_request(response) -> str:
    """The debugging_message of a 400 bad_request (which must name the offending field)."""
    return assert_error(response, 400, "bad_request")["debugging_message"]


def assert_error(response, status, reason):
    """The status and the error shape every failure must have (string values only)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error_reason"] == reason
    assert set(body) == {"error_reason", "display_message", "debugging_message"}
    assert all(isinstance(v, str) and v for v in body.values())
    return body


# -- connect: first time ------------------------------------------------------------------------


def test_new_user_new_account_starts_a_trial(start):
    partner = start()
    response = partner.connect("ada@acme.databricks-test.com")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["user_status"] == "new"
    assert body["account_status"] == "new"
    assert body["redirect_value"] == "create_trial"
    assert body["configured_resources"] is True
    assert len(body["connection_id"]) == 36
    assert body["redirect_uri"].startswith(partner.url + "/trial?")
    assert body["connection_id"] in body["redirect_uri"]


def test_second_workspace_for_the_same_person_gets_a_new_connection(start):
    partner = start()
    first = partner.sign_up("ada@acme.databricks-test.com", workspace_id=1001)
    second = partner.sign_up("ada@acme.databricks-test.com", workspace_id=2002)
    assert (second["user_status"], second["account_status"]) == ("existing", "active")
    assert second["redirect_value"] == "sign_in"
    assert second["configured_resources"] is True
    assert second["connection_id"] != first["connection_id"]
    assert second["redirect_uri"].startswith(partner.url + "/sign-in?")


def test_identical_first_connect_twice_succeeds_both_times(start):
    partner = start()
    first = partner.sign_up("ada@acme.databricks-test.com")
    again = partner.sign_up("ada@acme.databricks-test.com")
    assert again["configured_resources"] is True
    assert again["connection_id"] != first["connection_id"]


def test_new_colleague_connecting_from_another_workspace_joins_the_account(start):
    partner = start({"new_user_action": "not_found"})  # new_user_action only governs sign-in
    partner.sign_up("ada@acme.databricks-test.com")
    body = partner.sign_up("bob@acme.databricks-test.com", workspace_id=3003)
    assert statuses(body) == ("new", "active", "sign_in")
    assert body["configured_resources"] is True


def test_concurrent_first_connects_all_succeed(start):
    partner = start()
    results = []

    def connect():
        results.append(partner.connect("ada@race.databricks-test.com").json())

    threads = [threading.Thread(target=connect) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["redirect_value"] for r in results) == ["create_trial"] + ["sign_in"] * 5
    assert len({r["connection_id"] for r in results}) == 6


# -- connect: sign-in ---------------------------------------------------------------------------


def test_sign_in_existing_user(start):
    partner = start()
    created = partner.sign_up("ada@acme.databricks-test.com")
    response = partner.sign_in("ada@acme.databricks-test.com", created["connection_id"])
    assert response.status_code == 200
    body = response.json()
    assert statuses(body) == ("existing", "active", "sign_in")
    assert body["configured_resources"] is False
    assert "connection_id" not in body
    assert created["connection_id"] in body["redirect_uri"]


def test_sign_in_with_unknown_connection_is_connection_not_found(start):
    partner = start()
    response = partner.sign_in("ada@acme.databricks-test.com", "00000000-0000-0000-0000-000000000000")
    assert_error(response, 404, "connection_not_found")


@pytest.mark.parametrize(
    "action, status, expected",
    [
        ("auto_add", 200, ("new", "active", "sign_in")),
        ("invite", 200, ("not_applicable", "active", "contact_admin")),
        ("not_found", 404, "account_not_found"),
        ("error", 500, "general_error"),
    ],
)
def test_second_user_reusing_a_connection_follows_new_user_action(start, action, status, expected):
    partner = start({"new_user_action": action})
    created = partner.sign_up("ada@acme.databricks-test.com")
    response = partner.sign_in("bob@acme.databricks-test.com", created["connection_id"], user_id=22)
    if status != 200:
        assert_error(response, status, expected)
        return
    assert response.status_code == 200
    body = response.json()
    assert statuses(body) == expected
    assert body["configured_resources"] is False and "connection_id" not in body


def test_auto_added_user_is_known_on_the_next_sign_in(start):
    partner = start({"new_user_action": "auto_add"})
    created = partner.sign_up("ada@acme.databricks-test.com")
    partner.sign_in("bob@acme.databricks-test.com", created["connection_id"])
    body = partner.sign_in("bob@acme.databricks-test.com", created["connection_id"]).json()
    assert body["user_status"] == "existing"


def test_manual_signup_gates_sign_in_until_completed(start):
    partner = start({"require_manual_signup": True})
    created = partner.sign_up("ada@acme.databricks-test.com")
    trial_page = requests.get(created["redirect_uri"], timeout=5)
    assert "/signup" in trial_page.text
    before = partner.sign_in("ada@acme.databricks-test.com", created["connection_id"])
    assert_error(before, 404, "account_not_found")

    form = requests.get(partner.url + "/signup", timeout=5)
    assert form.status_code == 200 and "<form" in form.text
    unknown = requests.post(partner.url + "/signup", data={"email": "ghost@acme.databricks-test.com"},
                            timeout=5)
    assert unknown.status_code == 404
    done = requests.post(partner.url + "/signup", data={"email": "ada@acme.databricks-test.com"}, timeout=5)
    assert done.status_code == 200 and "Signup complete" in done.text

    after = partner.sign_in("ada@acme.databricks-test.com", created["connection_id"])
    assert after.status_code == 200
    assert after.json()["redirect_value"] == "sign_in"


def test_demo_connects_always_start_fresh(start):
    partner = start({"supports_demo": True})
    ada = partner.sign_up("ada@acme.databricks-demo.com", demo=True)
    bob = partner.sign_up("bob@acme.databricks-demo.com", demo=True)
    for body in (ada, bob):
        assert statuses(body) == ("new", "new", "create_trial")
        assert body["configured_resources"] is True
    assert ada["connection_id"] != bob["connection_id"]
    signed_in = partner.sign_in("ada@acme.databricks-demo.com", ada["connection_id"], demo=True).json()
    assert signed_in["redirect_value"] == "sign_in"


def test_demo_flag_is_ignored_without_supports_demo(start):
    partner = start({"supports_demo": False})
    partner.sign_up("ada@acme.databricks-demo.com", demo=True)
    bob = partner.sign_up("bob@acme.databricks-demo.com", demo=True)
    assert (bob["user_status"], bob["account_status"]) == ("new", "active")


# -- expire-account -----------------------------------------------------------------------------


@pytest.mark.parametrize("trial_type, colleague", [("user", ("sign_in", "active")),
                                                    ("account", ("purchase_product", "expired"))])
def test_expire_account_then_sign_in_offers_purchase(start, trial_type, colleague):
    partner = start({"trial_type": trial_type})
    created = partner.sign_up("ada@acme.databricks-test.com")
    partner.sign_in("bob@acme.databricks-test.com", created["connection_id"])  # auto-added
    response = partner.expire("ada@acme.databricks-test.com")
    assert response.status_code == 200 and response.json() == {}

    ada = partner.sign_in("ada@acme.databricks-test.com", created["connection_id"]).json()
    assert (ada["redirect_value"], ada["account_status"]) == ("purchase_product", "expired")
    assert ada["redirect_uri"].startswith(partner.url + "/purchase?")
    bob = partner.sign_in("bob@acme.databricks-test.com", created["connection_id"]).json()
    assert (bob["redirect_value"], bob["account_status"]) == colleague
    again = partner.sign_up("ada@acme.databricks-test.com", workspace_id=2002)
    assert (again["redirect_value"], again["account_status"]) == ("purchase_product", "expired")


def test_expire_account_refuses_real_domains_and_unknown_users(start):
    partner = start()
    partner.sign_up("ada@acme.com")
    assert_error(partner.expire("ada@acme.com"), 400, "bad_request")
    assert_error(partner.expire("ghost@acme.databricks-test.com"), 404, "account_not_found")


# -- delete-connection / delete-account / test-connection ---------------------------------------


def delete_connection_body(connection_id):
    return {"connection_id": connection_id, "cloud_provider": "aws", "databricks_organization_id": 1001}


def test_delete_connection_then_sign_in_is_connection_not_found(start):
    partner = start()
    created = partner.sign_up("ada@acme.databricks-test.com")
    response = partner.call("POST", "/delete-connection", delete_connection_body(created["connection_id"]))
    assert response.status_code == 200
    assert response.json() == {"resource_status": "resources_deleted"}
    assert_error(partner.sign_in("ada@acme.databricks-test.com", created["connection_id"]), 404,
                 "connection_not_found")
    again = partner.call("POST", "/delete-connection", delete_connection_body(created["connection_id"]))
    assert_error(again, 404, "connection_not_found")


@pytest.mark.parametrize("domain", ["acme.databricks-test.com", "databricks-demo.com"])
def test_delete_account_for_a_test_domain_forgets_everything(start, domain):
    partner = start()
    created = partner.sign_up(f"ada@{domain}")
    body = {"domain": domain, "cloud_provider": "aws", "databricks_organization_id": 1001}
    response = partner.call("DELETE", "/delete-account", body)
    assert response.status_code == 200 and response.json() == {}
    assert_error(partner.sign_in(f"ada@{domain}", created["connection_id"]), 404, "connection_not_found")
    assert partner.sign_up(f"ada@{domain}")["redirect_value"] == "create_trial"


@pytest.mark.parametrize("domain", ["acme.com", "evil-databricks-test.com", "databricks-test.com.evil.io"])
def test_delete_account_refuses_other_domains(start, domain):
    partner = start()
    partner.sign_up(f"ada@{domain}")
    body = {"domain": domain, "cloud_provider": "aws", "databricks_organization_id": 1001}
    assert_error(partner.call("DELETE", "/delete-account", body), 400, "bad_request")
    assert partner.sign_up(f"ada@{domain}")["user_status"] == "existing"


def test_test_connection_passes_for_known_connections_only(start):
    partner = start()
    created = partner.sign_up("ada@acme.databricks-test.com")
    response = partner.call("POST", "/test-connection", {"connection_id": created["connection_id"]})
    assert response.status_code == 200
    [result] = response.json()["test_results"]
    assert result["status"] == "PASS" and result["test_name"] and result["message"]
    unknown = partner.call("POST", "/test-connection", {"connection_id": "nope"})
    assert_error(unknown, 404, "connection_not_found")


# -- connectors ---------------------------------------------------------------------------------


def test_connectors_default_list_pages_through(start):
    partner = start()
    first = partner.call("GET", "/connectors").json()
    assert len(first["connectors"]) == 10
    second = partner.call("GET", "/connectors", params={"pagination_token": first["pagination_token"]}).json()
    assert "pagination_token" not in second
    connectors = first["connectors"] + second["connectors"]
    identifiers = [c["identifier"] for c in connectors]
    assert len(identifiers) == len(set(identifiers)) >= 15
    assert {"postgres", "mysql", "salesforce", "s3", "google_sheets", "delta_lake"} <= set(identifiers)
    assert {c["type"] for c in connectors} == {"source", "target"}
    assert all(set(c) == {"identifier", "name", "type", "description"} for c in connectors)


def test_connectors_custom_list_and_page_size(start):
    custom = [{"identifier": f"c{i}", "name": f"C{i}", "type": "source", "description": ""} for i in range(5)]
    partner = start(connectors=custom, connectors_page_size=2)
    seen, token = [], None
    for _ in range(5):
        params = {"pagination_token": token} if token else None
        body = partner.call("GET", "/connectors", params=params).json()
        seen += [c["identifier"] for c in body["connectors"]]
        token = body.get("pagination_token")
        if token is None:
            break
    assert seen == ["c0", "c1", "c2", "c3", "c4"]


OUT_OF_RANGE = base64.urlsafe_b64encode(b"offset:999").decode()
OFFSET_ZERO = base64.urlsafe_b64encode(b"offset:0").decode().rstrip("=")


@pytest.mark.parametrize("token", ["garbage!", OUT_OF_RANGE, OFFSET_ZERO])
def test_connectors_bad_token_is_bad_request(start, token):
    partner = start()
    assert_error(partner.call("GET", "/connectors", params={"pagination_token": token}), 400, "bad_request")


# -- auth and signatures ------------------------------------------------------------------------


def test_basic_auth_is_required_when_configured(start):
    partner = start(basic_user="databricks", basic_password="s3cret")
    assert_error(partner.call("GET", "/connectors"), 401, "unauthorized")
    assert_error(partner.call("GET", "/connectors", auth=("databricks", "wrong")), 401, "unauthorized")
    assert partner.call("GET", "/connectors", auth=("databricks", "s3cret")).status_code == 200
    assert requests.get(partner.url + "/", timeout=5).status_code == 200  # pages need no auth


def test_exact_authorization_header(start):
    partner = start(authorization="Bearer partner-key")
    wrong = partner.call("GET", "/connectors", headers={"Authorization": "Bearer other"})
    assert_error(wrong, 401, "unauthorized")
    right = partner.call("GET", "/connectors", headers={"Authorization": "Bearer partner-key"})
    assert right.status_code == 200


def signed_call(partner, clock, method, path, body=None, *, secret="pcsk_test", tamper=None):
    raw = json.dumps(body).encode() if body is not None else b""
    headers = signing.sign(secret, method, path, raw, clock.now())
    headers["Content-Type"] = "application/json"
    return requests.request(method, partner.url + path, data=tamper or raw, headers=headers, timeout=5)


def test_signature_required_and_checked(start):
    clock = ManualClock()
    partner = start(signing_secret="pcsk_test", clock=clock)
    body = connect_body("ada@acme.databricks-test.com")
    ok = signed_call(partner, clock, "POST", "/connect", body)
    assert ok.status_code == 200, ok.text

    unsigned = partner.call("POST", "/connect", body)
    assert "missing" in assert_error(unsigned, 401, "unauthorized")["debugging_message"]
    wrong_secret = signed_call(partner, clock, "POST", "/connect", body, secret="other")
    assert "does not match" in assert_error(wrong_secret, 401, "unauthorized")["debugging_message"]
    changed = json.dumps({**body, "port": 1}).encode()
    tampered = signed_call(partner, clock, "POST", "/connect", body, tamper=changed)
    assert_error(tampered, 401, "unauthorized")

    headers = signing.sign("pcsk_test", "POST", "/connect", json.dumps(body).encode(), clock.now())
    clock.advance(3600)
    stale = requests.post(partner.url + "/connect", data=json.dumps(body), headers=headers, timeout=5)
    assert "timestamp" in assert_error(stale, 401, "unauthorized")["debugging_message"]


def test_signature_covers_the_query_string(start):
    clock = ManualClock()
    partner = start(signing_secret="pcsk_test", clock=clock, connectors_page_size=3)
    first = signed_call(partner, clock, "GET", "/connectors").json()
    token = first["pagination_token"]
    good = signed_call(partner, clock, "GET", f"/connectors?pagination_token={token}")
    assert good.status_code == 200 and good.json()["connectors"][0] != first["connectors"][0]
    headers = signing.sign("pcsk_test", "GET", "/connectors", b"", clock.now())
    moved = requests.get(partner.url + "/connectors", params={"pagination_token": token}, headers=headers,
                         timeout=5)
    assert_error(moved, 401, "unauthorized")


# -- paths, validation, ids, pages --------------------------------------------------------------


def test_endpoints_are_served_only_at_the_configured_paths(start):
    endpoints = {"connect_path": "/api/v1/connect", "get_connectors_path": "/api/v1/sources"}
    partner = start({"endpoints": endpoints})
    response = partner.call("POST", "/api/v1/connect", connect_body("ada@acme.databricks-test.com"))
    assert response.status_code == 200
    assert partner.call("GET", "/api/v1/sources").status_code == 200
    assert partner.call("POST", "/connect", connect_body("ada@acme.databricks-test.com")).status_code == 404
    for method, path in [("POST", "/test-connection"), ("DELETE", "/delete-account"),
                         ("PUT", "/expire-account"), ("POST", "/delete-connection"), ("GET", "/connectors")]:
        assert partner.call(method, path, {}).status_code == 404


def test_malformed_or_incomplete_bodies_are_bad_requests(start):
    partner = start()
    broken = partner.call("POST", "/connect", headers={"Content-Type": "application/json"}, data=b"{nope")
    assert_error(broken, 400, "bad_request")
    assert_error(partner.call("POST", "/connect", [1, 2]), 400, "bad_request")
    body = connect_body("ada@acme.databricks-test.com")
    del body["user_info"]["email"]
    assert "user_info.email" in debug_of_bad_request(partner.call("POST", "/connect", body))
    body = {**connect_body("ada@acme.databricks-test.com"), "workspace_id": "1001"}
    assert "workspace_id" in debug_of_bad_request(partner.call("POST", "/connect", body))
    body = connect_body("ada@acme.databricks-test.com")
    body["user_info"]["is_connection_established"] = True  # established without a connection_id
    assert "connection_id" in debug_of_bad_request(partner.call("POST", "/connect", body))
    assert_error(partner.call("POST", "/delete-connection", {"connection_id": "x"}), 400, "bad_request")
    assert_error(partner.call("GET", "/connect"), 405, "bad_request")


def test_64_bit_ids_round_trip_exactly(start):
    partner = start()
    email = "ada@acme.databricks-test.com"
    created = partner.sign_up(email, user_id=BIG_USER_ID, workspace_id=BIG_ORG_ID)
    page = requests.get(created["redirect_uri"], timeout=5).text
    assert str(BIG_ORG_ID) in page
    db = Database(partner.db_path)
    assert db["users"].get(("acme.databricks-test.com", email))["databricks_user_id"] == BIG_USER_ID
    assert db["connections"].get(created["connection_id"])["workspace_id"] == BIG_ORG_ID
    db.close()
    expire = {"email": email, "databricks_user_id": BIG_USER_ID, "cloud_provider": "aws",
              "databricks_organization_id": BIG_ORG_ID}
    assert partner.call("PUT", "/expire-account", expire).status_code == 200


def test_landing_page_shows_the_connection_with_secrets_masked(start):
    partner = start({"name": "Acme <Data> Co"})
    created = partner.sign_up("ada@acme.databricks-test.com", catalog_name="<script>alert(1)</script>")
    response = requests.get(created["redirect_uri"], timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "Acme &lt;Data&gt; Co" in page
    assert 'data-page="create_trial"' in page and "ada@acme.databricks-test.com" in page
    for shown in ("https://dbc-1.cloud.databricks.com", "1001", "aws", "/sql/1.0/warehouses/44a1419108002906",
                  "44a1419108002906", "a2a25a05-3d59-4515-a73b-b8bc5ab79e31", "dapi…ab12"):
        assert shown in page
    assert PAT not in page and SP_SECRET not in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    stored = Database(partner.db_path)["connections"].get(created["connection_id"])["payload"]
    assert PAT not in stored and SP_SECRET not in stored


def test_other_pages(start):
    partner = start()
    created = partner.sign_up("ada@acme.databricks-test.com")
    for path in ("/sign-in", "/contact-admin", "/purchase"):
        page = requests.get(partner.url + path, params={"connection_id": created["connection_id"],
                                                        "email": "ada@acme.databricks-test.com"}, timeout=5)
        assert page.status_code == 200 and "dapi…ab12" in page.text
    missing = requests.get(partner.url + "/sign-in", params={"connection_id": "gone"}, timeout=5)
    assert missing.status_code == 404
    index = requests.get(partner.url + "/", timeout=5)
    assert "Example Partner" in index.text and "/connect" in index.text


def test_invalid_configs_fail_at_start(tmp_path):
    for bad in ({"new_user_action": "shrug"}, {"trial_type": "team"},
                {"endpoints": {"connect_path": "connect"}}):
        with pytest.raises(ValueError):
            create_app({**BASE_CONFIG, **bad}, db_path=str(tmp_path / "p.db"))
