"""Use cases for accounts: log in (throttled), resolve a session token, log out, change and reset passwords,
create, disable and enable accounts."""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.errors import (
    CurrentPasswordWrong,
    LoginFailed,
    LoginThrottled,
    OwnAccountLocked,
    PasswordRejected,
    RoleBindingInvalid,
    UsernameTaken,
)
from app.accounts.models import LoginAttempt, SessionEnd, User, UserRole, UserSession
from app.accounts.passwords import password_problem
from app.accounts.repository import LoginAttemptRepository, UserRepository, UserSessionRepository
from app.accounts.schemas import UserCreate
from app.accounts.security import Actor, PasswordHashing, SessionTokens, username_key
from app.audit.service import record_change, record_event, snapshot
from app.config import LoginThrottle, Settings
from app.db import utcnow
from app.enterprises import service as enterprise_service
from app.errors import Forbidden, NotFound
from app.experts import service as expert_service

log = logging.getLogger(__name__)

# a session's last activity is written at most this often: not one write per request
TOUCH_INTERVAL = timedelta(minutes=1)
# longest token we hash: ours are 43 characters; anything much longer is not one of ours
_MAX_TOKEN_LENGTH = 200
# temporary passwords: no look-alikes (0/O, 1/l/I), easy to read out over the phone
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """What the login use cases need from the settings, built once per app (``AuthConfig.from_settings``)."""

    tokens: SessionTokens
    hashing: PasswordHashing
    idle: timedelta
    lifetime: timedelta
    throttle: LoginThrottle

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthConfig:
        """Build the config of an app from its settings."""
        return cls(
            tokens=SessionTokens(settings.secret_key.get_secret_value()),
            hashing=PasswordHashing(settings.password_hash_concurrency),
            idle=timedelta(seconds=settings.session_idle_seconds),
            lifetime=timedelta(seconds=settings.session_max_age_seconds),
            throttle=settings.login_throttle,
        )

    @property
    def max_age_seconds(self) -> int:
        """The session cookie's ``Max-Age``: the absolute lifetime."""
        return int(self.lifetime.total_seconds())


@dataclass(frozen=True, slots=True)
class Client:
    """Where a login comes from: the client address (as the proxy reported it) and the browser."""

    address: str
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A successful login: the account and the token of its new session (shown once, never stored)."""

    user: User
    token: str


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Who a valid session token stands for."""

    actor: Actor
    session_id: int
    display_name: str
    must_change_password: bool


# --- logging in and out ----------------------------------------------------------------------------


async def log_in(
    session: AsyncSession, auth: AuthConfig, username: str, password: str, client: Client
) -> LoginResult:
    """Check credentials (unless throttled), open a session and record the attempt.

    Every checked attempt is stored in ``login_attempts``, which every worker reads, and audited
    when the account exists. The slow hash runs in a thread after the database connection is given
    back, so a burst of logins neither blocks the event loop nor holds the pool.

    Raises:
        LoginThrottled: too many recent failures for this username or from this address.
        LoginFailed: unknown user, wrong password or a disabled account (indistinguishable on purpose).
    """
    key = username_key(username)[:200]
    address = client.address[:64]
    now = utcnow()
    user = await UserRepository(session).get_by_username_key(key)
    retry_after = await _throttled(session, auth.throttle, key, address, now, user)
    if retry_after is not None:
        log.warning("auth.login_throttled user_id=%s retry_after=%s", user.id if user else None, retry_after)
        raise LoginThrottled(retry_after)
    # reads only so far: give the connection back to the pool while the hash runs
    await session.commit()
    matches = await auth.hashing.verify(user.password_hash if user else None, password)
    accepted = matches and user is not None and user.is_active
    keep = timedelta(days=auth.throttle.keep_days)
    # housekeeping in small steps, as logins come: nothing else has to run for the tables to stay small
    await LoginAttemptRepository(session).delete_before(now - keep)
    session.add(
        LoginAttempt(
            username_key=key, client_address=address, user_id=user.id if user else None, succeeded=accepted
        )
    )
    if not accepted or user is None:
        reason = "unknown_user" if user is None else ("disabled" if matches else "wrong_password")
        if user is not None:  # attempts on unknown names stay in login_attempts only
            await record_event(
                session, actor=None, action="user.login_failed", entity_type="users", entity_id=user.id,
                details={"reason": reason, "client_address": address},
            )  # fmt: skip
        await session.commit()
        log.info("auth.login_failed reason=%s user_id=%s", reason, user.id if user else None)
        raise LoginFailed()
    token, token_hash = auth.tokens.new()
    opened = UserSession(
        user_id=user.id,
        token_hash=token_hash,
        created_at=now,
        last_seen_at=now,
        expires_at=now + auth.lifetime,
        user_agent=(client.user_agent or "")[:255] or None,
        client_address=address,
    )
    await UserSessionRepository(session).delete_finished_of(user.id, now - keep)
    session.add(opened)
    user.last_login_at = now
    await session.flush()
    await record_event(
        session, actor=Actor.of(user), action="user.logged_in", entity_type="users", entity_id=user.id,
        details={"session_id": opened.id, "client_address": address},
    )  # fmt: skip
    await session.commit()
    log.info("auth.login_succeeded user_id=%s session_id=%s", user.id, opened.id)
    return LoginResult(user=user, token=token)


async def _throttled(
    session: AsyncSession, throttle: LoginThrottle, key: str, address: str, now: datetime, user: User | None
) -> int | None:
    """Seconds until a login may be tried again, or ``None`` when it may be tried now."""
    window = timedelta(seconds=throttle.window_seconds)
    start = now - window
    attempts = LoginAttemptRepository(session)
    # a success clears the account's failures before it (its owner knows the password)
    account_since = max(start, user.last_login_at) if user and user.last_login_at else start
    waits = []
    for since, limit, scope in (
        (account_since, throttle.max_failures_per_account, {"username_key": key}),
        (start, throttle.max_failures_per_address, {"client_address": address}),
    ):
        failures = await attempts.recent_failures(since=since, limit=limit, **scope)
        if len(failures) >= limit:
            # allowed again once the oldest of the newest `limit` failures leaves the window
            waits.append(math.ceil((failures[-1] + window - now).total_seconds()))
    return max(1, *waits) if waits else None


async def authenticate(session: AsyncSession, auth: AuthConfig, token: str) -> Authenticated | None:
    """Return who a session token stands for, or ``None`` if it is unknown, ended, expired, idle or disabled.

    One indexed lookup joined to the account; the session's last activity is written at most once a
    ``TOUCH_INTERVAL`` (its own short commit, before the request's use case runs).
    """
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    now = utcnow()
    found = await UserSessionRepository(session).find_live(
        auth.tokens.digest(token), now=now, idle_since=now - auth.idle
    )
    if found is None:
        return None
    if now - found.last_seen_at >= TOUCH_INTERVAL:
        await UserSessionRepository(session).touch(found.session_id, now)
        # nothing else is pending yet: this commit holds the activity stamp only
        await session.commit()
    return Authenticated(
        actor=Actor(
            user_id=found.user_id,
            role=found.role,
            enterprise_id=found.enterprise_id,
            expert_id=found.expert_id,
        ),
        session_id=found.session_id,
        display_name=found.display_name,
        must_change_password=found.must_change_password,
    )


async def log_out(session: AsyncSession, auth: AuthConfig, token: str | None) -> None:
    """End the session of ``token`` (nothing happens for an unknown or already ended one)."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return
    ended = await UserSessionRepository(session).end_by_hash(
        auth.tokens.digest(token), now=utcnow(), reason=SessionEnd.LOGOUT
    )
    if ended is None:
        return
    user = await UserRepository(session).get(ended.user_id)
    await record_event(
        session, actor=Actor.of(user) if user else None, action="user.logged_out", entity_type="users",
        entity_id=ended.user_id, details={"session_id": ended.id},
    )  # fmt: skip
    await session.commit()
    log.info("auth.logged_out user_id=%s session_id=%s", ended.user_id, ended.id)


# --- passwords -------------------------------------------------------------------------------------


def _check_policy(password: str, user_or_name: User | str, display_name: str = "", *, field: str) -> None:
    username = user_or_name if isinstance(user_or_name, str) else user_or_name.username
    if isinstance(user_or_name, User):
        display_name = user_or_name.display_name
    problem = password_problem(password, username=username, display_name=display_name)
    if problem is not None:
        raise PasswordRejected(problem, field=field)


async def change_password(
    session: AsyncSession,
    auth: AuthConfig,
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    keep_session_id: int | None,
    client: Client,
) -> User:
    """Change the caller's own password; every other session of the account ends.

    A wrong current password counts as a failed login (a stolen session must not become a way to
    guess the password without the throttle).

    Args:
        session: the request session.
        auth: the app's login config.
        actor: the caller (also while a temporary password must be changed).
        current_password: the password in use now.
        new_password: the new one (checked against the password policy).
        keep_session_id: the caller's own session, which stays open.
        client: where the request comes from (for the throttle).

    Raises:
        LoginThrottled: too many recent failures for this account or from this address.
        CurrentPasswordWrong: ``current_password`` is wrong.
        PasswordRejected: the new password breaks the policy or equals the current one.
    """
    user = await _get_user(session, actor.user_id)
    address = client.address[:64]
    retry_after = await _throttled(session, auth.throttle, user.username_key, address, utcnow(), user)
    if retry_after is not None:
        raise LoginThrottled(retry_after)
    if not await auth.hashing.verify(user.password_hash, current_password):
        session.add(
            LoginAttempt(
                username_key=user.username_key, client_address=address, user_id=user.id, succeeded=False
            )
        )
        await session.commit()
        log.info("auth.current_password_wrong user_id=%s", user.id)
        raise CurrentPasswordWrong()
    _check_policy(new_password, user, field="new_password")
    if new_password == current_password:
        raise PasswordRejected("新密码不能与当前密码相同。", field="new_password")
    before = snapshot(user)
    user.password_hash = await auth.hashing.hash(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    ended = await UserSessionRepository(session).end_all_of(
        user.id, now=user.password_changed_at, reason=SessionEnd.PASSWORD_CHANGED, keep_id=keep_session_id
    )
    await session.flush()
    await record_change(session, actor=actor, action="user.password_changed", record=user, before=before)
    await session.commit()
    log.info("auth.password_changed user_id=%s sessions_ended=%s", user.id, ended)
    return user


def temporary_password() -> str:
    """A random temporary password: 15 characters in three groups, about 85 bits."""
    groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(5)) for _ in range(3))
    return "-".join(groups)


async def reset_password(
    session: AsyncSession, auth: AuthConfig, actor: Actor, user_id: int
) -> tuple[User, str]:
    """An administrator sets a temporary password that must be changed at the next login.

    Every session of the account ends. The temporary password is returned once, to hand over; only
    its hash is kept.

    Raises:
        Forbidden: the caller is not an administrator.
        NotFound: no such account.
    """
    _require_admin(actor, "只有管理员可以重置密码。")
    user = await _get_user(session, user_id)
    password = temporary_password()
    before = snapshot(user)
    user.password_hash = await auth.hashing.hash(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    await UserSessionRepository(session).end_all_of(
        user.id, now=user.password_changed_at, reason=SessionEnd.PASSWORD_RESET
    )
    await session.flush()
    await record_change(session, actor=actor, action="user.password_reset", record=user, before=before)
    await session.commit()
    log.info("auth.password_reset user_id=%s by=%s", user.id, actor.user_id)
    return user, password


# --- accounts --------------------------------------------------------------------------------------


async def set_active(session: AsyncSession, actor: Actor, user_id: int, *, active: bool) -> User:
    """Disable an account (all its sessions end at once) or enable it again. Administrators only.

    Raises:
        Forbidden: the caller is not an administrator.
        NotFound: no such account.
        OwnAccountLocked: an administrator disabling their own account.
    """
    _require_admin(actor, "只有管理员可以停用或启用账号。")
    user = await _get_user(session, user_id)
    if not active and user.id == actor.user_id:
        raise OwnAccountLocked()
    before = snapshot(user)
    user.is_active = active
    if not active:
        await UserSessionRepository(session).end_all_of(user.id, now=utcnow(), reason=SessionEnd.DISABLED)
    await session.flush()
    action = "user.enabled" if active else "user.disabled"
    await record_change(session, actor=actor, action=action, record=user, before=before)
    await session.commit()
    log.info("auth.%s user_id=%s by=%s", "enabled" if active else "disabled", user.id, actor.user_id)
    return user


async def list_users(session: AsyncSession, actor: Actor) -> Sequence[User]:
    """Every account, for administrators.

    Raises:
        Forbidden: the caller is not an administrator.
    """
    _require_admin(actor, "只有管理员可以查看账号列表。")
    return await UserRepository(session).list_all()


async def username_taken(session: AsyncSession, username: str) -> bool:
    """True when an account has this username (in any case or width)."""
    return await UserRepository(session).get_by_username_key(username_key(username)) is not None


async def get_user(session: AsyncSession, actor: Actor) -> User:
    """Return the caller's own account."""
    user = await UserRepository(session).get(actor.user_id)
    if user is None:  # deleted between the token check and now
        raise LoginFailed()
    return user


async def count_accounts(session: AsyncSession) -> int:
    """How many accounts exist (the demo loader reports it)."""
    return await UserRepository(session).count()


async def create_user(
    session: AsyncSession, actor: Actor | None, data: UserCreate, *, hashing: PasswordHashing | None = None
) -> User:
    """Create an account bound to its enterprise or expert record.

    Args:
        session: the request session.
        actor: the administrator doing it (``None`` only for trusted jobs such as the demo loader).
        data: the new account.
        hashing: the app's password hashing (a private one, one thread, when omitted).

    Raises:
        Forbidden: the caller is not an administrator.
        RoleBindingInvalid: the binding does not fit the role, or the bound record does not exist.
        UsernameTaken: the username is in use (in any case or width).
        PasswordRejected: the password breaks the password policy.
    """
    if actor is not None:
        _require_admin(actor, "只有管理员可以创建账号。")
    await _check_binding(session, data)
    repository = UserRepository(session)
    key = username_key(data.username)
    if await repository.get_by_username_key(key):
        raise UsernameTaken(data.username)
    _check_policy(data.password, data.username, data.display_name, field="password")
    user = User(
        username=data.username,
        username_key=key,
        password_hash=await (hashing or _DEFAULT_HASHING).hash(data.password),
        display_name=data.display_name,
        role=data.role,
        enterprise_id=data.enterprise_id,
        expert_id=data.expert_id,
    )
    try:
        await repository.add(user)
    except IntegrityError:
        await session.rollback()
        raise UsernameTaken(data.username) from None
    await record_change(session, actor=actor, action="user.created", record=user, before=None)
    await session.commit()
    return user


_DEFAULT_HASHING = PasswordHashing(1)


def _require_admin(actor: Actor, detail: str) -> None:
    if not actor.is_admin:
        raise Forbidden(detail)


async def _get_user(session: AsyncSession, user_id: int) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise NotFound(f"账号（编号 {user_id}）不存在。")
    return user


async def _check_binding(session: AsyncSession, data: UserCreate) -> None:
    if data.role is UserRole.ENTERPRISE:
        if data.enterprise_id is None or data.expert_id is not None:
            raise RoleBindingInvalid("企业用户必须绑定一个企业（enterprise_id），且不能绑定专家。")
        if not await enterprise_service.enterprise_exists(session, data.enterprise_id):
            raise RoleBindingInvalid(f"要绑定的企业（编号 {data.enterprise_id}）不存在。")
    elif data.role is UserRole.EXPERT:
        if data.expert_id is None or data.enterprise_id is not None:
            raise RoleBindingInvalid("专家用户必须绑定一个专家档案（expert_id），且不能绑定企业。")
        if not await expert_service.expert_exists(session, data.expert_id):
            raise RoleBindingInvalid(f"要绑定的专家档案（编号 {data.expert_id}）不存在。")
    elif data.enterprise_id is not None or data.expert_id is not None:
        raise RoleBindingInvalid("管理员账号不能绑定企业或专家。")


async def enterprise_user_ids(session: AsyncSession, enterprise_id: int) -> list[int]:
    """The active logins of an enterprise (who receives its notifications)."""
    return await UserRepository(session).active_ids(enterprise_id=enterprise_id)


async def expert_user_ids(session: AsyncSession, expert_id: int) -> list[int]:
    """The active login of an expert, if the expert has one."""
    return await UserRepository(session).active_ids(expert_id=expert_id)


async def admin_user_ids(session: AsyncSession) -> list[int]:
    """The active administrators."""
    return await UserRepository(session).active_ids(admins=True)
