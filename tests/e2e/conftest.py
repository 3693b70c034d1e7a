"""Browser tests: Debian's chromium driven by Playwright against uvicorn on a free port, with a database
of their own (a browser cannot see a rolled-back transaction) loaded with the demo data."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import own_migrated_database

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
# the flags Chromium needs on these machines: no sandbox as root, no calls home on a closed network
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Module scope throughout: Playwright's sync API keeps an event loop running while it is open, and the
# asyncio tests that run after this module need the thread's loop free again.
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on 127.0.0.1:<free port>, migrated and loaded with the demo data."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    database = own_migrated_database("e2e")
    database_url = next(database)
    port = _free_port()
    env = {
        **os.environ,
        "STUDIO_MATCH_DATABASE_URL": database_url,
        "STUDIO_MATCH_MATCHER_PATH": str(tmp_path_factory.mktemp("index") / "matcher.joblib"),
        "STUDIO_MATCH_LOG_FORMAT": "text",
        "STUDIO_MATCH_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    subprocess.run([sys.executable, "-m", "app", "demo"], env=env, check=True, capture_output=True)
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the server did not start: {log.name}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        next(database, None)  # drops the database


@pytest.fixture(scope="module")
def playwright_instance(server: str) -> Iterator[Playwright]:
    # after the server: Playwright's sync API keeps an event loop running, and the database set-up
    # (asyncio.run) must happen before it starts
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class OutsideRequests(list[str]):
    """Every request a page made to a host other than 127.0.0.1 (there must be none)."""


@pytest.fixture
def outside_requests() -> OutsideRequests:
    return OutsideRequests()


@pytest.fixture
def new_context(server: str, browser: Browser, outside_requests: OutsideRequests) -> Iterator[object]:
    """Make browser contexts (one per person) whose pages record any request leaving 127.0.0.1."""
    contexts: list[BrowserContext] = []

    def make(width: int = 1280, height: int = 900) -> BrowserContext:
        context = browser.new_context(
            base_url=server,
            viewport={"width": width, "height": height},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)

        def watch(route: object, request: object) -> None:
            host = urlparse(request.url).hostname  # type: ignore[attr-defined]
            if host != "127.0.0.1":
                outside_requests.append(request.url)  # type: ignore[attr-defined]
                route.abort()  # type: ignore[attr-defined]
            else:
                route.continue_()  # type: ignore[attr-defined]

        context.route("**/*", watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def log_in(page: Page, username: str, password: str = "demo-2026-public") -> None:
    """Log in through the login form."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")
