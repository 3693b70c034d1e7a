"""The HTTP edge (issue 11, findings 6, 7 and 12): request bodies are capped before they are read,
every answer carries the security headers, private answers are never stored, and every problem code
the service can answer with has its page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import UserRole
from app.config import Settings
from app.main import API_PREFIX, VENDOR_FILES, create_app
from app.orders.models import Order, OrderStatus
from app.problems import known_problems
from tests.conftest import app_on_session
from tests.factories import PASSWORD, make_order, make_studio, make_user
from tests.problems import Auth, assert_problem
from tests.web.test_pages import logged_in

API = API_PREFIX
CAP = 4 * 1024
TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"


@pytest.fixture
async def capped(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    """A client whose app caps request bodies at ``CAP`` bytes."""
    app = app_on_session(settings.model_copy(update={"max_body_bytes": CAP}), session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


# ---------------------------------------------------------------------------------------------- body cap


async def test_a_declared_length_over_the_cap_is_refused_before_anything_runs(
    capped: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    # the route reads no body: before, the handler ran (the order was withdrawn) whatever the length
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    order = await make_order(session, studio, status=OrderStatus.PUBLISHED)
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        sent += 1
        yield b"\0" * 1024

    answer = await capped.post(
        f"{API}/orders/{order.id}/withdraw",
        headers={**auth(owner), "Content-Length": str(100 * 1024 * 1024)},
        content=body(),
    )
    assert_problem(answer, 413, "payload_too_large")
    assert sent == 0
    status = await session.scalar(
        select(Order.status).where(Order.id == order.id).execution_options(populate_existing=True)
    )
    assert status is OrderStatus.PUBLISHED


async def test_a_chunked_json_body_is_cut_off_once_it_passes_the_cap(capped: AsyncClient) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"username": "'
        for _ in range(100 * 1024):  # 100 MB offered, anonymously
            sent += 1
            yield b"a" * 1024
        yield b'", "password": "x"}'

    answer = await capped.post(
        f"{API}/auth/login", headers={"Content-Type": "application/json"}, content=body()
    )
    assert_problem(answer, 413, "payload_too_large")
    assert sent * 1024 <= 2 * CAP


async def test_a_body_within_the_cap_is_served(capped: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ADMIN)
    answer = await capped.post(f"{API}/auth/login", json={"username": user.username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text


async def test_a_page_form_over_the_cap_gets_a_chinese_page(
    capped: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ADMIN)
    token = (await capped.get("/login")).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', token)
    assert found
    page = await capped.post(
        "/login", data={"username": user.username, "password": "x" * (2 * CAP), "csrf_token": found.group(1)}
    )
    assert page.status_code == 413
    assert "text/html" in page.headers["content-type"] and "请求体过大" in page.text


async def test_the_upload_routes_have_their_own_larger_cap(
    settings: Settings, session: AsyncSession, auth: Auth
) -> None:
    admin = await make_user(session, UserRole.ADMIN)
    app = app_on_session(
        settings.model_copy(update={"max_body_bytes": CAP, "max_upload_bytes": 64 * CAP}), session
    )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client:
        # over the general cap, within the upload cap: the import reads it (and finds no workbook in it)
        inside = await client.post(
            f"{API}/admin/imports/enterprises",
            headers=auth(admin),
            files={"file": ("企业名单.xlsx", b"PK" + b"\0" * (8 * CAP), "application/octet-stream")},
        )
        assert_problem(inside, 415, "import_file_not_xlsx")
        over = await client.post(
            f"{API}/admin/imports/enterprises",
            headers=auth(admin),
            files={"file": ("企业名单.xlsx", b"\0" * (200 * CAP), "application/octet-stream")},
        )
        assert_problem(over, 413, "upload_too_large")


def test_the_cap_is_a_setting() -> None:
    assert Settings().max_body_bytes == 1024 * 1024
    assert Settings(max_body_bytes=2048).max_body_bytes == 2048


# ---------------------------------------------------------------------------------------------- headers


async def test_every_answer_carries_the_security_headers(client: AsyncClient) -> None:
    for answer in (
        await client.get("/login"),
        await client.get("/healthz"),
        await client.get(f"{API}/experts"),
        await client.get("/no-such-page"),
        await client.post("/healthz"),
        await client.get("/static/app.css"),
    ):
        headers = answer.headers
        policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
        assert policy["script-src"] == "'self'", answer.url  # no inline scripts, no eval
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain HTTP in the tests


@pytest.mark.parametrize(
    "update", [{"cookie_secure": True}, {"public_url": "https://studio.example.cn"}], ids=["cookie", "url"]
)
async def test_hsts_when_served_over_https(
    settings: Settings, session: AsyncSession, update: dict[str, object]
) -> None:
    app = app_on_session(settings.model_copy(update=update), session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client:
        answer = await client.get("/healthz")
    assert answer.headers["strict-transport-security"] == "max-age=31536000"


async def test_private_answers_are_never_stored(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    admin = await make_user(session, UserRole.ADMIN)
    await logged_in(client, admin)
    assert (await client.get("/admin")).headers["cache-control"] == "no-store"
    assert (await client.get("/experts")).headers["cache-control"] == "no-store"  # logged in: private menu
    client.cookies.clear()
    assert (await client.get(f"{API}/auth/me", headers=auth(admin))).headers["cache-control"] == "no-store"
    assert (await client.get(f"{API}/experts")).headers["cache-control"] == "no-store"
    assert "no-store" not in (await client.get("/login")).headers.get("cache-control", "")
    assert "no-store" not in (await client.get("/static/app.css")).headers.get("cache-control", "")


def test_the_templates_have_no_inline_scripts_or_handlers() -> None:
    # what the CSP forbids must not be needed: every script is a file (a JSON data block is no script)
    offending = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offending.append(f"{template.name}: {tag}")
        offending += [f"{template.name}: {h}" for h in re.findall(r"\son[a-z]+\s*=", text)]
        offending += [f"{template.name}: javascript:" for _ in re.findall(r"javascript:", text, re.I)]
    assert offending == []


async def test_the_api_docs_are_served_from_our_own_files(client: AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    scripts = re.findall(r"<script\b[^>]*>", page.text)
    assert scripts and all('src="/static/' in tag for tag in scripts)
    assert "cdn" not in page.text.lower() and "http" not in page.text
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert VENDOR_FILES[name].exists(), "run npm ci (swagger-ui-dist)"
        asset = await client.get(f"/static/vendor/{name}")
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(
            "text/css" if name.endswith(".css") else "text/javascript"
        )
    assert (await client.get("/static/docs.js")).status_code == 200
    assert (await client.get("/redoc")).status_code == 404  # ReDoc came from a CDN


# ---------------------------------------------------------------------------------------------- problems


def _every_code() -> Iterator[str]:
    from app.errors import HTTP_PROBLEMS, OTHER_HTTP_PROBLEM

    create_app()  # imports every domain, so every DomainError subclass is known
    yield from known_problems()
    yield from (code for code, _, _ in HTTP_PROBLEMS.values())  # what the framework answers
    yield OTHER_HTTP_PROBLEM[0]


async def test_every_problem_code_has_its_page(client: AsyncClient) -> None:
    # the three the probe found missing first
    for code in ("internal", "method_not_allowed", "payload_too_large"):
        assert (await client.get(f"/problems/{code}")).status_code == 200, code
    codes = sorted(set(_every_code()))
    assert {"internal", "method_not_allowed", "payload_too_large", "csrf_failed", "upload_too_large"} <= set(
        codes
    )
    missing = []
    for code in codes:
        page = await client.get(f"/problems/{code}")
        if page.status_code != 200 or code not in page.text:
            missing.append(code)
    assert missing == []
    assert (await client.get("/problems/no_such_code")).status_code == 404


@pytest.mark.parametrize("path", ["/healthz", "/readyz", f"{API}/auth/me", "/problems/internal", "/docs"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_a_wrong_method_outside_the_pages_is_problem_json(
    client: AsyncClient, path: str, method: str
) -> None:
    assert_problem(await client.request(method, path), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("public_url", "served_at", "expected"),
    [
        (None, "http://127.0.0.1:8123", "http://127.0.0.1:8123/problems/unauthenticated"),
        (
            "https://match.example.cn",
            "http://127.0.0.1:8123",
            "https://match.example.cn/problems/unauthenticated",
        ),
    ],
)
async def test_a_problems_type_links_to_where_the_service_is_reached(
    settings: Settings, public_url: str | None, served_at: str, expected: str
) -> None:
    # the demo on another port linked every error to port 8000 (issue 12, bug 13)
    values = {"database_url": settings.database_url, "log_format": "text"}
    if public_url is not None:
        values |= {"public_url": public_url, "environment": "development"}
    app = create_app(Settings(**values))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url=served_at) as client,
    ):
        answer = await client.get(f"{API}/auth/me")

    assert answer.status_code == 401
    assert answer.json()["type"] == expected
