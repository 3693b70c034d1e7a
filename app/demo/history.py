"""A year of demo activity, played through the same services as the API: orders published over the
past months get proposals, experts take them, enterprises confirm, both sides sign, consultations,
trainings and outcomes are logged, some agreements are delivered and rated, invitations are declined
with reasons, projects enter the catalogue and the yearly review funds some. Then the timestamps are
spread over the months, so the dashboard's trend has a shape. Demo only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import UserRole
from app.accounts.schemas import UserCreate
from app.accounts.security import Actor
from app.agreements import service as agreement_service
from app.agreements.models import ConsultationKind, OutcomeKind, TrainingKind
from app.agreements.schemas import (
    AgreementTermsUpdate,
    ConsultationCreate,
    DeliveryConfirmation,
    OutcomeCreate,
    TrainingCreate,
)
from app.clock import local_today, utcnow
from app.demo.timeline import shift_order_timeline
from app.errors import DomainError
from app.marketplace import service as marketplace_service
from app.orders import service as order_service
from app.orders.models import Order, OrderStatus
from app.projects import service as project_service
from app.projects.models import FundingDecision
from app.projects.schemas import FundingItem, ReviewScores
from app.proposals import service as proposal_service
from app.proposals.index import MatcherIndex, borrowed

DECLINE_REASONS = ("研究方向与需求不完全对口", "本学期教学任务重，时间冲突", "需求涉及的设备条件不足")
# how many months before today each played order was published (a spread over the year)
MONTHS_AGO = (10, 9, 8, 8, 7, 6, 6, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0)


@dataclass
class _Logins:
    """Demo logins made on the way: one per expert and enterprise that takes part."""

    session: AsyncSession
    password: str
    admin: Actor
    experts: dict[int, Actor]
    enterprises: dict[int, Actor]

    async def expert(self, expert_id: int, name: str) -> Actor:
        if expert_id not in self.experts:
            user = await account_service.create_user(
                self.session,
                None,
                UserCreate(
                    username=f"expert-{expert_id}",
                    password=self.password,
                    display_name=f"{name}（专家）",
                    role=UserRole.EXPERT,
                    expert_id=expert_id,
                ),
            )
            self.experts[expert_id] = Actor.of(user)
        return self.experts[expert_id]

    async def enterprise(self, enterprise_id: int) -> Actor:
        if enterprise_id not in self.enterprises:
            user = await account_service.create_user(
                self.session,
                None,
                UserCreate(
                    username=f"enterprise-{enterprise_id}",
                    password=self.password,
                    display_name="企业联系人",
                    role=UserRole.ENTERPRISE,
                    enterprise_id=enterprise_id,
                ),
            )
            self.enterprises[enterprise_id] = Actor.of(user)
        return self.enterprises[enterprise_id]


async def play_history(
    session: AsyncSession,
    orders: Sequence[Order],
    logins: dict[str, Actor],
    password: str,
    everyone: tuple[Mapping[int, str], Iterable[int]] = ({}, ()),
) -> int:
    """Play the demo's activity on ``orders`` (published ones); returns how many agreements it made.

    ``everyone`` (experts by id with their names, enterprise ids): each of them gets a login of its
    own afterwards too, so that every expert the matcher proposes can answer an invitation.
    """
    index = MatcherIndex(borrowed(session), concurrent=False)
    people = _Logins(session, password, logins["admin"], {}, {})
    if logins["expert"].expert_id is not None:
        people.experts[logins["expert"].expert_id] = logins["expert"]
    if logins["enterprise"].enterprise_id is not None:
        people.enterprises[logins["enterprise"].enterprise_id] = logins["enterprise"]
    played = [o for o in orders if o.status is OrderStatus.PUBLISHED][: len(MONTHS_AGO)]
    agreements = []
    for n, order in enumerate(played):
        await proposal_service.compute_proposals(session, index, None, order, k=8)
        await session.commit()
        proposals = await proposal_service.list_proposals(session, people.admin, order.id)
        if not proposals:
            continue
        enterprise_id = await _enterprise_of(session, order)
        owner = await people.enterprise(enterprise_id)
        if n % 5 == 4 and len(proposals) > 1:
            # an invitation declined, with its reason (the dashboard counts them)
            _, second = proposals[1]
            await marketplace_service.invite_expert(session, owner, order.id, second.id)
            declining = await people.expert(second.id, second.name)
            await marketplace_service.decline_invitation(
                session, declining, order.id, DECLINE_REASONS[n % len(DECLINE_REASONS)]
            )
        _, first = proposals[0]
        taker = await people.expert(first.id, first.name)
        try:
            taking = await marketplace_service.take_order(session, taker, order.id, "可安排时间到企业现场")
        except DomainError:
            continue
        if n % 6 == 5:
            continue  # still waiting for the enterprise
        agreement = await marketplace_service.confirm_taking(session, owner, taking.id)
        months = MONTHS_AGO[n]
        start = local_today() - timedelta(days=30 * months)
        terms = AgreementTermsUpdate(
            goals=f"解决“{order.title}”中的关键技术问题",
            deliverables="技术方案、现场验证报告和工艺文件各一份",
            duration_months=6,
            start_date=start,
            funding_amount=order.budget_max or 50_000,
            funding_source="企业自筹与市总工会补助",
            version=agreement.version,
        )
        agreement = await agreement_service.update_terms(session, owner, agreement.id, terms)
        agreement = await agreement_service.submit_for_signature(
            session, owner, agreement.id, agreement.version
        )
        await agreement_service.sign(session, owner, agreement.id)
        await agreement_service.sign(session, taker, agreement.id)
        # work is logged on the day the play signs (no earlier than the agreement took effect); the
        # timeline then moves both back together (app/demo/timeline.py)
        held = local_today()
        await agreement_service.log_consultation(
            session,
            taker,
            agreement.id,
            ConsultationCreate(
                kind=ConsultationKind.GUIDANCE, held_on=held, participants=f"{first.name}；企业技术骨干"
            ),
        )
        await agreement_service.log_training(
            session,
            taker,
            agreement.id,
            TrainingCreate(
                kind=(TrainingKind.MENTORING, TrainingKind.APPRENTICESHIP, TrainingKind.LECTURER_GROUP)[
                    n % 3
                ],
                held_on=held,
                trainee_count=20 + 15 * (n % 5),
                hours=4 + n % 4,
            ),
        )
        await agreement_service.log_outcome(
            session,
            owner,
            agreement.id,
            OutcomeCreate(
                kind=(OutcomeKind.INNOVATION, OutcomeKind.INVENTION_PATENT, OutcomeKind.NEW_PRODUCT)[n % 3],
                title=f"{order.title[:30]}工艺改进成果",
                value_yuan=100_000 + 20_000 * n,
                converted=n % 3 != 1,
                achieved_on=min(local_today(), start + timedelta(days=15)),
            ),
        )
        if months >= 4:  # the older ones are finished, delivered and rated both ways
            await agreement_service.confirm_delivery(
                session, taker, agreement.id, DeliveryConfirmation(rating=4 + n % 2, comment="企业配合积极")
            )
            await agreement_service.confirm_delivery(
                session, owner, agreement.id, DeliveryConfirmation(rating=5 - n % 2, comment="解决了生产难题")
            )
        agreements.append((agreement.id, months))
    await _review(session, people, [a for a, _ in agreements])
    await _spread_over_months(session, played)
    experts, enterprises = everyone
    for expert_id, name in experts.items():
        await people.expert(expert_id, name)
    for enterprise_id in enterprises:
        await people.enterprise(enterprise_id)
    return len(agreements)


async def _enterprise_of(session: AsyncSession, order: Order) -> int:
    return await order_service.enterprise_id_of(session, order.id)


async def _review(session: AsyncSession, people: _Logins, agreement_ids: list[int]) -> None:
    """Catalogue some projects and run this year's review: reviewers with no conflict score them."""
    catalogued = agreement_ids[:6]
    for agreement_id in catalogued:
        await project_service.catalogue_agreement(session, people.admin, agreement_id)
    if not catalogued:
        return
    year = local_today().year
    await project_service.open_round(session, people.admin, year)
    reviewers = list(people.experts.items())
    for n, agreement_id in enumerate(catalogued):
        for expert_id, reviewer in reviewers[n : n + len(reviewers)]:
            try:
                review = await project_service.assign_reviewer(
                    session, people.admin, year, agreement_id, expert_id
                )
            except DomainError:
                continue  # a conflict of interest: the next expert reviews instead
            await project_service.submit_review(
                session,
                reviewer,
                review.id,
                ReviewScores(
                    progress_score=70 + (n * 7) % 25,
                    technical_score=75 + (n * 5) % 20,
                    difficulty_score=65 + (n * 11) % 30,
                    benefit_score=72 + (n * 3) % 25,
                ),
            )
            break
    ranked = await project_service.ranking(session, people.admin, year)
    decisions = [
        FundingItem(
            agreement_id=r.agreement_id,
            decision=FundingDecision.FUNDED if r.rank <= 3 else FundingDecision.NOT_FUNDED,
            amount=200_000 - 40_000 * (r.rank - 1) if r.rank <= 3 else None,
        )
        for r in ranked
    ]
    if decisions:
        await project_service.decide_funding(session, people.admin, year, decisions)


async def _spread_over_months(session: AsyncSession, orders: Sequence[Order]) -> None:
    """Move each played order's timeline back by its number of months (demo narrative only)."""
    now = utcnow()
    for n, order in enumerate(orders):
        days = 30 * MONTHS_AGO[n]
        if days:
            await shift_order_timeline(session, order.id, timedelta(days=days), now)
    await session.commit()
