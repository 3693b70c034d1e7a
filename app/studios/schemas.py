"""Request and response bodies for studios and their star assessments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, computed_field

from app.labels import label
from app.schemas import Id, InputModel, PatchModel, ShortText, TermList, Text
from app.studios.models import AssessmentKind, StudioKind, StudioStatus

Name = Annotated[str, Text(200)]
Description = Annotated[str, Text(4000, min_length=0, multiline=True)]
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


# --- star assessments (星级评定) -----------------------------------------------------------------

_CENT = Decimal("0.01")


def _score_input(value: Any) -> Any:
    # pydantic's own messages for these cases are not in Chinese; say plainly what a score must be
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("必须是 0 到 100 之间的数字")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return value  # not a number at all: pydantic answers "必须是数字"
    if not number.is_finite():
        raise ValueError("必须是 0 到 100 之间的数字")
    return value


def _two_places(value: Decimal) -> Decimal:
    if value != value.quantize(_CENT):
        raise ValueError("最多保留两位小数")
    # one spelling per value: 1E+2 → 100.00, -0 → 0.00 (the column is NUMERIC(5, 2))
    return abs(value).quantize(_CENT) if value == 0 else value.quantize(_CENT)


Score = Annotated[
    Decimal,
    BeforeValidator(_score_input),
    Field(ge=0, le=100, description="得分，0–100，最多两位小数"),
    AfterValidator(_two_places),
]


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("不能为空，请填写摘牌原因")
    return value


Note = Annotated[str, Text(4000, min_length=0, multiline=True)]
Reason = Annotated[str, Text(4000, min_length=0, multiline=True), AfterValidator(_not_blank)]


class AssessmentCreate(InputModel):
    """A star assessment of a studio: three scores out of 100 and the day it was made.

    The total, the stars and the kind (首次评定 / 复评 / 降级) are worked out by the service from the
    policy in force; the caller cannot send them.
    """

    expert_review_score: Score
    site_visit_score: Score
    demonstration_score: Score
    assessed_on: date = Field(description="评定日期，不能晚于今天，也不能早于上次评定")
    note: Note = ""


class DelistingCreate(InputModel):
    """De-listing (摘牌) a studio: the reason is required."""

    reason: Reason


class AssessmentRead(BaseModel):
    """One entry of a studio's assessment history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    studio_id: int
    kind: AssessmentKind
    assessed_on: date
    expert_review_score: float
    site_visit_score: float
    demonstration_score: float
    total_score: float
    stars: int
    # the weights and thresholds in force when it was made
    weights: dict[str, Any]
    note: str
    assessed_by_user_id: int | None
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        """The kind in Chinese."""
        return label(self.kind)


class AssessmentOutcome(BaseModel):
    """What an assessment or a de-listing recorded, and the studio as it now stands."""

    assessment: AssessmentRead
    studio: StudioRead
