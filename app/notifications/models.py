"""ORM model for in-app notifications (站内消息)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, str_enum, utcnow


class NotificationKind(StrEnum):
    """What a notification is about."""

    INVITATION = "invitation"
    INVITATION_ANSWERED = "invitation_answered"
    INVITATION_ENDED = "invitation_ended"
    ORDER_TAKEN = "order_taken"
    TAKING_CONFIRMED = "taking_confirmed"
    TAKING_RELEASED = "taking_released"
    SIGNATURE_REQUESTED = "signature_requested"
    AGREEMENT_REVISED = "agreement_revised"
    AGREEMENT_SIGNED = "agreement_signed"
    AMENDMENT_PROPOSED = "amendment_proposed"
    DELIVERY_CONFIRMED = "delivery_confirmed"
    AGREEMENT_TERMINATED = "agreement_terminated"
    CONSULTATION_OVERDUE = "consultation_overdue"
    REVIEW_ASSIGNED = "review_assigned"


class Notification(Base):
    """One message in a user's inbox. ``dedupe_key`` keeps a reminder from being sent twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, 30))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]
