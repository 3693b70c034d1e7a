"""Use cases for proposals: propose experts for an order, list them, recommend orders to an expert."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.agreements import service as agreement_service
from app.audit.service import apply_changes, record_event
from app.clock import local_today, utcnow
from app.enterprises import service as enterprise_service
from app.errors import Forbidden
from app.experts import service as expert_service
from app.experts.models import Expert
from app.labels import label
from app.orders import service as order_service
from app.orders.models import Order
from app.orders.transitions import OrderAction, allowed_actions
from app.proposals.errors import ExpertTextEmpty, OrderNotOpen, OrderTextEmpty
from app.proposals.index import IndexState, MatcherIndex, Progress, SessionSource
from app.proposals.models import Proposal, ProposalStatus
from app.proposals.profiles import load_expert_profiles, order_text
from app.proposals.reasons import describe_expert, describe_order
from app.proposals.repository import ProposalRepository
from matching import Candidate, EmptyQueryError, OrderText, normalise

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Preview:
    """An expert the matcher would propose for an order still being written."""

    expert: Expert
    candidate: Candidate
    sentence: str


@dataclass(frozen=True, slots=True)
class Recommendation:
    """An order recommended to an expert, with the matcher's evidence."""

    order: Order
    candidate: Candidate
    sentence: str
    matcher_version: str


def reasons_payload(candidate: Candidate, sentence: str) -> dict[str, object]:
    """The JSON stored with a proposal: the sentence, every factor and the evidence."""
    return {
        "sentence": sentence,
        "factors": {k: round(v, 4) for k, v in candidate.factors.items()},
        "contributions": {k: round(v, 4) for k, v in candidate.contributions.items()},
        "shared_terms": list(candidate.shared_terms),
        "matched_keywords": list(candidate.matched_keywords),
        "matched_fields": list(candidate.matched_fields),
    }


async def propose_experts(
    session: AsyncSession, index: MatcherIndex, actor: Actor, order_id: int, k: int = 10
) -> list[tuple[Proposal, Expert]]:
    """Compute the top ``k`` experts for an order and store them as proposals with reasons.

    Experts who declined the order are not proposed again; decisions already taken on earlier
    proposals (invited, accepted, declined) are kept; earlier suggestions that dropped out expire.
    The answer is built from what was written: nothing is read after the commit.

    Args:
        session: the request session.
        index: the process's matcher index.
        actor: the order's enterprise user or an administrator.
        order_id: the order.
        k: how many experts to propose.

    Raises:
        OrderNotFound: no such order, or one the caller may not see.
        Forbidden: the caller does not own the order.
        OrderNotOpen: the order is taken, closed or withdrawn.
        OrderTextEmpty: the order has no words to match.
    """
    # the order's row stays locked until the commit: two computations for one order run one after
    # the other (the second updates the first's rows instead of inserting them again)
    order = await _owned_order(session, actor, order_id, lock=True)
    if OrderAction.PROPOSE not in allowed_actions(order.status, ()):
        raise OrderNotOpen(label(order.status))
    proposed = await compute_proposals(session, index, actor, order, k)
    await session.commit()
    log.info("proposals.computed order_id=%s count=%s", order.id, len(proposed))
    return proposed


async def compute_proposals(
    session: AsyncSession, index: MatcherIndex, actor: Actor | None, order: Order, k: int = 10
) -> list[tuple[Proposal, Expert]]:
    """Rank experts for ``order`` and stage the top ``k`` as proposals, in the caller's transaction.

    The caller holds the order's row lock (``propose_experts`` and ``publish_order`` take it), has
    checked who may do this, and commits. Returns the proposals made now, best first, with their
    experts.

    Raises:
        OrderTextEmpty: the order has no words to match.
    """
    repository = ProposalRepository(session)
    state = await index.current()
    matcher = state.matcher
    existing = await repository.by_expert(order.id)
    candidates: list[Candidate] = []
    if matcher is not None:
        try:
            candidates = matcher.rank_experts(
                order_text(order),
                k,
                # experts who declined the order are never proposed for it again
                exclude=[e for e, p in existing.items() if p.status is ProposalStatus.DECLINED],
                today=local_today(),
                require_evidence=True,
            )
        except EmptyQueryError:
            raise OrderTextEmpty() from None
    experts = {e.id: e for e in await expert_service.experts_by_ids(session, [int(c.id) for c in candidates])}
    # the index may lag a moment behind a deletion: only experts still on record are proposed
    candidates = [c for c in candidates if int(c.id) in experts]
    workloads = await agreement_service.expert_workloads(session, list(experts))
    proposed: list[tuple[Proposal, Expert]] = []
    version = matcher.version_ if matcher else ""
    for rank, candidate in enumerate(candidates, start=1):
        expert = experts[int(candidate.id)]
        workload = workloads.get(expert.id, agreement_service.Workload())
        sentence = describe_expert(
            candidate, expert, today=local_today(), active=workload.active, delivered=workload.delivered
        )
        proposal = existing.get(expert.id)
        if proposal is None:
            proposal = Proposal(order_id=order.id, expert_id=expert.id, status=ProposalStatus.PROPOSED)
            session.add(proposal)
        elif proposal.status is ProposalStatus.EXPIRED:
            proposal.status = ProposalStatus.PROPOSED
        proposal.rank = rank
        proposal.score = round(candidate.score, 6)
        proposal.reasons = reasons_payload(candidate, sentence)
        proposal.matcher_version = version
        proposal.index_state = state.label
        proposal.created_at = utcnow()
        proposed.append((proposal, expert))
    proposed_now = {expert.id for _, expert in proposed}
    for expert_id, proposal in existing.items():
        if expert_id not in proposed_now and proposal.status is ProposalStatus.PROPOSED:
            proposal.status = ProposalStatus.EXPIRED
    await repository.flush()
    await record_event(
        session,
        actor=actor,
        action="order.proposals_computed",
        entity_type="orders",
        entity_id=order.id,
        details={"experts": sorted(proposed_now), "matcher_version": version, "index_state": state.label},
    )
    return proposed


async def preview_experts(
    session: AsyncSession,
    index: MatcherIndex,
    actor: Actor,
    draft: OrderText,
    k: int = 5,
    studio_id: int | None = None,
) -> list[Preview]:
    """The experts the matcher would propose for an order as it is being typed (nothing is stored).

    The draft is placed where its studio's enterprise is, as the saved order will be (``studio_id``,
    when the caller may post for it), so the preview is the head of the ranking the order gets once
    published.

    Returns an empty list while the text has no usable word yet.

    Raises:
        Forbidden: experts cannot post orders.
    """
    if actor.role is UserRole.EXPERT:
        raise Forbidden("专家账号不能发布需求。")
    if studio_id is not None:
        place = await order_service.place_of_studio(session, actor, studio_id)
        if place is not None:
            draft = replace(draft, district=place[0], town=place[1])
    matcher = (await index.current()).matcher
    if matcher is None:
        return []
    today = local_today()
    try:
        candidates = matcher.rank_experts(draft, k, today=today, require_evidence=True)
    except EmptyQueryError:
        return []
    return await _previews(session, candidates, today, with_workloads=True)


async def _previews(
    session: AsyncSession,
    candidates: Sequence[Candidate],
    today: date,
    *,
    with_workloads: bool,
    keep: Callable[[Expert], bool] = lambda _expert: True,
) -> list[Preview]:
    """The ranked candidates with their experts and Chinese reasons (experts ``keep`` turns down left out)."""
    experts = {
        e.id: e for e in await expert_service.experts_for_matching(session, [int(c.id) for c in candidates])
    }
    workloads = await agreement_service.expert_workloads(session, list(experts)) if with_workloads else {}
    previews = []
    for candidate in candidates:
        expert = experts.get(int(candidate.id))
        if expert is None or not keep(expert):
            continue
        workload = workloads.get(expert.id, agreement_service.Workload())
        sentence = describe_expert(
            candidate, expert, today=today, active=workload.active, delivered=workload.delivered
        )
        previews.append(Preview(expert, candidate, sentence))
    return previews


async def list_proposals(
    session: AsyncSession, actor: Actor, order_id: int
) -> Sequence[tuple[Proposal, Expert]]:
    """The order's stored proposals, best first (expired ones included, marked as such).

    Raises:
        OrderNotFound / Forbidden: as for ``propose_experts``.
    """
    order = await _owned_order(session, actor, order_id)
    return await ProposalRepository(session).for_order(order.id)


async def recommend_orders(
    session: AsyncSession, index: MatcherIndex, actor: Actor, expert_id: int, k: int = 10
) -> list[Recommendation]:
    """The published orders best suited to an expert ("适合我的需求").

    Raises:
        ExpertNotFound: no such expert.
        Forbidden: anyone but the expert themself or an administrator.
        ExpertTextEmpty: the profile has nothing to match on.
    """
    await expert_service.require_expert(session, expert_id)
    if not expert_service.can_manage(actor, expert_id):
        raise Forbidden("只能查看自己的推荐需求。")
    matcher = (await index.current()).matcher
    if matcher is None or matcher.n_orders == 0:
        return []
    profiles = await load_expert_profiles(session, [expert_id])
    try:
        candidates = matcher.rank_orders(profiles[0], k)
    except EmptyQueryError:
        raise ExpertTextEmpty() from None
    orders = {
        o.id: o for o in await order_service.orders_for_matching(session, [int(c.id) for c in candidates])
    }
    # the index may lag a moment behind a closing: only orders still published are recommended
    return [
        Recommendation(orders[int(c.id)], c, describe_order(c), matcher.version_)
        for c in candidates
        if int(c.id) in orders
    ]


async def build_index_version(sessions: SessionSource, progress: Progress | None = None) -> IndexState:
    """Fit the matcher on the whole database and store it as the newest index version.

    Every worker moves to it on its next read of the feed (``studio-match reindex``, the queue's
    ``reindex`` job).
    """
    return await MatcherIndex(sessions).build(progress)


async def _owned_order(session: AsyncSession, actor: Actor, order_id: int, *, lock: bool = False) -> Order:
    order, enterprise_id = await order_service.enterprise_of(session, actor, order_id, lock=lock)
    if not enterprise_service.can_manage(actor, enterprise_id):
        raise Forbidden("只有发布该需求的企业和管理员可以查看匹配建议。")
    return order


async def proposal_of(session: AsyncSession, order_id: int, expert_id: int) -> Proposal | None:
    """The expert's proposal for the order, if the matcher made one."""
    return await ProposalRepository(session).of_expert(order_id, expert_id)


async def invitations_for(session: AsyncSession, expert_id: int) -> Sequence[Proposal]:
    """The expert's open invitations, newest first."""
    return await ProposalRepository(session).invitations_for(expert_id)


async def expire_invitations(session: AsyncSession, actor: Actor, order_id: int) -> list[int]:
    """End the order's open invitations (the order was withdrawn or closed); returns the experts invited.

    Stages the changes in the caller's transaction.
    """
    expired = []
    for proposal in (await ProposalRepository(session).by_expert(order_id)).values():
        if proposal.status is ProposalStatus.INVITED:
            await apply_changes(
                session,
                actor=actor,
                record=proposal,
                changes={"status": ProposalStatus.EXPIRED, "decided_at": utcnow()},
                action="proposal.invitation_ended",
            )
            expired.append(proposal.expert_id)
    return expired


async def search_experts(
    session: AsyncSession,
    index: MatcherIndex,
    query: str,
    k: int = 30,
    *,
    district: str | None = None,
    discipline: str | None = None,
    cohort_number: int | None = None,
) -> list[Preview]:
    """The expert directory's search: the matcher ranks experts against the query text, so traditional
    characters, full-width forms and related wording find them too. Only experts sharing evidence
    with the query are returned; the directory's filters (seconded district, discipline, cohort)
    narrow the ranking."""
    if not query.strip():
        return []
    matcher = (await index.current()).matcher
    if matcher is None:
        return []
    try:
        candidates = matcher.rank_experts(
            OrderText(id="search", title=query),
            k * 4 if discipline or cohort_number else k,
            today=local_today(),
            district=district,
            require_evidence=True,
        )
    except EmptyQueryError:
        return []
    wanted = normalise(discipline) if discipline else None

    def matches_filters(expert: Expert) -> bool:
        if cohort_number is not None and expert.cohort_number != cohort_number:
            return False
        return not wanted or any(wanted in normalise(d) for d in expert.disciplines)

    hits = await _previews(session, candidates, local_today(), with_workloads=False, keep=matches_filters)
    return hits[:k]
