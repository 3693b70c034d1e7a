"""Request and response bodies for achievements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.achievements.models import AchievementKind, Maturity
from app.schemas import Id, InputModel, PatchModel, TermList, Text

Title = Annotated[str, Text(200)]
Abstract = Annotated[str, Text(8000, min_length=0, multiline=True)]
Year = Annotated[int, Field(ge=1949, le=2100)]


class AchievementCreate(InputModel):
    """A new achievement. Experts may leave ``expert_id`` out: it defaults to their own record."""

    expert_id: Id | None = None
    kind: AchievementKind
    title: Title
    abstract: Abstract = ""
    keywords: TermList = []
    year: Year | None = None
    maturity: Maturity


class AchievementUpdate(PatchModel):
    """Fields of an achievement that may change (not its owner)."""

    not_nullable: ClassVar[frozenset[str]] = frozenset({"kind", "title", "abstract", "keywords", "maturity"})

    kind: AchievementKind | None = None
    title: Title | None = None
    abstract: Abstract | None = None
    keywords: TermList | None = None
    year: Year | None = None
    maturity: Maturity | None = None


class AchievementRead(BaseModel):
    """An achievement as the public achievement library (成果库) shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    expert_id: int
    kind: AchievementKind
    title: str
    abstract: str
    keywords: list[str]
    year: int | None
    maturity: Maturity
    created_at: datetime
    updated_at: datetime
