"""ORM model for experts' technical achievements."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TimestampMixin, str_enum

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

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AchievementKind] = mapped_column(str_enum(AchievementKind, 20))
    title: Mapped[str] = mapped_column(String(200))
    abstract: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(default=list)
    year: Mapped[int | None]
    maturity: Mapped[Maturity] = mapped_column(str_enum(Maturity, 20))

    expert: Mapped[Expert] = relationship(back_populates="achievements", lazy="raise")
