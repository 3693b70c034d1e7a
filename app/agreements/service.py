"""Use cases for agreements (结对 / 合作协议): terms, signatures, amendments, delivery, termination, work logs.

States and transitions (each transition writes an audit event):

    草稿 draft ──submit──▶ 待签署 pending_signature ──both sign──▶ 执行中 in_progress ──both confirm──▶ 已交付 delivered
      ▲                        │
      └───────revise───────────┘
    draft / pending_signature / in_progress ──terminate (reason)──▶ 已终止 terminated

Terms change only in a draft, against the version the editor read (optimistic locking). Once both
sides have signed, the terms are frozen under a content hash; a later change is an amendment that
both sides sign again. Every step locks the agreement's row first, so concurrent steps queue.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.agreements.errors import (
    AgreementDatesInvalid,
    AgreementNotFound,
    AgreementTermsIncomplete,
    AgreementTransitionInvalid,
    AgreementVersionConflict,
    AlreadySigned,
    AmendmentEmpty,
    AmendmentNotFound,
    AmendmentPending,
    DeliveryAlreadyConfirmed,
    DeliveryBeforeStart,
    NotAParty,
    TermsChangedSinceRead,
    WorkDateBeforeEffect,
    WorkDateInFuture,
)
from app.agreements.models import (
    Agreement,
    AgreementAmendment,
    AgreementStatus,
    AmendmentStatus,
    Consultation,
    ConsultationCadence,
    Outcome,
    Training,
)
from app.agreements.repository import AgreementNames, AgreementRepository
from app.agreements.schemas import (
    TERM_FIELDS,
    AgreementRead,
    AgreementTerms,
    AgreementTermsUpdate,
    AmendmentCreate,
    AmendmentRead,
    ConsultationCreate,
    DeliveryConfirmation,
    OutcomeCreate,
    Revision,
    TrainingCreate,
)
from app.audit.service import apply_changes, record_change, snapshot
from app.clock import CHINA_TZ, local_today, utcnow
from app.idempotency import service as idempotency_service
from app.idempotency.service import IdempotencyKey
from app.labels import field_label, label
from app.notifications import service as notification_service
from app.notifications.models import NotificationKind
from app.orders.models import Order
from app.pagination import PageParams

Side = Literal["enterprise", "expert"]
WorkLog = TypeVar("WorkLog", Consultation, Training, Outcome)

# days between consultations under each cadence (工作会商制度)
CADENCE_DAYS = {
    ConsultationCadence.WEEKLY: 7,
    ConsultationCadence.BIWEEKLY: 14,
    ConsultationCadence.MONTHLY: 31,
    ConsultationCadence.QUARTERLY: 92,
}
# what must be filled in before an agreement goes out for signature
REQUIRED_TERMS = ("goals", "deliverables", "duration_months", "start_date")
TERMINABLE = frozenset(
    {AgreementStatus.DRAFT, AgreementStatus.PENDING_SIGNATURE, AgreementStatus.IN_PROGRESS}
)


@dataclass(frozen=True, slots=True)
class Workload:
    """An expert's agreements: how many are running, how many were delivered, and how they were rated."""

    active: int = 0
    delivered: int = 0
    mean_rating: float | None = None


@dataclass(frozen=True, slots=True)
class ConsultationSchedule:
    """When the next consultation is due under the agreement's cadence, and whether it is late."""

    next_due: date | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class AgreementView:
    """An agreement's page: the agreement, the caller's side, its schedule, amendments and work logs."""

    agreement: Agreement
    names: AgreementNames
    side: Side | None
    schedule: ConsultationSchedule
    amendments: Sequence[AgreementAmendment]
    consultations: Sequence[Consultation]
    trainings: Sequence[Training]
    outcomes: Sequence[Outcome]


async def expert_workloads(
    session: AsyncSession, expert_ids: Collection[int] | None = None
) -> dict[int, Workload]:
    """Workloads of the given experts (all experts with agreements when ``None``); others have none."""
    rows = await AgreementRepository(session).workloads(expert_ids)
    return {expert_id: Workload(*figures) for expert_id, figures in rows.items()}


# ---------------------------------------------------------------------------------------------- reading


def side_of(actor: Actor, agreement: Agreement) -> Side | None:
    """Which side of the agreement the caller is on, if any."""
    if actor.role is UserRole.ENTERPRISE and actor.enterprise_id == agreement.enterprise_id:
        return "enterprise"
    if actor.role is UserRole.EXPERT and actor.expert_id == agreement.expert_id:
        return "expert"
    return None


def can_see(actor: Actor, agreement: Agreement) -> bool:
    """Only the two parties and administrators see an agreement."""
    return actor.is_admin or side_of(actor, agreement) is not None


async def get_agreement(session: AsyncSession, actor: Actor, agreement_id: int) -> Agreement:
    """One agreement the caller may see: its parties, administrators, and the experts assigned to
    review its project (read only: they score what they can read).

    Raises:
        AgreementNotFound: no such agreement, or the caller may not see it.
    """
    repository = AgreementRepository(session)
    agreement = await repository.get(agreement_id)
    if agreement is None:
        raise AgreementNotFound(agreement_id)
    if not can_see(actor, agreement) and not (
        actor.expert_id is not None and await repository.reviewed_by(agreement_id, actor.expert_id)
    ):
        raise AgreementNotFound(agreement_id)
    return agreement


async def list_agreements(
    session: AsyncSession,
    actor: Actor,
    params: PageParams,
    sort: str,
    *,
    status: AgreementStatus | None = None,
    order_id: int | None = None,
    catalogued: bool | None = None,
) -> tuple[Sequence[Agreement], int]:
    """One page of the caller's agreements (all of them for administrators)."""
    return await AgreementRepository(session).list_for(
        params,
        sort,
        enterprise_id=actor.enterprise_id if actor.role is UserRole.ENTERPRISE else None,
        expert_id=actor.expert_id if actor.role is UserRole.EXPERT else None,
        everyone=actor.is_admin,
        status=status,
        order_id=order_id,
        catalogued=catalogued,
    )


def effective_on(agreement: Agreement) -> date | None:
    """The day (China time) the agreement took effect: its second signature; ``None`` until both signed
    (or for an imported agreement that carries no signature times)."""
    if agreement.enterprise_signed_at is None or agreement.expert_signed_at is None:
        return None
    return max(agreement.enterprise_signed_at, agreement.expert_signed_at).astimezone(CHINA_TZ).date()


def consultation_schedule(agreement: Agreement, last_held: date | None, today: date) -> ConsultationSchedule:
    """When the next consultation is due: one cadence interval after the last one (or after the start)."""
    if agreement.status is not AgreementStatus.IN_PROGRESS:
        return ConsultationSchedule(None, False)
    # an imported agreement may lack signature times: then it counts from when it was last changed
    took_effect = effective_on(agreement) or agreement.updated_at.astimezone(CHINA_TZ).date()
    since = last_held or agreement.start_date or took_effect
    due = since + timedelta(days=CADENCE_DAYS[agreement.consultation_cadence])
    return ConsultationSchedule(due, today > due)


async def schedules(
    session: AsyncSession, agreements: Sequence[Agreement]
) -> dict[int, ConsultationSchedule]:
    """The consultation schedule of each agreement, in one query."""
    last = await AgreementRepository(session).last_consultations([a.id for a in agreements])
    today = local_today()
    return {a.id: consultation_schedule(a, last.get(a.id), today) for a in agreements}


async def agreement_view(session: AsyncSession, actor: Actor, agreement_id: int) -> AgreementView:
    """Everything the agreement's page shows (the parties and administrators only).

    Raises:
        AgreementNotFound: no such agreement, or the caller is not a party (nor an administrator).
    """
    agreement = await get_agreement(session, actor, agreement_id)
    repository = AgreementRepository(session)
    return AgreementView(
        agreement=agreement,
        names=(await repository.names([agreement.id]))[agreement.id],
        side=side_of(actor, agreement),
        schedule=(await schedules(session, [agreement]))[agreement.id],
        amendments=await repository.amendments(agreement.id),
        consultations=await repository.consultations(agreement.id),
        trainings=await repository.trainings(agreement.id),
        outcomes=await repository.outcomes(agreement.id),
    )


async def names_of(session: AsyncSession, agreements: Sequence[Agreement]) -> dict[int, AgreementNames]:
    """Each agreement's order, expert, enterprise and studio by name (for the lists)."""
    return await AgreementRepository(session).names([a.id for a in agreements])


async def read_model(session: AsyncSession, agreement: Agreement) -> AgreementRead:
    """The API view of one agreement, with its consultation schedule.

    A write use case builds it before its commit and returns it: a read after the commit could fail
    (the database restarting) and answer an error for a change that was saved.
    """
    schedule = (await schedules(session, [agreement]))[agreement.id]
    return AgreementRead.model_validate(agreement).model_copy(
        update={"next_consultation_due": schedule.next_due, "consultation_overdue": schedule.overdue}
    )


# ---------------------------------------------------------------------------------------------- the workflow


async def start_agreement(
    session: AsyncSession, actor: Actor | None, order: Order, expert_id: int, enterprise_id: int
) -> Agreement:
    """Stage a draft agreement for a confirmed taker of ``order`` (the caller commits).

    The draft starts from the order: its title as the goal, monthly consultations.
    """
    agreement = Agreement(
        order_id=order.id,
        expert_id=expert_id,
        studio_id=order.studio_id,
        enterprise_id=enterprise_id,
        status=AgreementStatus.DRAFT,
        goals=order.title,
        deliverables="",
        consultation_cadence=ConsultationCadence.MONTHLY,
        funding_amount=order.budget_max,
    )
    session.add(agreement)
    await session.flush()
    await record_change(session, actor=actor, action="agreement.drafted", record=agreement, before=None)
    return agreement


async def update_terms(
    session: AsyncSession, actor: Actor, agreement_id: int, data: AgreementTermsUpdate
) -> AgreementRead:
    """Change a draft's terms. Either party may edit; the edit must start from the current version.

    Returns the agreement as the API shows it, built before the commit.

    Raises:
        AgreementNotFound / NotAParty / AgreementTransitionInvalid / AgreementVersionConflict /
        AgreementDatesInvalid.
    """
    agreement, _ = await _lock_for_party(session, actor, agreement_id, "修改协议条款")
    changes = data.changes()
    _check_version(agreement, changes.pop("version"))
    _require(agreement, {AgreementStatus.DRAFT}, "修改条款（已提交签署的协议请先退回修改）")
    await _apply_terms(session, actor, agreement, changes)
    answer = await read_model(session, agreement)
    await session.commit()
    return answer


async def _apply_terms(
    session: AsyncSession, actor: Actor, agreement: Agreement, changes: dict[str, Any]
) -> None:
    """Write a draft's changed terms and their audit event (the caller checked state and version)."""
    before = snapshot(agreement)
    for field, value in changes.items():
        setattr(agreement, field, value)
    _check_dates(agreement.start_date, agreement.end_date)
    await session.flush()
    await record_change(
        session, actor=actor, action="agreement.terms_updated", record=agreement, before=before
    )


def missing_terms(agreement: Agreement | AgreementRead) -> list[str]:
    """The terms a draft still needs before it can be submitted for signature (field names)."""
    return [f for f in REQUIRED_TERMS if getattr(agreement, f) in (None, "")]


async def submit_for_signature(
    session: AsyncSession,
    actor: Actor,
    agreement_id: int,
    version: int,
    terms: AgreementTerms | None = None,
) -> AgreementRead:
    """Freeze the draft's terms under a content hash and ask both sides to sign (草稿 → 待签署).

    ``terms`` (the page's one form) are saved first, in the same transaction: what was typed is
    what is submitted, and nothing is kept when the submission is refused.

    Returns the agreement as the API shows it, built before the commit.

    Raises:
        AgreementTermsIncomplete: goals, deliverables, duration or start date are missing.
    """
    agreement, _ = await _lock_for_party(session, actor, agreement_id, "提交签署")
    _check_version(agreement, version)
    _require(agreement, {AgreementStatus.DRAFT}, "提交签署")
    if terms is not None:
        changes = terms.changes()
        changes.pop("version", None)  # checked above
        await _apply_terms(session, actor, agreement, changes)
    missing = [(f, field_label(f)) for f in missing_terms(agreement)]
    if missing:
        raise AgreementTermsIncomplete(missing)
    await apply_changes(
        session,
        actor=actor,
        record=agreement,
        changes={
            "status": AgreementStatus.PENDING_SIGNATURE,
            "content_hash": terms_hash(agreement, terms_of(agreement)),
            # the reason of a 退回修改 has been answered by this submission
            "revision_reason": None,
            "revised_at": None,
            "revised_by_side": None,
        },
        action="agreement.submitted",
    )
    await _notify_parties(
        session,
        agreement,
        NotificationKind.SIGNATURE_REQUESTED,
        f"协议 #{agreement.id} 待签署",
        "协议条款已提交，请核对后签署。",
    )
    answer = await read_model(session, agreement)
    await session.commit()
    return answer


async def revise(session: AsyncSession, actor: Actor, agreement_id: int, data: Revision) -> AgreementRead:
    """Take an agreement back from signature to draft (待签署 → 草稿) with a reason; signatures given so
    far lapse and the other party is told why.

    Returns the agreement as the API shows it, built before the commit.
    """
    agreement, side = await _lock_for_party(session, actor, agreement_id, "退回修改")
    _check_version(agreement, data.version)
    _require(agreement, {AgreementStatus.PENDING_SIGNATURE}, "退回修改")
    await apply_changes(
        session,
        actor=actor,
        record=agreement,
        changes={
            "status": AgreementStatus.DRAFT,
            "content_hash": None,
            "enterprise_signed_by_user_id": None,
            "expert_signed_by_user_id": None,
            "enterprise_signed_at": None,
            "expert_signed_at": None,
            "revision_reason": data.reason,
            "revised_at": utcnow(),
            "revised_by_side": side,
        },
        action="agreement.revised",
    )
    by = "企业" if side == "enterprise" else "专家"
    await _notify_parties(
        session,
        agreement,
        NotificationKind.AGREEMENT_REVISED,
        f"协议 #{agreement.id} 被{by}退回修改",
        f"退回原因：{data.reason}",
        skip_side=side,
    )
    answer = await read_model(session, agreement)
    await session.commit()
    return answer


async def sign(
    session: AsyncSession,
    actor: Actor,
    agreement_id: int,
    *,
    seen_hash: str | None = None,
    key: IdempotencyKey | None = None,
) -> dict[str, Any]:
    """Sign for the caller's side; when both sides have signed the agreement takes effect (→ 执行中).

    Returns the agreement as the API shows it. A retry with the same ``Idempotency-Key`` gets the first
    answer back and changes nothing.

    Raises:
        NotAParty: administrators cannot sign for a party.
        AgreementTransitionInvalid: not waiting for signatures.
        TermsChangedSinceRead: ``seen_hash`` differs from the terms up for signature.
        AlreadySigned: this side has signed already.
    """
    agreement, side = await _lock_for_party(session, actor, agreement_id, "签署协议")
    if (answer := await idempotency_service.stored_answer(session, actor, key)) is not None:
        return answer
    _require(agreement, {AgreementStatus.PENDING_SIGNATURE}, "签署")
    if seen_hash is not None and seen_hash != agreement.content_hash:
        raise TermsChangedSinceRead()
    if getattr(agreement, f"{side}_signed_at") is not None:
        raise AlreadySigned()
    before = snapshot(agreement)
    setattr(agreement, f"{side}_signed_by_user_id", actor.user_id)
    setattr(agreement, f"{side}_signed_at", utcnow())
    if agreement.enterprise_signed_at and agreement.expert_signed_at:
        agreement.status = AgreementStatus.IN_PROGRESS
        if agreement.start_date is None:
            agreement.start_date = local_today()
    await session.flush()
    await record_change(session, actor=actor, action="agreement.signed", record=agreement, before=before)
    effective = agreement.status is AgreementStatus.IN_PROGRESS
    await _notify_parties(
        session,
        agreement,
        NotificationKind.AGREEMENT_SIGNED,
        f"协议 #{agreement.id} 已生效" if effective else f"协议 #{agreement.id} 对方已签署",
        "双方均已签署，协议进入执行阶段。" if effective else "对方已签署，请您核对条款后签署。",
        skip_side=side,
    )
    answer = (await read_model(session, agreement)).model_dump(mode="json")
    await idempotency_service.store_answer(session, actor, key, answer)
    await session.commit()
    return answer


async def propose_amendment(
    session: AsyncSession, actor: Actor, agreement_id: int, data: AmendmentCreate
) -> AgreementAmendment:
    """Propose a change to a signed agreement's terms (协议变更); it applies once both sides sign it.

    Raises:
        AgreementTransitionInvalid: the agreement is not being carried out.
        AmendmentPending: another amendment waits for signatures.
        AmendmentEmpty: nothing would change.
    """
    agreement, _ = await _lock_for_party(session, actor, agreement_id, "提出协议变更")
    _require(agreement, {AgreementStatus.IN_PROGRESS}, "变更条款")
    repository = AgreementRepository(session)
    if (pending := await repository.pending_amendment(agreement.id)) is not None:
        raise AmendmentPending(pending.number)
    current = terms_of(agreement)
    changes = {k: v for k, v in data.changes.changes().items() if current.get(k) != v}
    if not changes:
        raise AmendmentEmpty()
    proposed = current | changes
    _check_dates(proposed["start_date"], proposed["end_date"])
    numbers = [a.number for a in await repository.amendments(agreement.id)]
    amendment = AgreementAmendment(
        agreement_id=agreement.id,
        number=max(numbers, default=0) + 1,
        changes=_json_terms(changes),
        reason=data.reason,
        content_hash=terms_hash(agreement, proposed),
        status=AmendmentStatus.PENDING_SIGNATURE,
        proposed_by_user_id=actor.user_id,
    )
    session.add(amendment)
    await session.flush()
    await record_change(session, actor=actor, action="amendment.proposed", record=amendment, before=None)
    await _notify_parties(
        session,
        agreement,
        NotificationKind.AMENDMENT_PROPOSED,
        f"协议 #{agreement.id} 第 {amendment.number} 号变更待签署",
        f"变更原因：{data.reason}",
    )
    await session.commit()
    return amendment


async def sign_amendment(
    session: AsyncSession, actor: Actor, agreement_id: int, number: int, *, key: IdempotencyKey | None = None
) -> dict[str, Any]:
    """Sign an amendment for the caller's side; with both signatures its changes apply to the terms.

    Raises:
        AmendmentNotFound / AgreementTransitionInvalid / AlreadySigned.
    """
    agreement, side = await _lock_for_party(session, actor, agreement_id, "签署协议变更")
    if (answer := await idempotency_service.stored_answer(session, actor, key)) is not None:
        return answer
    _require(agreement, {AgreementStatus.IN_PROGRESS}, "签署协议变更")
    amendment = await AgreementRepository(session).amendment(agreement.id, number)
    if amendment is None:
        raise AmendmentNotFound(number)
    if amendment.status is not AmendmentStatus.PENDING_SIGNATURE:
        raise AgreementTransitionInvalid("签署该变更", label(amendment.status))
    if getattr(amendment, f"{side}_signed_at") is not None:
        raise AlreadySigned()
    before = snapshot(amendment)
    setattr(amendment, f"{side}_signed_by_user_id", actor.user_id)
    setattr(amendment, f"{side}_signed_at", utcnow())
    if amendment.enterprise_signed_at and amendment.expert_signed_at:
        agreement_before = snapshot(agreement)
        for field, value in _python_terms(amendment.changes).items():
            setattr(agreement, field, value)
        agreement.content_hash = amendment.content_hash
        amendment.status = AmendmentStatus.SIGNED
        amendment.applied_at = utcnow()
        await session.flush()
        await record_change(
            session, actor=actor, action="agreement.amended", record=agreement, before=agreement_before
        )
    await session.flush()
    await record_change(session, actor=actor, action="amendment.signed", record=amendment, before=before)
    answer = AmendmentRead.model_validate(amendment).model_dump(mode="json")
    await idempotency_service.store_answer(session, actor, key, answer)
    await session.commit()
    return answer


async def withdraw_amendment(
    session: AsyncSession, actor: Actor, agreement_id: int, number: int
) -> AgreementAmendment:
    """Withdraw an amendment nobody has finished signing."""
    agreement, _ = await _lock_for_party(session, actor, agreement_id, "撤回协议变更")
    amendment = await AgreementRepository(session).amendment(agreement.id, number)
    if amendment is None:
        raise AmendmentNotFound(number)
    if amendment.status is not AmendmentStatus.PENDING_SIGNATURE:
        raise AgreementTransitionInvalid("撤回该变更", label(amendment.status))
    await apply_changes(
        session,
        actor=actor,
        record=amendment,
        changes={"status": AmendmentStatus.WITHDRAWN},
        action="amendment.withdrawn",
    )
    await session.commit()
    return amendment


async def amendments(session: AsyncSession, actor: Actor, agreement_id: int) -> Sequence[AgreementAmendment]:
    """The agreement's amendments, oldest first."""
    agreement = await get_agreement(session, actor, agreement_id)
    return await AgreementRepository(session).amendments(agreement.id)


async def confirm_delivery(
    session: AsyncSession, actor: Actor, agreement_id: int, data: DeliveryConfirmation
) -> AgreementRead:
    """Confirm delivery for the caller's side and rate the other side; with both, the agreement is delivered.

    Returns the agreement as the API shows it, built before the commit.

    Raises:
        AgreementTransitionInvalid: the agreement is not being carried out.
        DeliveryAlreadyConfirmed: this side confirmed already.
    """
    agreement, side = await _lock_for_party(session, actor, agreement_id, "确认交付")
    _require(agreement, {AgreementStatus.IN_PROGRESS}, "确认交付")
    if getattr(agreement, f"{side}_delivery_confirmed_at") is not None:
        raise DeliveryAlreadyConfirmed()
    if agreement.start_date is not None and local_today() < agreement.start_date:
        raise DeliveryBeforeStart(agreement.start_date.isoformat())
    before = snapshot(agreement)
    setattr(agreement, f"{side}_delivery_confirmed_at", utcnow())
    setattr(agreement, f"{side}_rating", data.rating)
    setattr(agreement, f"{side}_comment", data.comment)
    if agreement.enterprise_delivery_confirmed_at and agreement.expert_delivery_confirmed_at:
        agreement.status = AgreementStatus.DELIVERED
        agreement.delivered_at = utcnow()
    await session.flush()
    await record_change(
        session, actor=actor, action="agreement.delivery_confirmed", record=agreement, before=before
    )
    delivered = agreement.status is AgreementStatus.DELIVERED
    if delivered:
        await _end_pending_amendment(session, actor, agreement)
    await _notify_parties(
        session,
        agreement,
        NotificationKind.DELIVERY_CONFIRMED,
        f"协议 #{agreement.id} 已交付" if delivered else f"协议 #{agreement.id} 对方已确认交付",
        "双方均已确认交付并互评。" if delivered else "对方已确认交付并评价，请您确认交付并评价。",
        skip_side=side,
    )
    answer = await read_model(session, agreement)
    await session.commit()
    return answer


async def end_agreement(
    session: AsyncSession, actor: Actor, agreement_id: int, reason: str
) -> tuple[Agreement, bool]:
    """Stage the termination of an agreement (→ 已终止) in the caller's transaction.

    Returns the agreement and whether it had taken effect (both signatures): one that never did gives
    its order's slot back, which the marketplace does (``marketplace.service.terminate_agreement``).

    Raises:
        AgreementNotFound: not a party (nor an administrator).
        AgreementTransitionInvalid: delivered or terminated already.
    """
    agreement = await _lock_visible(session, actor, agreement_id)
    _require(agreement, TERMINABLE, "终止")
    took_effect = agreement.status is AgreementStatus.IN_PROGRESS
    await apply_changes(
        session,
        actor=actor,
        record=agreement,
        changes={
            "status": AgreementStatus.TERMINATED,
            "terminated_at": utcnow(),
            "termination_reason": reason,
        },
        action="agreement.terminated",
    )
    await _end_pending_amendment(session, actor, agreement)
    await _notify_parties(
        session,
        agreement,
        NotificationKind.AGREEMENT_TERMINATED,
        f"协议 #{agreement.id} 已终止",
        f"终止原因：{reason}",
        skip_side=side_of(actor, agreement),
    )
    return agreement, took_effect


# ---------------------------------------------------------------------------------------------- work logs


async def log_consultation(
    session: AsyncSession, actor: Actor, agreement_id: int, data: ConsultationCreate
) -> Consultation:
    """Record a consultation held under an agreement being carried out."""
    agreement, _ = await _lock_for_party(session, actor, agreement_id, "记录会商")
    _require(agreement, {AgreementStatus.IN_PROGRESS}, "记录会商")
    _check_work_date(agreement, data.held_on, "held_on")
    return await _log(
        session, actor, Consultation(agreement_id=agreement.id, **data.model_dump()), "consultation.logged"
    )


async def log_training(
    session: AsyncSession, actor: Actor, agreement_id: int, data: TrainingCreate
) -> Training:
    """Record a training under an agreement being carried out."""
    agreement, _ = await _lock_for_party(session, actor, agreement_id, "记录培训")
    _require(agreement, {AgreementStatus.IN_PROGRESS}, "记录培训")
    _check_work_date(agreement, data.held_on, "held_on")
    return await _log(
        session, actor, Training(agreement_id=agreement.id, **data.model_dump()), "training.logged"
    )


async def log_outcome(session: AsyncSession, actor: Actor, agreement_id: int, data: OutcomeCreate) -> Outcome:
    """Record an outcome of an agreement being carried out or delivered."""
    agreement, _ = await _lock_for_party(session, actor, agreement_id, "记录成果")
    _require(agreement, {AgreementStatus.IN_PROGRESS, AgreementStatus.DELIVERED}, "记录成果")
    if data.achieved_on is not None:
        _check_past(data.achieved_on, "achieved_on")
    return await _log(
        session, actor, Outcome(agreement_id=agreement.id, **data.model_dump()), "outcome.logged"
    )


async def consultations(session: AsyncSession, actor: Actor, agreement_id: int) -> Sequence[Consultation]:
    """The agreement's consultations, latest first."""
    return await AgreementRepository(session).consultations(
        (await get_agreement(session, actor, agreement_id)).id
    )


async def trainings(session: AsyncSession, actor: Actor, agreement_id: int) -> Sequence[Training]:
    """The agreement's trainings, latest first."""
    return await AgreementRepository(session).trainings(
        (await get_agreement(session, actor, agreement_id)).id
    )


async def outcomes(session: AsyncSession, actor: Actor, agreement_id: int) -> Sequence[Outcome]:
    """The agreement's outcomes, newest first."""
    return await AgreementRepository(session).outcomes((await get_agreement(session, actor, agreement_id)).id)


async def remind_overdue_consultations(session: AsyncSession) -> int:
    """Notify both parties of every agreement whose consultation is overdue (once per due date).

    Returns how many agreements were overdue. Meant for a daily job (``studio-match remind``).
    """
    running = await AgreementRepository(session).in_progress()
    overdue = 0
    for agreement in running:
        schedule = (await schedules(session, [agreement]))[agreement.id]
        if not schedule.overdue or schedule.next_due is None:
            continue
        overdue += 1
        await _notify_parties(
            session,
            agreement,
            NotificationKind.CONSULTATION_OVERDUE,
            f"协议 #{agreement.id} 会商已逾期",
            f"按“{label(agreement.consultation_cadence)}”的会商频次，应在 {schedule.next_due.isoformat()} 前开展会商。",
            dedupe_key=f"consultation-overdue:{agreement.id}:{schedule.next_due.isoformat()}",
        )
    await session.commit()
    return overdue


# ---------------------------------------------------------------------------------------------- helpers


def terms_of(agreement: Agreement) -> dict[str, Any]:
    """The agreement's current terms."""
    return {field: getattr(agreement, field) for field in TERM_FIELDS}


def terms_hash(agreement: Agreement, terms: dict[str, Any]) -> str:
    """SHA-256 of the parties and the terms, canonically serialised: what a signature stands for."""
    content = {
        "agreement_id": agreement.id,
        "order_id": agreement.order_id,
        "enterprise_id": agreement.enterprise_id,
        "expert_id": agreement.expert_id,
        "terms": _json_terms(terms),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _json_terms(terms: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, ConsultationCadence) else v)
        for k, v in terms.items()
    }


def _python_terms(terms: dict[str, Any]) -> dict[str, Any]:
    parsed = dict(terms)
    for field in ("start_date", "end_date"):
        if isinstance(parsed.get(field), str):
            parsed[field] = date.fromisoformat(parsed[field])
    if "consultation_cadence" in parsed:
        parsed["consultation_cadence"] = ConsultationCadence(parsed["consultation_cadence"])
    return parsed


async def _end_pending_amendment(session: AsyncSession, actor: Actor, agreement: Agreement) -> None:
    # an agreement that has ended takes no more changes: its open amendment lapses
    pending = await AgreementRepository(session).pending_amendment(agreement.id)
    if pending is not None:
        await apply_changes(
            session,
            actor=actor,
            record=pending,
            changes={"status": AmendmentStatus.WITHDRAWN},
            action="amendment.lapsed",
        )


async def _lock_visible(session: AsyncSession, actor: Actor, agreement_id: int) -> Agreement:
    agreement = await AgreementRepository(session).lock(agreement_id)
    if agreement is None or not can_see(actor, agreement):
        raise AgreementNotFound(agreement_id)
    return agreement


async def _lock_for_party(
    session: AsyncSession, actor: Actor, agreement_id: int, action: str
) -> tuple[Agreement, Side]:
    agreement = await _lock_visible(session, actor, agreement_id)
    side = side_of(actor, agreement)
    if side is None:
        raise NotAParty(action)
    return agreement, side


def _require(agreement: Agreement, allowed: Collection[AgreementStatus], action: str) -> None:
    if agreement.status not in allowed:
        raise AgreementTransitionInvalid(action, label(agreement.status))


def _check_version(agreement: Agreement, version: int) -> None:
    # the row is locked, so a version read before the lock that differs means someone changed it since
    if agreement.version != version:
        raise AgreementVersionConflict(agreement.id)


def _check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise AgreementDatesInvalid()


def _check_past(day: date, field: str) -> None:
    if day > local_today():
        raise WorkDateInFuture(field)


def _check_work_date(agreement: Agreement, day: date, field: str) -> None:
    """Work on an agreement happens between the day it took effect and today."""
    _check_past(day, field)
    took_effect = effective_on(agreement)
    if took_effect is not None and day < took_effect:
        raise WorkDateBeforeEffect(field, took_effect.isoformat())


async def _log(session: AsyncSession, actor: Actor, record: WorkLog, action: str) -> WorkLog:
    record.created_by_user_id = actor.user_id
    session.add(record)
    await session.flush()
    await record_change(session, actor=actor, action=action, record=record, before=None)
    await session.commit()
    return record


async def _notify_parties(
    session: AsyncSession,
    agreement: Agreement,
    kind: NotificationKind,
    title: str,
    body: str,
    *,
    skip_side: Side | None = None,
    dedupe_key: str | None = None,
) -> None:
    users: list[int] = []
    if skip_side != "enterprise":
        users += await account_service.enterprise_user_ids(session, agreement.enterprise_id)
    if skip_side != "expert":
        users += await account_service.expert_user_ids(session, agreement.expert_id)
    await notification_service.notify(
        session, users, kind, title, body=body, link=f"/agreements/{agreement.id}", dedupe_key=dedupe_key
    )


async def lock_agreement(session: AsyncSession, agreement_id: int) -> Agreement:
    """Load and lock an agreement for another domain's use case (the caller has checked who may act).

    Raises:
        AgreementNotFound: no such agreement.
    """
    agreement = await AgreementRepository(session).lock(agreement_id)
    if agreement is None:
        raise AgreementNotFound(agreement_id)
    return agreement


async def has_worked_with(session: AsyncSession, expert_id: int, enterprise_id: int) -> bool:
    """True if the expert has, or had, any agreement with the enterprise."""
    return await AgreementRepository(session).of_enterprise_or_expert(expert_id, enterprise_id)
