"""JSON API for studios: ``/api/v1/studios``, with their star assessments (星级评定)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status

from app.accounts.deps import ActorDep
from app.config import Settings, StarRatingPolicy
from app.db import SessionDep
from app.pagination import Page, PageDep
from app.routing import IdPath, IdQuery, TextQuery
from app.studios import assessments as assessment_service
from app.studios import service as studio_service
from app.studios.models import Studio, StudioAssessment, StudioKind
from app.studios.repository import StudioFilters
from app.studios.schemas import (
    AssessmentCreate,
    AssessmentOutcome,
    AssessmentRead,
    DelistingCreate,
    StudioCreate,
    StudioRead,
    StudioUpdate,
)

router = APIRouter(prefix="/studios", tags=["工作室"])


async def get_star_policy(request: Request) -> StarRatingPolicy:
    """The star-rating weights and thresholds of this app's settings."""
    settings: Settings = request.app.state.settings
    return settings.star_rating


StarPolicyDep = Annotated[StarRatingPolicy, Depends(get_star_policy)]

StudioSort = Literal["id", "-id", "name", "-name", "star_rating", "-star_rating", "updated_at", "-updated_at"]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StudioRead,
    summary="登记工作室（本企业用户或管理员）",
)
async def register_studio(body: StudioCreate, session: SessionDep, actor: ActorDep) -> StudioRead:
    """Register a studio. Enterprise users for their own enterprise; administrators for any."""
    return StudioRead.model_validate(await studio_service.register_studio(session, actor, body))


@router.get("", response_model=Page[StudioRead], summary="工作室列表（登录用户）")
async def list_studios(
    session: SessionDep,
    _actor: ActorDep,
    page: PageDep,
    q: TextQuery = None,
    enterprise_id: IdQuery = None,
    kind: StudioKind | None = None,
    field: TextQuery = None,
    district: TextQuery = None,
    star_rating: Annotated[int | None, Query(ge=0, le=3)] = None,
    alliance: TextQuery = None,
    sort: StudioSort = "id",
) -> Page[StudioRead]:
    """List studios, filtered and sorted (ties broken by id). Any logged-in user."""
    filters = StudioFilters(
        q=q,
        enterprise_id=enterprise_id,
        kind=kind,
        field=field,
        district=district,
        star_rating=star_rating,
        alliance=alliance,
    )
    items, total = await studio_service.list_studios(session, filters, page, sort)
    return Page.of([StudioRead.model_validate(s) for s in items], total, page)


@router.get("/{studio_id}", response_model=StudioRead, summary="工作室详情（登录用户）")
async def get_studio(studio_id: IdPath, session: SessionDep, _actor: ActorDep) -> StudioRead:
    """Return one studio. Any logged-in user."""
    return StudioRead.model_validate(await studio_service.get_studio(session, studio_id))


@router.patch("/{studio_id}", response_model=StudioRead, summary="修改工作室（本企业用户或管理员）")
async def update_studio(
    studio_id: IdPath, body: StudioUpdate, session: SessionDep, actor: ActorDep
) -> StudioRead:
    """Change a studio. Its enterprise's users and administrators."""
    return StudioRead.model_validate(await studio_service.update_studio(session, actor, studio_id, body))


def _outcome(assessment: StudioAssessment, studio: Studio) -> AssessmentOutcome:
    return AssessmentOutcome(
        assessment=AssessmentRead.model_validate(assessment), studio=StudioRead.model_validate(studio)
    )


@router.post(
    "/{studio_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentOutcome,
    summary="星级评定（管理员）",
)
async def assess_studio(
    studio_id: IdPath, body: AssessmentCreate, session: SessionDep, actor: ActorDep, policy: StarPolicyDep
) -> AssessmentOutcome:
    """Score a studio (expert review, site visit, live demonstration) into 0–3 stars. Administrators."""
    return _outcome(*await assessment_service.assess_studio(session, actor, studio_id, body, policy))


@router.get(
    "/{studio_id}/assessments",
    response_model=list[AssessmentRead],
    summary="星级评定记录（管理员）",
)
async def list_assessments(studio_id: IdPath, session: SessionDep, actor: ActorDep) -> list[AssessmentRead]:
    """The studio's assessments and de-listings, newest first. Administrators."""
    rows = await assessment_service.list_assessments(session, actor, studio_id)
    return [AssessmentRead.model_validate(a) for a in rows]


@router.post(
    "/{studio_id}/delisting",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentOutcome,
    summary="工作室摘牌（管理员）",
)
async def delist_studio(
    studio_id: IdPath, body: DelistingCreate, session: SessionDep, actor: ActorDep, policy: StarPolicyDep
) -> AssessmentOutcome:
    """De-list a studio, with a reason; a re-assessment reaching one star relists it. Administrators."""
    return _outcome(*await assessment_service.delist_studio(session, actor, studio_id, body, policy))
