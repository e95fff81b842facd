"""Partner Connect in the browser: what a Databricks user sees and clicks, and what the state file
holds afterwards. The example partner plays the well-behaved partner; the programmable double
plays the misbehaving ones."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from simulator import partners
from simulator.partnerconnect import desktop, flows

from ..conftest import WS_AWS, WS_GCP
from ..partner_double import config as double_config
from ..partner_double import error, ok_connect

expect = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs playwright").expect

ADA, BOB, CY = "ada@acme.databricks-test.com", "bob@acme.databricks-test.com", "cy@acme.databricks-test.com"


def act_as(page, workspace_id: int, email: str) -> None:
    """Who am I: one click on the user's button in the workspace's section."""
    page.goto("/whoami")
    page.get_by_role("region", name=f"workspace-{workspace_id}").get_by_role("button", name=f"Act as {email}").click()
    identity = page.get_by_test_id("identity")
    expect(identity.locator("[data-user]")).to_have_text(email)
    expect(identity.locator("[data-workspace-id]")).to_have_attribute("data-workspace-id", str(workspace_id))


def open_tile(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Partner Connect").click()
    page.get_by_role("link", name=re.compile(f"^{re.escape(name)}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def connect_on_tile(page, name: str) -> None:
    """Open the tile's dialog and press "Connect to <name>" (for outcomes that open no new tab)."""
    open_tile(page, name)
    page.get_by_role("button", name=f"Connect to {name}").click()


def tile(page, name: str):
    return page.locator(f'li.tile[data-partner="{name}"]')


def connect_example(ctx, user=ADA, workspace=WS_AWS):
    out = flows.connect(ctx, partner_name="Example Partner", workspace_id=workspace, user_email=user)
    assert out.ok, out.message
    return out


# ---------------------------------------------------------------- the happy paths

def test_new_connection_lands_on_partner_page_in_new_tab(page, context, world, example):
    act_as(page, WS_GCP, ADA)  # 9007199254740993: one more than 2**53, so any float on the way would show
    expect(page.get_by_test_id("identity")).to_contain_text("9007199254740993")
    page.get_by_label("Search partners by name").fill("exam")
    page.get_by_label("Search partners by name").press("Enter")
    ingest = page.get_by_role("region", name="Data Ingestion")
    expect(ingest.get_by_role("link", name=re.compile("^Example Partner"))).to_contain_text("tiny ingestion service")
    ingest.get_by_role("link", name=re.compile("^Example Partner")).click()

    plan = page.get_by_test_id("plan")
    expect(plan).to_contain_text("Example Partner service principal (Partner Connect)")
    expect(plan).to_contain_text("Personal access token (PAT)")
    expect(plan).to_contain_text("Example Partner Endpoint (Small, PRO)")
    expect(plan).to_contain_text("USE_CATALOG on catalog main")
    page.get_by_label("Catalog").select_option("hive_metastore")
    expect(plan).to_contain_text("USE_CATALOG on catalog hive_metastore")
    page.locator("summary", has_text="Advanced options").click()
    page.get_by_label("Destination location").fill("s3://acme-landing/example")

    with context.expect_page() as new_tab:
        page.get_by_role("button", name="Connect to Example Partner").click()
    tab = new_tab.value
    expect(tab.get_by_role("heading", level=1)).to_have_text("Your free trial is ready")
    expect(tab.locator("body")).to_contain_text("9007199254740993")

    expect(page.get_by_test_id("outcome")).to_contain_text("Connected to Example Partner")
    expect(page.locator("body")).to_have_attribute("data-redirect-state", "opened")
    masked, full = page.get_by_test_id("pat-masked"), page.get_by_test_id("pat-full")
    expect(masked).to_have_text(re.compile(r"^dapi[0-9a-f]{4}…$"))
    expect(full).to_be_hidden()
    page.get_by_role("button", name="Reveal").click()
    expect(full).to_have_text(re.compile(r"^dapi[0-9a-f]{32}$"))
    expect(masked).to_be_hidden()
    pat = full.inner_text()

    conn = world.store.one("SELECT * FROM connections")
    assert world.store.count("connections") == 1
    assert (conn["status"], conn["workspace_id"], conn["catalog_name"], conn["destination_location"]) == \
        ("active", WS_GCP, "hive_metastore", "s3://acme-landing/example")
    assert world.store.count("tokens", "token_hash = ? AND connection_id = ? AND revoked_at IS NULL",
                             (hashlib.sha256(pat.encode()).hexdigest(), conn["id"])) == 1
    assert world.store.count("grants", "securable_type = 'catalog' AND securable_name = 'hive_metastore'") == 5
    assert pat not in json.dumps(world.store.query("SELECT * FROM exchanges"))  # the log keeps it masked

    page.get_by_role("link", name="Back to Example Partner").click()
    expect(page.get_by_test_id("partner-connection-id")).to_have_text(conn["partner_connection_id"])
    expect(page.get_by_test_id("pat-masked")).to_have_text(pat[:8] + "…")
    expect(page.get_by_test_id("created-by")).to_have_text(ADA)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Partner Connect").click()
    expect(tile(page, "Example Partner").get_by_test_id("connected")).to_have_text("✓ Connected")


def test_second_user_signs_in_on_connected_tile(page, context, world, example):
    first = connect_example(world, ADA)
    tokens_before = world.store.count("tokens")
    act_as(page, WS_AWS, BOB)
    expect(page.get_by_test_id("identity")).to_contain_text("not an admin")
    expect(tile(page, "Example Partner").get_by_test_id("connected")).to_be_visible()
    open_tile(page, "Example Partner")
    details = page.get_by_test_id("connection-details")
    expect(details.get_by_test_id("partner-connection-id")).to_have_text(first.response["connection_id"])
    expect(details.get_by_test_id("created-by")).to_have_text(ADA)
    expect(details).to_contain_text("Example Partner Endpoint")
    expect(details).to_contain_text("Example Partner service principal (Partner Connect)")

    with context.expect_page() as new_tab:
        page.get_by_role("button", name="Connect to Example Partner").click()
    tab = new_tab.value
    expect(tab.locator("body")).to_contain_text(BOB)
    expect(page.get_by_test_id("outcome")).to_contain_text(
        "Signed in to Example Partner through the existing connection")
    expect(page.get_by_test_id("pat-full")).to_have_count(0)  # nothing minted, nothing to reveal

    assert world.store.count("connections") == 1
    assert world.store.count("tokens") == tokens_before  # a sign-in provisions nothing
    last = world.store.one("SELECT request_body FROM exchanges ORDER BY id DESC LIMIT 1")
    sent = json.loads(last["request_body"])
    assert sent["user_info"]["email"] == BOB and sent["user_info"]["is_connection_established"] is True
    assert sent["connection_id"] == first.response["connection_id"]


def switch_to(page, workspace_id: int, email: str) -> None:
    """The header's menu: one button per member of each workspace."""
    page.get_by_text("Switch user or workspace").click()
    page.get_by_role("group", name=str(workspace_id)).get_by_role("button", name=email).click()


def test_header_switches_identity(page, world, example):
    act_as(page, WS_AWS, ADA)
    open_tile(page, "Example Partner")
    switch_to(page, WS_AWS, BOB)
    identity = page.get_by_test_id("identity")
    expect(identity.locator("[data-user]")).to_have_text(BOB)
    expect(identity).to_contain_text("not an admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner Connect")  # back to the gallery
    switch_to(page, WS_GCP, ADA)
    expect(identity.locator("[data-workspace-id]")).to_have_attribute("data-workspace-id", str(WS_GCP))
    page.get_by_text("Switch user or workspace").focus()  # the menu works from the keyboard
    page.keyboard.press("Enter")
    expect(page.get_by_role("group", name=str(WS_AWS)).get_by_role("button", name=CY)).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("group", name=str(WS_AWS))).to_be_hidden()
    assert world.store.count("memberships", "workspace_id = ? AND is_admin = 0 AND user_id = "
                             "(SELECT id FROM users WHERE email = ?)", (WS_AWS, BOB)) == 1  # as the header said


def test_delete_connection_then_create_it_again(page, context, world, example):
    first = connect_example(world, ADA)
    act_as(page, WS_AWS, ADA)
    open_tile(page, "Example Partner")
    page.get_by_role("link", name="Delete connection").click()
    expect(page.get_by_role("alert")).to_contain_text("This cannot be undone")
    page.get_by_role("button", name="Delete connection").click()
    expect(page.get_by_test_id("outcome")).to_contain_text(
        f"Deleted the connection to Example Partner in workspace {WS_AWS}")
    expect(page.get_by_test_id("notification")).to_contain_text("resources_deleted")

    assert world.store.count("connections") == 0
    for table in ("service_principals", "warehouses", "grants"):
        assert world.store.count(table) == 0, table
    assert world.store.count("tokens", "revoked_at IS NULL") == 0
    assert world.store.count("exchanges", "operation = 'delete_connection' AND status = 200") == 1

    page.get_by_role("link", name="Back to Example Partner").click()
    expect(page.get_by_test_id("plan")).to_be_visible()
    with context.expect_page() as new_tab:
        page.get_by_role("button", name="Connect to Example Partner").click()
    expect(page.get_by_test_id("outcome")).to_contain_text("Connected to Example Partner")
    conn = world.store.one("SELECT * FROM connections")
    assert conn["status"] == "active" and conn["partner_connection_id"] != first.response["connection_id"]
    tab = new_tab.value
    expect(tab).to_have_url(re.compile(re.escape(f"connection_id={conn['partner_connection_id']}")))


def test_non_admin_is_told_why_they_cannot_create_a_connection(page, world, example):
    act_as(page, WS_AWS, BOB)
    connect_on_tile(page, "Example Partner")
    expect(page.get_by_role("alert")).to_contain_text(
        f"{BOB} is not an admin of workspace {WS_AWS}; only admins can create a connection to Example Partner")
    expect(page.get_by_test_id("plan")).to_be_visible()  # still on step 1, nothing lost
    assert world.store.count("connections") == 0 and world.store.count("exchanges") == 0


# ---------------------------------------------------------------- partners that fail

def test_partner_404_connection_not_found_on_sign_in(page, context, world, double, double_partner):
    flows.connect(world, partner_name="Double", workspace_id=WS_AWS, user_email=ADA)
    double.script("connect", error(404, "connection_not_found", "We have no record of this connection"))
    act_as(page, WS_AWS, BOB)
    connect_on_tile(page, "Double")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Double no longer knows this connection (connection_not_found)")
    expect(alert).to_contain_text("Delete the connection and create it again")
    expect(page.get_by_test_id("partner-says")).to_contain_text("We have no record of this connection")
    expect(page.locator("body")).to_have_attribute("data-redirect-state", "none")
    assert len(context.pages) == 1

    assert world.store.one("SELECT status FROM connections")["status"] == "stale"
    assert double.calls("connect")[-1]["json"]["user_info"]["is_connection_established"] is True
    page.get_by_role("link", name="Partner Connect").first.click()
    expect(tile(page, "Double")).to_contain_text("Stale connection")


def test_partner_500_until_retries_are_exhausted(page, world, double, double_partner):
    double.script("connect", *[error(500, "general_error", "Double is down for maintenance")] * 4)
    act_as(page, WS_AWS, ADA)
    connect_on_tile(page, "Double")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Double did not complete the connection (HTTP 500 general_error)")
    expect(alert).to_contain_text("Double is down for maintenance")
    expect(alert).to_contain_text("The provisioned resources were kept")
    sign_up = page.get_by_test_id("next-step").get_by_role("link")
    expect(sign_up).to_have_attribute("href", double.url + "/signup")
    expect(page.get_by_text("HTTP 500 after 4 attempts")).to_be_visible()

    assert world.clock.sleeps == [1.0, 2.0, 4.0]  # the back-off, instant on the manual clock
    assert world.store.count("exchanges", "operation = 'connect' AND status = 500") == 4
    assert world.store.one("SELECT status FROM connections")["status"] == "pending"
    assert world.store.count("service_principals") == 1 and world.store.count("tokens", "revoked_at IS NULL") == 1
    page.get_by_role("link", name="Back to Double").click()
    expect(page.get_by_role("status")).to_contain_text("Pending:")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exchanges").click()
    attempts = page.locator("details.exchange summary")
    expect(attempts).to_have_count(4)
    expect(attempts.first).to_contain_text("attempt 4")  # newest first
    expect(attempts.first).to_contain_text("“general_error: Double is down for maintenance”")
    expect(attempts.last).to_contain_text("attempt 1")


def test_redirect_outside_allow_list_is_blocked(page, context, world, double, double_partner):
    double.script("connect", ok_connect(redirect_uri="https://evil.example.com/welcome"))
    act_as(page, WS_AWS, ADA)
    connect_on_tile(page, "Double")
    expect(page.get_by_role("alert")).to_contain_text(
        "The redirect was blocked: redirect host evil.example.com is not in the partner's hostnames "
        "allow-list [127.0.0.1]")
    expect(page.get_by_test_id("redirect-blocked")).to_contain_text("https://evil.example.com/welcome")
    expect(page.locator("body")).to_have_attribute("data-redirect-state", "none")
    expect(page.get_by_role("link", name="Open Double")).to_have_count(0)
    assert len(context.pages) == 1

    checks = json.loads(world.store.one("SELECT checks FROM exchanges")["checks"])
    assert any(not c["ok"] and c["field"] == "redirect_uri" for c in checks)
    assert world.store.one("SELECT status FROM connections")["status"] == "active"  # the partner did connect


def test_exchanges_page_shows_the_failing_check(page, world, double, double_partner):
    double.script("connect", ok_connect(configured_resources="true"))
    act_as(page, WS_AWS, ADA)
    connect_on_tile(page, "Double")
    expect(page.get_by_role("alert")).to_contain_text(
        'Double broke the contract: configured_resources: must be a JSON boolean (true/false) (got "true")')

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exchanges").click()
    page.get_by_label("Partner").select_option("Double")
    page.get_by_label("Workspace").select_option(str(WS_AWS))
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(f"workspace={WS_AWS}"))
    entry = page.locator("details.exchange")
    expect(entry).to_have_count(1)
    summary = entry.locator("summary")
    expect(summary).to_contain_text("1 check failed")
    expect(summary).to_contain_text('FAIL configured_resources: must be a JSON boolean (true/false) (got "true")')
    summary.click()
    expect(entry.get_by_test_id("request-body")).to_contain_text('"is_connection_established": false')
    expect(entry.get_by_test_id("request-body")).to_contain_text(re.compile(r'"personal_access_token": "dapi[0-9a-f]{4}…"'))
    expect(entry.get_by_test_id("response-body")).to_contain_text('"configured_resources": "true"')
    expect(entry).to_contain_text("PASS status 200 is allowed for connect")
    expect(entry).to_contain_text("Basic ****")

    row = world.store.one("SELECT * FROM exchanges")
    assert world.store.count("exchanges") == 1
    assert {"ok": False, "field": "configured_resources"}.items() <= json.loads(row["checks"])[-1].items()
    assert world.store.count("connections") == 0 and world.store.count("service_principals") == 0  # rolled back

    page.get_by_label("Workspace").select_option(str(WS_GCP))
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("status")).to_contain_text("No exchanges yet for this filter")


# ---------------------------------------------------------------- desktop partners

def test_desktop_partner_offers_a_connection_file(page, world, sim):
    partners.register(world, double_config("http://127.0.0.1:9", name="Desk BI", category="BI_AND_VIZ",
                                           description_blurb="A desktop BI tool.", endpoints={},
                                           pcsim={"desktop": True}))
    act_as(page, WS_AWS, ADA)
    bi = page.get_by_role("region", name="BI and Visualization")
    expect(bi.locator('li.tile[data-partner="Desk BI"]')).to_contain_text("desktop")
    open_tile(page, "Desk BI")
    expect(page.get_by_role("status")).to_contain_text("no SQL warehouse or cluster")
    page.get_by_role("button", name="Create a Starter Warehouse").click()
    warehouse = world.store.one("SELECT * FROM warehouses")
    expect(page.get_by_label("SQL warehouse or cluster")).to_contain_text("Starter Warehouse")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download connection file").click()
    download = download_info.value
    assert download.suggested_filename == f"desk-bi-{WS_AWS}-{warehouse['id']}.json"
    text = Path(download.path()).read_text()
    data = json.loads(text)
    assert data["workspace_id"] == WS_AWS and data["partner"] == "Desk BI"
    assert (data["hostname"], data["port"]) == ("127.0.0.1", sim.port)
    assert data["http_path"] == f"/sql/1.0/warehouses/{warehouse['id']}"
    assert f"httpPath=/sql/1.0/warehouses/{warehouse['id']}" in data["jdbc_url"]
    assert "dapi" not in text and "dose" not in text

    assert world.store.count("warehouses", "name = ? AND connection_id IS NULL", (desktop.STARTER_WAREHOUSE,)) == 1
    assert world.store.count("connections") == 0 and world.store.count("exchanges") == 0
