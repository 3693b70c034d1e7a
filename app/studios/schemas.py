"""Request and response bodies for studios."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id, InputModel, PatchModel, ShortText, TermList, Text
from app.studios.models import StudioKind, StudioStatus

Name = Annotated[str, Text(200)]
Description = Annotated[str, Text(4000, min_length=0)]
MembersCount = Annotated[int, Field(ge=0, le=100_000)]
StarRating = Annotated[int, Field(ge=0, le=3)]
StarScore = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Year = Annotated[int, Field(ge=1949, le=2100)]
AllianceName = Annotated[str, Text(100)]

# only administrators set these: the rating comes from a star assessment (星级评定)
STAR_FIELDS = frozenset({"star_rating", "star_assessed_on", "star_score"})


class StudioCreate(InputModel):
    """A new studio. Enterprise users may leave ``enterprise_id`` out: it defaults to their own."""

    enterprise_id: Id | None = None
    name: Name
    kind: StudioKind
    leader_name: ShortText
    leader_honours: TermList = []
    fields: TermList = []
    members_count: MembersCount = 0
    star_rating: StarRating = 0
    star_assessed_on: date | None = None
    star_score: StarScore | None = None
    alliance: AllianceName | None = None
    sub_alliance: AllianceName | None = None
    founded_year: Year | None = None
    description: Description = ""


class StudioUpdate(PatchModel):
    """Fields that may change after registration (the owning enterprise may not)."""

    not_nullable: ClassVar[frozenset[str]] = frozenset(
        {
            "name",
            "kind",
            "leader_name",
            "leader_honours",
            "fields",
            "members_count",
            "star_rating",
            "description",
        }
    )

    name: Name | None = None
    kind: StudioKind | None = None
    leader_name: ShortText | None = None
    leader_honours: TermList | None = None
    fields: TermList | None = None
    members_count: MembersCount | None = None
    star_rating: StarRating | None = None
    star_assessed_on: date | None = None
    star_score: StarScore | None = None
    alliance: AllianceName | None = None
    sub_alliance: AllianceName | None = None
    founded_year: Year | None = None
    description: Description | None = None


class StudioRead(BaseModel):
    """A studio as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    enterprise_id: int
    name: str
    kind: StudioKind
    status: StudioStatus
    leader_name: str
    leader_honours: list[str]
    fields: list[str]
    members_count: int
    star_rating: int
    star_assessed_on: date | None
    star_score: float | None
    alliance: str | None
    sub_alliance: str | None
    founded_year: int | None
    description: str
    created_at: datetime
    updated_at: datetime
