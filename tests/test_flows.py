"""The Partner Connect flows over real HTTP against the programmable partner double.

Every test checks the Outcome (ok, kind, a message that says the specific thing) and what the
database holds afterwards: connections, service principals, active tokens, compute, grants, OAuth
secrets and apps, and the exchange log (one row per attempt, secrets masked).
"""
from __future__ import annotations

import hashlib
import json
import re
import socket
import sqlite3

import pytest

from simulator import partners, signing
from simulator.errors import Conflict, Forbidden, Invalid, NotFound
from simulator.partnerconnect import flows

from . import partner_double
from .conftest import WS_AWS, WS_GCP
from .partner_double import Reply, error, ok_connect, ok_sign_in

ADA = "ada@acme.databricks-test.com"
BOB = "bob@acme.databricks-test.com"
CY = "cy@acme.databricks-test.com"
SECRET = "test-signing-secret"
BASIC = "Basic ZGJ4OnMzY3JldC1iYXNpYy1wdw=="  # dbx:s3cret-basic-pw
PAT_RE = re.compile(r"^dapi[0-9a-f]{32}$")
OAUTH_RE = re.compile(r"^dose[0-9a-f]{32}$")
WAREHOUSE_RE = re.compile(r"^[0-9a-f]{16}$")
CLUSTER_RE = re.compile(r"^0101-000000-[a-z0-9]{8}$")  # the manual clock starts at 2026-01-01T00:00:00Z
RESOURCE_TABLES = ("connections", "service_principals", "warehouses", "clusters", "grants", "oauth_secrets",
                   "oauth_apps")
NOTHING = {**{t: 0 for t in RESOURCE_TABLES}, "active_tokens": 0, "active_oauth_secrets": 0}


# ---------------------------------------------------------------- helpers

def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def connect(ctx, user=ADA, workspace_id=WS_AWS, **kw) -> flows.Outcome:
    return flows.connect(ctx, partner_name="Double", workspace_id=workspace_id, user_email=user, **kw)


def delete(ctx, workspace_id=WS_AWS, user=ADA) -> flows.Outcome:
    return flows.delete_connection(ctx, partner_name="Double", workspace_id=workspace_id, user_email=user)


def use_config(ctx, base_url, **overrides):
    """(Re-)register partner "Double" with config overrides."""
    return partners.register(ctx, partner_double.config(base_url, **overrides), replace=True)


def counts(ctx) -> dict:
    out = {t: ctx.store.count(t) for t in RESOURCE_TABLES}
    out["active_tokens"] = ctx.store.count("tokens", "revoked_at IS NULL")
    out["active_oauth_secrets"] = ctx.store.count("oauth_secrets", "revoked_at IS NULL")
    return out


def expect_counts(ctx, **nonzero) -> None:
    assert counts(ctx) == {**NOTHING, **nonzero}


ACTIVE_SQL = dict(connections=1, service_principals=1, warehouses=1, grants=3, active_tokens=1)


def conn_row(ctx, workspace_id=WS_AWS) -> dict | None:
    return ctx.store.one("SELECT * FROM connections WHERE partner_name = 'Double' AND workspace_id = ?",
                         (workspace_id,))


def exchanges(ctx, operation="connect") -> list[dict]:
    return ctx.store.query("SELECT * FROM exchanges WHERE operation = ? ORDER BY id", (operation,))


def user_row(ctx, email=ADA) -> dict:
    return ctx.store.one("SELECT * FROM users WHERE email = ?", (email,))


def assert_signed(ctx, request, secret=SECRET) -> None:
    assert signing.verify(request["headers"], request["method"], request["path"], request["raw"], secret,
                          now=ctx.clock.now())


def assert_no_secret_in_exchanges(ctx, *secrets) -> None:
    dump = json.dumps(ctx.store.query("SELECT * FROM exchanges"))
    for secret in secrets:
        assert secret not in dump


def register_without(ctx, base_url, path_key: str):
    """Register "Double" without one endpoint."""
    cfg = partner_double.config(base_url)
    del cfg["endpoints"][path_key]
    return partners.register(ctx, cfg, replace=True)


def make_pending(ctx, double) -> flows.Outcome:
    """A new connection whose partner answered 500 four times: kept, status pending."""
    double.script("connect", *[error(500, "general_error", "Our database is down")] * 4)
    out = connect(ctx)
    assert out.kind == "partner_unavailable" and conn_row(ctx)["status"] == "pending"
    return out


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def established(double_partner, world, double):
    """Ada has connected "Double" in the AWS workspace (partner connection id conn-123)."""
    out = connect(world)
    assert out.ok and out.kind == "connected"
    double.received.clear()
    return conn_row(world)


# ---------------------------------------------------------------- 1. happy new connection

def test_new_connection_sends_the_exact_payload_and_stores_everything(double_partner, world, double):
    out = connect(world)

    assert out.ok and out.kind == "connected" and out.established is False
    assert "conn-123" in out.message and out.attempts == 1 and out.status == 200
    assert out.violations == [] and out.warnings == [] and world.clock.sleeps == []
    assert out.redirect == {"allowed": True, "reason": "host 127.0.0.1 is allowed by hostnames [127.0.0.1]",
                            "host": "127.0.0.1"}
    assert out.redirect_uri == "http://127.0.0.1/welcome"

    [req] = double.calls("connect")
    sent, raw = req["json"], req["raw"]
    pat = sent["user_info"]["auth"]["personal_access_token"]
    assert PAT_RE.match(pat)
    sp = world.store.one("SELECT * FROM service_principals")
    wh = world.store.one("SELECT * FROM warehouses")
    ada = user_row(world)
    http_path = f"/sql/1.0/warehouses/{wh['id']}"
    assert WAREHOUSE_RE.match(wh["id"])
    assert sent == {
        "user_info": {"email": ADA, "first_name": "Ada", "last_name": "L", "databricks_user_id": ada["aws_user_id"],
                      "databricks_organization_id": WS_AWS, "is_connection_established": False,
                      "auth": {"personal_access_token": pat}},
        "hostname": "127.0.0.1", "port": 9999, "workspace_url": f"http://127.0.0.1:9999/?o={WS_AWS}",
        "workspace_id": WS_AWS, "demo": False, "cloud_provider": "aws", "cloud_provider_region": "us-west-2",
        "is_free_trial": False, "connection_scope": "workspace", "http_path": http_path,
        "jdbc_url": f"jdbc:spark://127.0.0.1:9999/default;transportMode=http;ssl=0;AuthMech=3;httpPath={http_path};",
        "databricks_jdbc_url": "jdbc:databricks://127.0.0.1:9999/default;transportMode=http;ssl=0;AuthMech=3;"
                               f"httpPath={http_path};",
        "cluster_id": wh["id"], "is_sql_endpoint": True, "is_sql_warehouse": True, "catalog_name": "main",
        "service_principal_id": sp["application_id"],
    }
    # 64-bit ids travel as exact JSON integers, never floats or strings
    assert ada["aws_user_id"] > 2**53
    assert f'"databricks_user_id":{ada["aws_user_id"]}'.encode() in raw
    assert f'"databricks_organization_id":{WS_AWS}'.encode() in raw
    assert f'"workspace_id":{WS_AWS}'.encode() in raw

    headers = req["headers"]
    assert headers["Authorization"] == BASIC
    assert headers["User-Agent"] == "databricks"
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept-Language"] == "fr-FR"
    assert req["method"] == "POST" and req["path"] == "/pc/connect"
    assert_signed(world, req)
    with pytest.raises(signing.SignatureError):
        signing.verify(headers, "POST", "/pc/connect", raw + b" ", SECRET, now=world.clock.now())

    conn = conn_row(world)
    assert conn["status"] == "active" and conn["partner_connection_id"] == "conn-123"
    assert conn["created_by"] == ada["id"] and conn["catalog_name"] == "main" and conn["demo"] == 0
    assert out.connection["id"] == conn["id"]
    expect_counts(world, **ACTIVE_SQL)
    token = world.store.one("SELECT * FROM tokens")
    assert token["token_hash"] == sha(pat) and token["prefix"] == pat[:8]
    assert (token["owner_kind"], token["owner_id"], token["connection_id"]) == ("service_principal", sp["id"],
                                                                                conn["id"])
    assert sp["connection_id"] == conn["id"] and wh["connection_id"] == conn["id"]
    assert wh["creator"] == sp["application_id"]
    grants = world.store.query("SELECT securable_type, securable_name, privilege, principal FROM grants ORDER BY id")
    assert grants == [
        {"securable_type": "catalog", "securable_name": "main", "privilege": "USE_CATALOG",
         "principal": sp["application_id"]},
        {"securable_type": "catalog", "securable_name": "main", "privilege": "SELECT",
         "principal": sp["application_id"]},
        {"securable_type": "sql_warehouse", "securable_name": wh["id"], "privilege": "CAN_USE",
         "principal": sp["application_id"]},
    ]
    assert out.provisioned["pat"] == pat[:8] + "…"

    [ex] = exchanges(world)
    assert out.exchange_ids == [ex["id"]]
    assert (ex["attempt"], ex["status"], ex["method"], ex["error"]) == (1, 200, "POST", None)
    assert ex["url"] == double.url + "/pc/connect" and ex["workspace_id"] == WS_AWS
    logged_headers = json.loads(ex["request_headers"])
    assert logged_headers["Authorization"] == "Basic ****"
    assert logged_headers["X-Databricks-PC-Signature"] == "v1=****"
    logged_body = json.loads(ex["request_body"])
    assert logged_body["user_info"]["auth"]["personal_access_token"] == pat[:8] + "…"
    assert logged_body["user_info"]["databricks_user_id"] == ada["aws_user_id"]
    assert all(c["ok"] for c in json.loads(ex["checks"]))
    assert_no_secret_in_exchanges(world, pat, "ZGJ4OnMzY3JldC1iYXNpYy1wdw==", headers["X-Databricks-Pc-Signature"])


def test_follow_redirect_opens_the_partner_page(double_partner, world, double):
    double.script("connect", ok_connect(redirect_uri=double.url + "/welcome"))
    out = connect(world, follow_redirect=True)
    assert out.ok and out.followed["ok"] and out.followed["status"] == 200


def test_follow_redirect_failure_is_reported_but_the_connection_stands(double_partner, world, double):
    double.script("connect", ok_connect(redirect_uri=double.url + "/no-such-page"))
    out = connect(world, follow_redirect=True)
    assert not out.ok and "Opening the redirect failed" in out.message and "404" in out.message
    assert conn_row(world)["status"] == "active"


# ---------------------------------------------------------------- 2. config variants and usage errors

def test_oauth_m2m_only_sends_an_oauth_secret_and_no_pat(world, double):
    use_config(world, double.url, auth_options=["AUTH_OAUTH_M2M"])
    out = connect(world)
    assert out.ok and out.kind == "connected"
    sent = double.calls("connect")[0]["json"]
    assert "auth" not in sent["user_info"]
    secret = sent["service_principal_oauth_secret"]
    assert OAUTH_RE.match(secret)
    sp = world.store.one("SELECT * FROM service_principals")
    row = world.store.one("SELECT * FROM oauth_secrets")
    assert row["secret_hash"] == sha(secret) and row["service_principal_id"] == sp["id"]
    assert sent["service_principal_id"] == sp["application_id"]
    expect_counts(world, connections=1, service_principals=1, warehouses=1, grants=3, oauth_secrets=1,
                  active_oauth_secrets=1)
    assert world.store.count("tokens") == 0
    assert json.loads(exchanges(world)[0]["request_body"])["service_principal_oauth_secret"] == secret[:8] + "…"
    assert_no_secret_in_exchanges(world, secret)


def test_oauth_u2m_sends_the_app_id(world, double):
    use_config(world, double.url, auth_options=["AUTH_PAT", "AUTH_OAUTH_U2M"])
    out = connect(world)
    assert out.ok
    sent = double.calls("connect")[0]["json"]
    app = world.store.one("SELECT * FROM oauth_apps")
    assert sent["oauth_u2m_app_id"] == app["client_id"] == out.provisioned["oauth_u2m_app_id"]
    assert PAT_RE.match(sent["user_info"]["auth"]["personal_access_token"])
    assert "service_principal_oauth_secret" not in sent
    expect_counts(world, **ACTIVE_SQL, oauth_apps=1)


def test_interactive_cluster_resource(world, double):
    use_config(world, double.url, resources_to_provision=[{"resource_type": "InteractiveCluster"}],
               object_permissions=[{"name": "Cluster", "level": "CAN_ATTACH_TO"}])
    assert connect(world).ok
    sent = double.calls("connect")[0]["json"]
    cluster = world.store.one("SELECT * FROM clusters")
    assert CLUSTER_RE.match(sent["cluster_id"]) and sent["cluster_id"] == cluster["id"]
    assert sent["is_sql_warehouse"] is False and sent["is_sql_endpoint"] is False
    assert not {"http_path", "jdbc_url", "databricks_jdbc_url"} & set(sent)
    assert cluster["node_type_id"] == "i3.xlarge"
    assert world.store.one("SELECT * FROM grants WHERE securable_type = 'cluster'")["securable_name"] == cluster["id"]
    expect_counts(world, connections=1, service_principals=1, clusters=1, grants=3, active_tokens=1)


def test_test_workspace_detail_overrides_connection_details(world, double):
    detail = {"hostname": "dbc-test.cloud.databricks.com", "port": 443, "jdbc_url": "jdbc:spark://override",
              "databricks_jdbc_url": "jdbc:databricks://override", "http_path": "/sql/1.0/warehouses/0123456789abcdef",
              "cluster_id": "0123456789abcdef"}
    use_config(world, double.url, test_workspace_detail=detail)
    assert connect(world).ok
    sent = double.calls("connect")[0]["json"]
    assert {k: sent[k] for k in detail} == detail
    assert sent["workspace_url"] == f"http://127.0.0.1:9999/?o={WS_AWS}"


def test_destination_location_is_passed_and_stored(world, double):
    use_config(world, double.url, resources_to_provision=[{"resource_type": "DestLocation"}])
    out = connect(world, destination_location="s3://bucket/landing")
    assert out.ok
    sent = double.calls("connect")[0]["json"]
    assert sent["destination_location"] == "s3://bucket/landing"
    assert "http_path" not in sent and "cluster_id" not in sent
    assert conn_row(world)["destination_location"] == "s3://bucket/landing"


def test_demo_flag_is_sent_and_stored(double_partner, world, double):
    assert connect(world, demo=True).ok
    assert double.calls("connect")[0]["json"]["demo"] is True
    assert conn_row(world)["demo"] == 1


def test_explicit_catalog_is_sent_and_granted(double_partner, world, double):
    assert connect(world, catalog="sales").ok
    assert double.calls("connect")[0]["json"]["catalog_name"] == "sales"
    assert {g["securable_name"] for g in world.store.query(
        "SELECT securable_name FROM grants WHERE securable_type = 'catalog'")} == {"sales"}


def test_gcp_workspace_uses_the_gcp_user_id(double_partner, world, double):
    assert connect(world, workspace_id=WS_GCP).ok
    sent, raw = double.calls("connect")[0]["json"], double.calls("connect")[0]["raw"]
    gcp_id = user_row(world)["gcp_user_id"]
    assert sent["user_info"]["databricks_user_id"] == gcp_id and sent["cloud_provider"] == "gcp"
    assert f'"databricks_organization_id":{WS_GCP}'.encode() in raw  # 2**53 + 1, exact


@pytest.mark.parametrize("setup, call_kw, exc, words", [
    (dict(supported_clouds=["aws"]), dict(workspace_id=WS_GCP), Invalid, ["does not support gcp", "aws"]),
    ({}, dict(user=BOB), Forbidden, [BOB, "not an admin", "NON_ADMIN"]),
    ({}, dict(catalog="nope"), Invalid, ["'nope'", "available: main, sales, hive_metastore"]),
    (dict(supports_demo=False), dict(demo=True), Invalid, ["demo", "supports_demo"]),
    ({}, dict(destination_location="s3://b/p"), Invalid, ["DestLocation"]),
    (dict(resources_to_provision=[{"resource_type": "DestLocation"}]), dict(destination_location="not a uri"),
     Invalid, ["must be a URI", "'not a uri'"]),
    ({}, dict(user="nobody@acme.databricks-test.com"), NotFound, ["nobody@acme.databricks-test.com"]),
])
def test_usage_errors_raise_and_write_nothing(world, double, setup, call_kw, exc, words):
    use_config(world, double.url, **setup)
    with pytest.raises(exc) as info:
        connect(world, **call_kw)
    for word in words:
        assert word in str(info.value)
    expect_counts(world)
    assert world.store.count("tokens") == 0 and double.calls() == [] and world.store.count("exchanges") == 0


def test_unknown_partner_raises_not_found(world):
    with pytest.raises(NotFound, match="no partner named 'Double'"):
        connect(world)


def test_non_admin_may_create_when_partner_lists_non_admin(world, double):
    use_config(world, double.url, supported_features=["NON_ADMIN"])
    out = connect(world, user=BOB)
    assert out.ok and double.calls("connect")[0]["headers"]["Accept-Language"] == "en-US"
    expect_counts(world, **ACTIVE_SQL)


# ---------------------------------------------------------------- 3. established connection: sign-in

def test_second_user_signs_in_through_the_established_connection(established, world, double):
    double.script("connect", ok_sign_in())
    out = connect(world, user=CY)
    assert out.ok and out.kind == "signed_in" and out.established is True
    assert "existing connection (sign_in)" in out.message and out.warnings == []
    [req] = double.calls("connect")
    sent = req["json"]
    assert sent["user_info"]["is_connection_established"] is True
    assert sent["user_info"]["email"] == CY and sent["user_info"]["databricks_user_id"] == user_row(world, CY)[
        "aws_user_id"]
    assert "auth" not in sent["user_info"] and "service_principal_oauth_secret" not in sent
    assert sent["connection_id"] == "conn-123"
    assert sent["service_principal_id"] == world.store.one("SELECT application_id FROM service_principals")[
        "application_id"]
    assert sent["catalog_name"] == "main" and sent["http_path"].startswith("/sql/1.0/warehouses/")
    assert req["headers"]["Accept-Language"] == "en-US"
    assert_signed(world, req)
    expect_counts(world, **ACTIVE_SQL)  # nothing new provisioned, the PAT untouched
    assert world.store.count("tokens") == 1 and conn_row(world)["status"] == "active"


def test_non_admin_can_sign_in(established, world, double):
    double.script("connect", ok_sign_in())
    out = connect(world, user=BOB)
    assert out.ok and out.kind == "signed_in"


@pytest.mark.parametrize("reply, field, words", [
    (ok_sign_in(connection_id="conn-123"), "connection_id", "must not be returned"),
    (Reply(201, ok_sign_in().body), "status", "must answer 200"),
    (ok_sign_in(configured_resources=True), "configured_resources", "must be false"),
])
def test_sign_in_contract_warnings(established, world, double, reply, field, words):
    double.script("connect", reply)
    out = connect(world, user=CY)
    assert out.ok and out.kind == "signed_in"
    assert [w["field"] for w in out.warnings] == [field] and words in out.warnings[0]["rule"]
    assert "Contract warnings" in out.message and words in out.message
    checks = json.loads(exchanges(world)[-1]["checks"])
    assert any(not c["ok"] and c["field"] == field and c["severity"] == "warning" for c in checks)
    assert conn_row(world)["status"] == "active"


# ---------------------------------------------------------------- 4. new connection: failures

ROLLBACK_CASES = {
    "400": (error(400, "bad_request", "Your plan does not cover Databricks"), "rejected",
            ["rejected the request as bad (HTTP 400)", "Your plan does not cover Databricks"]),
    "401": (error(401, "unauthorized", "Bad basic auth"), "rejected",
            ["rejected Databricks' credentials (HTTP 401)", "Bad basic auth"]),
    "404": (error(404, "account_not_found", "No account for ada"), "rejected",
            ["answered 404 account_not_found", "No account for ada"]),
    "403": (error(403, "unauthorized", "Forbidden here"), "rejected",
            ["answered HTTP 403", "Forbidden here", "status: connect may answer only"]),
    "html": (Reply(200, raw="<html>"), "contract_violation", ["body: must be JSON", "<html>"]),
    "array": (Reply(200, [1, 2]), "contract_violation", ["body: must be a JSON object"]),
    "string-bool": (ok_connect(configured_resources="true"), "contract_violation",
                    ["configured_resources: must be a JSON boolean", '"true"']),
    "int-bool": (ok_connect(configured_resources=1), "contract_violation",
                 ["configured_resources: must be a JSON boolean", "got 1"]),
    "null-redirect": (ok_connect(redirect_uri=None), "contract_violation", ["redirect_uri: must not be null"]),
    "enum": (ok_connect(redirect_value="yes"), "contract_violation",
             ["redirect_value: must be one of", '"yes"']),
    "bad-user-status": (ok_connect(user_status="old"), "contract_violation", ["user_status: must be one of"]),
    "missing-field": (ok_connect(account_status=...), "contract_violation", ["account_status: is required"]),
    "no-connection-id": (ok_connect(connection_id=...), "contract_violation",
                         ["connection_id: is required (non-empty) when configured_resources is true"]),
    "empty-connection-id": (ok_connect(connection_id=""), "contract_violation",
                            ["connection_id: is required (non-empty)"]),
    "int-connection-id": (ok_connect(connection_id=123), "contract_violation", ["connection_id: must be a string"]),
}


@pytest.mark.parametrize("case", list(ROLLBACK_CASES))
def test_new_connection_failure_rolls_everything_back(double_partner, world, double, case):
    reply, kind, words = ROLLBACK_CASES[case]
    double.script("connect", reply)
    out = connect(world)
    assert not out.ok and out.kind == kind and out.attempts == 1
    for word in words:
        assert word in out.message
    assert "Databricks removed the resources it had provisioned" in out.message
    if kind == "contract_violation":
        assert out.violations and words[0].split(":")[0] == out.violations[0]["field"]
    assert world.clock.sleeps == []
    expect_counts(world)
    pat = double.calls("connect")[0]["json"]["user_info"]["auth"]["personal_access_token"]
    revoked = world.store.one("SELECT * FROM tokens")
    assert revoked["token_hash"] == sha(pat) and revoked["revoked_at"] is not None
    assert revoked["connection_id"] is None
    [ex] = exchanges(world)
    assert ex["attempt"] == 1
    if out.violations:
        assert any(not c["ok"] for c in json.loads(ex["checks"]))
    assert_no_secret_in_exchanges(world, pat)


def test_configured_resources_false_keeps_nothing(double_partner, world, double):
    double.script("connect", ok_connect(configured_resources=False, redirect_value="purchase_product"))
    out = connect(world)
    assert out.kind == "not_configured" and out.ok  # the user is still sent to the partner
    assert "configured_resources=false" in out.message and "stored no connection" in out.message
    assert out.connection is None and out.redirect_uri == "http://127.0.0.1/welcome"
    expect_counts(world)
    assert world.store.count("tokens", "revoked_at IS NOT NULL") == 1


@pytest.mark.parametrize("first", [Reply(500, {"error_reason": "general_error"}), Reply(503, raw="busy")])
def test_one_server_error_then_success(double_partner, world, double, first):
    double.script("connect", first)
    out = connect(world)
    assert out.ok and out.kind == "connected" and out.attempts == 2 and out.status == 200
    assert world.clock.sleeps == [1.0]
    rows = exchanges(world)
    assert [(r["attempt"], r["status"]) for r in rows] == [(1, first.status), (2, 200)]
    assert out.exchange_ids == [r["id"] for r in rows]
    assert rows[0]["checks"] is None and rows[1]["checks"] is not None  # checks sit on the final attempt
    first_req, second_req = double.calls("connect")
    assert first_req["raw"] == second_req["raw"]  # same body, re-signed
    assert_signed(world, second_req)
    expect_counts(world, **ACTIVE_SQL)


def test_server_errors_exhaust_retries_keep_pending_then_retry_succeeds(double_partner, world, double):
    out = make_pending(world, double)
    assert not out.ok and out.kind == "partner_unavailable" and out.attempts == 4 and out.status == 500
    assert world.clock.sleeps == [1.0, 2.0, 4.0]
    assert "Our database is down" in out.message and "HTTP 500 general_error" in out.message
    assert "resources were kept" in out.message
    assert out.next_step == f"Sign in at {double.url}/signup"
    assert out.connection["status"] == "pending" and out.connection["partner_connection_id"] is None
    assert [r["attempt"] for r in exchanges(world)] == [1, 2, 3, 4]
    expect_counts(world, **ACTIVE_SQL)
    conn = conn_row(world)
    assert conn["status"] == "pending" and "HTTP 500" in conn["status_message"]
    sp_before = world.store.one("SELECT * FROM service_principals")
    old_pat = double.calls("connect")[0]["json"]["user_info"]["auth"]["personal_access_token"]

    retry = connect(world)  # the partner answers OK again (default)
    assert retry.ok and retry.kind == "connected" and retry.attempts == 1
    conn = conn_row(world)
    assert conn["status"] == "active" and conn["partner_connection_id"] == "conn-123"
    assert conn["status_message"] is None
    new_pat = double.calls("connect")[-1]["json"]["user_info"]["auth"]["personal_access_token"]
    assert PAT_RE.match(new_pat) and new_pat != old_pat
    assert world.store.one("SELECT * FROM tokens WHERE revoked_at IS NULL")["token_hash"] == sha(new_pat)
    assert world.store.one("SELECT * FROM tokens WHERE token_hash = ?", (sha(old_pat),))["revoked_at"] is not None
    assert world.store.one("SELECT * FROM service_principals") == sp_before  # same resources, reused
    expect_counts(world, **ACTIVE_SQL)
    assert double.calls("connect")[-1]["json"]["service_principal_id"] == sp_before["application_id"]
    assert_no_secret_in_exchanges(world, old_pat, new_pat)


def test_pending_oauth_m2m_retry_sends_a_fresh_oauth_secret(world, double):
    use_config(world, double.url, auth_options=["AUTH_OAUTH_M2M"])
    make_pending(world, double)
    old = double.calls("connect")[0]["json"]["service_principal_oauth_secret"]
    assert connect(world).ok
    new = double.calls("connect")[-1]["json"].get("service_principal_oauth_secret")
    assert new and OAUTH_RE.match(new) and new != old
    active = world.store.query("SELECT * FROM oauth_secrets WHERE revoked_at IS NULL")
    assert [r["secret_hash"] for r in active] == [sha(new)]
    assert world.store.count("oauth_secrets", "secret_hash = ? AND revoked_at IS NOT NULL", (sha(old),)) == 1


def test_non_admin_cannot_retry_a_pending_connection(double_partner, world, double):
    make_pending(world, double)
    with pytest.raises(Forbidden):
        connect(world, user=BOB)
    assert conn_row(world)["status"] == "pending" and len(double.calls("connect")) == 4


def test_timeout_then_success(double_partner, world, double):
    world.settings.partner_timeout_s = 0.2
    double.script("connect", Reply(200, ok_connect().body, delay_s=0.5))
    out = connect(world)
    assert out.ok and out.kind == "connected" and out.attempts == 2 and world.clock.sleeps == [1.0]
    first, second = exchanges(world)
    assert first["status"] is None and first["error"] == "timeout (no answer within 0.2s)"
    assert (second["attempt"], second["status"]) == (2, 200)
    expect_counts(world, **ACTIVE_SQL)


def test_timeouts_exhaust_retries_and_keep_the_connection_pending(double_partner, world, double):
    world.settings.partner_timeout_s = 0.2
    double.script("connect", *[Reply(200, ok_connect().body, delay_s=0.5)] * 4)
    out = connect(world)
    assert not out.ok and out.kind == "partner_unavailable" and out.attempts == 4 and out.status is None
    assert "timeout (no answer within 0.2s) after 4 attempt(s)" in out.message
    assert world.clock.sleeps == [1.0, 2.0, 4.0]
    assert [r["error"] for r in exchanges(world)] == ["timeout (no answer within 0.2s)"] * 4
    assert conn_row(world)["status"] == "pending"
    expect_counts(world, **ACTIVE_SQL)


def test_refused_connection(world):
    use_config(world, f"http://127.0.0.1:{closed_port()}")
    out = connect(world)
    assert not out.ok and out.kind == "partner_unavailable" and out.attempts == 4 and out.status is None
    assert "connection refused after 4 attempt(s)" in out.message
    assert world.clock.sleeps == [1.0, 2.0, 4.0]
    rows = exchanges(world)
    assert [(r["attempt"], r["status"], r["error"]) for r in rows] == [
        (n, None, "connection refused") for n in (1, 2, 3, 4)]
    assert conn_row(world)["status"] == "pending"
    expect_counts(world, **ACTIVE_SQL)


BLOCKED = [
    "https://evil.example.com/welcome",
    "javascript:alert(1)",
    "data:text/html,x",
    "http://127.0.0.1@evil.example.com/",
    "/welcome",
    "http://app.127.0.0.1/welcome",  # an IP address has no subdomains
    "https://evil.example.com\\.127.0.0.1/",  # browsers end the host at the backslash
    " http://127.0.0.1/welcome",
]


@pytest.mark.parametrize("uri", BLOCKED)
def test_new_connection_redirect_outside_hostnames_is_blocked(double_partner, world, double, uri):
    double.script("connect", ok_connect(redirect_uri=uri))
    out = connect(world, follow_redirect=True)
    assert not out.ok and out.kind == "redirect_blocked"
    assert "The redirect was blocked" in out.message and "allow-list [127.0.0.1]" in out.message
    assert out.redirect["allowed"] is False and out.followed is None
    assert [v["field"] for v in out.violations] == ["redirect_uri"]
    checks = json.loads(exchanges(world)[0]["checks"])
    assert any(not c["ok"] and c["field"] == "redirect_uri" for c in checks)
    # By design the connection stands: the partner configured it; only the redirect is refused.
    assert conn_row(world)["status"] == "active"
    expect_counts(world, **ACTIVE_SQL)


@pytest.mark.parametrize("uri, allowed", [
    ("https://app.partner.test/x", True),
    ("https://PARTNER.test./x", True),
    ("https://notpartner.test/x", False),
    ("https://partner.test.evil.example.com/x", False),
])
def test_redirect_subdomains_of_hostnames(world, double, uri, allowed):
    use_config(world, double.url, hostnames=["127.0.0.1", "partner.test"])
    double.script("connect", ok_connect(redirect_uri=uri))
    out = connect(world)
    assert out.ok is allowed and out.redirect["allowed"] is allowed
    if allowed:
        assert out.kind == "connected" and "partner.test" in out.redirect["host"]
    else:
        assert out.kind == "redirect_blocked" and "allow-list [127.0.0.1, partner.test]" in out.message


# ---------------------------------------------------------------- 5. established connection: failures

def test_connection_not_found_marks_the_connection_stale(established, world, double):
    double.script("connect", error(404, "connection_not_found", "We deleted it"))
    out = connect(world, user=CY)
    assert not out.ok and out.kind == "connection_stale"
    assert "connection_not_found" in out.message and "Delete the connection and create it again" in out.message
    assert out.connection["status"] == "stale"
    conn = conn_row(world)
    assert conn["status"] == "stale" and conn["status_message"] == "partner answered connection_not_found"
    expect_counts(world, **ACTIVE_SQL)  # resources stay until the connection is deleted

    again = connect(world, user=CY)
    assert not again.ok and again.kind == "connection_stale" and "stale" in again.message
    assert len(double.calls("connect")) == 1  # the partner was not called again


@pytest.mark.parametrize("replies, kind, words", [
    ([error(404, "account_not_found", "Cy has no account at Double")], "account_not_found",
     ["Cy has no account at Double", "Contact your admin"]),
    ([error(404, "account_not_found", "")], "account_not_found", ["Double has no account for you. Contact your admin"]),
    ([error(500, "general_error", "Maintenance window")] * 4, "partner_unavailable",
     ["could not sign you in", "HTTP 500 general_error", "Maintenance window"]),
    ([error(401, "unauthorized", "Bad credentials")], "rejected",
     ["rejected Databricks' credentials", "Bad credentials"]),
    ([error(400, "bad_request", "Nope")], "rejected", ["rejected the request as bad (HTTP 400)", "Nope"]),
    ([ok_sign_in(redirect_value="yes")], "contract_violation", ["redirect_value: must be one of"]),
    ([ok_sign_in(redirect_uri="https://evil.example.com/")], "redirect_blocked", ["allow-list [127.0.0.1]"]),
])
def test_sign_in_failures_keep_the_connection_active(established, world, double, replies, kind, words):
    double.script("connect", *replies)
    out = connect(world, user=CY)
    assert not out.ok and out.kind == kind and out.attempts == len(replies)
    for word in words:
        assert word in out.message
    if kind == "partner_unavailable":
        assert world.clock.sleeps == [1.0, 2.0, 4.0] and out.next_step == f"Sign in at {double.url}/signup"
    assert conn_row(world)["status"] == "active"
    expect_counts(world, **ACTIVE_SQL)
    assert [r["attempt"] for r in exchanges(world)][1:] == list(range(1, len(replies) + 1))


# ---------------------------------------------------------------- 6. delete_connection

def test_delete_removes_resources_before_notifying_the_partner(established, world, double):
    seen = {}
    view = double.app.view_functions["delete_connection"]

    def spy():  # runs in the server thread, while Databricks waits for the answer
        seen.update(counts(world))
        return view()
    double.app.view_functions["delete_connection"] = spy
    pat_hash = world.store.one("SELECT token_hash FROM tokens")["token_hash"]

    out = delete(world)
    assert out.ok and out.kind == "deleted" and out.operation == "delete_connection"
    assert "answered resources_deleted" in out.message
    assert out.notification == {"ok": True, "resource_status": "resources_deleted"}
    assert seen == NOTHING  # already gone on the Databricks side when the partner heard of it
    [req] = double.calls("delete_connection")
    assert req["json"] == {"connection_id": "conn-123", "cloud_provider": "aws", "databricks_organization_id": WS_AWS}
    assert f'"databricks_organization_id":{WS_AWS}'.encode() in req["raw"]
    assert req["headers"]["Accept-Language"] == "fr-FR" and req["headers"]["Authorization"] == BASIC
    assert_signed(world, req)
    expect_counts(world)
    token = world.store.one("SELECT * FROM tokens")
    assert token["token_hash"] == pat_hash and token["revoked_at"] is not None and token["connection_id"] is None
    [ex] = exchanges(world, "delete_connection")
    assert (ex["attempt"], ex["status"], ex["method"]) == (1, 200, "POST")


@pytest.mark.parametrize("status", ["resources_pending_deletion", "deletion_acknowledged", "user_unauthorized"])
def test_delete_accepts_every_resource_status(established, world, double, status):
    double.script("delete_connection", Reply(200, {"resource_status": status}))
    out = delete(world)
    assert out.ok and out.kind == "deleted" and f"answered {status}" in out.message
    assert out.notification == {"ok": True, "resource_status": status}
    expect_counts(world)


@pytest.mark.parametrize("replies, ok, kind, words", [
    ([error(404, "connection_not_found")], True, "deleted", ["already removed the connection (404)"]),
    ([error(500, "general_error")] * 4, False, "deleted_partner_not_notified",
     ["Notifying Double failed (HTTP 500 general_error)", "Databricks-side deletion stands"]),
    ([Reply(200, {"resource_status": "gone"})], False, "deleted_partner_not_notified",
     ["resource_status: must be one of"]),
    ([error(401, "unauthorized")], False, "deleted_partner_not_notified", ["HTTP 401 unauthorized"]),
])
def test_delete_partner_answers(established, world, double, replies, ok, kind, words):
    double.script("delete_connection", *replies)
    out = delete(world)
    assert out.ok is ok and out.kind == kind and out.attempts == len(replies)
    assert out.notification["ok"] is ok
    for word in words:
        assert word in out.message
    assert world.clock.sleeps == [1.0, 2.0, 4.0][:len(replies) - 1]
    assert [r["attempt"] for r in exchanges(world, "delete_connection")] == list(range(1, len(replies) + 1))
    expect_counts(world)  # the Databricks-side deletion stands whatever the partner said


def test_delete_pending_connection_does_not_call_the_partner(double_partner, world, double):
    make_pending(world, double)
    out = delete(world)
    assert out.ok and out.kind == "deleted" and "never confirmed a connection id" in out.message
    assert out.notification is None and double.calls("delete_connection") == []
    expect_counts(world)


def test_delete_without_endpoint_does_not_call_the_partner(world, double):
    register_without(world, double.url, "delete_connection_path")
    assert connect(world).ok
    out = delete(world)
    assert out.ok and "no delete-connection endpoint" in out.message and double.calls("delete_connection") == []
    expect_counts(world)


def test_delete_unknown_connection_raises(double_partner, world):
    with pytest.raises(NotFound, match="no connection to 'Double'"):
        delete(world)


def test_delete_stale_connection_then_recreate(established, world, double):
    double.script("connect", error(404, "connection_not_found"))
    assert connect(world, user=CY).kind == "connection_stale"
    old_sp = world.store.one("SELECT application_id FROM service_principals")["application_id"]
    assert delete(world).ok
    expect_counts(world)
    double.script("connect", ok_connect(connection_id="conn-456"))
    out = connect(world)
    assert out.ok and out.kind == "connected"
    conn = conn_row(world)
    assert conn["status"] == "active" and conn["partner_connection_id"] == "conn-456"
    sent = double.calls("connect")[-1]["json"]
    assert sent["user_info"]["is_connection_established"] is False and "connection_id" not in sent
    assert sent["service_principal_id"] != old_sp
    expect_counts(world, **ACTIVE_SQL)
    assert world.store.count("tokens") == 2


# ---------------------------------------------------------------- 7. test hooks

def test_test_connection_by_workspace(established, world, double):
    double.script("test_connection", Reply(200, {"test_results": [
        {"test_name": "warehouse", "status": "PASS"}, {"test_name": "catalog", "status": "FAIL", "message": "x"}]}))
    out = flows.test_connection(world, partner_name="Double", workspace_id=WS_AWS)
    assert out.ok and out.kind == "test_connection" and out.operation == "test_connection"
    assert out.message == "test-connection for conn-123: warehouse=PASS, catalog=FAIL"
    [req] = double.calls("test_connection")
    assert req["json"] == {"connection_id": "conn-123"} and req["method"] == "POST"
    assert req["headers"]["Authorization"] == BASIC
    assert_signed(world, req)
    assert len(exchanges(world, "test_connection")) == 1


def test_test_connection_by_explicit_id_and_failures(double_partner, world, double):
    double.script("test_connection", error(401, "unauthorized", "Who are you?"),
                  Reply(200, {"test_results": [{"test_name": "x", "status": "MAYBE"}]}))
    out = flows.test_connection(world, partner_name="Double", connection_id="conn-9")
    assert not out.ok and out.kind == "failed" and out.message == "Double answered HTTP 401 unauthorized: Who are you?"
    out = flows.test_connection(world, partner_name="Double", connection_id="conn-9")
    assert not out.ok and out.kind == "failed" and "test_results.0.status: must be one of" in out.message
    assert [c["json"] for c in double.calls("test_connection")] == [{"connection_id": "conn-9"}] * 2


def test_test_connection_needs_a_confirmed_connection(double_partner, world, double):
    with pytest.raises(Invalid, match="give a workspace"):
        flows.test_connection(world, partner_name="Double")
    make_pending(world, double)
    with pytest.raises(Invalid, match="no partner connection id yet"):
        flows.test_connection(world, partner_name="Double", workspace_id=WS_AWS)


def test_partner_delete_connection_keeps_the_databricks_side(established, world, double):
    double.script("delete_connection", Reply(200, {"resource_status": "resources_pending_deletion"}))
    out = flows.partner_delete_connection(world, partner_name="Double", workspace_id=WS_AWS)
    assert out.ok and out.kind == "delete_connection"
    assert out.message == "Double deleted connection conn-123: resources_pending_deletion"
    [req] = double.calls("delete_connection")
    assert req["json"] == {"connection_id": "conn-123", "cloud_provider": "aws", "databricks_organization_id": WS_AWS}
    assert conn_row(world)["status"] == "active"
    expect_counts(world, **ACTIVE_SQL)


def test_delete_account_hook(double_partner, world, double):
    out = flows.delete_account(world, partner_name="Double", domain="acme.databricks-test.com", workspace_id=WS_GCP)
    assert out.ok and out.kind == "delete_account" and "acme.databricks-test.com" in out.message
    [req] = double.calls("delete_account")
    assert req["method"] == "DELETE"
    assert req["json"] == {"domain": "acme.databricks-test.com", "cloud_provider": "gcp",
                           "databricks_organization_id": WS_GCP}
    assert f"{WS_GCP}".encode() in req["raw"]
    assert_signed(world, req)
    assert exchanges(world, "delete_account")[0]["method"] == "DELETE"


@pytest.mark.parametrize("reply", [Reply(200, {}), Reply(200, raw="")])
def test_expire_account_hook(double_partner, world, double, reply):
    double.script("expire_account", reply)
    out = flows.expire_account(world, partner_name="Double", email=BOB, workspace_id=WS_AWS)
    assert out.ok and out.kind == "expire_account" and out.message == f"Double expired the account of {BOB}"
    [req] = double.calls("expire_account")
    assert req["method"] == "PUT"
    assert req["json"] == {"email": BOB, "databricks_user_id": user_row(world, BOB)["aws_user_id"],
                           "cloud_provider": "aws", "databricks_organization_id": WS_AWS}
    assert_signed(world, req)


def test_hook_failure_after_retries(double_partner, world, double):
    double.script("delete_account", *[error(500, "general_error", "down")] * 4)
    out = flows.delete_account(world, partner_name="Double", domain="acme.databricks-test.com", workspace_id=WS_AWS)
    assert not out.ok and out.kind == "failed" and out.attempts == 4
    assert out.message == "Double answered HTTP 500 general_error: down"
    assert world.clock.sleeps == [1.0, 2.0, 4.0]


def page(*identifiers, token=None, kind="source") -> Reply:
    body = {"connectors": [{"identifier": i, "name": i.title(), "type": kind} for i in identifiers]}
    if token is not None:
        body["pagination_token"] = token
    return Reply(200, body)


def test_list_connectors_follows_pagination(double_partner, world, double):
    double.script("connectors", page("postgres", "mysql", token="p/2 &x"), page("s3", kind="target"))
    out = flows.list_connectors(world, partner_name="Double")
    assert out.ok and out.kind == "connectors" and out.message == "3 connector(s) on 2 page(s)"
    assert [c["identifier"] for p in out.pages for c in p["connectors"]] == ["postgres", "mysql", "s3"]
    first, second = double.calls("connectors")
    assert first["path"] == "/pc/connectors" and first["raw"] == b"" and first["method"] == "GET"
    assert second["path"] == "/pc/connectors?pagination_token=p%2F2+%26x"
    for req in (first, second):
        assert_signed(world, req)
    assert [r["url"] for r in exchanges(world, "connectors")] == [
        double.url + "/pc/connectors", double.url + "/pc/connectors?pagination_token=p%2F2+%26x"]


@pytest.mark.parametrize("replies, max_pages, ok, words, calls", [
    ([page("a", token="t1"), page("b", token="t1")], None, False, ["returned pagination_token 't1' twice"], 2),
    ([page("a", token="t1"), page("b", token="t2"), page("c", token="t3")], 2, True,
     ["2 connector(s) on 2 page(s)", "stopped after 2 pages; more remain"], 2),
    ([page("a", token="t1"), page("b", kind="both")], None, False, ["connectors.0.type: must be one of", '"both"'], 2),
    ([error(401, "unauthorized", "no")], None, False, ["answered HTTP 401 unauthorized: no"], 1),
])
def test_list_connectors_stops(double_partner, world, double, replies, max_pages, ok, words, calls):
    double.script("connectors", *replies)
    out = flows.list_connectors(world, partner_name="Double", max_pages=max_pages)
    assert out.ok is ok and out.kind == ("connectors" if ok else "failed")
    for word in words:
        assert word in out.message
    assert len(double.calls("connectors")) == calls


@pytest.mark.parametrize("path_key, call", [
    ("test_connection_path", lambda c: flows.test_connection(c, partner_name="Double", connection_id="x")),
    ("delete_connection_path", lambda c: flows.partner_delete_connection(c, partner_name="Double", connection_id="x")),
    ("delete_account_path", lambda c: flows.delete_account(c, partner_name="Double", domain="d.com",
                                                           workspace_id=WS_AWS)),
    ("expire_account_path", lambda c: flows.expire_account(c, partner_name="Double", email=ADA, workspace_id=WS_AWS)),
    ("get_connectors_path", lambda c: flows.list_connectors(c, partner_name="Double")),
])
def test_hook_without_endpoint_raises_invalid(world, double, path_key, call):
    register_without(world, double.url, path_key)
    with pytest.raises(Invalid, match=path_key):
        call(world)
    assert double.calls() == [] and world.store.count("exchanges") == 0


# ---------------------------------------------------------------- 8. uniqueness

def test_database_refuses_a_second_connection_for_the_same_partner_and_workspace(established, world):
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        with world.store.atomic() as db:
            db["connections"].insert({"partner_name": "Double", "workspace_id": WS_AWS, "status": "pending",
                                      "created_at": world.clock.now(), "demo": 0})
    assert world.store.count("connections") == 1


def test_losing_a_connect_race_raises_conflict_and_writes_nothing(established, world, double, monkeypatch):
    before = counts(world), world.store.count("tokens")
    monkeypatch.setattr(flows, "find_connection", lambda *a: None)  # as if the other request had not committed yet
    with pytest.raises(Conflict, match="already exists"):
        connect(world, user=CY)
    assert (counts(world), world.store.count("tokens")) == before
    assert double.calls() == []
