"""ORM model for orders (technical needs)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import POSTGRESQL_ONLY, Base, TimestampMixin, descending_indexes, str_enum, utcnow
from app.search import TokenList, document_tokens, keep_search_tokens

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
        # the lists' sorts, alone and under the filters they go with, with the id as tie-breaker,
        # so a page is read from an index instead of sorting the table
        Index("ix_orders_created_at_id", "created_at", "id"),
        Index("ix_orders_published_at_id", "published_at", "id"),
        Index("ix_orders_status_created_at_id", "status", "created_at", "id"),
        Index("ix_orders_status_published_at_id", "status", "published_at", "id"),
        Index("ix_orders_district_created_at_id", "district", "created_at", "id"),
        Index("ix_orders_deadline_id", "deadline", "id"),
        Index("ix_orders_status_deadline_id", "status", "deadline", "id"),
        Index("ix_orders_updated_at_id", "updated_at", "id"),
        # a descending sort by a column that may be empty keeps the empty ones last (app.repository)
        *descending_indexes(
            "orders",
            {
                "published_at": ("published_at",),
                "status_published_at": ("status", "published_at"),
                "deadline": ("deadline",),
                "status_deadline": ("status", "deadline"),
            },
        ),
        Index(
            "ix_orders_search_tokens", "search_tokens", postgresql_using="gin", info=POSTGRESQL_ONLY
        ).ddl_if(dialect="postgresql"),
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
    district: Mapped[str] = mapped_column(String(50))
    town: Mapped[str | None] = mapped_column(String(50))
    slots: Mapped[int] = mapped_column(default=1)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, 20), default=OrderStatus.DRAFT)
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    # derived from the title, description and fields on every save (app/search.py); never read by lists
    search_tokens: Mapped[list[str] | None] = mapped_column(TokenList, deferred=True, deferred_raiseload=True)

    studio: Mapped[Studio] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


ORDER_TEXT_COLUMNS = ("title", "description", "fields")


def order_tokens(order: Any) -> list[str]:
    """The search tokens of an order (or of a row with its text columns): its text and its fields."""
    return document_tokens((order.title, order.description), order.fields or ())


keep_search_tokens(Order, ORDER_TEXT_COLUMNS, order_tokens)


class TakingSource(StrEnum):
    """How an expert came to take an order: on their own (接单) or by accepting an invitation."""

    TAKEN = "taken"
    INVITED = "invited"


class TakingStatus(StrEnum):
    """A taking holds one of the order's slots until it is released."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    RELEASED = "released"


# the takings that hold a slot of their order
SLOT_HOLDING = (TakingStatus.PENDING, TakingStatus.CONFIRMED)


class OrderTaking(Base):
    """An expert's taking of an order (接单): it holds a slot until the enterprise confirms or releases it."""

    __tablename__ = "order_takings"
    __table_args__ = (UniqueConstraint("order_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="RESTRICT"), index=True)
    source: Mapped[TakingSource] = mapped_column(str_enum(TakingSource, 20))
    status: Mapped[TakingStatus] = mapped_column(
        str_enum(TakingStatus, 20), default=TakingStatus.PENDING, index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    release_reason: Mapped[str | None] = mapped_column(Text)
    taken_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
