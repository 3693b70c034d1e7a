"""ORM models for the yearly review of co-built projects: rounds, reviewers' scores and funding decisions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, str_enum, utcnow


class ReviewRoundStatus(StrEnum):
    """A round takes reviews while open; once closed its ranking and funding decisions are final."""

    OPEN = "open"
    CLOSED = "closed"


class ProjectReviewStatus(StrEnum):
    """A reviewer's assignment on a project in a yearly review round."""

    ASSIGNED = "assigned"
    SUBMITTED = "submitted"


class FundingDecision(StrEnum):
    """What a round decided for a project (资助决定)."""

    FUNDED = "funded"
    NOT_FUNDED = "not_funded"


class ReviewRound(Base):
    """The yearly review of the co-built project catalogue (年度评审)."""

    __tablename__ = "review_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    status: Mapped[ReviewRoundStatus] = mapped_column(
        str_enum(ReviewRoundStatus, 20), default=ReviewRoundStatus.OPEN
    )
    opened_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class ProjectReview(Base):
    """One reviewer's scores for a co-built project (an agreement in the catalogue) in a yearly round."""

    __tablename__ = "project_reviews"
    __table_args__ = (
        UniqueConstraint("agreement_id", "round_year", "reviewer_expert_id"),
        CheckConstraint("progress_score IS NULL OR progress_score BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint(
            "technical_score IS NULL OR technical_score BETWEEN 0 AND 100", name="technical_range"
        ),
        CheckConstraint(
            "difficulty_score IS NULL OR difficulty_score BETWEEN 0 AND 100", name="difficulty_range"
        ),
        CheckConstraint("benefit_score IS NULL OR benefit_score BETWEEN 0 AND 100", name="benefit_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    round_year: Mapped[int] = mapped_column(index=True)
    reviewer_expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="RESTRICT"), index=True)
    status: Mapped[ProjectReviewStatus] = mapped_column(
        str_enum(ProjectReviewStatus, 20), default=ProjectReviewStatus.ASSIGNED
    )
    progress_score: Mapped[int | None]
    technical_score: Mapped[int | None]
    difficulty_score: Mapped[int | None]
    benefit_score: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]


class ProjectFunding(Base):
    """A round's funding decision for one project, with the rank and mean score it was based on."""

    __tablename__ = "project_fundings"
    __table_args__ = (
        UniqueConstraint("round_year", "agreement_id"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_year: Mapped[int] = mapped_column(index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    mean_score: Mapped[float] = mapped_column(Numeric(5, 2, asdecimal=False))
    decision: Mapped[FundingDecision] = mapped_column(str_enum(FundingDecision, 20))
    amount: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
