"""Queries for user accounts, their login sessions and login attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, func, or_, select, update

from app.accounts.models import LoginAttempt, SessionEnd, User, UserRole, UserSession
from app.repository import Repository


class UserRepository(Repository[User]):
    """Accounts by id or username."""

    model = User

    async def get_by_username_key(self, key: str) -> User | None:
        """Return the account whose normalised username is ``key``, or ``None``."""
        return await self.session.scalar(select(User).where(User.username_key == key))

    async def list_all(self, *, limit: int = 500) -> Sequence[User]:
        """Accounts for the administrators' list: administrators first, then by username."""
        statement = select(User).order_by(User.role, User.username_key).limit(limit)
        return (await self.session.scalars(statement)).all()

    async def count(self) -> int:
        """How many accounts there are."""
        return int(await self.session.scalar(select(func.count()).select_from(User)) or 0)

    async def active_ids(
        self, *, enterprise_id: int | None = None, expert_id: int | None = None, admins: bool = False
    ) -> list[int]:
        """Ids of the active logins of an enterprise, of an expert, or of the administrators."""
        statement = select(User.id).where(User.is_active.is_(True)).order_by(User.id)
        if enterprise_id is not None:
            statement = statement.where(User.enterprise_id == enterprise_id)
        elif expert_id is not None:
            statement = statement.where(User.expert_id == expert_id)
        elif admins:
            statement = statement.where(User.role == UserRole.ADMIN)
        else:
            return []
        return list(await self.session.scalars(statement))


class LiveSession(NamedTuple):
    """What a request needs of its login session and account (columns, not loaded records)."""

    session_id: int
    last_seen_at: datetime
    user_id: int
    role: UserRole
    enterprise_id: int | None
    expert_id: int | None
    display_name: str
    must_change_password: bool


# built once: every authenticated request runs it, and a statement object reused keeps its cache key
_LIVE_SESSION = (
    select(
        UserSession.id,
        UserSession.last_seen_at,
        User.id,
        User.role,
        User.enterprise_id,
        User.expert_id,
        User.display_name,
        User.must_change_password,
    )
    .join(User, User.id == UserSession.user_id)
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > bindparam("now"),
        UserSession.last_seen_at > bindparam("idle_since"),
        User.is_active.is_(True),
    )
)


class UserSessionRepository(Repository[UserSession]):
    """Login sessions, found by the keyed hash of their token."""

    model = UserSession

    async def find_live(self, token_hash: str, *, now: datetime, idle_since: datetime) -> LiveSession | None:
        """The session of this token with its user, if neither ended, expired, idle too long nor disabled.

        One statement on the unique token index, joined to the account: the whole cost of
        authenticating a request. Only the columns a request needs are read (no records are loaded).
        """
        parameters = {"token_hash": token_hash, "now": now, "idle_since": idle_since}
        row = (await self.session.execute(_LIVE_SESSION, parameters)).first()
        return LiveSession(*row) if row is not None else None

    async def touch(self, session_id: int, now: datetime) -> None:
        """Move the session's last activity to ``now``."""
        await self.session.execute(
            update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
        )

    async def end_by_hash(self, token_hash: str, *, now: datetime, reason: SessionEnd) -> UserSession | None:
        """End the session of this token (if it is still open) and return it."""
        session_row = await self.session.scalar(
            select(UserSession).where(UserSession.token_hash == token_hash, UserSession.revoked_at.is_(None))
        )
        if session_row is not None:
            session_row.revoked_at = now
            session_row.end_reason = reason
            await self.session.flush()
        return session_row

    async def delete_finished_of(self, user_id: int, cutoff: datetime) -> None:
        """Forget a user's sessions that ended or expired before ``cutoff``."""
        await self.session.execute(
            delete(UserSession).where(
                UserSession.user_id == user_id,
                or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff),
            )
        )

    async def end_all_of(
        self, user_id: int, *, now: datetime, reason: SessionEnd, keep_id: int | None = None
    ) -> int:
        """End every open session of a user (but ``keep_id``); return how many were ended."""
        statement = (
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now, end_reason=reason)
        )
        if keep_id is not None:
            statement = statement.where(UserSession.id != keep_id)
        result = await self.session.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)


class LoginAttemptRepository(Repository[LoginAttempt]):
    """Checked logins, read by the throttle."""

    model = LoginAttempt

    async def delete_before(self, cutoff: datetime) -> None:
        """Forget attempts older than ``cutoff``."""
        await self.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))

    async def recent_failures(
        self,
        *,
        since: datetime,
        limit: int,
        username_key: str | None = None,
        client_address: str | None = None,
    ) -> list[datetime]:
        """Times of the newest failures after ``since`` for a username or an address, newest first, at most ``limit``."""
        statement = select(LoginAttempt.attempted_at).where(
            LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since
        )
        if username_key is not None:
            statement = statement.where(LoginAttempt.username_key == username_key)
        if client_address is not None:
            statement = statement.where(LoginAttempt.client_address == client_address)
        statement = statement.order_by(LoginAttempt.attempted_at.desc()).limit(limit)
        return list(await self.session.scalars(statement))
