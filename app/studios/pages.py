"""The administrators' star-rating pages (星级评定): the studios with their stars and status, and a studio's
page with the assessment form, de-listing (摘牌) with a reason, and the assessment history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from app.accounts.security import Actor
from app.clock import local_today
from app.config import StarRatingPolicy
from app.db import SessionDep
from app.errors import DomainError
from app.pagination import PageParams
from app.routing import IdPath, PageTextQuery
from app.studios import assessments as assessment_service
from app.studios import service as studio_service
from app.studios.repository import StudioFilters
from app.studios.router import StarPolicyDep
from app.studios.schemas import AssessmentCreate, DelistingCreate
from app.web.deps import AdminPage, CsrfChecked
from app.web.forms import domain_errors, form_values, parse_form
from app.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/admin/studios")
async def studios_page(
    request: Request,
    session: SessionDep,
    actor: AdminPage,
    q: PageTextQuery = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """Every studio with its stars, score, assessment date and status; searchable by name."""
    query = q
    studios, total = await studio_service.list_studios(
        session, StudioFilters(q=query or None), PageParams(page=page, page_size=PAGE_SIZE), "name"
    )
    pages = max(1, -(-total // PAGE_SIZE))
    context = {"studios": studios, "total": total, "q": query, "page": page, "pages": pages}
    return render(request, "studios/admin_list.html", context)


async def _studio_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    studio_id: int,
    policy: StarRatingPolicy,
    *,
    errors: dict[str, str] | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    history = await assessment_service.list_assessments(session, actor, studio_id)  # admins; StudioNotFound
    context = {
        "studio": await studio_service.get_studio(session, studio_id),
        "history": history,
        "policy": policy,
        "today": local_today().isoformat(),
        "errors": errors or {},
        "failed_form": form,
        "values": values or {},
    }
    return render(request, "studios/admin_detail.html", context, status_code=status)


async def _submit(
    request: Request,
    session: SessionDep,
    actor: Actor,
    studio_id: int,
    policy: StarRatingPolicy,
    *,
    form: str,
    model: type[BaseModel],
    run: Callable[[Any], Awaitable[object]],
    done: str,
) -> Response:
    """Validate the form with the API's model and run the use case; errors go next to the fields."""
    values = form_values(await request.form())
    data, errors = parse_form(model, values)
    status = 422
    if data is not None:
        try:
            await run(data)
        except DomainError as problem:
            await session.rollback()
            errors, status = domain_errors(problem), problem.status
        else:
            return RedirectResponse(f"/admin/studios/{studio_id}?flash={done}", status_code=303)
    return await _studio_page(
        request, session, actor, studio_id, policy, errors=errors, form=form, values=values, status=status
    )


@router.get("/admin/studios/{studio_id}")
async def studio_page(
    request: Request, studio_id: IdPath, session: SessionDep, actor: AdminPage, policy: StarPolicyDep
) -> Response:
    """A studio's rating, the assessment and de-listing forms, and its history."""
    return await _studio_page(request, session, actor, studio_id, policy)


@router.post("/admin/studios/{studio_id}/assessments", dependencies=[CsrfChecked])
async def assess_studio(
    request: Request, studio_id: IdPath, session: SessionDep, actor: AdminPage, policy: StarPolicyDep
) -> Response:
    """记录星级评定 (the stars and the kind come from the policy in force)."""
    return await _submit(
        request, session, actor, studio_id, policy, form="assessment", model=AssessmentCreate,
        run=lambda data: assessment_service.assess_studio(session, actor, studio_id, data, policy),
        done="assessed",
    )  # fmt: skip


@router.post("/admin/studios/{studio_id}/delisting", dependencies=[CsrfChecked])
async def delist_studio(
    request: Request, studio_id: IdPath, session: SessionDep, actor: AdminPage, policy: StarPolicyDep
) -> Response:
    """摘牌 (with a reason)."""
    return await _submit(
        request, session, actor, studio_id, policy, form="delisting", model=DelistingCreate,
        run=lambda data: assessment_service.delist_studio(session, actor, studio_id, data, policy),
        done="delisted",
    )  # fmt: skip
