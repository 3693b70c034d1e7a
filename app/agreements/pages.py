"""Pages of agreements: my agreements (overdue consultations highlighted) and an agreement's page —
terms, signatures, work logs, delivery with ratings, termination."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from app.accounts.security import Actor
from app.agreements import service as agreement_service
from app.agreements.models import ConsultationCadence, ConsultationKind, OutcomeKind, TrainingKind
from app.agreements.schemas import (
    AgreementTermsUpdate,
    ConsultationCreate,
    DeliveryConfirmation,
    OutcomeCreate,
    Revision,
    Termination,
    TrainingCreate,
)
from app.db import SessionDep
from app.errors import DomainError
from app.marketplace import service as marketplace_service
from app.pagination import PageParams
from app.routing import IdPath
from app.web.deps import CsrfChecked, PageActor
from app.web.forms import domain_errors, form_values, parse_form
from app.web.templating import render

router = APIRouter(include_in_schema=False)

TERM_OPTIONAL = ("duration_months", "start_date", "end_date", "funding_amount", "funding_source")


async def _page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    agreement_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    view = await agreement_service.agreement_view(session, actor, agreement_id)
    context = {
        "view": view,
        "agreement": view.agreement,
        "errors": errors or {},
        "failed_form": form,
        "values": values or {},
        "missing_terms": agreement_service.missing_terms(view.agreement),
        "cadences": list(ConsultationCadence),
        "consultation_kinds": list(ConsultationKind),
        "training_kinds": list(TrainingKind),
        "outcome_kinds": list(OutcomeKind),
    }
    return render(request, "agreements/detail.html", context, status_code=status)


async def _submit(
    request: Request,
    session: SessionDep,
    actor: Actor,
    agreement_id: int,
    *,
    form: str,
    model: type[BaseModel] | None,
    run: Callable[[Any], Awaitable[Any]],
    done: str | Callable[[Any], str],
    lists: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
) -> Response:
    """Validate the form with the API's model, run the use case, and show errors next to the fields."""
    submitted = await request.form()
    values = form_values(submitted, lists=lists, optional=optional)
    # shown again exactly as typed (a field left blank stays blank) when the form comes back
    typed = {key: value for key, value in submitted.items() if isinstance(value, str)}
    data: Any = values
    if model is not None:
        data, errors = parse_form(model, values)
        if data is None:
            return await _page(
                request, session, actor, agreement_id, errors=errors, form=form, values=typed, status=422
            )
    try:
        result = await run(data)
    except DomainError as problem:
        await session.rollback()
        return await _page(
            request, session, actor, agreement_id,
            errors=domain_errors(problem), form=form, values=typed, status=problem.status,
        )  # fmt: skip
    flash = done(result) if callable(done) else done
    return RedirectResponse(f"/agreements/{agreement_id}?flash={flash}", status_code=303)


@router.get("/my/agreements")
async def my_agreements(request: Request, session: SessionDep, actor: PageActor) -> Response:
    """The caller's agreements; overdue consultations stand out."""
    items, _ = await agreement_service.list_agreements(
        session, actor, PageParams(page=1, page_size=100), "-updated_at"
    )
    schedules = await agreement_service.schedules(session, items)
    names = await agreement_service.names_of(session, items)
    return render(
        request, "agreements/mine.html", {"agreements": items, "schedules": schedules, "names": names}
    )


@router.get("/agreements/{agreement_id}")
async def agreement_page(
    request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor
) -> Response:
    """An agreement's page."""
    return await _page(request, session, actor, agreement_id)


@router.post("/agreements/{agreement_id}/terms", dependencies=[CsrfChecked])
async def edit_terms(
    request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor
) -> Response:
    """Save the draft's terms (against the version shown); the message says when some are still missing."""
    return await _submit(
        request, session, actor, agreement_id, form="terms", model=AgreementTermsUpdate,
        run=lambda data: agreement_service.update_terms(session, actor, agreement_id, data),
        done=lambda saved: "terms_incomplete" if agreement_service.missing_terms(saved) else "saved",
        optional=TERM_OPTIONAL,
    )  # fmt: skip


@router.post("/agreements/{agreement_id}/submit", dependencies=[CsrfChecked])
async def submit(request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor) -> Response:
    """提交签署: the terms form's second button, so what was typed is saved and submitted together."""
    return await _submit(
        request, session, actor, agreement_id, form="terms", model=AgreementTermsUpdate,
        run=lambda data: agreement_service.submit_for_signature(
            session, actor, agreement_id, data.version, terms=data
        ),
        done="submitted", optional=TERM_OPTIONAL,
    )  # fmt: skip


@router.post("/agreements/{agreement_id}/revise", dependencies=[CsrfChecked])
async def revise(request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor) -> Response:
    """退回修改 (with the reason the other party is told)."""
    return await _submit(
        request, session, actor, agreement_id, form="revise", model=Revision,
        run=lambda data: agreement_service.revise(session, actor, agreement_id, data),
        done="revised",
    )  # fmt: skip


@router.post("/agreements/{agreement_id}/sign", dependencies=[CsrfChecked])
async def sign(request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor) -> Response:
    """签署 (the page sends the hash of the terms it showed: a stale page cannot sign changed terms)."""
    return await _submit(
        request, session, actor, agreement_id, form="sign", model=None,
        run=lambda data: agreement_service.sign(session, actor, agreement_id, seen_hash=data.get("content_hash")),
        done="signed",
    )  # fmt: skip


@router.post("/agreements/{agreement_id}/consultations", dependencies=[CsrfChecked])
async def log_consultation(
    request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor
) -> Response:
    """记录会商."""
    return await _submit(
        request, session, actor, agreement_id, form="consultation", model=ConsultationCreate,
        run=lambda data: agreement_service.log_consultation(session, actor, agreement_id, data), done="logged",
    )  # fmt: skip


@router.post("/agreements/{agreement_id}/trainings", dependencies=[CsrfChecked])
async def log_training(
    request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor
) -> Response:
    """记录培训."""
    return await _submit(
        request, session, actor, agreement_id, form="training", model=TrainingCreate,
        run=lambda data: agreement_service.log_training(session, actor, agreement_id, data), done="logged",
    )  # fmt: skip


@router.post("/agreements/{agreement_id}/outcomes", dependencies=[CsrfChecked])
async def log_outcome(
    request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor
) -> Response:
    """记录成果."""
    return await _submit(
        request, session, actor, agreement_id, form="outcome", model=OutcomeCreate,
        run=lambda data: agreement_service.log_outcome(session, actor, agreement_id, data), done="logged",
        optional=("value_yuan", "patent_number", "achieved_on"),
    )  # fmt: skip


@router.post("/agreements/{agreement_id}/delivery", dependencies=[CsrfChecked])
async def confirm_delivery(
    request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor
) -> Response:
    """确认交付并评价."""
    return await _submit(
        request, session, actor, agreement_id, form="delivery", model=DeliveryConfirmation,
        run=lambda data: agreement_service.confirm_delivery(session, actor, agreement_id, data), done="delivered",
    )  # fmt: skip


@router.post("/agreements/{agreement_id}/termination", dependencies=[CsrfChecked])
async def terminate(
    request: Request, agreement_id: IdPath, session: SessionDep, actor: PageActor
) -> Response:
    """终止协议（须说明原因）."""
    return await _submit(
        request, session, actor, agreement_id, form="termination", model=Termination,
        run=lambda data: marketplace_service.terminate_agreement(session, actor, agreement_id, data.reason),
        done="terminated",
    )  # fmt: skip
