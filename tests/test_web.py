"""The browser pages through Flask's test client (no browser): which tiles a workspace shows,
identity handling, exact 64-bit ids, and usage errors shown as messages, never stack traces.
The clicking itself is tested in tests/browser/."""
from __future__ import annotations

import re
from html import unescape

import pytest

from simulator import partners, web
from simulator.partnerconnect import flows
from simulator.server import create_app

from . import partner_double
from .conftest import WS_AWS, WS_GCP

ADA, BOB = "ada@acme.databricks-test.com", "bob@acme.databricks-test.com"


@pytest.fixture
def client(world):
    return create_app(world).test_client()


def act_as(client, workspace_id, email):
    resp = client.post("/whoami", data={"identity": f"{workspace_id}:{email}"})
    assert resp.status_code == 302, resp.get_data(as_text=True)


def tile_names(html: str) -> list[str]:
    return re.findall(r'data-partner="([^"]+)"', html)


def register(world, name, **overrides):
    partners.register(world, partner_double.config("http://127.0.0.1:9", name=name, **overrides))


def test_pages_need_an_identity_first(client):
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/whoami")
    resp = client.get("/partnerconnect/Double")
    assert resp.status_code == 302 and "/whoami?next=/partnerconnect/Double" in resp.headers["Location"]
    resp = client.post("/partnerconnect/Double/connect")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/whoami?next=/")


def test_json_index_moved_under_control_namespace(client):
    assert client.get("/-/").json["health"] == "/-/health"


def test_secret_key_is_kept_per_state_file(world):
    first = create_app(world).secret_key
    assert first and world.store.get_meta(web.SECRET_META_KEY) == first
    assert create_app(world).secret_key == first  # a restart keeps sessions valid


def test_gallery_hides_other_clouds_and_other_workspaces_self_test_partners(world, client):
    register(world, "Everywhere")
    register(world, "Gcp Only", supported_clouds=["gcp"], category="ML")
    partners.register(world, partner_double.config("http://127.0.0.1:9", name="Own Test"),
                      self_test_workspace_id=WS_AWS)
    act_as(client, WS_AWS, ADA)
    html = client.get("/").get_data(as_text=True)
    assert tile_names(html) == ["Everywhere", "Own Test"]
    assert "1 partner not shown: it does not support aws" in html
    own = html[html.index('data-partner="Own Test"'):]
    assert "self-test" in own[:own.index("</li>")]
    assert client.get("/partnerconnect/Gcp Only").status_code == 404

    act_as(client, WS_GCP, ADA)
    html = client.get("/").get_data(as_text=True)
    assert tile_names(html) == ["Everywhere", "Gcp Only"]
    assert "does not support" not in html


def test_gallery_groups_by_category_and_searches_by_name(world, client):
    register(world, "Alpha Ingest")
    register(world, "Beta Viz", category="BI_AND_VIZ")
    act_as(client, WS_AWS, ADA)
    html = client.get("/").get_data(as_text=True)
    assert html.index("Data Ingestion") < html.index("Alpha Ingest") < html.index("BI and Visualization") \
        < html.index("Beta Viz")
    assert tile_names(client.get("/?q=beta").get_data(as_text=True)) == ["Beta Viz"]
    assert "No partner matches “zzz”" in client.get("/?q=zzz").get_data(as_text=True)


def test_connected_tile_is_marked(world, double, double_partner, client):
    flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    act_as(client, WS_AWS, BOB)
    html = client.get("/").get_data(as_text=True)
    assert "✓ Connected" in html
    page = client.get("/partnerconnect/Double").get_data(as_text=True)
    assert "conn-123" in page and ADA in page and re.search(r"dapi[0-9a-f]{4}…", page)


def test_ids_beyond_2_53_stay_exact(client):
    act_as(client, WS_GCP, ADA)  # 9007199254740993 would become ...992 as a float
    html = client.get("/").get_data(as_text=True)
    assert "9007199254740993" in html and "9007199254740992" not in html
    assert f'value="{WS_GCP}:{ADA}" aria-current="true"' in html


def test_question_mark_o_switches_workspace_for_a_member(client):
    act_as(client, WS_AWS, ADA)
    resp = client.get(f"/?o={WS_GCP}")
    assert resp.status_code == 302
    header = client.get("/").get_data(as_text=True).split("</header>")[0]
    assert f'data-workspace-id="{WS_GCP}"' in header  # acting in it (the switcher lists every workspace)
    assert f'value="{WS_GCP}:{ADA}" aria-current="true"' in header


@pytest.mark.parametrize("identity, message", [
    ("garbage", "choose a workspace and a user"),
    (f"{WS_GCP}:bob@acme.databricks-test.com", "is not a member of workspace 9007199254740993"),
    ("123:ada@acme.databricks-test.com", "no workspace with id 123"),
])
def test_bad_identity_is_a_message(client, identity, message):
    resp = client.post("/whoami", data={"identity": identity})
    html = resp.get_data(as_text=True)
    assert resp.status_code in (400, 404) and message in html and 'role="alert"' in html


@pytest.mark.parametrize("form, message", [
    ({"catalog": "nope"}, "catalog 'nope' does not exist in workspace"),
    ({"destination_location": "s3://bucket/x"}, "does not take a destination location"),
])
def test_bad_connect_form_is_a_message_on_the_dialog(world, double_partner, client, form, message):
    act_as(client, WS_AWS, ADA)
    resp = client.post("/partnerconnect/Double/connect", data=form)
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 400 and message in html and 'role="alert"' in html
    assert 'data-testid="plan"' in html and "Traceback" not in html
    assert world.store.count("connections") == 0


def test_unknown_partner_and_exchange_are_messages(client):
    act_as(client, WS_AWS, ADA)
    resp = client.get("/partnerconnect/Nope")
    assert resp.status_code == 404 and "no partner named &#39;Nope&#39;" in resp.get_data(as_text=True)
    assert "no exchange with id 99" in client.get("/exchanges/99").get_data(as_text=True)


def test_exchanges_bad_filter_is_a_message(client):
    html = client.get("/exchanges?workspace=abc").get_data(as_text=True)
    assert "workspace and last must be whole numbers" in html and 'role="alert"' in html


def test_delete_without_connection_is_a_message(double_partner, client):
    act_as(client, WS_AWS, ADA)
    resp = client.get("/partnerconnect/Double/delete")
    assert resp.status_code == 404 and "there is no connection to Double" in resp.get_data(as_text=True)


def test_result_page_is_not_cached_and_pat_stays_out_of_the_store(world, double, double_partner, client):
    act_as(client, WS_AWS, ADA)
    resp = client.post("/partnerconnect/Double/connect", data={"catalog": "sales"})
    html = resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    pat = re.search(r'data-testid="pat-full" data-secret-full hidden>(dapi[0-9a-f]{32})<', html).group(1)
    assert double.calls("connect")[0]["json"]["user_info"]["auth"]["personal_access_token"] == pat
    dump = "\n".join(str(r) for t in ("exchanges", "tokens", "connections", "meta")
                     for r in world.store.query(f"SELECT * FROM {t}"))
    assert pat not in dump


def test_no_reveal_when_the_connect_was_rolled_back(world, double, double_partner, client):
    double.script("connect", partner_double.error(401, "unauthorized", "Bad credentials"))
    act_as(client, WS_AWS, ADA)
    html = client.post("/partnerconnect/Double/connect").get_data(as_text=True)
    assert "Double rejected Databricks&#39; credentials (HTTP 401) (Bad credentials)" in html
    assert "pat-full" not in html and 'role="alert"' in html


def test_only_admins_delete_a_connection(world, double, double_partner, client):
    flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    act_as(client, WS_AWS, "bob@acme.databricks-test.com")
    resp = client.post("/partnerconnect/Double/delete")
    assert resp.status_code == 403 and "only admins can delete" in resp.get_data(as_text=True)
    assert world.store.count("connections", "status = 'active'") == 1 and double.calls("delete_connection") == []
    act_as(client, WS_AWS, ADA)
    assert "resources_deleted" in client.post("/partnerconnect/Double/delete").get_data(as_text=True)
    assert world.store.count("connections") == 0


BIG = 2**63  # one more than SQLite's INTEGER holds


def test_ids_beyond_64_bits_are_messages_not_crashes(client):
    resp = client.post("/whoami", data={"identity": f"{BIG}:{ADA}"})
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 400 and "workspace ids are positive 64-bit integers" in html and 'role="alert"' in html
    act_as(client, WS_AWS, ADA)
    resp = client.get(f"/?o={BIG}")  # not a workspace of hers: choose again, as for any other id
    assert resp.status_code == 302 and "/whoami" in resp.headers["Location"]
    html = client.get(f"/exchanges?workspace={BIG}").get_data(as_text=True)
    assert f"workspace ids are positive 64-bit integers (at most {BIG - 1}), got {BIG}" in html
    assert 'role="alert"' in html
    resp = client.get(f"/exchanges/{BIG}")
    assert resp.status_code == 404 and f"no exchange with id {BIG}" in resp.get_data(as_text=True)


def test_an_unchecked_overflow_is_a_page_message(client, monkeypatch):
    from simulator import exchanges

    def overflow(*args, **kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")
    monkeypatch.setattr(exchanges, "get", overflow)
    resp = client.get("/exchanges/1")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "out of range: ids are 64-bit integers" in html and 'role="alert"' in html
    assert "Traceback" not in html
