"""ORM models for user accounts, their login sessions and the login attempts that throttle guessing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, str_enum, utcnow


class UserRole(StrEnum):
    """Who a user is: an enterprise's staff, an expert, or an administrator (市总工会 / 人才办)."""

    ENTERPRISE = "enterprise"
    EXPERT = "expert"
    ADMIN = "admin"


class SessionEnd(StrEnum):
    """Why a login session was ended before it expired."""

    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    DISABLED = "disabled"


class User(TimestampMixin, Base):
    """A login. Enterprise users are bound to an enterprise, expert users to an expert record."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'enterprise' AND enterprise_id IS NOT NULL AND expert_id IS NULL)"
            " OR (role = 'expert' AND expert_id IS NOT NULL AND enterprise_id IS NULL)"
            " OR (role = 'admin' AND enterprise_id IS NULL AND expert_id IS NULL)",
            name="role_binding",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    # NFKC + casefold of the username (security.username_key): `Admin`, `ADMIN` and `ＡＤＭＩＮ` are one
    # account, so the database itself refuses a look-alike second one
    username_key: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[UserRole] = mapped_column(str_enum(UserRole, 20))
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    expert_id: Mapped[int | None] = mapped_column(
        ForeignKey("experts.id", ondelete="CASCADE"), index=True, unique=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    # set by an administrator's reset: the temporary password works only to choose a new one
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[datetime | None]


class UserSession(Base):
    """One login: the bearer token and the session cookie carry its random token, stored only as a keyed hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # refreshed at most once a minute (service.TOUCH_INTERVAL): the idle lifetime counts from here
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    end_reason: Mapped[SessionEnd | None] = mapped_column(str_enum(SessionEnd, 20))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    client_address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="raise")


class LoginAttempt(Base):
    """One checked login (right or wrong password), counted by the login throttle across all workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_key_attempted_at", "username_key", "attempted_at"),
        Index("ix_login_attempts_client_address_attempted_at", "client_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed alone too: each login deletes the rows that just passed the retention (service.py)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # the normalised username typed, whether or not such an account exists
    username_key: Mapped[str] = mapped_column(String(200))
    client_address: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    succeeded: Mapped[bool]
