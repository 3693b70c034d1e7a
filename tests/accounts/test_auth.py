"""Login, the bearer token and the session cookie, and administrators creating accounts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.accounts.security import SESSION_COOKIE
from app.audit.models import AuditEvent
from app.clock import utcnow
from app.config import Settings
from app.web.csrf import CSRF_COOKIE, CSRF_HEADER
from tests.factories import PASSWORD, bearer, login_session, make_enterprise, make_expert, make_user
from tests.problems import Auth, assert_problem

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
USERS = "/api/v1/users"


async def log_in(client: AsyncClient, username: str, password: str = PASSWORD) -> Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


def new_account(**overrides: Any) -> dict[str, Any]:
    """The body of ``POST /users`` for an administrator account; override to bind another role."""
    body: dict[str, Any] = {
        "username": "zhang.wei",
        "password": "扬州工匠-2024-secret",
        "display_name": "张伟",
        "role": "admin",
    }
    body.update(overrides)
    return body


# --- POST /auth/login ---------------------------------------------------------------------------


async def test_login_returns_a_bearer_token_that_identifies_the_user(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.EXPERT, display_name="李明教授")

    response = await log_in(client, user.username)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["id"] == user.id
    assert body["user"]["display_name"] == "李明教授"
    me = await client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == user.username


async def test_login_sets_an_http_only_session_cookie(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await log_in(client, user.username)

    assert response.status_code == 200, response.text
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert client.cookies.get(SESSION_COOKIE) == response.json()["access_token"]


async def test_login_stamps_the_last_login_time(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ADMIN)
    assert user.last_login_at is None

    response = await log_in(client, user.username)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["last_login_at"] is not None
    assert user.last_login_at is not None


async def test_wrong_password_is_rejected(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await log_in(client, user.username, "错误的密码-wrong")

    assert_problem(response, 401, "login_failed")
    assert SESSION_COOKIE not in client.cookies


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    wrong_password = await log_in(client, user.username, "错误的密码-wrong")
    unknown_user = await log_in(client, "nobody.here", PASSWORD)

    # the answer must not tell an attacker which usernames exist
    first = assert_problem(wrong_password, 401, "login_failed")
    second = assert_problem(unknown_user, 401, "login_failed")
    assert first["detail"] == second["detail"]
    assert first["title"] == second["title"]


async def test_disabled_user_cannot_log_in_with_the_right_password(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE, is_active=False)

    response = await log_in(client, user.username)

    assert_problem(response, 401, "login_failed")
    assert SESSION_COOKIE not in client.cookies


# --- GET /auth/me ------------------------------------------------------------------------------


async def test_me_with_a_bearer_token(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    enterprise = await make_enterprise(session, name="扬州恒润精密机械有限公司")
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise, display_name="王建国")

    response = await client.get(ME, headers=auth(user))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == user.id
    assert body["role"] == "enterprise"
    assert body["enterprise_id"] == enterprise.id
    assert body["display_name"] == "王建国"


async def test_me_with_the_session_cookie_only(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ADMIN)
    assert (await log_in(client, user.username)).status_code == 200

    response = await client.get(ME)  # no Authorization header: the cookie set by login is enough

    assert response.status_code == 200, response.text
    assert response.json()["id"] == user.id


async def test_garbage_bearer_token_is_unauthenticated(client: AsyncClient) -> None:
    response = await client.get(ME, headers={"Authorization": "Bearer not-a-token.garbage"})

    assert_problem(response, 401, "unauthenticated")


async def test_a_session_planted_without_the_secret_key_is_unauthenticated(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ADMIN)
    # someone who can write to the database but does not know the key stores a token of their own
    planted = bearer(user, "某个攻击者的密钥")

    response = await client.get(ME, headers=planted)

    assert_problem(response, 401, "unauthenticated")


async def _session_header(
    session: AsyncSession, settings: Settings, user: User, **overrides: Any
) -> dict[str, str]:
    row, token = login_session(user, settings.secret_key.get_secret_value(), **overrides)
    session.add(row)
    await session.flush()
    return {"Authorization": f"Bearer {token}"}


async def test_a_session_past_its_absolute_lifetime_is_unauthenticated(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, UserRole.ADMIN)
    headers = await _session_header(session, settings, user, expires_at=utcnow() - timedelta(seconds=1))

    assert_problem(await client.get(ME, headers=headers), 401, "unauthenticated")


async def test_an_idle_session_is_unauthenticated(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, UserRole.ADMIN)
    idle = timedelta(seconds=settings.session_idle_seconds)
    headers = await _session_header(
        session, settings, user, last_seen_at=utcnow() - idle - timedelta(seconds=5)
    )
    just_active = await _session_header(
        session, settings, user, last_seen_at=utcnow() - idle + timedelta(minutes=5)
    )

    assert_problem(await client.get(ME, headers=headers), 401, "unauthenticated")
    assert (await client.get(ME, headers=just_active)).status_code == 200


async def test_invalid_bearer_token_is_not_rescued_by_a_valid_cookie(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ADMIN)
    assert (await log_in(client, user.username)).status_code == 200

    response = await client.get(ME, headers={"Authorization": "Bearer stale.token.value"})

    # a client holding a stale token must learn to log in again, not silently act as the cookie's user
    assert_problem(response, 401, "unauthenticated")


async def test_no_credentials_is_unauthenticated_with_a_bearer_challenge(client: AsyncClient) -> None:
    response = await client.get(ME)

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_token_of_a_disabled_user_is_unauthenticated(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.EXPERT)
    headers = auth(user)
    user.is_active = False
    await session.flush()

    response = await client.get(ME, headers=headers)

    assert_problem(response, 401, "unauthenticated")


# --- POST /auth/logout -------------------------------------------------------------------------


async def test_logout_clears_the_session_cookie(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    assert (await log_in(client, user.username)).status_code == 200
    assert SESSION_COOKIE in client.cookies
    await client.get("/login")  # a page gives the browser its CSRF cookie
    csrf = {CSRF_HEADER: client.cookies[CSRF_COOKIE]}  # the cookie session needs the token (issue 11)

    response = await client.post(LOGOUT, headers=csrf)

    assert response.status_code == 204
    cleared = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "max-age=0" in cleared.lower()
    assert SESSION_COOKIE not in client.cookies
    assert_problem(await client.get(ME), 401, "unauthenticated")


# --- POST /users -------------------------------------------------------------------------------


async def test_admin_creates_an_enterprise_user(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session, name="扬州宏信机电设备有限公司")

    response = await client.post(
        USERS,
        headers=auth(admin),
        json=new_account(username="hongxin.zhang", role="enterprise", enterprise_id=enterprise.id),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == "hongxin.zhang"
    assert body["role"] == "enterprise"
    assert body["enterprise_id"] == enterprise.id
    assert body["expert_id"] is None
    assert body["is_active"] is True


async def test_admin_creates_an_expert_user(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    expert = await make_expert(session, name="陈立新")

    response = await client.post(
        USERS,
        headers=auth(admin),
        json=new_account(username="chen.lixin", role="expert", expert_id=expert.id),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["role"] == "expert"
    assert body["expert_id"] == expert.id
    assert body["enterprise_id"] is None


async def test_admin_creates_another_admin(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.post(
        USERS, headers=auth(admin), json=new_account(username="rencaiban", display_name="市人才办")
    )

    assert response.status_code == 201, response.text
    assert response.json()["role"] == "admin"
    assert response.json()["display_name"] == "市人才办"


async def test_created_user_can_log_in_with_the_chosen_password(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    created = await client.post(USERS, headers=auth(admin), json=new_account(username="li.na"))
    assert created.status_code == 201, created.text

    response = await log_in(client, "li.na", "扬州工匠-2024-secret")

    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == created.json()["id"]


async def test_created_user_response_never_contains_the_password(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    password = "扬州工匠-2024-secret"

    response = await client.post(USERS, headers=auth(admin), json=new_account(password=password))

    assert response.status_code == 201, response.text
    assert password not in response.text
    assert not any("password" in key for key in response.json() if key != "must_change_password")


async def test_non_admin_cannot_create_users(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    enterprise_user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.post(USERS, headers=auth(enterprise_user), json=new_account(username="sneaky"))

    assert_problem(response, 403, "forbidden")
    assert await session.scalar(select(User).where(User.username == "sneaky")) is None


async def test_creating_users_requires_login(client: AsyncClient) -> None:
    response = await client.post(USERS, json=new_account())

    assert_problem(response, 401, "unauthenticated")


async def test_duplicate_username_is_a_conflict(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    existing = await make_user(session, UserRole.ADMIN, username="wang.fang")

    response = await client.post(USERS, headers=auth(admin), json=new_account(username=existing.username))

    body = assert_problem(response, 409, "username_taken")
    assert body["errors"][0]["field"] == "username"


async def test_enterprise_role_without_enterprise_is_rejected(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.post(USERS, headers=auth(admin), json=new_account(role="enterprise"))

    assert_problem(response, 422, "role_binding_invalid")


async def test_expert_role_bound_to_an_enterprise_is_rejected(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session)
    expert = await make_expert(session)

    response = await client.post(
        USERS,
        headers=auth(admin),
        json=new_account(role="expert", expert_id=expert.id, enterprise_id=enterprise.id),
    )

    assert_problem(response, 422, "role_binding_invalid")


async def test_enterprise_user_bound_to_a_missing_enterprise_is_a_binding_error(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.post(
        USERS, headers=auth(admin), json=new_account(role="enterprise", enterprise_id=987_654)
    )

    # create_user's docstring: RoleBindingInvalid when "the bound record does not exist"
    assert_problem(response, 422, "role_binding_invalid")


async def test_creating_a_user_writes_an_audit_event_without_the_password_hash(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    password = "扬州工匠-2024-secret"

    response = await client.post(
        USERS, headers=auth(admin), json=new_account(username="audit.me", password=password)
    )

    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.created", AuditEvent.entity_id == user_id)
    )
    assert event is not None
    assert event.entity_type == "users"
    assert event.actor_user_id == admin.id
    assert event.before is None
    assert event.after is not None
    assert event.after["username"] == "audit.me"
    assert "password_hash" not in event.after
    created = await session.get(User, user_id)
    assert created is not None
    trail = json.dumps(event.after, ensure_ascii=False)
    assert created.password_hash not in trail
    assert password not in trail
