"""Pages of the yearly review for experts: my review assignments (评审任务), each with its score form
(进度, 技术含量, 难度, 效益, 0–100) and the scores already submitted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts.security import Actor
from app.db import SessionDep
from app.errors import DomainError
from app.projects import service as project_service
from app.projects.schemas import ReviewScores
from app.routing import IdPath
from app.web.deps import CsrfChecked, ExpertPage
from app.web.forms import domain_errors, form_values, parse_form
from app.web.templating import render

router = APIRouter(include_in_schema=False)

# the four fixed criteria, in the order the form shows them
CRITERIA = (
    ("progress_score", "进度"),
    ("technical_score", "技术含量"),
    ("difficulty_score", "难度"),
    ("benefit_score", "效益"),
)


async def _page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    failed: int | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    tasks = await project_service.reviewer_tasks(session, actor)
    context = {
        "tasks": tasks,
        "criteria": CRITERIA,
        "errors": errors or {},
        # an assignment not on this page (not the caller's): its error goes to the top of the page
        "failed_review": failed if any(t.review.id == failed for t in tasks) else None,
        "values": values or {},
    }
    return render(request, "projects/my_reviews.html", context, status_code=status)


@router.get("/my/reviews")
async def my_reviews(request: Request, session: SessionDep, actor: ExpertPage) -> Response:
    """评审任务: the logged-in expert's review assignments, newest first."""
    return await _page(request, session, actor)


@router.get("/reviews/{review_id}")
async def review_link(review_id: IdPath, actor: ExpertPage) -> Response:
    """The link in the "review assigned" notification: the assignment on my review page."""
    return RedirectResponse(f"/my/reviews#review-{review_id}", status_code=303)


@router.post("/my/reviews/{review_id}", dependencies=[CsrfChecked])
async def submit_scores(
    request: Request, review_id: IdPath, session: SessionDep, actor: ExpertPage
) -> Response:
    """Submit (or, while the round is open, revise) the scores of one assignment."""
    values = form_values(await request.form())
    data, errors = parse_form(ReviewScores, values)
    if data is not None:
        try:
            await project_service.submit_review(session, actor, review_id, data)
        except DomainError as problem:
            await session.rollback()
            return await _page(
                request, session, actor,
                errors=domain_errors(problem), failed=review_id, values=values, status=problem.status,
            )  # fmt: skip
        return RedirectResponse(f"/my/reviews?flash=review_submitted#review-{review_id}", status_code=303)
    return await _page(request, session, actor, errors=errors, failed=review_id, values=values, status=422)
