"""ORM model for orders (technical needs)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, str_enum

if TYPE_CHECKING:
    from app.studios.models import Studio


class NeedKind(StrEnum):
    """What an order asks for."""

    TECH_BREAKTHROUGH = "tech_breakthrough"
    PROCESS_IMPROVEMENT = "process_improvement"
    TECH_TRANSFER = "tech_transfer"
    TRAINING = "training"
    CONSULTING = "consulting"


class OrderStatus(StrEnum):
    """Lifecycle of an order: 草稿 → 已发布 → 已接单 → 已关闭, or 已撤回."""

    DRAFT = "draft"
    PUBLISHED = "published"
    TAKEN = "taken"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Order(TimestampMixin, Base):
    """A technical need (技术需求) posted by a studio (发单)."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("slots >= 1", name="slots_positive"),
        CheckConstraint(
            "budget_min IS NULL OR budget_max IS NULL OR budget_max >= budget_min", name="budget_order"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(ForeignKey("studios.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    need_kind: Mapped[NeedKind] = mapped_column(str_enum(NeedKind, 30))
    fields: Mapped[list[str]] = mapped_column(default=list)
    budget_min: Mapped[int | None]
    budget_max: Mapped[int | None]
    deadline: Mapped[date | None]
    province: Mapped[str] = mapped_column(String(50))
    city: Mapped[str] = mapped_column(String(50))
    district: Mapped[str] = mapped_column(String(50), index=True)
    town: Mapped[str | None] = mapped_column(String(50))
    slots: Mapped[int] = mapped_column(default=1)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, 20), default=OrderStatus.DRAFT, index=True
    )
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    studio: Mapped[Studio] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}
