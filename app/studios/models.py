"""ORM models for studios and their star assessments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, str_enum, utcnow

if TYPE_CHECKING:
    from app.enterprises.models import Enterprise


class StudioKind(StrEnum):
    """The three kinds of innovation studio."""

    MODEL_WORKER = "model_worker"
    CRAFTSMAN = "craftsman"
    WORKER = "worker"


class AssessmentKind(StrEnum):
    """Why an assessment was made: the first one, a periodic re-assessment, a downgrade or a de-listing."""

    INITIAL = "initial"
    REASSESSMENT = "reassessment"
    DOWNGRADE = "downgrade"
    DELISTING = "delisting"


class StudioStatus(StrEnum):
    """Whether a studio is listed; star assessments can de-list one."""

    ACTIVE = "active"
    DELISTED = "delisted"


class Studio(TimestampMixin, Base):
    """An innovation studio (创新工作室) inside an enterprise, led by a model worker or craftsman."""

    __tablename__ = "studios"
    __table_args__ = (
        CheckConstraint("star_rating BETWEEN 0 AND 3", name="star_rating_range"),
        CheckConstraint("members_count >= 0", name="members_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[StudioKind] = mapped_column(str_enum(StudioKind, 20))
    status: Mapped[StudioStatus] = mapped_column(str_enum(StudioStatus, 20), default=StudioStatus.ACTIVE)
    leader_name: Mapped[str] = mapped_column(String(50))
    leader_honours: Mapped[list[str]] = mapped_column(default=list)
    fields: Mapped[list[str]] = mapped_column(default=list)
    members_count: Mapped[int] = mapped_column(default=0)
    star_rating: Mapped[int] = mapped_column(default=0)
    star_assessed_on: Mapped[date | None]
    star_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    alliance: Mapped[str | None] = mapped_column(String(100))
    sub_alliance: Mapped[str | None] = mapped_column(String(100))
    founded_year: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")

    enterprise: Mapped[Enterprise] = relationship(back_populates="studios", lazy="raise")


class StudioAssessment(Base):
    """One star assessment (星级评定) of a studio; the history is kept, the latest sets the rating."""

    __tablename__ = "studio_assessments"
    __table_args__ = (CheckConstraint("stars BETWEEN 0 AND 3", name="stars_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(ForeignKey("studios.id", ondelete="CASCADE"), index=True)
    assessed_on: Mapped[date]
    expert_review_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    site_visit_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    demonstration_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    total_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    stars: Mapped[int]
    kind: Mapped[AssessmentKind] = mapped_column(str_enum(AssessmentKind, 20), default=AssessmentKind.INITIAL)
    # the weights and thresholds in force when it was made: later changes to them do not rewrite history
    weights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    assessed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
