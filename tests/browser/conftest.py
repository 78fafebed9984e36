"""End-to-end fixtures: the real app served over HTTP on a loopback port, and Debian's Chromium
driven by Playwright.

    live_server   the app served on 127.0.0.1 (.url, .app, .world): temporary SQLite, CSRF on
    browser       one headless Chromium for the module; each actor opens its own context
    actor(name)   a new context + page for world.<name>, signed in through the /login page,
                  collecting console errors and uncaught page errors in page.js_errors
    forget_http_error(page, status, path)
                  drop the console's "Failed to load resource" line of one error page the
                  test asked for on purpose (a 422 form, a 404), keeping every other error

Chromium missing is a failure, not a skip: the set-up script installs it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, World
from tests.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 60_000  # generous: a submission page waits for its PDF preview to render


class LiveServer:
    def __init__(self, app, world: World, url: str):
        self.app, self.world, self.url = app, world, url


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    from service import create_app
    from storage.migrate import upgrade

    base = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{base / 'live.sqlite3'}"
    upgrade(url)
    # CSRF stays on: the browser posts the tokens the pages carry.
    app = create_app({"TESTING": True, "DATA_DIR": str(base), "DATABASE_URL": url,
                      "SECRET_KEY": "browser-test", "PASSWORD_HASH_FAST": True})
    world = World(app)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, world, f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["jxdoc.db"].dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run the set-up script (it installs Debian's chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def actor(browser, live_server):
    """actor("clerk_a") → a signed-in page of its own browser context."""
    contexts = []

    def open_as(who: str):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", accept_downloads=True,
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("console", lambda m: m.type == "error" and page.js_errors.append(
            {"text": m.text, "url": m.location.get("url", "")}))
        page.on("pageerror", lambda exc: page.js_errors.append({"text": f"uncaught: {exc}", "url": page.url}))
        sign_in(page, who)
        return page

    yield open_as
    for context in contexts:
        context.close()


def sign_in(page, who: str) -> None:
    """Through the login page, as a person would: type the name and the password, press 登录."""
    page.goto("/login")
    assert "登录" in page.inner_text("h1")
    page.locator("#username").type(who)
    page.locator("#password").type(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert "/login" not in page.url, page.inner_text("main")
    assert who in page.inner_text("header .who")


def forget_http_error(page, status: int, path: str) -> None:
    """Chromium logs an error page (422, 404) as a console error; forget the one expected."""
    for i, error in enumerate(page.js_errors):
        if f"status of {status}" in error["text"] and error["url"].endswith(path):
            del page.js_errors[i]
            return
    raise AssertionError(f"no {status} for {path} among {page.js_errors}")
