"""ORM models for the append-only audit trail and the anchors of its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class AuditEvent(Base):
    """Who changed what, when, with the record before and after. Rows are only ever inserted.

    Each event is a link of a hash chain (``app.audit.chain``): ``seq`` is its position (1, 2, …),
    ``prev_hash`` the ``row_hash`` of the event at ``seq - 1``, ``row_hash`` the SHA-256 of every
    other column. The unique ``seq`` makes a fork (two events after the same one) an integrity error.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column()
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """A head of the chain seen intact at some moment: its position and hash. Rows are only inserted.

    The chain alone cannot tell that its newest events were cut off (the rest still links up); an
    anchor can, as long as it survives (it is also written to the log, which lives elsewhere).
    """

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    event_id: Mapped[int] = mapped_column()
    seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))
