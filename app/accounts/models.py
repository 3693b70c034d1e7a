"""ORM model for user accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, str_enum


class UserRole(StrEnum):
    """Who a user is: an enterprise's staff, an expert, or an administrator (市总工会 / 人才办)."""

    ENTERPRISE = "enterprise"
    EXPERT = "expert"
    ADMIN = "admin"


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
