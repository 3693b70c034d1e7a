"""ORM models for studios and their star assessments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import POSTGRESQL_ONLY, Base, TimestampMixin, str_enum, utcnow
from app.search import ALLIANCE_PREFIX, TokenList, document_tokens, keep_search_tokens, term_token

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
        Index(
            "ix_studios_search_tokens", "search_tokens", postgresql_using="gin", info=POSTGRESQL_ONLY
        ).ddl_if(dialect="postgresql"),
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
    # derived from the name, leader, description, fields and alliance on every save (app/search.py)
    search_tokens: Mapped[list[str] | None] = mapped_column(TokenList, deferred=True, deferred_raiseload=True)

    enterprise: Mapped[Enterprise] = relationship(back_populates="studios", lazy="raise")


STUDIO_TEXT_COLUMNS = ("name", "leader_name", "description", "fields", "alliance", "sub_alliance")


def studio_tokens(studio: Any) -> list[str]:
    """The search tokens of a studio (or of a row with its text columns): its text, its fields as
    exact terms, and its alliance and sub-alliance as alliance terms (whatever script they are in)."""
    fields = studio.fields or ()
    alliances = [a for a in (studio.alliance, studio.sub_alliance) if a and a.strip()]
    tokens = document_tokens(
        (studio.name, studio.leader_name, studio.description, *fields, *alliances), fields
    )
    return sorted({*tokens, *(term_token(a, ALLIANCE_PREFIX) for a in alliances)})


keep_search_tokens(Studio, STUDIO_TEXT_COLUMNS, studio_tokens)


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
