"""Pages of the matcher's suggestions: "适合我的需求" (orders recommended to an expert, with reasons)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.errors import DomainError
from app.proposals import service as proposal_service
from app.proposals.reasons import FACTOR_LABELS
from app.proposals.router import IndexDep
from app.web.deps import ExpertPage
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/my/recommended")
async def recommended(request: Request, session: SessionDep, actor: ExpertPage, index: IndexDep) -> Response:
    """The published orders best suited to the logged-in expert, each with its reasons."""
    assert actor.expert_id is not None  # an expert login is always bound to its expert record
    problem = None
    try:
        recommendations = await proposal_service.recommend_orders(session, index, actor, actor.expert_id, 20)
    except DomainError as error:  # an empty profile: say what to add instead of an empty list
        recommendations, problem = [], error.detail
    context = {"recommendations": recommendations, "problem": problem, "factor_labels": FACTOR_LABELS}
    return render(request, "proposals/recommended.html", context)
