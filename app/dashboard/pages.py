"""Pages of the administrators: the dashboard (管理驾驶舱) with its charts, and the match-quality review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.config import Settings
from app.dashboard import service as dashboard_service
from app.dashboard.schemas import DashboardTable
from app.db import SessionDep
from app.routing import IdPath
from app.web.deps import AdminPage, CsrfChecked
from app.web.templating import render

router = APIRouter(include_in_schema=False)

Year = Annotated[int | None, Query(ge=2000, le=2100)]


@router.get("/admin")
async def dashboard(request: Request, session: SessionDep, actor: AdminPage, year: Year = None) -> Response:
    """KPI cards against the yearly targets, the match funnel, match quality, coverage gaps, breakdowns
    and the monthly trend, with charts (ECharts, served locally) and an XLSX export of every table."""
    settings: Settings = request.app.state.settings
    data = await dashboard_service.build_dashboard(
        session,
        actor,
        year=year,
        targets=settings.targets,
        strong_proposal_score=settings.strong_proposal_score,
    )
    context = {
        "d": data,
        "tables": {t.name.lower(): t.value for t in DashboardTable},
        "chart_data": data.model_dump(mode="json"),
    }
    return render(request, "dashboard/index.html", context)


@router.get("/admin/quality")
async def quality(request: Request, session: SessionDep, actor: AdminPage) -> Response:
    """The latest proposals, each with its reasons, to be marked relevant or not relevant."""
    rows = await dashboard_service.proposals_to_review(session, actor)
    return render(request, "dashboard/quality.html", {"rows": rows})


@router.post("/admin/quality/{proposal_id}", dependencies=[CsrfChecked])
async def judge(
    proposal_id: IdPath,
    session: SessionDep,
    actor: AdminPage,
    relevant: Annotated[str, Form(pattern="^(yes|no|clear)$")],
) -> Response:
    """Record a judgement (相关 / 不相关 / 清除)."""
    verdict = {"yes": True, "no": False, "clear": None}[relevant]
    await dashboard_service.judge_relevance(session, actor, proposal_id, verdict)
    return RedirectResponse(f"/admin/quality?flash=judged#proposal-{proposal_id}", status_code=303)
