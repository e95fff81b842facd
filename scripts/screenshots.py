"""Make the README's screenshots of the browser pages from a seeded demo.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Starts the example partner and the simulator on free ports over a throw-away state file loaded
with the bundled fixtures (plus three made-up partners, one of them breaking the contract, so the gallery has
more than one tile and the exchanges page a failing check),
walks the pages in headless Chromium and writes ``gallery.png``, ``dialog.png``, ``result.png``
and ``exchanges.png``. The clock and ids are fixed, so the pictures only change when the pages do.
"""
from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

from flask import Flask, request
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulator import fixtures, partners
from simulator.clock import ManualClock
from simulator.context import Context
from simulator.httpserver import ServerThread
from simulator.ids import IdGenerator
from simulator.partnerconnect import desktop, flows
from simulator.scenarios.example import start_example_partner
from simulator.server import create_app
from simulator.store import Store

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AWS_WORKSPACE = 7474650313055465  # "Acme Analytics (AWS)" in fixtures/seed.json
ADA, GRACE = "ada@acme.databricks-test.com", "grace@acme.databricks-test.com"


def broken_partner_app() -> Flask:
    """A made-up partner that breaks the contract (``configured_resources`` as a string), so the
    exchanges page has a failing check to show."""
    app = Flask("broken-partner")

    @app.post("/connect")
    def connect():
        return {"redirect_uri": request.host_url + "welcome", "redirect_value": "create_trial",
                "connection_id": "qc-0001", "user_status": "new", "account_status": "new",
                "configured_resources": "true"}
    return app


def extra_partners(example: dict, broken_url: str) -> list[dict]:
    """Made-up partners for a fuller gallery: a desktop tool, an ML partner with a cluster, and a
    data quality partner served by :func:`broken_partner_app`."""
    def variant(**changes):
        config = copy.deepcopy(example)
        config.pop("pcsim", None)
        config.update(changes)
        return config
    return [
        variant(name="Example Desktop BI", category="BI_AND_VIZ", endpoints={}, pcsim={"desktop": True},
                description_blurb="A made-up desktop BI tool: download a connection file and open it."),
        variant(name="Example Quality Checks", category="DATA_QUALITY", base_url=broken_url,
                endpoints={"connect_path": "/connect"}, sign_up_page=broken_url + "/signup",
                description_blurb="A made-up data quality service that answers connect with a string "
                                  "where the contract wants a JSON boolean."),
        variant(name="Example Feature Store", category="ML", resources_to_provision=[{"resource_type": "InteractiveCluster"}],
                object_permissions=[{"name": "Cluster", "level": "CAN_RESTART"}],
                description_blurb="A made-up ML partner that gets an interactive cluster."),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="Directory for the PNG files.")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable.")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        ctx = Context(store=Store(Path(tmp) / "pcsim.db"), clock=clock, ids=IdGenerator(seed=2026))
        fixtures.seed(ctx, ROOT / "fixtures")
        example_config = partners.read_config_file(ROOT / "fixtures" / "partners" / "example.json")
        partner_server = start_example_partner(example_config, clock=clock, db_path=Path(tmp) / "partner.db")
        broken_server = ServerThread(broken_partner_app()).start()
        sim = ServerThread(create_app(ctx)).start()
        try:
            ctx.store.set_meta("public_url", sim.url)
            partners.register(ctx, example_config, replace=True)
            for config in extra_partners(example_config, broken_server.url):
                partners.register(ctx, config)
            desktop.ensure_starter_warehouse(ctx, AWS_WORKSPACE)
            flows.connect(ctx, partner_name="Example Quality Checks", workspace_id=AWS_WORKSPACE, user_email=ADA)
            clock.advance(60)
            shoot(args.chromium, sim.url, out, clock)
        finally:
            sim.stop()
            broken_server.stop()
            partner_server.stop()
            ctx.store.close()
    for name in ("gallery", "dialog", "result", "exchanges"):
        print(out / f"{name}.png")
    return 0


def shoot(chromium: str, base_url: str, out: Path, clock: ManualClock) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, viewport={"width": 1200, "height": 800})
        page = context.new_page()
        page.goto("/whoami")
        page.get_by_role("region", name="Acme Analytics (AWS)").get_by_role("button", name=f"Act as {ADA}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Partner Connect")

        page.get_by_role("link", name="Example Partner The simulator").click()
        page.locator("summary", has_text="Advanced options").click()
        page.get_by_label("Destination location").fill("s3://acme-landing/example-partner")
        page.screenshot(path=str(out / "dialog.png"), full_page=True)

        with context.expect_page() as new_tab:
            page.get_by_role("button", name="Connect to Example Partner").click()
        expect(new_tab.value.get_by_role("heading", level=1)).to_be_visible()
        new_tab.value.close()
        page.get_by_role("button", name="Reveal").click()
        page.screenshot(path=str(out / "result.png"), full_page=True)

        clock.advance(300)
        page.get_by_text("Switch user or workspace").click()
        page.get_by_role("group", name=str(AWS_WORKSPACE)).get_by_role("button", name=GRACE).click()
        page.get_by_role("link", name="Example Partner The simulator").click()
        with context.expect_page() as new_tab:
            page.get_by_role("button", name="Connect to Example Partner").click()
        new_tab.value.close()

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Partner Connect").click()
        page.screenshot(path=str(out / "gallery.png"), full_page=True)

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Exchanges").click()
        failing = page.locator("details.exchange-bad").first
        failing.locator("summary").click()
        page.screenshot(path=str(out / "exchanges.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
