"""Finding 4 of issue 11: sessions live on the server and end when they should.

Logout ends the session (bearer and cookie); changing the password ends the user's other sessions;
disabling an account ends all of them; an administrator's reset ends them and forces a new password.
"""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import LoginAttempt, SessionEnd, User, UserRole, UserSession
from app.accounts.security import SESSION_COOKIE
from app.audit.models import AuditEvent
from app.clock import utcnow
from app.config import Settings
from app.web.csrf import CSRF_COOKIE, CSRF_HEADER
from tests.factories import PASSWORD, login_session, make_user
from tests.problems import Auth, assert_problem

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
PASSWORD_URL = "/api/v1/auth/password"
NEW_PASSWORD = "扬州工匠-新密码-2027"


async def log_in(client: AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each "device" keeps only its bearer token
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_logout_ends_the_bearer_session_on_the_server(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    headers = await log_in(client, user.username)
    copied = dict(headers)  # a stolen copy of the token, e.g. from a script's log

    response = await client.post(LOGOUT, headers=headers)

    assert response.status_code == 204
    assert_problem(await client.get(ME, headers=copied), 401, "unauthenticated")
    # the newest session of the user is the one this login opened
    ended = await session.scalar(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id.desc()).limit(1)
    )
    assert ended is not None and ended.revoked_at is not None and ended.end_reason is SessionEnd.LOGOUT
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.logged_out", AuditEvent.entity_id == user.id)
    )
    assert event is not None


async def test_logout_with_the_cookie_ends_the_session_a_copied_cookie_had(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ADMIN)
    response = await client.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    token = client.cookies[SESSION_COOKIE]
    assert token == response.json()["access_token"]

    await client.get("/login")  # a page gives the browser its CSRF cookie
    csrf = {CSRF_HEADER: client.cookies[CSRF_COOKIE]}  # a cookie session's write needs the token
    assert (await client.post(LOGOUT, headers=csrf)).status_code == 204

    client.cookies.set(SESSION_COOKIE, token)  # the old cookie, replayed
    assert_problem(await client.get(ME), 401, "unauthenticated")


async def test_changing_the_password_ends_the_other_sessions_only(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.EXPERT)
    laptop = await log_in(client, user.username)
    phone = await log_in(client, user.username)

    changed = await client.post(
        PASSWORD_URL, headers=laptop, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert changed.status_code == 204, changed.text
    assert (await client.get(ME, headers=laptop)).status_code == 200
    assert_problem(await client.get(ME, headers=phone), 401, "unauthenticated")
    assert (
        await client.post(LOGIN, json={"username": user.username, "password": NEW_PASSWORD})
    ).status_code == 200
    event = await session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "user.password_changed", AuditEvent.entity_id == user.id
        )
    )
    assert event is not None and event.actor_user_id == user.id
    assert "password_hash" not in (event.after or {})


async def test_changing_the_password_needs_the_current_one(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.EXPERT)
    headers = await log_in(client, user.username)

    response = await client.post(
        PASSWORD_URL, headers=headers, json={"current_password": "不是这个", "new_password": NEW_PASSWORD}
    )

    body = assert_problem(response, 422, "current_password_wrong")
    assert body["errors"][0]["field"] == "current_password"


async def test_a_weak_new_password_is_rejected_in_chinese(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.EXPERT, username="li.ming")
    headers = await log_in(client, user.username)

    for weak, words in (
        ("short-1", "至少需要 10 个字符"),
        ("LI.MING", "至少需要"),
        ("ＬＩ．ＭＩＮＧ２０２４", "相近"),
        ("password123", "容易被猜到"),
        ("qwertyuiop", "容易被猜到"),
        ("P@ssw0rd2024", "容易被猜到"),
    ):
        response = await client.post(
            PASSWORD_URL, headers=headers, json={"current_password": PASSWORD, "new_password": weak}
        )
        body = assert_problem(response, 422, "password_rejected")
        assert words in body["detail"], (weak, body["detail"])
        assert body["errors"][0]["field"] == "new_password"


async def test_the_username_itself_is_not_a_password(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.EXPERT, username="wang.jianguo.2024")
    headers = await log_in(client, user.username)

    response = await client.post(
        PASSWORD_URL,
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "WANG.JIANGUO.2024"},
    )

    body = assert_problem(response, 422, "password_rejected")
    assert "不能与用户名相同" in body["detail"]


async def test_disabling_an_account_ends_all_its_sessions_at_once(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    first = await log_in(client, user.username)
    second = await log_in(client, user.username)

    disabled = await client.post(f"/api/v1/users/{user.id}/disable", headers=auth(admin))

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False
    for headers in (first, second):
        assert_problem(await client.get(ME, headers=headers), 401, "unauthenticated")
    assert_problem(
        await client.post(LOGIN, json={"username": user.username, "password": PASSWORD}), 401, "login_failed"
    )
    ended = (await session.scalars(select(UserSession).where(UserSession.user_id == user.id))).all()
    assert {s.end_reason for s in ended} == {SessionEnd.DISABLED}

    enabled = await client.post(f"/api/v1/users/{user.id}/enable", headers=auth(admin))
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    assert (
        await client.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    ).status_code == 200
    actions = set(
        await session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.entity_type == "users", AuditEvent.entity_id == user.id
            )
        )
    )
    assert {"user.disabled", "user.enabled"} <= actions


async def test_an_admin_cannot_disable_their_own_account(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    assert_problem(
        await client.post(f"/api/v1/users/{admin.id}/disable", headers=auth(admin)), 409, "own_account_locked"
    )


async def test_only_admins_manage_accounts(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    other = await make_user(session, UserRole.EXPERT)

    for path in (f"/api/v1/users/{other.id}/disable", f"/api/v1/users/{other.id}/password-reset"):
        assert_problem(await client.post(path, headers=auth(user)), 403, "forbidden")
    assert_problem(await client.get("/api/v1/users", headers=auth(user)), 403, "forbidden")


async def _reset(client: AsyncClient, auth: Auth, admin: User, user: User) -> Response:
    response = await client.post(f"/api/v1/users/{user.id}/password-reset", headers=auth(admin))
    assert response.status_code == 200, response.text
    return response


async def test_a_reset_password_must_be_changed_before_anything_else(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    before = await log_in(client, user.username)

    reset = await _reset(client, auth, admin, user)
    temporary = reset.json()["temporary_password"]

    assert reset.json()["user"]["must_change_password"] is True
    assert_problem(await client.get(ME, headers=before), 401, "unauthenticated")  # old sessions ended
    headers = await log_in(client, user.username, temporary)
    blocked = await client.get("/api/v1/orders", headers=headers)
    assert_problem(blocked, 403, "password_change_required")
    assert (await client.get(ME, headers=headers)).json()["must_change_password"] is True
    changed = await client.post(
        PASSWORD_URL, headers=headers, json={"current_password": temporary, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/api/v1/orders", headers=headers)).status_code == 200
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.password_reset", AuditEvent.entity_id == user.id)
    )
    assert event is not None and event.actor_user_id == admin.id
    assert temporary not in str(event.after)


async def test_usernames_are_unique_regardless_of_case_and_width(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    await make_user(session, UserRole.ADMIN, username="Admin.Zhang")
    body = {"password": "扬州工匠-2024-secret", "display_name": "张三", "role": "admin"}

    for clash in ("admin.zhang", "ADMIN.ZHANG", "ａｄｍｉｎ．ｚｈａｎｇ"):
        response = await client.post("/api/v1/users", headers=auth(admin), json={**body, "username": clash})
        assert_problem(response, 409, "username_taken")
    # and logging in ignores case and width the same way
    login = await client.post(LOGIN, json={"username": "ＡＤＭＩＮ.zhang", "password": PASSWORD})
    assert login.status_code == 200, login.text


async def test_creating_a_user_with_a_common_password_is_refused(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.post(
        "/api/v1/users",
        headers=auth(admin),
        json={"username": "li.na", "password": "iloveyou123", "display_name": "李娜", "role": "admin"},
    )

    body = assert_problem(response, 422, "password_rejected")
    assert body["errors"][0]["field"] == "password"


async def test_admin_lists_accounts(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    other = await make_user(session, UserRole.EXPERT, display_name="陈立新")

    response = await client.get("/api/v1/users", headers=auth(admin))

    assert response.status_code == 200
    listed = {u["id"]: u for u in response.json()}
    assert listed[other.id]["display_name"] == "陈立新"
    assert all("password_hash" not in u for u in listed.values())


async def test_logins_forget_attempts_and_ended_sessions_past_the_retention(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, UserRole.EXPERT)
    long_ago = utcnow() - timedelta(days=settings.login_throttle.keep_days + 1)
    old_row, _ = login_session(user, settings.secret_key.get_secret_value(), revoked_at=long_ago)
    recent_row, _ = login_session(user, settings.secret_key.get_secret_value(), revoked_at=utcnow())
    session.add_all([old_row, recent_row])
    session.add(
        LoginAttempt(
            username_key="someone", client_address="192.0.2.1", succeeded=False, attempted_at=long_ago
        )
    )
    await session.flush()

    await log_in(client, user.username)

    kept = set(await session.scalars(select(UserSession.id).where(UserSession.user_id == user.id)))
    assert old_row.id not in kept and recent_row.id in kept
    assert await session.scalar(select(LoginAttempt.id).where(LoginAttempt.attempted_at <= long_ago)) is None


async def test_guessing_the_current_password_is_throttled_like_a_login(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, UserRole.EXPERT)
    headers = await log_in(client, user.username)  # a stolen session, say
    limit = settings.login_throttle.max_failures_per_account

    answers = [
        await client.post(
            PASSWORD_URL,
            headers=headers,
            json={"current_password": f"guess-{i}", "new_password": NEW_PASSWORD},
        )
        for i in range(limit + 1)
    ]

    assert [a.status_code for a in answers] == [422] * limit + [429]
    assert_problem(answers[-1], 429, "login_throttled")
