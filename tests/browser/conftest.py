"""Browser tests: the app served on a random localhost port, driven by Playwright in
Debian's ``chromium`` (``/usr/bin/chromium``, installed by ``tools/system-packages.sh``;
Playwright's own browser downloads are never used).

A missing chromium or Playwright fails the tests with the command to fix it — nothing is
skipped silently.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("EDU_GUARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    """Every test in this folder carries the ``browser`` mark (``pytest -m browser``)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session (Playwright's sync API)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a set-up fault, said plainly
        pytest.fail("Playwright is not installed: run `make setup` (it installs the test extra)", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` as root or `apt-get install chromium`", pytrace=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test ``app`` (fresh database) served by werkzeug in a thread on a random port;
    returns its base URL (``http://127.0.0.1:<port>``). Stopped after the test."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (own cookies) at desktop size; ``page.base`` is the server URL."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A fresh browser page 390 px wide, as a teacher's phone."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=live_server)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def sign_in():
    """``sign_in(page, username, password="pw")``: fill the login form and wait for home."""

    def do(pg, username: str, password: str = "pw"):
        pg.goto("/login")
        pg.fill("input[name=username]", username)
        pg.fill("input[name=password]", password)
        pg.click("button[type=submit]")
        pg.wait_for_load_state()
        assert "/login" not in pg.url, pg.inner_text("main")

    return do
