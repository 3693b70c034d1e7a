"""Read-only queries of the dashboard, plus the one proposal row it judges.

Reporting spans several domains' tables (orders, proposals, takings, agreements, studios, experts), so,
like ``app/transfer/repository.py``, these reads live here rather than in one domain's repository. Each
query returns narrow, typed rows of one year; the service does the arithmetic, which keeps the time-zone
handling (years and months in China time) in one place and identical on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agreements.models import Agreement, AgreementStatus, Outcome, Training
from app.dashboard.models import DashboardSnapshot
from app.experts.models import Expert
from app.orders.models import Order, OrderTaking
from app.proposals.models import Proposal, ProposalStatus
from app.studios.models import Studio


@dataclass(frozen=True, slots=True)
class Window:
    """A year: ``[start, end)`` as aware instants (China midnight) and as local dates."""

    start: datetime
    end: datetime
    first_day: date
    next_first_day: date


@dataclass(frozen=True, slots=True)
class Place:
    """Where an order comes from: its district and its studio's star level and alliance."""

    district: str
    star_rating: int
    alliance: str | None


@dataclass(frozen=True, slots=True)
class Cohort:
    """An expert's cohort (科技镇长团批次)."""

    number: int | None
    year: int | None


@dataclass(frozen=True, slots=True)
class OrderFact:
    """An order published in the year."""

    id: int
    title: str
    fields: list[str]
    published_at: datetime
    place: Place


@dataclass(frozen=True, slots=True)
class ProposalFact:
    """A proposal for an order published in the year."""

    id: int
    order_id: int
    expert_id: int
    expert_name: str
    rank: int
    score: float
    matcher_version: str
    status: ProposalStatus
    decline_reason: str | None
    relevance: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TakingFact:
    """A taking of an order published in the year, or one made in the year."""

    order_id: int
    expert_id: int
    created_at: datetime
    order_published_at: datetime | None
    place: Place
    cohort: Cohort


@dataclass(frozen=True, slots=True)
class AgreementFact:
    """An agreement on an order published in the year, or one that took effect or was delivered in it."""

    id: int
    order_id: int
    status: AgreementStatus
    enterprise_signed_at: datetime | None
    expert_signed_at: datetime | None
    delivered_at: datetime | None
    enterprise_rating: int | None
    expert_rating: int | None
    order_published_at: datetime | None
    place: Place
    cohort: Cohort


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    """Outcomes of the year and how many of them were converted."""

    total: int
    converted: int


class DashboardRepository:
    """The queries behind the dashboard; every one is scoped to a ``Window`` (snapshots aside)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def snapshot_on(self, day: date) -> DashboardSnapshot | None:
        """The snapshot taken for ``day``, if any."""
        return await self.session.scalar(select(DashboardSnapshot).where(DashboardSnapshot.taken_on == day))

    async def snapshots(
        self, *, year: int | None, offset: int, limit: int
    ) -> tuple[Sequence[DashboardSnapshot], int]:
        """A page of snapshots, newest day first, and how many there are (one a day: a small table)."""
        where = [] if year is None else [DashboardSnapshot.year == year]
        total = await self.session.scalar(select(func.count(DashboardSnapshot.id)).where(*where))
        rows = await self.session.scalars(
            select(DashboardSnapshot)
            .where(*where)
            .order_by(DashboardSnapshot.taken_on.desc(), DashboardSnapshot.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return rows.all(), int(total or 0)

    async def catalogued_agreements(self, window: Window) -> int:
        """Agreements entered in the project catalogue during the year."""
        statement = select(func.count(Agreement.id)).where(
            Agreement.catalogued_at >= window.start, Agreement.catalogued_at < window.end
        )
        return int(await self.session.scalar(statement) or 0)

    async def outcomes(self, window: Window) -> OutcomeCount:
        """Outcomes achieved in the year: by ``achieved_on``, or by ``created_at`` when that is unknown."""
        in_year = or_(
            and_(
                Outcome.achieved_on.is_not(None),
                Outcome.achieved_on >= window.first_day,
                Outcome.achieved_on < window.next_first_day,
            ),
            and_(
                Outcome.achieved_on.is_(None),
                Outcome.created_at >= window.start,
                Outcome.created_at < window.end,
            ),
        )
        converted = func.count(Outcome.id).filter(Outcome.converted.is_(True))
        row = (await self.session.execute(select(func.count(Outcome.id), converted).where(in_year))).one()
        return OutcomeCount(total=int(row[0] or 0), converted=int(row[1] or 0))

    async def trainees(self, window: Window) -> int:
        """Trainees (人次) of the trainings held in the year."""
        statement = select(func.coalesce(func.sum(Training.trainee_count), 0)).where(
            Training.held_on >= window.first_day, Training.held_on < window.next_first_day
        )
        return int(await self.session.scalar(statement) or 0)

    async def published_orders(self, window: Window) -> list[OrderFact]:
        """Orders published in the year (whatever became of them since), by id."""
        statement = (
            select(Order.id, Order.title, Order.fields, Order.published_at, *_PLACE)
            .join(Studio, Studio.id == Order.studio_id)
            .where(_published_in(window))
            .order_by(Order.id)
        )
        return [
            OrderFact(
                id=r[0],
                title=r[1],
                fields=list(r[2] or []),
                published_at=cast(datetime, r[3]),  # not NULL: the WHERE clause
                place=Place(r[4], r[5], r[6]),
            )
            for r in (await self.session.execute(statement)).all()
        ]

    async def proposals(self, window: Window) -> list[ProposalFact]:
        """Every proposal for the orders published in the year, by order, rank and id."""
        statement = (
            select(
                Proposal.id,
                Proposal.order_id,
                Proposal.expert_id,
                Expert.name,
                Proposal.rank,
                Proposal.score,
                Proposal.matcher_version,
                Proposal.status,
                Proposal.decline_reason,
                Proposal.relevance,
                Proposal.created_at,
            )
            .join(Order, Order.id == Proposal.order_id)
            .join(Expert, Expert.id == Proposal.expert_id)
            .where(_published_in(window))
            .order_by(Proposal.order_id, Proposal.rank, Proposal.id)
        )
        return [
            ProposalFact(
                id=r[0],
                order_id=r[1],
                expert_id=r[2],
                expert_name=r[3],
                rank=r[4],
                score=float(r[5]),
                matcher_version=r[6],
                status=r[7],
                decline_reason=r[8],
                relevance=r[9],
                created_at=r[10],
            )
            for r in (await self.session.execute(statement)).all()
        ]

    async def takings(self, window: Window) -> list[TakingFact]:
        """Takings of the orders published in the year and takings made in the year (any status), by id."""
        statement = (
            select(
                OrderTaking.order_id,
                OrderTaking.expert_id,
                OrderTaking.created_at,
                Order.published_at,
                *_PLACE,
                *_COHORT,
            )
            .join(Order, Order.id == OrderTaking.order_id)
            .join(Studio, Studio.id == Order.studio_id)
            .join(Expert, Expert.id == OrderTaking.expert_id)
            .where(
                or_(
                    _published_in(window),
                    and_(OrderTaking.created_at >= window.start, OrderTaking.created_at < window.end),
                )
            )
            .order_by(OrderTaking.id)
        )
        return [
            TakingFact(
                order_id=r[0],
                expert_id=r[1],
                created_at=r[2],
                order_published_at=r[3],
                place=Place(r[4], r[5], r[6]),
                cohort=Cohort(r[7], r[8]),
            )
            for r in (await self.session.execute(statement)).all()
        ]

    async def agreements(self, window: Window) -> list[AgreementFact]:
        """Agreements of the orders published in the year, and agreements that took effect (the later of
        the two signatures) or were delivered in the year, by id."""
        both_signed = and_(
            Agreement.enterprise_signed_at.is_not(None), Agreement.expert_signed_at.is_not(None)
        )
        effective_in_year = and_(
            both_signed,
            or_(Agreement.enterprise_signed_at >= window.start, Agreement.expert_signed_at >= window.start),
            Agreement.enterprise_signed_at < window.end,
            Agreement.expert_signed_at < window.end,
        )
        delivered_in_year = and_(Agreement.delivered_at >= window.start, Agreement.delivered_at < window.end)
        statement = (
            select(
                Agreement.id,
                Agreement.order_id,
                Agreement.status,
                Agreement.enterprise_signed_at,
                Agreement.expert_signed_at,
                Agreement.delivered_at,
                Agreement.enterprise_rating,
                Agreement.expert_rating,
                Order.published_at,
                *_PLACE,
                *_COHORT,
            )
            .join(Order, Order.id == Agreement.order_id)
            .join(Studio, Studio.id == Order.studio_id)
            .join(Expert, Expert.id == Agreement.expert_id)
            .where(or_(_published_in(window), effective_in_year, delivered_in_year))
            .order_by(Agreement.id)
        )
        return [
            AgreementFact(
                id=r[0],
                order_id=r[1],
                status=r[2],
                enterprise_signed_at=r[3],
                expert_signed_at=r[4],
                delivered_at=r[5],
                enterprise_rating=r[6],
                expert_rating=r[7],
                order_published_at=r[8],
                place=Place(r[9], r[10], r[11]),
                cohort=Cohort(r[12], r[13]),
            )
            for r in (await self.session.execute(statement)).all()
        ]

    async def proposal_for_update(self, proposal_id: int) -> Proposal | None:
        """The proposal with this id, its row locked until the transaction ends."""
        statement = (
            select(Proposal)
            .where(Proposal.id == proposal_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(statement)

    async def recent_proposals(self, limit: int) -> list[tuple[Proposal, str, str]]:
        """The latest proposals with their order's title and expert's name, for relevance review."""
        rows = await self.session.execute(
            select(Proposal, Order.title, Expert.name)
            .join(Order, Order.id == Proposal.order_id)
            .join(Expert, Expert.id == Proposal.expert_id)
            .order_by(Proposal.created_at.desc(), Proposal.order_id.desc(), Proposal.rank)
            .limit(limit)
        )
        return [(proposal, title, name) for proposal, title, name in rows.all()]


# the columns of ``Place`` and ``Cohort``, in their field order
_PLACE = (Order.district, Studio.star_rating, Studio.alliance)
_COHORT = (Expert.cohort_number, Expert.cohort_year)


def _published_in(window: Window) -> ColumnElement[bool]:
    return and_(Order.published_at >= window.start, Order.published_at < window.end)
