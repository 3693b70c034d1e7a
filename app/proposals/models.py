"""ORM model for proposals (匹配建议)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, str_enum, utcnow


class ProposalStatus(StrEnum):
    """What people did with a proposal; declines are kept because they measure match quality."""

    PROPOSED = "proposed"
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


class Proposal(Base):
    """The matcher's suggestion of an expert for an order, with its score, reasons and matcher version."""

    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("order_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    matcher_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[ProposalStatus] = mapped_column(
        str_enum(ProposalStatus, 20), default=ProposalStatus.PROPOSED
    )
    decline_reason: Mapped[str | None] = mapped_column(Text)
    relevance: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
