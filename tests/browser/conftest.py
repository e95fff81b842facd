"""Browser tests: Debian's Chromium driven by Playwright against the simulator on a real port.

One browser per session, a new browser context (fresh cookies) per test. A failing test saves a
screenshot of every open tab under ``test-artifacts/screenshots/`` and names the files in the
test's report. Never run ``playwright install``: the tests use ``/usr/bin/chromium``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from simulator import partners
from simulator.httpserver import ServerThread
from simulator.scenarios.example import start_example_partner
from simulator.server import create_app

CHROMIUM = os.environ.get("PCSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
EXAMPLE_CONFIG = ROOT / "fixtures" / "partners" / "example.json"
TIMEOUT_MS = 10_000


def _chromium_or_skip() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path:
        return path
    message = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI installs it (.ci/run): a missing browser there is a failure, not a skip
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    executable = _chromium_or_skip()
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        sync_api.expect.set_options(timeout=TIMEOUT_MS)
        yield browser
        browser.close()


@pytest.fixture
def sim(world):
    """The simulator (pages, control API) on 127.0.0.1, acting on the test's world."""
    server = ServerThread(create_app(world)).start()
    world.settings.public_url = server.url
    world.settings.partner_timeout_s = 10.0  # a busy CI machine runs Chromium too: no timeouts are tested here
    yield server
    server.stop()


@pytest.fixture
def context(browser, sim):
    ctx = browser.new_context(base_url=sim.url, accept_downloads=True, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def example(world, tmp_path):
    """The example partner on a free port, registered with the simulator as "Example Partner"."""
    config = json.loads(EXAMPLE_CONFIG.read_text())
    server = start_example_partner(config, clock=world.clock, db_path=tmp_path / "partner.db")
    partners.register(world, config)
    yield server
    server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, screenshot every tab of the test's browser context and name the files."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    context = item.funcargs.get("context")
    if context is None:
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])
    saved = []
    for index, tab in enumerate(context.pages):
        path = SCREENSHOTS / (f"{stem}.png" if index == 0 else f"{stem}-tab{index + 1}.png")
        try:
            tab.screenshot(path=str(path), full_page=True)
            saved.append(f"{path} ({tab.url})")
        except Exception as exc:  # noqa: BLE001 - a closed tab, a crashed renderer: say so, keep the real failure
            saved.append(f"{path}: not saved ({type(exc).__name__}: {exc})")
    text = "\n".join(saved) or "no open tab to screenshot"
    report.sections.append(("screenshots", text))
    reporter = item.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\nscreenshot(s) of {item.nodeid}:\n{text}")
