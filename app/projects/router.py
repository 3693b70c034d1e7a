"""JSON API of the project catalogue and the yearly review: ``/api/v1/projects``, ``/api/v1/review-rounds``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from app.accounts.deps import ActorDep
from app.agreements.schemas import AgreementRead
from app.db import SessionDep
from app.projects import service as project_service
from app.projects.schemas import (
    CatalogueEntry,
    FundingDecisions,
    RankedProject,
    ReviewerAssignment,
    ReviewRead,
    ReviewScores,
    RoundCreate,
    RoundRead,
)
from app.projects.service import Ranked
from app.routing import IdPath

router = APIRouter(tags=["共建项目与年度评审"])

YearPath = Annotated[int, Path(ge=2000, le=2100, description="评审年度")]


def _ranked(rows: list[Ranked]) -> list[RankedProject]:
    return [
        RankedProject(
            rank=r.rank,
            agreement_id=r.agreement_id,
            order_title=r.order_title,
            mean_score=r.mean_score,
            submitted_reviews=r.submitted_reviews,
            pending_reviews=r.pending_reviews,
            decision=r.funding.decision if r.funding else None,
            amount=r.funding.amount if r.funding else None,
        )
        for r in rows
    ]


@router.post(
    "/projects/{agreement_id}",
    status_code=status.HTTP_201_CREATED,
    response_model=AgreementRead,
    summary="列入共建项目目录（管理员）",
)
async def catalogue_agreement(agreement_id: IdPath, session: SessionDep, actor: ActorDep) -> AgreementRead:
    """Enter an agreement being carried out (or delivered) into the catalogue."""
    return await project_service.catalogue_agreement(session, actor, agreement_id)


@router.get("/projects", response_model=list[CatalogueEntry], summary="共建项目目录（管理员）")
async def catalogue(session: SessionDep, actor: ActorDep) -> list[CatalogueEntry]:
    """The catalogue, in the order projects entered it."""
    return [
        CatalogueEntry(
            agreement_id=a.id,
            order_title=title,
            enterprise_id=a.enterprise_id,
            expert_id=a.expert_id,
            status=a.status.value,
            catalogued_at=a.catalogued_at,
        )
        for a, title in await project_service.catalogue(session, actor)
    ]


@router.post(
    "/review-rounds",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundRead,
    summary="开启年度评审（管理员）",
)
async def open_round(body: RoundCreate, session: SessionDep, actor: ActorDep) -> RoundRead:
    """Open the review of a year."""
    return RoundRead.model_validate(await project_service.open_round(session, actor, body.year))


@router.get("/review-rounds", response_model=list[RoundRead], summary="年度评审列表（管理员）")
async def list_rounds(session: SessionDep, actor: ActorDep) -> list[RoundRead]:
    """Every round, latest first."""
    return [RoundRead.model_validate(r) for r in await project_service.rounds(session, actor)]


@router.post(
    "/review-rounds/{year}/reviewers",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewRead,
    summary="安排评审专家（管理员；利益相关专家须回避）",
)
async def assign_reviewer(
    year: YearPath, body: ReviewerAssignment, session: SessionDep, actor: ActorDep
) -> ReviewRead:
    """Assign a reviewer to a catalogued project."""
    review = await project_service.assign_reviewer(session, actor, year, body.agreement_id, body.expert_id)
    return ReviewRead.model_validate(review)


@router.get("/review-rounds/{year}/ranking", response_model=list[RankedProject], summary="评审排名（管理员）")
async def ranking(year: YearPath, session: SessionDep, actor: ActorDep) -> list[RankedProject]:
    """Projects with submitted reviews, best mean score first, with any funding decision."""
    return _ranked(await project_service.ranking(session, actor, year))


@router.post(
    "/review-rounds/{year}/funding", response_model=list[RankedProject], summary="资助决定（管理员）"
)
async def decide_funding(
    year: YearPath, body: FundingDecisions, session: SessionDep, actor: ActorDep
) -> list[RankedProject]:
    """Record the funding decision of ranked projects."""
    return _ranked(await project_service.decide_funding(session, actor, year, body.decisions))


@router.post("/review-rounds/{year}/close", response_model=RoundRead, summary="结束年度评审（管理员）")
async def close_round(year: YearPath, session: SessionDep, actor: ActorDep) -> RoundRead:
    """Close the round once every ranked project has a decision."""
    return RoundRead.model_validate(await project_service.close_round(session, actor, year))


@router.get("/me/reviews", response_model=list[ReviewRead], summary="我的评审任务（专家）")
async def my_reviews(session: SessionDep, actor: ActorDep) -> list[ReviewRead]:
    """The calling expert's review assignments."""
    return [ReviewRead.model_validate(r) for r in await project_service.my_reviews(session, actor)]


@router.put("/reviews/{review_id}", response_model=ReviewRead, summary="提交评审打分（评审专家）")
async def submit_review(
    review_id: IdPath, body: ReviewScores, session: SessionDep, actor: ActorDep
) -> ReviewRead:
    """Submit or revise the scores while the round is open."""
    return ReviewRead.model_validate(await project_service.submit_review(session, actor, review_id, body))
