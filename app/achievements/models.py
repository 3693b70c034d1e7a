"""ORM model for experts' technical achievements."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import POSTGRESQL_ONLY, Base, TimestampMixin, descending_indexes, str_enum
from app.search import KEYWORD_PREFIX, TokenList, document_tokens, keep_search_tokens

if TYPE_CHECKING:
    from app.experts.models import Expert


class AchievementKind(StrEnum):
    """What kind of result an achievement is."""

    PATENT = "patent"
    PAPER = "paper"
    SOFTWARE = "software"
    PROCESS = "process"
    PROTOTYPE = "prototype"
    STANDARD = "standard"


class Maturity(StrEnum):
    """How close an achievement is to production (成果转化 wants mature results)."""

    LAB = "lab"
    PILOT = "pilot"
    PRODUCTION = "production"


class Achievement(TimestampMixin, Base):
    """A technical achievement (科技成果) of an expert: patent, paper, software, process, prototype, standard."""

    __tablename__ = "achievements"
    __table_args__ = (
        Index("ix_achievements_year_id", "year", "id"),
        Index("ix_achievements_title_id", "title", "id"),
        Index("ix_achievements_updated_at_id", "updated_at", "id"),
        *descending_indexes("achievements", {"year": ("year",)}),
        Index(
            "ix_achievements_search_tokens", "search_tokens", postgresql_using="gin", info=POSTGRESQL_ONLY
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AchievementKind] = mapped_column(str_enum(AchievementKind, 20))
    title: Mapped[str] = mapped_column(String(200))
    abstract: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(default=list)
    year: Mapped[int | None]
    maturity: Mapped[Maturity] = mapped_column(str_enum(Maturity, 20))
    # derived from the title, abstract and keywords on every save (app/search.py)
    search_tokens: Mapped[list[str] | None] = mapped_column(TokenList, deferred=True, deferred_raiseload=True)

    expert: Mapped[Expert] = relationship(back_populates="achievements", lazy="raise")


ACHIEVEMENT_TEXT_COLUMNS = ("title", "abstract", "keywords")


def achievement_tokens(achievement: Any) -> list[str]:
    """The search tokens of an achievement (or of a row with its text columns): its text and keywords."""
    keywords = achievement.keywords or ()
    return document_tokens((achievement.title, achievement.abstract, *keywords), keywords, KEYWORD_PREFIX)


keep_search_tokens(Achievement, ACHIEVEMENT_TEXT_COLUMNS, achievement_tokens)
