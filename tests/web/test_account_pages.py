"""Account pages over HTTP: the header names who is logged in, logout ends the session, the login page
throttles and warns about the demo, a temporary password leads to the change form, administrators
manage accounts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.accounts.security import SESSION_COOKIE
from app.config import Settings
from tests.conftest import app_on_session
from tests.factories import PASSWORD, make_enterprise, make_user
from tests.web.test_pages import logged_in, token_of

NEW_PASSWORD = "扬州工匠-新密码-2027"


async def _client(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    app = app_on_session(settings, session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def dev_client(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    async for http in _client(settings.model_copy(update={"environment": "development"}), session):
        yield http


@pytest.fixture
async def tight_client(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    throttle = settings.login_throttle.model_copy(update={"max_failures_per_account": 3})
    async for http in _client(settings.model_copy(update={"login_throttle": throttle}), session):
        yield http


async def test_the_header_shows_who_is_logged_in_with_a_logout_button(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE, display_name="王建国")
    await logged_in(client, user)

    page = await client.get("/my/orders")

    assert page.status_code == 200
    header = page.text[page.text.index('<header class="site">') : page.text.index("</header>")]
    assert "王建国" in header and "企业用户" in header
    assert 'action="/logout"' in header and "退出登录" in header


async def test_logging_out_on_a_page_ends_the_session_on_the_server(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    token = await logged_in(client, user)
    cookie = client.cookies[SESSION_COOKIE]

    out = await client.post("/logout", data={"csrf_token": token})

    assert out.status_code == 303 and out.headers["location"] == "/login"
    client.cookies.set(SESSION_COOKIE, cookie)  # the old cookie, replayed (Back button, a copied cookie)
    again = await client.get("/my/orders")
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    api = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {cookie}"})
    assert api.status_code == 401


async def test_the_login_page_throttles_in_chinese(tight_client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ADMIN)
    token = token_of(await tight_client.get("/login"))
    for _ in range(3):
        wrong = await tight_client.post(
            "/login", data={"username": user.username, "password": "猜一猜-wrong", "csrf_token": token}
        )
        assert wrong.status_code == 401

    page = await tight_client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )

    assert page.status_code == 429
    assert "登录失败次数过多" in page.text and "text/html" in page.headers["content-type"]
    assert int(page.headers["retry-after"]) > 0
    assert SESSION_COOKIE not in tight_client.cookies


async def test_the_login_page_warns_that_demo_passwords_are_public(
    client: AsyncClient, dev_client: AsyncClient
) -> None:
    assert "演示账号" in (await dev_client.get("/login")).text
    assert "演示账号" not in (await client.get("/login")).text  # not in production mode


async def test_a_temporary_password_leads_to_the_change_form_first(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    admin_token = await logged_in(client, admin)
    reset = await client.post(f"/admin/users/{user.id}/password-reset", data={"csrf_token": admin_token})
    assert reset.status_code == 200, reset.text
    assert reset.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="temporary-password">([^<]+)</code>', reset.text)
    assert found, reset.text
    temporary = found.group(1)
    await client.post("/logout", data={"csrf_token": admin_token})

    token = token_of(await client.get("/login"))
    login = await client.post(
        "/login",
        data={"username": user.username, "password": temporary, "csrf_token": token, "next": "/my/orders"},
    )
    assert login.status_code == 303 and login.headers["location"] == "/account/password"
    elsewhere = await client.get("/my/orders")
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/account/password"
    form = await client.get("/account/password")
    assert form.status_code == 200 and "临时密码" in form.text

    weak = await client.post(
        "/account/password",
        data={"current_password": temporary, "new_password": "12345678901", "csrf_token": token},
    )
    assert weak.status_code == 422 and "容易被猜到" in weak.text
    done = await client.post(
        "/account/password",
        data={"current_password": temporary, "new_password": NEW_PASSWORD, "csrf_token": token},
    )
    assert done.status_code == 303 and done.headers["location"] == "/my/orders?flash=password_changed"
    assert (await client.get("/my/orders")).status_code == 200


async def test_an_admin_creates_disables_and_enables_an_account_on_the_page(
    client: AsyncClient, session: AsyncSession, admin: User
) -> None:
    enterprise = await make_enterprise(session)
    token = await logged_in(client, admin)
    listing = await client.get("/admin/users")
    assert listing.status_code == 200 and "账号管理" in listing.text

    form = {
        "username": "hongxin.li",
        "display_name": "李宏信",
        "role": "enterprise",
        "enterprise_id": str(enterprise.id),
    }
    weak = await client.post("/admin/users", data={**form, "password": "password", "csrf_token": token})
    assert weak.status_code == 422
    assert "密码至少需要 10 个字符" in weak.text and 'value="hongxin.li"' in weak.text
    created = await client.post(
        "/admin/users", data={**form, "password": "扬州工匠-2024-secret", "csrf_token": token}
    )
    assert created.status_code == 303, created.text
    user = await session.scalar(select(User).where(User.username == "hongxin.li"))
    assert user is not None and user.enterprise_id == enterprise.id

    disabled = await client.post(f"/admin/users/{user.id}/disable", data={"csrf_token": token})
    assert disabled.status_code == 303 and disabled.headers["location"] == "/admin/users?flash=user_disabled"
    await session.refresh(user)
    assert user.is_active is False
    await client.post(f"/admin/users/{user.id}/enable", data={"csrf_token": token})
    await session.refresh(user)
    assert user.is_active is True


async def test_only_admins_open_the_account_pages(client: AsyncClient, session: AsyncSession) -> None:
    await logged_in(client, await make_user(session, UserRole.EXPERT))

    assert (await client.get("/admin/users")).status_code == 403


async def test_changing_my_password_on_the_page_needs_the_current_one(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.EXPERT)
    token = await logged_in(client, user)

    page = await client.post(
        "/account/password",
        data={"current_password": "wrong-one", "new_password": NEW_PASSWORD, "csrf_token": token},
    )

    assert page.status_code == 422
    assert "当前密码不正确" in page.text
