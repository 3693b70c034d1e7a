"""JSON API of the administrators' dashboard: ``/api/v1/dashboard``, its XLSX exports and relevance judgements."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.accounts.deps import ActorDep
from app.config import Settings
from app.dashboard import service as dashboard_service
from app.dashboard.schemas import (
    Dashboard,
    DashboardSnapshotRead,
    DashboardTable,
    ProposalRelevanceRead,
    RelevanceJudgement,
)
from app.db import SessionDep
from app.pagination import Page, PageDep
from app.routing import XLSX_MEDIA_TYPE, IdPath, xlsx_download

router = APIRouter(tags=["管理驾驶舱（管理员）"])

YearQuery = Annotated[
    int | None,
    Query(
        ge=dashboard_service.YEAR_MIN,
        le=dashboard_service.YEAR_MAX,
        description="统计年度（按北京时间），默认今年",
    ),
]

SnapshotYearQuery = Annotated[
    int | None,
    Query(
        ge=dashboard_service.YEAR_MIN,
        le=dashboard_service.YEAR_MAX,
        description="只看该统计年度的快照，默认全部",
    ),
]

_XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "XLSX 工作簿",
        "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/dashboard", response_model=Dashboard, summary="管理驾驶舱（管理员）")
async def dashboard(
    request: Request, session: SessionDep, actor: ActorDep, year: YearQuery = None
) -> Dashboard:
    """KPIs against the yearly targets, the match funnel, match quality, coverage gaps, breakdowns and trend."""
    settings = _settings(request)
    return await dashboard_service.build_dashboard(
        session,
        actor,
        year=year,
        targets=settings.targets,
        strong_proposal_score=settings.strong_proposal_score,
    )


@router.get(
    "/dashboard/snapshots",
    response_model=Page[DashboardSnapshotRead],
    summary="管理驾驶舱每日快照（管理员）",
)
async def snapshots(
    session: SessionDep, actor: ActorDep, page: PageDep, year: SnapshotYearQuery = None
) -> Page[DashboardSnapshotRead]:
    """The nightly snapshots of the KPI cards and the match funnel, newest day first (one per day)."""
    return await dashboard_service.list_snapshots(session, actor, year=year, params=page)


@router.get(
    "/dashboard/export/{table}.xlsx",
    response_class=Response,
    responses=_XLSX_RESPONSE,
    summary="导出管理驾驶舱的表格（管理员）",
)
async def export_table(
    table: DashboardTable, request: Request, session: SessionDep, actor: ActorDep, year: YearQuery = None
) -> Response:
    """One table of the dashboard as an XLSX workbook with Chinese headers."""
    settings = _settings(request)
    file = await dashboard_service.export_table(
        session,
        actor,
        table,
        year=year,
        targets=settings.targets,
        strong_proposal_score=settings.strong_proposal_score,
    )
    return xlsx_download(file)


@router.put(
    "/proposals/{proposal_id}/relevance",
    response_model=ProposalRelevanceRead,
    summary="判定匹配建议是否相关（管理员）",
)
async def judge_relevance(
    proposal_id: IdPath, body: RelevanceJudgement, session: SessionDep, actor: ActorDep
) -> ProposalRelevanceRead:
    """Mark a proposal relevant (true), not relevant (false), or clear the judgement (null)."""
    return await dashboard_service.judge_relevance(session, actor, proposal_id, body.relevant)
