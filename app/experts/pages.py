"""Public pages: the expert directory (专家名录) with search by the matcher, and an expert's profile."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.achievements import service as achievement_service
from app.achievements.repository import AchievementFilters
from app.db import SessionDep
from app.experts import service as expert_service
from app.experts.repository import ExpertFilters
from app.pagination import PageParams
from app.proposals import service as proposal_service
from app.proposals.router import IndexDep
from app.routing import IdPath
from app.web.deps import OptionalPageActor
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/experts")
async def directory(
    request: Request, session: SessionDep, actor: OptionalPageActor, index: IndexDep, q: str = ""
) -> Response:
    """The directory; a search ranks experts by the matcher (traditional-character queries work)."""
    query = q.strip()[:100]
    if query:
        hits = await proposal_service.search_experts(session, index, query)
        return render(
            request, "experts/directory.html", {"q": query, "hits": hits, "experts": [], "total": len(hits)}
        )
    experts, total = await expert_service.list_experts(
        session, ExpertFilters(), PageParams(page=1, page_size=100), "name"
    )
    return render(
        request, "experts/directory.html", {"q": "", "hits": [], "experts": experts, "total": total}
    )


@router.get("/experts/{expert_id}")
async def profile(
    request: Request, expert_id: IdPath, session: SessionDep, actor: OptionalPageActor
) -> Response:
    """An expert's public profile with their achievements."""
    expert = await expert_service.get_expert(session, expert_id)
    achievements, _ = await achievement_service.list_achievements(
        session, AchievementFilters(expert_id=expert.id), PageParams(page=1, page_size=100), "-year"
    )
    return render(request, "experts/profile.html", {"expert": expert, "achievements": achievements})


@router.get("/achievements")
async def library(request: Request, session: SessionDep, actor: OptionalPageActor, q: str = "") -> Response:
    """The achievement library (成果库); every word of the search must appear (after normalisation)."""
    query = q.strip()[:100]
    words = achievement_service.search_words(query) if query else ()
    achievements, total = await achievement_service.list_achievements(
        session, AchievementFilters(words=words), PageParams(page=1, page_size=100), "-year"
    )
    return render(
        request,
        "achievements/library.html",
        {"q": query, "words": words, "achievements": achievements, "total": total},
    )
