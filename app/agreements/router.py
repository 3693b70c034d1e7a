"""JSON API of agreements: ``/api/v1/agreements`` — terms, signatures, amendments, delivery, work logs."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import JSONResponse

from app.accounts.deps import ActorDep
from app.agreements import service as agreement_service
from app.agreements.models import AgreementStatus
from app.agreements.schemas import (
    AgreementRead,
    AgreementTermsUpdate,
    AmendmentCreate,
    AmendmentRead,
    ConsultationCreate,
    ConsultationRead,
    DeliveryConfirmation,
    OutcomeCreate,
    OutcomeRead,
    Revision,
    SignAgreement,
    Termination,
    TrainingCreate,
    TrainingRead,
    VersionedAction,
)
from app.db import SessionDep
from app.idempotency.service import IdempotencyKey
from app.marketplace import service as marketplace_service
from app.pagination import Page, PageDep
from app.routing import IdPath, IdQuery

router = APIRouter(prefix="/agreements", tags=["合作协议"])

AgreementSort = Literal["id", "-id", "created_at", "-created_at", "updated_at", "-updated_at"]
IdempotencyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", description="重试时携带同一个键，不会重复签署")
]


async def _keyed(request: Request, header: str | None) -> IdempotencyKey | None:
    # the request a key belongs to includes its body: the same key with other content is refused
    digest = hashlib.sha256(await request.body()).hexdigest()[:16]
    return IdempotencyKey.parse(header, f"{request.method} {request.url.path} {digest}")


def _answer(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body)


@router.get("", response_model=Page[AgreementRead], summary="协议列表（协议双方看自己的，管理员看全部）")
async def list_agreements(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    status: AgreementStatus | None = None,
    order_id: IdQuery = None,
    catalogued: bool | None = None,
    sort: AgreementSort = "-created_at",
) -> Page[AgreementRead]:
    """The caller's agreements, with their consultation schedules."""
    items, total = await agreement_service.list_agreements(
        session, actor, page, sort, status=status, order_id=order_id, catalogued=catalogued
    )
    schedules = await agreement_service.schedules(session, items)
    reads = [
        AgreementRead.model_validate(a).model_copy(
            update={
                "next_consultation_due": schedules[a.id].next_due,
                "consultation_overdue": schedules[a.id].overdue,
            }
        )
        for a in items
    ]
    return Page.of(reads, total, page)


@router.get("/{agreement_id}", response_model=AgreementRead, summary="协议详情（协议双方或管理员）")
async def get_agreement(agreement_id: IdPath, session: SessionDep, actor: ActorDep) -> AgreementRead:
    """One agreement."""
    return await agreement_service.read_model(
        session, await agreement_service.get_agreement(session, actor, agreement_id)
    )


@router.patch("/{agreement_id}", response_model=AgreementRead, summary="修改协议草稿条款（须带版本号）")
async def update_terms(
    agreement_id: IdPath, body: AgreementTermsUpdate, session: SessionDep, actor: ActorDep
) -> AgreementRead:
    """Change a draft's terms; a stale version is refused with 409."""
    return await agreement_service.update_terms(session, actor, agreement_id, body)


@router.post("/{agreement_id}/submit", response_model=AgreementRead, summary="提交签署（草稿 → 待签署）")
async def submit(
    agreement_id: IdPath, body: VersionedAction, session: SessionDep, actor: ActorDep
) -> AgreementRead:
    """Freeze the terms under a content hash and ask both sides to sign."""
    return await agreement_service.submit_for_signature(session, actor, agreement_id, body.version)


@router.post(
    "/{agreement_id}/revise", response_model=AgreementRead, summary="退回修改（待签署 → 草稿，须说明原因）"
)
async def revise(agreement_id: IdPath, body: Revision, session: SessionDep, actor: ActorDep) -> AgreementRead:
    """Take the agreement back to draft with a reason the other party is told; signatures lapse."""
    return await agreement_service.revise(session, actor, agreement_id, body)


@router.post("/{agreement_id}/sign", response_model=AgreementRead, summary="签署协议（支持 Idempotency-Key）")
async def sign(
    agreement_id: IdPath,
    body: SignAgreement,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Sign for the caller's side. A retry with the same key returns the first answer and signs nothing."""
    answer = await agreement_service.sign(
        session, actor, agreement_id, seen_hash=body.content_hash, key=await _keyed(request, idempotency_key)
    )
    return _answer(answer)


@router.get("/{agreement_id}/amendments", response_model=list[AmendmentRead], summary="协议变更记录")
async def list_amendments(agreement_id: IdPath, session: SessionDep, actor: ActorDep) -> list[AmendmentRead]:
    """The agreement's amendments, oldest first."""
    return [
        AmendmentRead.model_validate(a)
        for a in await agreement_service.amendments(session, actor, agreement_id)
    ]


@router.post(
    "/{agreement_id}/amendments",
    status_code=status.HTTP_201_CREATED,
    response_model=AmendmentRead,
    summary="提出协议变更（执行中的协议，双方须重新签署）",
)
async def propose_amendment(
    agreement_id: IdPath, body: AmendmentCreate, session: SessionDep, actor: ActorDep
) -> AmendmentRead:
    """Propose a change to the signed terms."""
    return AmendmentRead.model_validate(
        await agreement_service.propose_amendment(session, actor, agreement_id, body)
    )


@router.post(
    "/{agreement_id}/amendments/{number}/sign",
    response_model=AmendmentRead,
    summary="签署协议变更（支持 Idempotency-Key）",
)
async def sign_amendment(
    agreement_id: IdPath,
    number: IdPath,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Sign an amendment; with both signatures it applies."""
    answer = await agreement_service.sign_amendment(
        session, actor, agreement_id, number, key=await _keyed(request, idempotency_key)
    )
    return _answer(answer)


@router.post(
    "/{agreement_id}/amendments/{number}/withdraw", response_model=AmendmentRead, summary="撤回协议变更"
)
async def withdraw_amendment(
    agreement_id: IdPath, number: IdPath, session: SessionDep, actor: ActorDep
) -> AmendmentRead:
    """Withdraw an amendment not yet signed by both."""
    return AmendmentRead.model_validate(
        await agreement_service.withdraw_amendment(session, actor, agreement_id, number)
    )


@router.post("/{agreement_id}/delivery", response_model=AgreementRead, summary="确认交付并评价对方（1–5 分）")
async def confirm_delivery(
    agreement_id: IdPath, body: DeliveryConfirmation, session: SessionDep, actor: ActorDep
) -> AgreementRead:
    """Confirm delivery for the caller's side; with both sides it is delivered."""
    return await agreement_service.confirm_delivery(session, actor, agreement_id, body)


@router.post("/{agreement_id}/termination", response_model=AgreementRead, summary="终止协议（须说明原因）")
async def terminate(
    agreement_id: IdPath, body: Termination, session: SessionDep, actor: ActorDep
) -> AgreementRead:
    """End the agreement early."""
    return await marketplace_service.terminate_agreement(session, actor, agreement_id, body.reason)


@router.get("/{agreement_id}/consultations", response_model=list[ConsultationRead], summary="会商记录")
async def list_consultations(
    agreement_id: IdPath, session: SessionDep, actor: ActorDep
) -> list[ConsultationRead]:
    """Consultations, latest first."""
    rows = await agreement_service.consultations(session, actor, agreement_id)
    return [ConsultationRead.model_validate(r) for r in rows]


@router.post(
    "/{agreement_id}/consultations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConsultationRead,
    summary="记录会商（技术指导/咨询会诊/技术交流）",
)
async def log_consultation(
    agreement_id: IdPath, body: ConsultationCreate, session: SessionDep, actor: ActorDep
) -> ConsultationRead:
    """Record a consultation."""
    return ConsultationRead.model_validate(
        await agreement_service.log_consultation(session, actor, agreement_id, body)
    )


@router.get("/{agreement_id}/trainings", response_model=list[TrainingRead], summary="培训记录")
async def list_trainings(agreement_id: IdPath, session: SessionDep, actor: ActorDep) -> list[TrainingRead]:
    """Trainings, latest first."""
    return [
        TrainingRead.model_validate(r)
        for r in await agreement_service.trainings(session, actor, agreement_id)
    ]


@router.post(
    "/{agreement_id}/trainings",
    status_code=status.HTTP_201_CREATED,
    response_model=TrainingRead,
    summary="记录培训（新型学徒制/专家讲师团/师带徒）",
)
async def log_training(
    agreement_id: IdPath, body: TrainingCreate, session: SessionDep, actor: ActorDep
) -> TrainingRead:
    """Record a training."""
    return TrainingRead.model_validate(
        await agreement_service.log_training(session, actor, agreement_id, body)
    )


@router.get("/{agreement_id}/outcomes", response_model=list[OutcomeRead], summary="成果记录")
async def list_outcomes(agreement_id: IdPath, session: SessionDep, actor: ActorDep) -> list[OutcomeRead]:
    """Outcomes, newest first."""
    return [
        OutcomeRead.model_validate(r) for r in await agreement_service.outcomes(session, actor, agreement_id)
    ]


@router.post(
    "/{agreement_id}/outcomes",
    status_code=status.HTTP_201_CREATED,
    response_model=OutcomeRead,
    summary="记录成果（技术革新/发明专利/新产品/成果转化）",
)
async def log_outcome(
    agreement_id: IdPath, body: OutcomeCreate, session: SessionDep, actor: ActorDep
) -> OutcomeRead:
    """Record an outcome."""
    return OutcomeRead.model_validate(await agreement_service.log_outcome(session, actor, agreement_id, body))
