"""The HTTP edge in a real browser and against a real server (issue 11, findings 3, 6 and 7): a page on
another port cannot make a logged-in browser change anything, CSP stops an injected inline script while
our own scripts (htmx, ECharts, Swagger UI) run, a 100 MB body is refused without being read, and the
server does not name itself."""

from __future__ import annotations

import re
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Route, expect

from app.demo.loader import DEMO_PASSWORD
from tests.e2e.conftest import log_in

PASSWORD = DEMO_PASSWORD


@pytest.fixture(scope="module")
def attacker() -> Iterator[Callable[[str], str]]:
    """A site on another port of the same host; ``attacker(html)`` serves ``html`` and returns its URL."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]

    def serve(html: str) -> str:
        path = f"/page{len(pages)}.html"
        pages[path] = html.encode()
        return f"http://127.0.0.1:{port}{path}"

    yield serve
    server.shutdown()
    server.server_close()


def api_token(server: str, username: str) -> tuple[str, dict[str, object]]:
    answer = httpx.post(f"{server}/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    answer.raise_for_status()
    body = answer.json()
    return body["access_token"], body["user"]


def a_published_order(server: str, token: str, enterprise_id: object) -> int:
    answer = httpx.get(
        f"{server}/api/v1/orders",
        params={"status": "published", "enterprise_id": enterprise_id, "page_size": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    answer.raise_for_status()
    return int(answer.json()["items"][0]["id"])


def order_status(server: str, token: str, order_id: int) -> str:
    answer = httpx.get(f"{server}/api/v1/orders/{order_id}", headers={"Authorization": f"Bearer {token}"})
    answer.raise_for_status()
    return str(answer.json()["status"])


def test_a_cross_site_form_changes_nothing_in_a_logged_in_browser(
    server: str, new_context: Callable[..., BrowserContext], attacker: Callable[[str], str]
) -> None:
    token, user = api_token(server, "enterprise")
    order_id = a_published_order(server, token, user["enterprise_id"])
    page = new_context().new_page()
    log_in(page, "enterprise")
    page.goto(f"/orders/{order_id}")  # the browser holds the session and CSRF cookies
    # the probe's page: a text/plain form posted to the JSON API (no preflight), and a page form
    # that even carries a token of its own making
    for action in (f"{server}/api/v1/orders/{order_id}/withdraw", f"{server}/orders/{order_id}/withdraw"):
        evil = attacker(
            f'<!doctype html><form method="post" enctype="text/plain" action="{action}">'
            '<input name="csrf_token" value="guessed"></form>'
            "<script>document.forms[0].submit()</script>"
        )
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.goto(evil)
        assert posted.value.status == 403, posted.value.url
        assert order_status(server, token, order_id) == "published"
    # our own page's button still works in the same browser
    page.goto(f"/orders/{order_id}")
    page.once("dialog", lambda dialog: dialog.accept())  # "确定撤回吗？"
    page.get_by_role("button", name="撤回需求").click()
    page.wait_for_load_state("networkidle")
    assert order_status(server, token, order_id) == "withdrawn"


def test_csp_blocks_an_injected_inline_script(
    server: str, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    violations: list[str] = []
    page.on("console", lambda m: _collect_csp(m, violations))

    def inject(route: Route) -> None:
        # as if a stored XSS had slipped through escaping: the HTML arrives with our headers and a script
        response = route.fetch()
        html = response.text().replace("</body>", "<script>window.injected = 'ran'</script></body>")
        route.fulfill(response=response, body=html)

    page.route(f"{server}/login", inject)
    page.goto("/login")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.injected") == "undefined"
    assert any("Content Security Policy" in v for v in violations), violations
    # our own script files still ran: htmx is loaded from /static
    assert page.evaluate("typeof window.htmx") == "object"


def test_our_own_scripts_run_under_the_policy(
    server: str, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    violations: list[str] = []
    page.on("console", lambda m: _collect_csp(m, violations))
    log_in(page, "admin")
    page.goto("/admin")
    page.wait_for_function("window.dashboardChartsReady === true")
    expect(page.locator("#chart-funnel svg").first).to_be_attached()
    assert page.evaluate("document.querySelector('[data-print]') !== null")

    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("studio-match", timeout=20_000)
    scripts = [violation for violation in violations if "script" in violation.lower()]
    assert scripts == [], scripts


def test_after_logout_the_back_button_shows_no_private_page(
    server: str, new_context: Callable[..., BrowserContext]
) -> None:
    page = new_context().new_page()
    log_in(page, "admin")
    page.goto("/admin")
    expect(page.get_by_role("heading", level=1)).to_contain_text("管理驾驶舱")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    page.go_back()
    page.wait_for_load_state("networkidle")
    # the browser had to ask again (no-store): the answer is the login page, not the cached dashboard
    assert "管理驾驶舱" not in page.content()


def _collect_csp(message: ConsoleMessage, into: list[str]) -> None:
    if "Content Security Policy" in message.text:
        into.append(message.text)


# ---------------------------------------------------------------------------------------------- the server


def _pid_listening_on(port: int) -> int:
    """The process listening on 127.0.0.1:``port`` (from /proc: the fixture keeps no handle on it)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
            inodes.add(fields[9])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {str(fd.readlink()) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            return int(proc.name)
    raise LookupError(port)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(pid)


def _complete(answer: bytes) -> bool:
    """True once ``answer`` holds the headers and as many body bytes as their Content-Length says."""
    head, separator, body = answer.partition(b"\r\n\r\n")
    if not separator:
        return False
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return length is None or len(body) >= int(length.group(1))


def _send_chunked(host: str, port: int, path: str, total: int) -> tuple[bytes, int]:
    """POST ``total`` bytes as a chunked JSON body, stopping as soon as the server answers.

    Returns:
        The server's answer (as far as read) and how many body bytes were sent.
    """
    chunk = b"a" * (1024 * 1024)
    sent = 0
    with socket.create_connection((host, port), timeout=30) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            while sent < total:
                readable, _, _ = select.select([conn], [], [], 0)
                if readable:
                    break
                conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        deadline = time.monotonic() + 20
        # the headers and then the whole body they announce (it may come in a later packet)
        while not _complete(answer) and time.monotonic() < deadline:
            try:
                data = conn.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            answer += data
    return answer, sent


def test_a_100_mb_body_is_refused_without_being_read(server: str) -> None:
    url = urlparse(server)
    assert url.hostname and url.port
    pid = _pid_listening_on(url.port)
    httpx.get(f"{server}/healthz")
    before = _rss_kib(pid)

    answer, sent = _send_chunked(url.hostname, url.port, "/api/v1/auth/login", 100 * 1024 * 1024)

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer and b"payload_too_large" in answer
    assert sent < 100 * 1024 * 1024  # the server answered long before the end
    grown = _rss_kib(pid) - before
    assert grown < 20 * 1024, f"RSS grew by {grown} KiB"

    # a declared length is refused at once, before a byte of the body is sent
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(
            f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n".encode()
        )
        declared = b""
        while data := conn.recv(65536):  # the server closes the connection after its answer
            declared += data
    assert declared.startswith(b"HTTP/1.1 413") and b"payload_too_large" in declared, declared[:300]


def test_the_server_does_not_name_itself(server: str) -> None:
    answer = httpx.get(f"{server}/healthz")
    assert "server" not in answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff"
