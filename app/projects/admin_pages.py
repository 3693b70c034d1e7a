"""The administrators' pages of joint projects (项目与评审): the co-built project catalogue, the yearly review
rounds, reviewer assignment (with the conflict-of-interest rule), the ranking, funding decisions and closing.

Every form is validated with the JSON API's models and runs the same use case of ``app.projects.service``;
a refused step shows the service's Chinese message on the page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from app.accounts.security import Actor
from app.agreements import service as agreement_service
from app.db import SessionDep
from app.errors import DomainError
from app.experts import service as expert_service
from app.experts.repository import ExpertFilters
from app.pagination import PageParams
from app.projects import service as project_service
from app.projects.errors import ReviewRoundNotFound
from app.projects.models import FundingDecision, ReviewRoundStatus
from app.projects.router import YearPath
from app.projects.schemas import FundingItem, ReviewerAssignment, RoundCreate
from app.schemas import Id, InputModel
from app.web.deps import AdminPage, CsrfChecked
from app.web.forms import domain_errors, form_values, parse_form
from app.web.templating import render

router = APIRouter(include_in_schema=False)

_DIGITS = re.compile(r"[0-9]{1,10}")
# the reviewer select lists experts by name; beyond this many, the page says the list is cut short
EXPERT_CHOICES = 1000


class CatalogueEntryForm(InputModel):
    """The catalogue form: the agreement to enter (the API takes it from the path)."""

    agreement_id: Id


async def _index(
    request: Request,
    session: SessionDep,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    catalogue = await project_service.catalogue(session, actor)
    context = {
        "catalogue": catalogue,
        "names": await agreement_service.names_of(session, [a for a, _ in catalogue]),
        "rounds": await project_service.rounds(session, actor),
        "errors": errors or {},
        "failed_form": form,
        "values": values or {},
    }
    return render(request, "projects/admin_index.html", context, status_code=status)


async def _round_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    year: int,
    *,
    errors: dict[str, str] | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    ranking = await project_service.ranking(session, actor, year)  # ReviewRoundNotFound for an unknown year
    review_round = next((r for r in await project_service.rounds(session, actor) if r.year == year), None)
    if review_round is None:
        raise ReviewRoundNotFound(year)
    expert_window = await expert_service.list_experts(
        session, ExpertFilters(), PageParams(page=1, page_size=EXPERT_CHOICES), "name"
    )
    experts = expert_window.items
    expert_names = {x.id: x.name for x in experts}
    is_open = review_round.status is ReviewRoundStatus.OPEN
    # a form the page no longer shows (the round closed meanwhile) has its errors shown at the top
    shown = {"reviewer", "close", *(f"funding-{r.agreement_id}" for r in ranking)} if is_open else set()
    context = {
        "round": review_round,
        "is_open": is_open,
        "shown_forms": shown,
        "ranking": ranking,
        "reviews": await project_service.round_reviews(session, actor, year),
        "catalogue": await project_service.catalogue(session, actor),
        "experts": experts,
        "more_experts": expert_window.has_more,
        "expert_names": expert_names,
        "decisions": list(FundingDecision),
        "errors": errors or {},
        "failed_form": form,
        "values": values or {},
    }
    return render(request, "projects/admin_round.html", context, status_code=status)


async def _submit(
    request: Request,
    session: SessionDep,
    actor: Actor,
    *,
    form: str,
    model: type[BaseModel] | None,
    run: Callable[[Any], Awaitable[object]],
    done: str,
    year: int | None = None,
    optional: tuple[str, ...] = (),
) -> Response:
    """Validate the form with the API's model and run the use case; errors go back to the page's form."""
    values = form_values(await request.form(), optional=optional)
    data: Any = values
    errors: dict[str, str] = {}
    if model is not None:
        data, errors = parse_form(model, values)
    if not errors:
        try:
            target = await run(data)
        except DomainError as problem:
            await session.rollback()
            errors, status = domain_errors(problem), problem.status
        else:
            return RedirectResponse(f"{target}?flash={done}", status_code=303)
    else:
        status = 422
    if year is None:
        return await _index(request, session, actor, errors=errors, form=form, values=values, status=status)
    return await _round_page(
        request, session, actor, year, errors=errors, form=form, values=values, status=status
    )


@router.get("/admin/projects")
async def projects_page(request: Request, session: SessionDep, actor: AdminPage) -> Response:
    """The co-built project catalogue and the review rounds."""
    return await _index(request, session, actor)


@router.post("/admin/projects/catalogue", dependencies=[CsrfChecked])
async def catalogue_agreement(request: Request, session: SessionDep, actor: AdminPage) -> Response:
    """列入共建项目目录."""

    async def run(data: CatalogueEntryForm) -> str:
        await project_service.catalogue_agreement(session, actor, data.agreement_id)
        return "/admin/projects"

    return await _submit(
        request, session, actor, form="catalogue", model=CatalogueEntryForm, run=run, done="catalogued"
    )


@router.post("/admin/projects/rounds", dependencies=[CsrfChecked])
async def open_round(request: Request, session: SessionDep, actor: AdminPage) -> Response:
    """开启年度评审."""

    async def run(data: RoundCreate) -> str:
        review_round = await project_service.open_round(session, actor, data.year)
        return f"/admin/projects/rounds/{review_round.year}"

    return await _submit(
        request, session, actor, form="round", model=RoundCreate, run=run, done="round_opened"
    )


@router.get("/admin/projects/rounds/{year}")
async def round_page(request: Request, year: YearPath, session: SessionDep, actor: AdminPage) -> Response:
    """A round: reviewer assignment, the ranking with a funding decision per project, closing."""
    return await _round_page(request, session, actor, year)


@router.post("/admin/projects/rounds/{year}/reviewers", dependencies=[CsrfChecked])
async def assign_reviewer(
    request: Request, year: YearPath, session: SessionDep, actor: AdminPage
) -> Response:
    """安排评审专家 (an expert with an interest in the project is refused)."""

    async def run(data: ReviewerAssignment) -> str:
        await project_service.assign_reviewer(session, actor, year, data.agreement_id, data.expert_id)
        return f"/admin/projects/rounds/{year}"

    return await _submit(
        request, session, actor, form="reviewer", model=ReviewerAssignment, run=run,
        done="reviewer_assigned", year=year,
    )  # fmt: skip


@router.post("/admin/projects/rounds/{year}/funding", dependencies=[CsrfChecked])
async def decide_funding(request: Request, year: YearPath, session: SessionDep, actor: AdminPage) -> Response:
    """资助决定 for one ranked project (the form of its row)."""
    raw = (await request.form()).get("agreement_id")
    # ASCII digits only: str.isdigit() also says yes to "²", which names no form on the page
    form = f"funding-{raw.strip()}" if isinstance(raw, str) and _DIGITS.fullmatch(raw.strip()) else "funding"

    async def run(data: FundingItem) -> str:
        await project_service.decide_funding(session, actor, year, [data])
        return f"/admin/projects/rounds/{year}"

    return await _submit(
        request, session, actor, form=form, model=FundingItem, run=run, done="funding_decided",
        year=year, optional=("amount",),
    )  # fmt: skip


@router.post("/admin/projects/rounds/{year}/close", dependencies=[CsrfChecked])
async def close_round(request: Request, year: YearPath, session: SessionDep, actor: AdminPage) -> Response:
    """结束年度评审 (every ranked project needs a decision first)."""

    async def run(_: Any) -> str:
        await project_service.close_round(session, actor, year)
        return f"/admin/projects/rounds/{year}"

    return await _submit(
        request, session, actor, form="close", model=None, run=run, done="round_closed", year=year
    )
