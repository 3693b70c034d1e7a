"""Use cases of the order marketplace (发单 / 接单).

An order goes 草稿 draft ──publish──▶ 已发布 published ──slots filled──▶ 已接单 taken ──close──▶ 已关闭 closed;
draft, published or taken (with no confirmed taker) ──withdraw──▶ 已撤回 withdrawn. Publishing computes
proposals with the matcher. An expert takes a published order (接单) or accepts an invitation; each
taking holds one of the order's slots until the enterprise confirms it (which drafts an agreement) or
releases it (which frees the slot). Every change to an order's takings first locks the order's row,
so two experts taking the last slot at the same moment are served one after the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.agreements import service as agreement_service
from app.agreements.models import Agreement
from app.agreements.schemas import AgreementRead
from app.audit.service import apply_changes, record_change, snapshot
from app.clock import utcnow
from app.enterprises import service as enterprise_service
from app.errors import Forbidden
from app.experts import service as expert_service
from app.experts.models import Expert
from app.labels import label
from app.marketplace.errors import (
    AlreadyTaking,
    ExpertNotProposed,
    InvitationExists,
    InvitationNotFound,
    OrderClosed,
    OrderFull,
    OrderNotPublished,
    OrderWithdrawn,
    TakingNotFound,
    TakingNotPending,
)
from app.marketplace.repository import TakingRepository
from app.notifications import service as notification_service
from app.notifications.models import NotificationKind
from app.orders import service as order_service
from app.orders import transitions
from app.orders.errors import OrderNotFound
from app.orders.models import SLOT_HOLDING, Order, OrderStatus, OrderTaking, TakingSource, TakingStatus
from app.orders.transitions import OrderAction
from app.pagination import PageParams
from app.proposals import service as proposal_service
from app.proposals.errors import OrderTextEmpty
from app.proposals.index import MatcherIndex
from app.proposals.models import Proposal, ProposalStatus


@dataclass(frozen=True, slots=True)
class OrderView:
    """Everything an order's page shows to the caller: the order, and what the caller's role may see."""

    order: Order
    is_owner: bool
    proposals: Sequence[tuple[Proposal, Expert]]
    takings: Sequence[OrderTaking]
    agreements: Sequence[Agreement]
    my_proposal: Proposal | None
    my_taking: OrderTaking | None
    # the owner's actions that would succeed now (app.orders.transitions); the page shows these buttons
    actions: frozenset[OrderAction] = frozenset()
    # the takers' and the agreements' experts by id, for their names
    experts: Mapping[int, Expert] = field(default_factory=dict)


# the proposals an enterprise may turn into an invitation
INVITABLE = frozenset({ProposalStatus.PROPOSED, ProposalStatus.EXPIRED})


# ---------------------------------------------------------------------------------------------- the order


async def publish_order(session: AsyncSession, index: MatcherIndex, actor: Actor, order_id: int) -> Order:
    """Publish a draft (发单) and compute its proposals, in one transaction.

    Raises:
        OrderNotFound / Forbidden: not the caller's order.
        OrderTransitionInvalid: the order is not a draft.
        OrderDeadlinePast: its deadline has passed meanwhile.
        OrderTextEmpty: it has no words to match (nothing is published).
    """
    order = await _owned_locked_order(session, actor, order_id)
    published = transitions.require(OrderAction.PUBLISH, order.status)
    order_service.check_deadline(order.deadline)
    await apply_changes(
        session,
        actor=actor,
        record=order,
        changes={"status": published, "published_at": utcnow()},
        action="order.published",
    )
    await proposal_service.compute_proposals(session, index, actor, order)
    await session.commit()
    return order


async def withdraw_order(session: AsyncSession, actor: Actor, order_id: int) -> Order:
    """Withdraw an order (撤回) nobody has been confirmed on; takers still waiting are released."""
    order = await _owned_locked_order(session, actor, order_id)
    takings = await TakingRepository(session).for_order(order.id)
    withdrawn = transitions.require(OrderAction.WITHDRAW, order.status, takings)
    await _end_order(session, actor, order, withdrawn, takings, "企业已撤回该需求")
    await session.commit()
    return order


async def close_order(session: AsyncSession, actor: Actor, order_id: int) -> Order:
    """Close a published or taken order (关闭): no more takings; takers still waiting are released."""
    order = await _owned_locked_order(session, actor, order_id)
    takings = await TakingRepository(session).for_order(order.id)
    closed = transitions.require(OrderAction.CLOSE, order.status, takings)
    await _end_order(session, actor, order, closed, takings, "企业已关闭该需求")
    await session.commit()
    return order


# ---------------------------------------------------------------------------------------------- taking


async def take_order(session: AsyncSession, actor: Actor, order_id: int, note: str) -> OrderTaking:
    """An expert takes a published order (接单), holding one of its slots.

    Raises:
        Forbidden: the caller is not an expert.
        OrderNotFound: no such order, or a draft or withdrawn one (private to its enterprise).
        OrderFull / OrderClosed: the order cannot be taken.
        AlreadyTaking: the expert holds a slot of it already.
    """
    expert_id = _expert_of(actor)
    order = await _lock_visible_order(session, actor, order_id)
    await _check_can_take(session, order, expert_id)
    taking = await _take(session, actor, order, expert_id, note, TakingSource.TAKEN)
    await session.commit()
    return taking


async def invite_expert(session: AsyncSession, actor: Actor, order_id: int, expert_id: int) -> Proposal:
    """The enterprise invites an expert the matcher proposed for its published order.

    Raises:
        ExpertNotProposed: the expert is not among the order's proposals.
        InvitationExists: the expert was invited already, answered, or took the order.
    """
    order = await _owned_locked_order(session, actor, order_id)
    _check_takeable(order)
    proposal = await proposal_service.proposal_of(session, order.id, expert_id)
    if proposal is None:
        raise ExpertNotProposed()
    if proposal.status not in INVITABLE:
        raise InvitationExists(label(proposal.status))
    await apply_changes(
        session,
        actor=actor,
        record=proposal,
        changes={"status": ProposalStatus.INVITED, "decided_at": None},
        action="proposal.invited",
    )
    await notification_service.notify(
        session,
        await account_service.expert_user_ids(session, expert_id),
        NotificationKind.INVITATION,
        f"企业邀请您承接需求“{order.title}”",
        body="请查看需求详情并答复：接受即接单，谢绝请说明原因。",
        link=f"/orders/{order.id}",
    )
    await session.commit()
    return proposal


async def accept_invitation(
    session: AsyncSession, actor: Actor, order_id: int, note: str = ""
) -> OrderTaking:
    """The invited expert accepts: the same as taking the order, counted as an accepted invitation.

    Raises:
        OrderNotFound: as for ``take_order``.
        InvitationNotFound: the expert has no open invitation for the order.
        OrderFull / OrderClosed: as for ``take_order``.
    """
    expert_id = _expert_of(actor)
    order = await _lock_visible_order(session, actor, order_id)
    proposal = await proposal_service.proposal_of(session, order.id, expert_id)
    if proposal is None or proposal.status is not ProposalStatus.INVITED:
        raise InvitationNotFound()
    await _check_can_take(session, order, expert_id)
    taking = await _take(session, actor, order, expert_id, note, TakingSource.INVITED)
    await session.commit()
    return taking


async def decline_invitation(session: AsyncSession, actor: Actor, order_id: int, reason: str) -> Proposal:
    """The invited expert declines with a reason; the expert is not proposed for the order again."""
    expert_id = _expert_of(actor)
    order = await _lock_visible_order(session, actor, order_id)
    proposal = await proposal_service.proposal_of(session, order.id, expert_id)
    if proposal is None or proposal.status is not ProposalStatus.INVITED:
        raise InvitationNotFound()
    await apply_changes(
        session,
        actor=actor,
        record=proposal,
        changes={"status": ProposalStatus.DECLINED, "decline_reason": reason, "decided_at": utcnow()},
        action="proposal.declined",
    )
    expert = await expert_service.require_expert(session, expert_id)
    await _notify_enterprise(
        session,
        order,
        NotificationKind.INVITATION_ANSWERED,
        f"{expert.name} 谢绝了需求“{order.title}”的邀请",
        f"原因：{reason}",
    )
    await session.commit()
    return proposal


async def confirm_taking(session: AsyncSession, actor: Actor, taking_id: int) -> AgreementRead:
    """The enterprise confirms a taker (确认接单): the taking is confirmed and an agreement draft created.

    Returns the agreement as the API shows it, built before the commit.

    All or nothing: if any step fails, neither the taking, the order nor an agreement changes.

    Raises:
        TakingNotFound: no such taking on one of the caller's orders.
        TakingNotPending: it was confirmed or released already.
    """
    taking, order, enterprise_id = await _locked_taking(session, actor, taking_id, enterprise_only=True)
    if taking.status is not TakingStatus.PENDING:
        raise TakingNotPending(label(taking.status))
    await apply_changes(
        session,
        actor=actor,
        record=taking,
        changes={"status": TakingStatus.CONFIRMED, "decided_at": utcnow()},
        action="taking.confirmed",
    )
    agreement = await agreement_service.start_agreement(
        session, actor, order, taking.expert_id, enterprise_id
    )
    await notification_service.notify(
        session,
        await account_service.expert_user_ids(session, taking.expert_id),
        NotificationKind.TAKING_CONFIRMED,
        f"企业已确认您承接需求“{order.title}”",
        body="协议草稿已生成，请与企业商定条款后签署。",
        link=f"/agreements/{agreement.id}",
    )
    answer = await agreement_service.read_model(session, agreement)
    await session.commit()
    return answer


async def release_taking(session: AsyncSession, actor: Actor, taking_id: int, reason: str) -> OrderTaking:
    """Give a waiting taker's slot back: the enterprise declines the taker, or the expert steps back."""
    taking, order, _ = await _locked_taking(session, actor, taking_id, enterprise_only=False)
    if taking.status is not TakingStatus.PENDING:
        raise TakingNotPending(label(taking.status))
    await _release(session, actor, order, taking, reason)
    if order.status is OrderStatus.TAKEN:
        await apply_changes(
            session,
            actor=actor,
            record=order,
            changes={"status": OrderStatus.PUBLISHED},
            action="order.reopened",
        )
    await session.commit()
    return taking


async def terminate_agreement(
    session: AsyncSession, actor: Actor, agreement_id: int, reason: str
) -> AgreementRead:
    """End an agreement early with a reason (→ 已终止), either party or an administrator.

    Returns the agreement as the API shows it, built before the commit.

    An agreement that never took effect (terminated as a draft or while waiting for signatures) gives
    its slot back: the taking is released and a full order is open for takers again. One that took
    effect keeps its slot: the work happened, and the order is closed or withdrawn by its enterprise.

    Raises:
        AgreementNotFound / AgreementTransitionInvalid: as for ``agreements.service.end_agreement``.
    """
    agreement, took_effect = await agreement_service.end_agreement(session, actor, agreement_id, reason)
    if not took_effect:
        repository = TakingRepository(session)
        order = await order_service.lock_order(session, agreement.order_id)
        taking = await repository.of_expert(agreement.order_id, agreement.expert_id)
        if order is not None and taking is not None and taking.status is TakingStatus.CONFIRMED:
            await _release(session, actor, order, taking, f"协议未生效即终止：{reason}")
            if order.status is OrderStatus.TAKEN:
                await apply_changes(
                    session,
                    actor=actor,
                    record=order,
                    changes={"status": OrderStatus.PUBLISHED},
                    action="order.reopened",
                )
    answer = await agreement_service.read_model(session, agreement)
    await session.commit()
    return answer


async def order_view(
    session: AsyncSession, actor: Actor, order_id: int, index: MatcherIndex | None = None
) -> OrderView:
    """What the order's page shows: proposals, takers and agreements to its enterprise (and admins);
    to an expert, their own proposal (an invitation) and taking.

    A published order its enterprise opens without any proposal (one published before there were
    experts, or loaded in bulk) gets them computed now, with ``index``: no order is a dead end.

    Raises:
        OrderNotFound: no such order, or one the caller may not see.
    """
    order, enterprise_id = await order_service.enterprise_of(session, actor, order_id)
    is_owner = enterprise_service.can_manage(actor, enterprise_id)
    takings = await TakingRepository(session).for_order(order.id)
    if is_owner:
        proposals = await proposal_service.list_proposals(session, actor, order.id)
        if not proposals and index is not None and order.status is OrderStatus.PUBLISHED:
            try:
                await proposal_service.propose_experts(session, index, actor, order.id)
                proposals = await proposal_service.list_proposals(session, actor, order.id)
            except OrderTextEmpty:  # no words to match (nothing was written): the page shows none
                pass
        agreements, _ = await agreement_service.list_agreements(
            session, actor, PageParams(page=1, page_size=100), "id", order_id=order.id
        )
        actions = transitions.allowed_actions(order.status, takings)
        people = {t.expert_id for t in takings} | {a.expert_id for a in agreements}
        experts = {e.id: e for e in await expert_service.experts_by_ids(session, sorted(people))}
        return OrderView(order, True, proposals, takings, agreements, None, None, actions, experts)
    my_proposal = my_taking = None
    if actor.expert_id is not None:
        my_proposal = await proposal_service.proposal_of(session, order.id, actor.expert_id)
        my_taking = next((t for t in takings if t.expert_id == actor.expert_id), None)
    return OrderView(order, False, (), (), (), my_proposal, my_taking)


async def takings_of_order(session: AsyncSession, actor: Actor, order_id: int) -> Sequence[OrderTaking]:
    """The order's takings: all of them for its enterprise and administrators, an expert's own for the expert."""
    order, enterprise_id = await order_service.enterprise_of(session, actor, order_id)
    takings = await TakingRepository(session).for_order(order.id)
    if enterprise_service.can_manage(actor, enterprise_id):
        return takings
    return [t for t in takings if actor.expert_id is not None and t.expert_id == actor.expert_id]


async def my_takings(session: AsyncSession, actor: Actor) -> Sequence[OrderTaking]:
    """The calling expert's takings, newest first."""
    return await TakingRepository(session).for_expert(_expert_of(actor))


async def my_invitations(session: AsyncSession, actor: Actor) -> Sequence[Proposal]:
    """The calling expert's open invitations, newest first."""
    return await proposal_service.invitations_for(session, _expert_of(actor))


# ---------------------------------------------------------------------------------------------- helpers


def _expert_of(actor: Actor) -> int:
    if actor.role is not UserRole.EXPERT or actor.expert_id is None:
        raise Forbidden("只有专家账号可以接单或答复邀请。")
    return actor.expert_id


async def _owned_locked_order(session: AsyncSession, actor: Actor, order_id: int) -> Order:
    _, enterprise_id = await order_service.enterprise_of(session, actor, order_id)
    if not enterprise_service.can_manage(actor, enterprise_id):
        raise Forbidden("只有发布该需求的企业和管理员可以操作。")
    order = await order_service.lock_order(session, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


async def _lock_visible_order(session: AsyncSession, actor: Actor, order_id: int) -> Order:
    # the order page's own rule (``orders.service.can_see``): another enterprise's draft or withdrawn
    # order answers exactly like a missing one, so neither its existence nor its state leaks
    order, _ = await order_service.enterprise_of(session, actor, order_id, lock=True)
    return order


async def _check_can_take(session: AsyncSession, order: Order, expert_id: int) -> None:
    # the expert's own slot first: "you have taken it" says more than "it is full"
    taking = await TakingRepository(session).of_expert(order.id, expert_id)
    if taking is not None and taking.status in SLOT_HOLDING:
        raise AlreadyTaking()
    _check_takeable(order)


def _check_takeable(order: Order) -> None:
    if order.status is OrderStatus.WITHDRAWN:
        raise OrderWithdrawn()
    if order.status is OrderStatus.CLOSED:
        raise OrderClosed()
    if order.status is OrderStatus.TAKEN:
        raise OrderFull(order.slots)
    if order.status is OrderStatus.DRAFT:
        raise OrderNotPublished()


async def _take(
    session: AsyncSession, actor: Actor, order: Order, expert_id: int, note: str, source: TakingSource
) -> OrderTaking:
    repository = TakingRepository(session)
    taking = await repository.of_expert(order.id, expert_id)
    if taking is not None and taking.status in SLOT_HOLDING:
        raise AlreadyTaking()
    held = await order_service.slots_held(session, order.id)
    if held >= order.slots:
        raise OrderFull(order.slots)
    expert = await expert_service.require_expert(session, expert_id)
    before = snapshot(taking) if taking is not None else None
    if taking is None:
        taking = OrderTaking(order_id=order.id, expert_id=expert_id)
        session.add(taking)
    # a released taking is taken up again: one row per expert and order
    taking.source, taking.status, taking.note = source, TakingStatus.PENDING, note
    taking.release_reason, taking.decided_at = None, None
    taking.taken_by_user_id, taking.created_at = actor.user_id, utcnow()
    await session.flush()
    await record_change(session, actor=actor, action="order.taken", record=taking, before=before)
    proposal = await proposal_service.proposal_of(session, order.id, expert_id)
    if proposal is not None and proposal.status is not ProposalStatus.ACCEPTED:
        proposal_before = snapshot(proposal)
        proposal.status, proposal.decided_at = ProposalStatus.ACCEPTED, utcnow()
        await session.flush()
        await record_change(
            session, actor=actor, action="proposal.accepted", record=proposal, before=proposal_before
        )
    if held + 1 >= order.slots:
        order_before = snapshot(order)
        order.status = OrderStatus.TAKEN
        await session.flush()
        await record_change(session, actor=actor, action="order.filled", record=order, before=order_before)
    await _notify_enterprise(
        session,
        order,
        NotificationKind.ORDER_TAKEN,
        f"{expert.name} 承接了需求“{order.title}”",
        f"留言：{note}" if note else "请尽快确认或释放该接单。",
    )
    return taking


async def _locked_taking(
    session: AsyncSession, actor: Actor, taking_id: int, *, enterprise_only: bool
) -> tuple[OrderTaking, Order, int]:
    repository = TakingRepository(session)
    found = await repository.get(taking_id)
    if found is None:
        raise TakingNotFound(taking_id)
    order = await order_service.lock_order(session, found.order_id)
    taking = await repository.of_expert(found.order_id, found.expert_id)  # re-read under the lock
    if order is None or taking is None:
        raise TakingNotFound(taking_id)
    await session.refresh(taking)
    _, enterprise_id = await order_service.enterprise_of(session, actor, order.id)
    is_owner = enterprise_service.can_manage(actor, enterprise_id)
    is_taker = not enterprise_only and actor.expert_id is not None and actor.expert_id == taking.expert_id
    if not (is_owner or is_taker):
        raise TakingNotFound(taking_id)  # the same answer as a missing one: nothing leaks
    return taking, order, enterprise_id


async def _release(
    session: AsyncSession, actor: Actor, order: Order, taking: OrderTaking, reason: str
) -> None:
    before = snapshot(taking)
    taking.status, taking.release_reason, taking.decided_at = TakingStatus.RELEASED, reason, utcnow()
    await session.flush()
    await record_change(session, actor=actor, action="taking.released", record=taking, before=before)
    if actor.expert_id == taking.expert_id:
        await _notify_enterprise(
            session, order, NotificationKind.TAKING_RELEASED, f"专家放弃了需求“{order.title}”的接单", reason
        )
    else:
        await notification_service.notify(
            session,
            await account_service.expert_user_ids(session, taking.expert_id),
            NotificationKind.TAKING_RELEASED,
            f"需求“{order.title}”的接单已释放",
            body=f"原因：{reason}",
            link=f"/orders/{order.id}",
        )


async def _end_order(
    session: AsyncSession,
    actor: Actor,
    order: Order,
    status: OrderStatus,
    takings: Sequence[OrderTaking],
    reason: str,
) -> None:
    for taking in takings:
        if taking.status is TakingStatus.PENDING:
            await _release(session, actor, order, taking, reason)
    for expert_id in await proposal_service.expire_invitations(session, actor, order.id):
        await notification_service.notify(
            session,
            await account_service.expert_user_ids(session, expert_id),
            NotificationKind.INVITATION_ENDED,
            f"需求“{order.title}”的邀请已失效",
            body=reason,
            link=f"/orders/{order.id}",
        )
    await apply_changes(
        session, actor=actor, record=order, changes={"status": status}, action=f"order.{status.value}"
    )


async def _notify_enterprise(
    session: AsyncSession, order: Order, kind: NotificationKind, title: str, body: str
) -> None:
    studio_enterprise = await order_service.enterprise_id_of(session, order.id)
    await notification_service.notify(
        session,
        await account_service.enterprise_user_ids(session, studio_enterprise),
        kind,
        title,
        body=body,
        link=f"/orders/{order.id}",
    )
