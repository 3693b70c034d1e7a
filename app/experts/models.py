"""ORM model for tech-town experts."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import POSTGRESQL_ONLY, Base, TimestampMixin, descending_indexes
from app.search import TokenList, document_tokens, keep_search_tokens

if TYPE_CHECKING:
    from app.achievements.models import Achievement


class Expert(TimestampMixin, Base):
    """A member of a tech-town expert group (科技镇长团成员), seconded from a university to a town."""

    __tablename__ = "experts"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
        CheckConstraint(
            "term_end IS NULL OR term_start IS NULL OR term_end >= term_start", name="term_order"
        ),
        Index("ix_experts_cohort_number_id", "cohort_number", "id"),
        Index("ix_experts_updated_at_id", "updated_at", "id"),
        *descending_indexes("experts", {"cohort_number": ("cohort_number",)}),
        Index(
            "ix_experts_search_tokens", "search_tokens", postgresql_using="gin", info=POSTGRESQL_ONLY
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    title: Mapped[str] = mapped_column(String(50))
    university: Mapped[str] = mapped_column(String(100), index=True)
    department: Mapped[str | None] = mapped_column(String(100))
    disciplines: Mapped[list[str]] = mapped_column(default=list)
    cohort_number: Mapped[int | None] = mapped_column(index=True)
    cohort_year: Mapped[int | None]
    seconded_district: Mapped[str | None] = mapped_column(String(50), index=True)
    seconded_town: Mapped[str | None] = mapped_column(String(50))
    seconded_role: Mapped[str | None] = mapped_column(String(50))
    term_start: Mapped[date | None]
    term_end: Mapped[date | None]
    capacity: Mapped[int] = mapped_column(default=3)
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    bio: Mapped[str] = mapped_column(Text, default="")
    # derived from the name, university, department, bio and disciplines on every save (app/search.py)
    search_tokens: Mapped[list[str] | None] = mapped_column(TokenList, deferred=True, deferred_raiseload=True)

    achievements: Mapped[list[Achievement]] = relationship(back_populates="expert", lazy="raise")


EXPERT_TEXT_COLUMNS = ("name", "university", "department", "bio", "disciplines")


def expert_tokens(expert: Any) -> list[str]:
    """The search tokens of an expert (or of a row with its text columns): its text and disciplines."""
    disciplines = expert.disciplines or ()
    return document_tokens(
        (expert.name, expert.university, expert.department, expert.bio, *disciplines), disciplines
    )


keep_search_tokens(Expert, EXPERT_TEXT_COLUMNS, expert_tokens)
