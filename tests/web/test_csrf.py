"""CSRF at the HTTP edge (issue 11, finding 3): a cookie-authenticated unsafe request needs the token and
must come from our own origin; bearer-token requests are exempt. Every case over HTTP; the browser
version of the attack is in tests/e2e/test_security.py."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.enterprises.models import Enterprise
from app.main import API_PREFIX, create_app
from app.orders.models import Order, OrderStatus
from app.web.csrf import CSRF_COOKIE, CSRF_HEADER
from tests.factories import PASSWORD, make_order, make_studio, make_user, valid_credit_code
from tests.problems import Auth, assert_problem, count
from tests.web.test_admin_pages import XLSX, enterprise_row, enterprise_sheet
from tests.web.test_pages import logged_in, token_of

API = API_PREFIX
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


async def api_login(client: AsyncClient, user: User) -> str:
    """Log in through the JSON API (the session cookie lands in the client) and fetch a page for the
    CSRF cookie; return the token as a page's htmx would send it."""
    answer = await client.post(f"{API}/auth/login", json={"username": user.username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    token = token_of(await client.get("/login"))
    assert client.cookies.get(CSRF_COOKIE) == token
    return token


async def owner_and_order(session: AsyncSession) -> tuple[User, Order]:
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    order = await make_order(session, studio, status=OrderStatus.PUBLISHED)
    return owner, order


async def status_of(session: AsyncSession, order: Order) -> OrderStatus:
    status = await session.scalar(
        select(Order.status).where(Order.id == order.id).execution_options(populate_existing=True)
    )
    assert status is not None
    return status


async def test_the_cross_site_text_plain_form_no_longer_withdraws_an_order(
    client: AsyncClient, session: AsyncSession
) -> None:
    # what the probe's page sent: <form enctype=text/plain action=/api/v1/orders/80/withdraw>
    owner, order = await owner_and_order(session)
    await api_login(client, owner)
    answer = await client.post(
        f"{API}/orders/{order.id}/withdraw",
        content=b"x=y",
        headers={
            "Content-Type": "text/plain",
            "Origin": "http://127.0.0.1:9999",
            "Sec-Fetch-Site": "same-site",
            "Sec-Fetch-Mode": "navigate",
        },
    )
    assert_problem(answer, 403, "csrf_failed")
    assert await status_of(session, order) is OrderStatus.PUBLISHED


async def test_a_cookie_request_without_the_token_is_refused_even_from_a_client_that_hides_its_origin(
    client: AsyncClient, session: AsyncSession
) -> None:
    owner, order = await owner_and_order(session)
    await api_login(client, owner)
    assert_problem(await client.post(f"{API}/orders/{order.id}/withdraw"), 403, "csrf_failed")
    wrong = await client.post(f"{API}/orders/{order.id}/withdraw", headers={CSRF_HEADER: "forged-token"})
    assert_problem(wrong, 403, "csrf_failed")
    non_ascii = await client.post(f"{API}/orders/{order.id}/withdraw", headers={CSRF_HEADER: "令牌".encode()})
    assert_problem(non_ascii, 403, "csrf_failed")
    assert await status_of(session, order) is OrderStatus.PUBLISHED


async def test_the_token_without_its_cookie_is_refused(client: AsyncClient, session: AsyncSession) -> None:
    owner, order = await owner_and_order(session)
    token = await api_login(client, owner)
    client.cookies.delete(CSRF_COOKIE)
    answer = await client.post(f"{API}/orders/{order.id}/withdraw", headers={CSRF_HEADER: token})
    assert_problem(answer, 403, "csrf_failed")
    assert await status_of(session, order) is OrderStatus.PUBLISHED


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://TESTSERVER:80"},
    ],
    ids=["no-fetch-metadata", "same-origin", "typed-by-the-user", "own-origin-spelled-differently"],
)
async def test_the_token_from_our_own_origin_goes_through(
    client: AsyncClient, session: AsyncSession, headers: dict[str, str]
) -> None:
    owner, order = await owner_and_order(session)
    token = await api_login(client, owner)
    answer = await client.post(f"{API}/orders/{order.id}/withdraw", headers={CSRF_HEADER: token, **headers})
    assert answer.status_code == 200, answer.text
    assert await status_of(session, order) is OrderStatus.WITHDRAWN


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://127.0.0.1:9999"},
        {"Origin": "https://testserver"},
        {"Origin": "null"},
        {"Origin": "http://testserver:notaport"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
    ],
    ids=["cross-site", "same-site", "other-port", "other-scheme", "opaque", "garbled", "site-wins"],
)
async def test_a_request_from_another_site_is_refused_even_with_the_token(
    client: AsyncClient, session: AsyncSession, headers: dict[str, str]
) -> None:
    owner, order = await owner_and_order(session)
    token = await api_login(client, owner)
    answer = await client.post(f"{API}/orders/{order.id}/withdraw", headers={CSRF_HEADER: token, **headers})
    assert_problem(answer, 403, "csrf_failed")
    assert await status_of(session, order) is OrderStatus.PUBLISHED


async def test_the_configured_public_origin_is_ours_behind_a_proxy(
    client: AsyncClient, session: AsyncSession
) -> None:
    # the proxy forwards to http://testserver; browsers send the public origin (settings: http://testserver
    # is also the public URL in the tests, so check the comparison on its own)
    from app.web.csrf import origin_of

    assert origin_of("https://Studio.example.cn:443/app/") == "https://studio.example.cn"
    assert origin_of("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert origin_of("http://[::1]:80/") == "http://[::1]"


async def test_bearer_requests_are_exempt(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    owner, order = await owner_and_order(session)
    # a script with a token, even one a browser page sends (it needed CORS, which we never grant)
    answer = await client.post(
        f"{API}/orders/{order.id}/withdraw", headers={**auth(owner), "Origin": "http://elsewhere.example"}
    )
    assert answer.status_code == 200, answer.text
    assert await status_of(session, order) is OrderStatus.WITHDRAWN


async def test_a_non_bearer_authorization_header_does_not_exempt_the_cookie(
    client: AsyncClient, session: AsyncSession
) -> None:
    owner, order = await owner_and_order(session)
    await api_login(client, owner)
    answer = await client.post(f"{API}/orders/{order.id}/withdraw", headers={"Authorization": "Basic eDp5"})
    assert_problem(answer, 403, "csrf_failed")
    assert await status_of(session, order) is OrderStatus.PUBLISHED


async def test_anonymous_api_calls_need_no_token(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ADMIN)
    answer = await client.post(f"{API}/auth/login", json={"username": user.username, "password": PASSWORD})
    assert answer.status_code == 200
    # ... but not from another site: a login form there must not log the browser in as someone else
    client.cookies.clear()
    cross = await client.post(
        f"{API}/auth/login",
        json={"username": user.username, "password": PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert_problem(cross, 403, "csrf_failed")
    assert "set-cookie" not in cross.headers


def _unsafe_api_routes() -> list[tuple[str, str]]:
    # from the OpenAPI schema: FastAPI 0.165 keeps included routers nested, not as a flat route list
    paths = create_app().openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith(f"{API}/")
        for method in operations
        if method.upper() in UNSAFE_METHODS
    ]


UNSAFE_API_ROUTES = _unsafe_api_routes()


def test_the_api_has_unsafe_routes_to_check() -> None:
    assert len(UNSAFE_API_ROUTES) > 30
    assert ("POST", f"{API}/admin/imports/{{kind}}") in UNSAFE_API_ROUTES


async def test_every_unsafe_api_route_refuses_a_cookie_request_without_the_token(
    client: AsyncClient, session: AsyncSession
) -> None:
    admin = await make_user(session, UserRole.ADMIN)
    await api_login(client, admin)
    missed: list[str] = []
    for method, path in UNSAFE_API_ROUTES:
        if path == f"{API}/auth/login":
            continue  # authenticated by its credentials (see the login test below)
        url = path.replace("{kind}", "enterprises").replace("{year}", "2026")
        url = url.replace("{", "").replace("}", "")  # the other parameters are ids: "order_id" is no id
        url = "/".join("1" if part.endswith("_id") else part for part in url.split("/"))
        answer = await client.request(method, url, json={})
        if answer.status_code != 403 or answer.json().get("code") != "csrf_failed":
            missed.append(f"{method} {path} → {answer.status_code}")
    assert missed == []


async def test_the_multipart_import_needs_the_token_too(client: AsyncClient, session: AsyncSession) -> None:
    admin = await make_user(session, UserRole.ADMIN)
    token = await api_login(client, admin)
    before = await count(session, Enterprise)
    sheet = enterprise_sheet([enterprise_row("扬州跨站导入机械有限公司", valid_credit_code())])
    files: dict[str, Any] = {"file": ("企业名单.xlsx", sheet, XLSX)}

    refused = await client.post(f"{API}/admin/imports/enterprises", files=files)
    assert_problem(refused, 403, "csrf_failed")
    assert await count(session, Enterprise) == before

    accepted = await client.post(
        f"{API}/admin/imports/enterprises", files=files, headers={CSRF_HEADER: token}
    )
    assert accepted.status_code == 201, accepted.text
    assert await count(session, Enterprise) == before + 1


async def test_a_page_form_from_another_site_is_refused_even_with_its_token(
    client: AsyncClient, session: AsyncSession
) -> None:
    owner, order = await owner_and_order(session)
    token = await logged_in(client, owner)
    page = await client.post(
        f"/orders/{order.id}/withdraw",
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:9999"},
    )
    assert page.status_code == 403
    assert "text/html" in page.headers["content-type"] and "页面已过期" in page.text
    assert await status_of(session, order) is OrderStatus.PUBLISHED

    same = await client.post(
        f"/orders/{order.id}/withdraw",
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
    )
    assert same.status_code == 303, same.text
    assert await status_of(session, order) is OrderStatus.WITHDRAWN


async def test_the_upload_page_refuses_another_site(client: AsyncClient, session: AsyncSession) -> None:
    admin = await make_user(session, UserRole.ADMIN)
    token = await logged_in(client, admin)
    before = await count(session, Enterprise)
    sheet = enterprise_sheet([enterprise_row("扬州跨站上传机械有限公司", valid_credit_code())])
    page = await client.post(
        "/admin/transfer/imports/enterprises",
        data={"csrf_token": token},
        files={"file": ("企业名单.xlsx", sheet, XLSX)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert page.status_code == 403 and "页面已过期" in page.text
    assert await count(session, Enterprise) == before


async def test_htmx_posts_from_our_pages_still_work(client: AsyncClient, session: AsyncSession) -> None:
    # the live proposals fragment: htmx sends the token in the header from <body hx-headers>
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    token = await logged_in(client, owner)
    fragment = await client.post(
        "/orders/preview",
        data={"title": "数控机床主轴振动", "description": "主轴振动超差"},
        headers={CSRF_HEADER: token, "HX-Request": "true", "Sec-Fetch-Site": "same-origin"},
    )
    assert fragment.status_code == 200, fragment.text


async def test_logging_in_again_needs_no_token_but_must_not_come_from_another_site(
    client: AsyncClient, session: AsyncSession
) -> None:
    # a client whose jar still holds a session cookie (another user's, or a revoked one) logs in with
    # credentials, not with the cookie; a cross-site login (login CSRF) is still refused
    first, _ = await owner_and_order(session)
    second, _ = await owner_and_order(session)
    await api_login(client, first)
    body = {"username": second.username, "password": PASSWORD}
    again = await client.post(f"{API}/auth/login", json=body)
    assert again.status_code == 200, again.text
    foreign = await client.post(f"{API}/auth/login", json=body, headers={"Origin": "http://evil.example"})
    assert_problem(foreign, 403, "csrf_failed")
