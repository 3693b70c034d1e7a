"""Public pages: the expert directory (专家名录) with search by the matcher, and an expert's profile;
the expert's own pages: my profile (我的档案) with my achievements to add and edit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from app.accounts.security import Actor
from app.achievements import service as achievement_service
from app.achievements.models import AchievementKind, Maturity
from app.achievements.repository import AchievementFilters
from app.achievements.schemas import AchievementCreate, AchievementUpdate
from app.db import SessionDep
from app.errors import DomainError
from app.experts import service as expert_service
from app.experts.repository import ExpertFilters
from app.experts.schemas import ExpertUpdate
from app.pagination import PageParams
from app.proposals import service as proposal_service
from app.proposals.router import IndexDep
from app.routing import BlankIsNone, IdPath, PageTermQuery, PageTextQuery
from app.web.deps import CsrfChecked, ExpertPage, OptionalPageActor
from app.web.forms import domain_errors, form_values, parse_form
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/experts")
async def directory(
    request: Request,
    session: SessionDep,
    actor: OptionalPageActor,
    index: IndexDep,
    q: PageTextQuery = "",
    district: PageTermQuery = "",
    discipline: PageTermQuery = "",
    cohort: Annotated[int | None, Query(ge=1, le=100), BlankIsNone] = None,
) -> Response:
    """The directory, filtered by seconded district, discipline and cohort; a search ranks experts by the
    matcher (traditional-character queries work)."""
    query, cohort_number = q, cohort
    filters = {"q": query, "district": district, "discipline": discipline, "cohort": cohort_number}
    if query:
        hits = await proposal_service.search_experts(
            session,
            index,
            query,
            district=district or None,
            discipline=discipline or None,
            cohort_number=cohort_number,
        )
        context = {**filters, "hits": hits, "experts": [], "total": len(hits)}
        return render(request, "experts/directory.html", context)
    window = await expert_service.list_experts(
        session,
        ExpertFilters(district=district or None, discipline=discipline or None, cohort_number=cohort_number),
        PageParams(page=1, page_size=100),
        "name",
    )
    listing: dict[str, object] = {**filters, "hits": [], "experts": window.items, "total": window.total_label}
    return render(request, "experts/directory.html", listing)


@router.get("/experts/{expert_id}")
async def profile(
    request: Request, expert_id: IdPath, session: SessionDep, actor: OptionalPageActor
) -> Response:
    """An expert's public profile with their achievements."""
    expert = await expert_service.get_expert(session, expert_id)
    achievements = (
        await achievement_service.list_achievements(
            session, AchievementFilters(expert_id=expert.id), PageParams(page=1, page_size=100), "-year"
        )
    ).items
    return render(request, "experts/profile.html", {"expert": expert, "achievements": achievements})


@router.get("/achievements")
async def library(
    request: Request,
    session: SessionDep,
    actor: OptionalPageActor,
    q: PageTextQuery = "",
    kind: Annotated[AchievementKind | None, Query(), BlankIsNone] = None,
    maturity: Annotated[Maturity | None, Query(), BlankIsNone] = None,
) -> Response:
    """The achievement library (成果库), filtered by kind and maturity; every word of the search must
    appear (after normalisation, so traditional characters find simplified text)."""
    query, kind_filter, maturity_filter = q, kind, maturity
    words = achievement_service.search_words(query) if query else ()
    window = await achievement_service.list_achievements(
        session,
        AchievementFilters(q=query or None, kind=kind_filter, maturity=maturity_filter),
        PageParams(page=1, page_size=100),
        "-year",
    )
    context = {
        "q": query,
        "words": words,
        "achievements": window.items,
        "total": window.total_label,
        "kind": kind_filter,
        "maturity": maturity_filter,
        "kinds": list(AchievementKind),
        "maturities": list(Maturity),
    }
    return render(request, "achievements/library.html", context)


# a blank box clears these (sent as null); left out, a PATCH would keep the old value
PROFILE_CLEARABLE = ("department", "phone", "email")


def _own_expert_id(actor: Actor) -> int:
    assert actor.expert_id is not None  # an expert login is always bound to its expert record
    return actor.expert_id


def _cleared(values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Blank boxes of nullable fields become ``None``: the PATCH then clears them."""
    return {k: (None if k in fields and v == "" else v) for k, v in values.items()}


async def _my_profile(
    request: Request,
    session: SessionDep,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    expert_id = _own_expert_id(actor)
    expert = await expert_service.get_expert(session, expert_id)
    achievements = (
        await achievement_service.list_achievements(
            session, AchievementFilters(expert_id=expert_id), PageParams(page=1, page_size=100), "-year"
        )
    ).items
    forms = {"profile", "achievement-new", *(f"achievement-{a.id}" for a in achievements)}
    context = {
        "expert": expert,
        "achievements": achievements,
        "errors": errors or {},
        # a form not on this page (someone else's achievement): its error goes to the top of the page
        "failed_form": form if form in forms else None,
        "values": values or {},
        "kinds": list(AchievementKind),
        "maturities": list(Maturity),
    }
    return render(request, "experts/mine.html", context, status_code=status)


async def _submit(
    request: Request,
    session: SessionDep,
    actor: Actor,
    *,
    form: str,
    model: type[BaseModel],
    run: Callable[[Any], Awaitable[object]],
    done: str,
    lists: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    clearable: tuple[str, ...] = (),
) -> Response:
    """Validate the form with the API's model, run the use case, and show errors next to the fields."""
    values = form_values(await request.form(), lists=lists, optional=optional)
    data, errors = parse_form(model, _cleared(values, clearable))
    if data is None:
        return await _my_profile(request, session, actor, errors=errors, form=form, values=values, status=422)
    try:
        await run(data)
    except DomainError as problem:
        await session.rollback()
        return await _my_profile(
            request, session, actor,
            errors=domain_errors(problem), form=form, values=values, status=problem.status,
        )  # fmt: skip
    return RedirectResponse(f"/my/profile?flash={done}", status_code=303)


@router.get("/my/profile")
async def my_profile(request: Request, session: SessionDep, actor: ExpertPage) -> Response:
    """我的档案: the logged-in expert's profile to edit, and their achievements to add and edit."""
    return await _my_profile(request, session, actor)


@router.post("/my/profile", dependencies=[CsrfChecked])
async def edit_my_profile(request: Request, session: SessionDep, actor: ExpertPage) -> Response:
    """Save the profile (the API's PATCH model; a blank contact field clears it)."""
    return await _submit(
        request, session, actor, form="profile", model=ExpertUpdate,
        run=lambda data: expert_service.update_expert_profile(session, actor, _own_expert_id(actor), data),
        done="profile_saved", lists=("disciplines",), clearable=PROFILE_CLEARABLE,
    )  # fmt: skip


@router.post("/my/achievements", dependencies=[CsrfChecked])
async def add_my_achievement(request: Request, session: SessionDep, actor: ExpertPage) -> Response:
    """Publish an achievement of mine to the achievement library (成果库)."""
    return await _submit(
        request, session, actor, form="achievement-new", model=AchievementCreate,
        run=lambda data: achievement_service.publish_achievement(session, actor, data),
        done="achievement_added", lists=("keywords",), optional=("year",),
    )  # fmt: skip


@router.post("/my/achievements/{achievement_id}", dependencies=[CsrfChecked])
async def edit_my_achievement(
    request: Request, achievement_id: IdPath, session: SessionDep, actor: ExpertPage
) -> Response:
    """Change one of my achievements (a blank year clears it)."""
    return await _submit(
        request, session, actor, form=f"achievement-{achievement_id}", model=AchievementUpdate,
        run=lambda data: achievement_service.update_achievement(session, actor, achievement_id, data),
        done="achievement_saved", lists=("keywords",), clearable=("year",),
    )  # fmt: skip
