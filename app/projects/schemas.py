"""API shapes of the project catalogue and the yearly review."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.projects.models import FundingDecision, ProjectReviewStatus, ReviewRoundStatus
from app.schemas import MAX_INT, Id, InputModel, Text

Score = Annotated[int, Field(ge=0, le=100, description="0–100 分")]
Year = Annotated[int, Field(ge=2000, le=2100)]


class RoundCreate(InputModel):
    """Open the review of a year."""

    year: Year


class ReviewerAssignment(InputModel):
    """Assign an expert to review a catalogued project."""

    agreement_id: Id
    expert_id: Id


class ReviewScores(InputModel):
    """A reviewer's scores on the four fixed criteria (进度, 技术含量, 难度, 效益)."""

    progress_score: Score
    technical_score: Score
    difficulty_score: Score
    benefit_score: Score
    comment: Annotated[str, Text(2000, min_length=0, multiline=True)] = ""


class FundingItem(InputModel):
    """The decision for one project."""

    agreement_id: Id
    decision: FundingDecision
    amount: Annotated[int, Field(ge=0, le=MAX_INT)] | None = None
    note: Annotated[str, Text(1000, min_length=0, multiline=True)] = ""

    @field_validator("amount")
    @classmethod
    def _no_amount_without_funding(cls, amount: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("decision") is not FundingDecision.NOT_FUNDED:
            return amount
        if amount:
            raise ValueError("不予资助的项目不能填写资助金额")
        return None


class FundingDecisions(InputModel):
    """Decisions for some or all ranked projects of a round (each project once)."""

    decisions: Annotated[list[FundingItem], Field(min_length=1, max_length=500)]

    @field_validator("decisions")
    @classmethod
    def _each_project_once(cls, decisions: list[FundingItem]) -> list[FundingItem]:
        seen: set[int] = set()
        for item in decisions:
            if item.agreement_id in seen:
                raise ValueError(f"项目（协议 #{item.agreement_id}）出现了两次，每个项目只能有一个资助决定")
            seen.add(item.agreement_id)
        return decisions


class RoundRead(BaseModel):
    """A review round."""

    model_config = ConfigDict(from_attributes=True)

    year: int
    status: ReviewRoundStatus
    opened_at: datetime
    closed_at: datetime | None


class ReviewRead(BaseModel):
    """A reviewer's assignment and scores."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    agreement_id: int
    round_year: int
    reviewer_expert_id: int
    status: ProjectReviewStatus
    progress_score: int | None
    technical_score: int | None
    difficulty_score: int | None
    benefit_score: int | None
    comment: str
    assigned_at: datetime
    submitted_at: datetime | None


class RankedProject(BaseModel):
    """A project's place in a round: mean score over submitted reviews, and the decision if made."""

    rank: int
    agreement_id: int
    order_title: str
    mean_score: float
    submitted_reviews: int
    pending_reviews: int
    decision: FundingDecision | None
    amount: int | None


class CatalogueEntry(BaseModel):
    """A co-built project in the catalogue (共建项目目录)."""

    agreement_id: int
    order_title: str
    enterprise_id: int
    expert_id: int
    status: str
    catalogued_at: datetime
