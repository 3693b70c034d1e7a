"""ORM model for proposals (匹配建议)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    FetchedValue,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
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
    # the exact index state that ranked it: stored build + last change applied ("b12+c3456")
    index_state: Mapped[str] = mapped_column(String(40), default="", server_default="")
    status: Mapped[ProposalStatus] = mapped_column(
        str_enum(ProposalStatus, 20), default=ProposalStatus.PROPOSED
    )
    decline_reason: Mapped[str | None] = mapped_column(Text)
    relevance: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class MatcherChange(Base):
    """One row of the matcher's change feed: an expert or order changed in the transaction that wrote it.

    Every process keeps its matcher index fresh by applying these rows after its own cursor, so a
    change made through one worker reaches all of them. The row is written by the same transaction
    as the change (a session hook), so a rolled-back change leaves no row and a committed one always
    has one. ``xid`` is the writing transaction's id on PostgreSQL (filled by the server): readers
    order completion by it, since ids are handed out before commit, not in commit order.
    """

    __tablename__ = "matcher_changes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entity: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[int]
    xid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue(), index=True)


class MatcherBuildStatus(StrEnum):
    """A stored index version is written in chunks first and only then marked ready."""

    WRITING = "writing"
    READY = "ready"


class MatcherBuild(Base):
    """A fitted matcher stored in the database, so every worker on every machine loads the same version.

    ``watermark`` is where the change feed continues after this build: on PostgreSQL the oldest
    transaction still running when the build read the database (every change with a smaller
    transaction id is inside it); on SQLite the last change id it saw.
    """

    __tablename__ = "matcher_builds"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[MatcherBuildStatus] = mapped_column(
        str_enum(MatcherBuildStatus, 10), default=MatcherBuildStatus.WRITING
    )
    algorithm_version: Mapped[str] = mapped_column(String(64))
    watermark: Mapped[int] = mapped_column(BigInteger)
    last_change_id: Mapped[int] = mapped_column(BigInteger)
    experts: Mapped[int]
    orders: Mapped[int]
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatcherBuildChunk(Base):
    """One piece of a stored matcher (pieces keep each value well under the database's limits)."""

    __tablename__ = "matcher_build_chunks"

    build_id: Mapped[int] = mapped_column(
        ForeignKey("matcher_builds.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
