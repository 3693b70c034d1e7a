"""JSON API for enterprises: ``/api/v1/enterprises``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status

from app.accounts.deps import ActorDep
from app.db import SessionDep
from app.enterprises import service as enterprise_service
from app.enterprises.repository import EnterpriseFilters
from app.enterprises.schemas import EnterpriseCreate, EnterpriseRead, EnterpriseUpdate
from app.pagination import Page, PageDep
from app.routing import IdPath, TextQuery

router = APIRouter(prefix="/enterprises", tags=["企业"])

EnterpriseSort = Literal["id", "-id", "name", "-name", "updated_at", "-updated_at"]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=EnterpriseRead, summary="登记企业（管理员）"
)
async def register_enterprise(body: EnterpriseCreate, session: SessionDep, actor: ActorDep) -> EnterpriseRead:
    """Register an enterprise. Administrators only."""
    enterprise = await enterprise_service.register_enterprise(session, actor, body)
    return EnterpriseRead.model_validate(enterprise)


@router.get("", response_model=Page[EnterpriseRead], summary="企业列表（登录用户）")
async def list_enterprises(
    session: SessionDep,
    _actor: ActorDep,
    page: PageDep,
    q: TextQuery = None,
    province: TextQuery = None,
    city: TextQuery = None,
    district: TextQuery = None,
    industry: TextQuery = None,
    sort: EnterpriseSort = "id",
) -> Page[EnterpriseRead]:
    """List enterprises, filtered and sorted (ties broken by id). Any logged-in user."""
    filters = EnterpriseFilters(q=q, province=province, city=city, district=district, industry=industry)
    items, total = await enterprise_service.list_enterprises(session, filters, page, sort)
    return Page.of([EnterpriseRead.model_validate(e) for e in items], total, page)


@router.get("/{enterprise_id}", response_model=EnterpriseRead, summary="企业详情（登录用户）")
async def get_enterprise(enterprise_id: IdPath, session: SessionDep, _actor: ActorDep) -> EnterpriseRead:
    """Return one enterprise. Any logged-in user."""
    return EnterpriseRead.model_validate(await enterprise_service.get_enterprise(session, enterprise_id))


@router.patch("/{enterprise_id}", response_model=EnterpriseRead, summary="修改企业信息（本企业用户或管理员）")
async def update_enterprise(
    enterprise_id: IdPath, body: EnterpriseUpdate, session: SessionDep, actor: ActorDep
) -> EnterpriseRead:
    """Change an enterprise. Its own users and administrators."""
    enterprise = await enterprise_service.update_enterprise(session, actor, enterprise_id, body)
    return EnterpriseRead.model_validate(enterprise)
