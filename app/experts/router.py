"""JSON API for experts: ``/api/v1/experts``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from app.accounts.deps import ActorDep, OptionalActorDep
from app.accounts.security import Actor
from app.db import SessionDep
from app.experts import service as expert_service
from app.experts.models import Expert
from app.experts.repository import ExpertFilters
from app.experts.schemas import ExpertCreate, ExpertRead, ExpertUpdate
from app.pagination import ListPage, PageDep
from app.routing import IdPath, TextQuery

router = APIRouter(prefix="/experts", tags=["专家"])

ExpertSort = Literal[
    "id", "-id", "name", "-name", "cohort_number", "-cohort_number", "updated_at", "-updated_at"
]


def _read(expert: Expert, actor: Actor | None) -> ExpertRead:
    read = ExpertRead.model_validate(expert)
    if not expert_service.can_see_contact(actor):
        read = read.model_copy(update={"phone": None, "email": None})
    return read


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ExpertRead, summary="录入专家（管理员）")
async def register_expert(body: ExpertCreate, session: SessionDep, actor: ActorDep) -> ExpertRead:
    """Enter an expert record. Administrators only."""
    return _read(await expert_service.register_expert(session, actor, body), actor)


@router.get("", response_model=ListPage[ExpertRead], summary="专家名录（公开；联系方式仅登录可见）")
async def list_experts(
    session: SessionDep,
    actor: OptionalActorDep,
    page: PageDep,
    q: TextQuery = None,
    cohort: Annotated[int | None, Query(ge=1, le=100, description="批次，例如 13")] = None,
    discipline: TextQuery = None,
    district: TextQuery = None,
    university: TextQuery = None,
    sort: ExpertSort = "id",
) -> ListPage[ExpertRead]:
    """List the expert directory, filtered and sorted (ties broken by id). Public."""
    filters = ExpertFilters(
        q=q, cohort_number=cohort, discipline=discipline, district=district, university=university
    )
    window = await expert_service.list_experts(session, filters, page, sort)
    return ListPage.of_window([_read(e, actor) for e in window.items], window, page)


@router.get("/{expert_id}", response_model=ExpertRead, summary="专家详情（公开；联系方式仅登录可见）")
async def get_expert(expert_id: IdPath, session: SessionDep, actor: OptionalActorDep) -> ExpertRead:
    """Return one expert. Public."""
    return _read(await expert_service.get_expert(session, expert_id), actor)


@router.patch("/{expert_id}", response_model=ExpertRead, summary="修改专家档案（本人或管理员）")
async def update_expert(
    expert_id: IdPath, body: ExpertUpdate, session: SessionDep, actor: ActorDep
) -> ExpertRead:
    """Change an expert's profile. The expert themself and administrators."""
    return _read(await expert_service.update_expert_profile(session, actor, expert_id, body), actor)
