"""A small but complete year of activity (2025, China time) for the dashboard tests, with a few records
just outside it (2024 and 2026) that must not count.

The figures every test expects are worked out by hand in ``test_dashboard.py``; the comments here say
which record feeds which figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.agreements.models import (
    Agreement,
    AgreementStatus,
    Consultation,
    ConsultationKind,
    Outcome,
    OutcomeKind,
    Training,
    TrainingKind,
)
from app.experts.models import Expert
from app.orders.models import Order, OrderStatus, OrderTaking, TakingSource, TakingStatus
from app.proposals.models import Proposal, ProposalStatus
from app.studios.models import Studio
from tests.factories import make_enterprise, make_expert, make_order, make_studio

YEAR = 2025
DAY = timedelta(days=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC instant (China time is 8 hours ahead)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Scenario:
    """The records the tests look up by name."""

    studios: dict[str, Studio]
    experts: dict[str, Expert]
    orders: dict[str, Order]
    proposals: dict[str, Proposal]
    agreements: dict[str, Agreement]


async def _add(session: AsyncSession, record: Any) -> Any:
    session.add(record)
    await session.flush()
    return record


async def build_scenario(session: AsyncSession) -> Scenario:
    """Five orders published in 2025, one in 2024 taken in 2025, one in 2026 and a draft."""
    e1 = await make_enterprise(session, name="扬州晨光数控机床有限公司")
    e2 = await make_enterprise(session, name="扬州海工装备有限公司", district="江都区")
    studios = {
        # three stars, in an alliance
        "s1": await make_studio(session, e1, star_rating=3, alliance="装备制造分联盟"),
        # one star, in no alliance
        "s2": await make_studio(session, e2, star_rating=1, alliance=None),
        # two stars, another alliance
        "s3": await make_studio(session, e2, star_rating=2, alliance="海洋分联盟"),
    }
    experts = {
        "x1": await make_expert(session, name="李明", cohort_number=13, cohort_year=2020),
        "x2": await make_expert(session, name="王芳", cohort_number=13, cohort_year=2020),
        "x3": await make_expert(session, name="赵强", cohort_number=14, cohort_year=2021),
        "x4": await make_expert(session, name="陈静", cohort_number=None, cohort_year=None),
    }
    s1, s2, s3 = studios["s1"], studios["s2"], studios["s3"]
    x1, x2, x3, x4 = (experts[k] for k in ("x1", "x2", "x3", "x4"))

    async def order(studio: Studio, key: str, published_at: datetime | None, **values: Any) -> Order:
        status = values.pop("status", OrderStatus.PUBLISHED if published_at else OrderStatus.DRAFT)
        return await make_order(
            session, studio, title=f"需求{key}", published_at=published_at, status=status, **values
        )

    orders = {
        # 2025-01-01 00:30 in China, still 2024 in UTC: counts in January 2025
        "o1": await order(
            s1, "o1", utc(2024, 12, 31, 16, 30), district="邗江区", fields=["数控加工", "精密磨削"]
        ),
        "o2": await order(s1, "o2", utc(2025, 2, 10, 2), district="邗江区", fields=["数控加工"]),
        "o3": await order(s2, "o3", utc(2025, 3, 5, 2), district="江都区", fields=[]),
        "o4": await order(s3, "o4", utc(2025, 3, 20, 2), district="江都区", fields=["海洋生物"]),
        "o5": await order(
            s2, "o5", utc(2025, 7, 15, 2), district="仪征市", fields=["海洋生物", "数控加工", "海洋生物"]
        ),
        # published in 2024, taken, signed and delivered in 2025
        "o6": await order(s1, "o6", utc(2024, 11, 10, 2), district="邗江区", status=OrderStatus.TAKEN),
        # never published
        "o7": await order(s1, "o7", None, district="邗江区"),
        # 2026-01-01 00:00 in China: the first instant of 2026
        "o8": await order(s3, "o8", utc(2025, 12, 31, 16), district="江都区", fields=["海洋生物"]),
    }
    o1, o2, o3, o4, o5, o6 = (orders[k] for k in ("o1", "o2", "o3", "o4", "o5", "o6"))
    assert o1.published_at and o2.published_at and o3.published_at and o5.published_at

    async def proposal(
        o: Order, expert: Expert, rank: int, score: float, version: str, status: ProposalStatus, **values: Any
    ) -> Proposal:
        values.setdefault("created_at", o.published_at)
        return await _add(
            session,
            Proposal(
                order_id=o.id,
                expert_id=expert.id,
                rank=rank,
                score=score,
                matcher_version=version,
                status=status,
                **values,
            ),
        )

    va, vb = "tfidf-ranker-1:aaaaaaaaaa", "tfidf-ranker-1:bbbbbbbbbb"
    p = ProposalStatus
    proposals = {
        "p11": await proposal(o1, x1, 1, 0.8, va, p.ACCEPTED, relevance=0),
        "p12": await proposal(o1, x2, 2, 0.6, va, p.DECLINED, decline_reason="方向不符。"),
        "p13": await proposal(o1, x3, 3, 0.5, va, p.PROPOSED, relevance=1),
        "p21": await proposal(o2, x2, 1, 0.7, va, p.DECLINED, decline_reason=" 方向不符 ", relevance=1),
        "p22": await proposal(o2, x3, 2, 0.4, vb, p.ACCEPTED, relevance=1),
        "p23": await proposal(o2, x1, 3, 0.3, vb, p.EXPIRED),
        "p31": await proposal(o3, x4, 1, 0.2, vb, p.DECLINED, decline_reason="时间冲突"),
        "p51": await proposal(o5, x3, 1, 0.3, vb, p.ACCEPTED, relevance=0),
        "p52": await proposal(o5, x4, 2, 0.25, vb, p.DECLINED, decline_reason="方向不符", relevance=1),
        "p53": await proposal(o5, x1, 3, 0.1, vb, p.DECLINED, decline_reason=None),
        # an order of 2024: never in the 2025 quality figures
        "p61": await proposal(o6, x2, 1, 0.9, va, p.ACCEPTED, relevance=1),
    }

    async def taking(o: Order, expert: Expert, at: datetime, status: TakingStatus) -> OrderTaking:
        return await _add(
            session,
            OrderTaking(
                order_id=o.id, expert_id=expert.id, source=TakingSource.TAKEN, status=status, created_at=at
            ),
        )

    confirmed = TakingStatus.CONFIRMED
    await taking(o1, x1, o1.published_at + 2 * DAY, confirmed)
    await taking(o2, x3, o2.published_at + 4 * DAY, confirmed)
    await taking(o3, x1, o3.published_at + 1 * DAY, confirmed)  # an expert the matcher did not propose
    await taking(o4, x2, utc(2025, 3, 25, 2), TakingStatus.RELEASED)  # o4 has no proposal at all
    await taking(o4, x4, utc(2025, 4, 1, 2), TakingStatus.PENDING)
    await taking(o5, x3, o5.published_at + 3 * DAY, confirmed)
    await taking(o6, x2, utc(2025, 1, 20, 2), confirmed)

    async def agreement(o: Order, expert: Expert, studio: Studio, **values: Any) -> Agreement:
        return await _add(
            session,
            Agreement(
                order_id=o.id,
                expert_id=expert.id,
                studio_id=studio.id,
                enterprise_id=studio.enterprise_id,
                **values,
            ),
        )

    agreements = {
        # effective 2025-01-11 (the later signature), delivered in March, catalogued in February
        "a1": await agreement(
            o1,
            x1,
            s1,
            status=AgreementStatus.DELIVERED,
            enterprise_signed_at=o1.published_at + 5 * DAY,
            expert_signed_at=o1.published_at + 10 * DAY,
            delivered_at=utc(2025, 3, 15, 2),
            enterprise_rating=5,
            expert_rating=4,
            catalogued_at=utc(2025, 2, 1),
        ),
        # effective 2025-02-18; catalogued at 2026-01-01 00:30 China time: not a 2025 co-build
        "a2": await agreement(
            o2,
            x3,
            s1,
            status=AgreementStatus.IN_PROGRESS,
            enterprise_signed_at=o2.published_at + 6 * DAY,
            expert_signed_at=o2.published_at + 8 * DAY,
            catalogued_at=utc(2025, 12, 31, 16, 30),
        ),
        # one signature only: never took effect
        "a3": await agreement(
            o3,
            x1,
            s2,
            status=AgreementStatus.PENDING_SIGNATURE,
            enterprise_signed_at=o3.published_at + 2 * DAY,
        ),
        # took effect on 2025-07-22, then terminated: still "signed"
        "a5": await agreement(
            o5,
            x3,
            s2,
            status=AgreementStatus.TERMINATED,
            enterprise_signed_at=o5.published_at + 5 * DAY,
            expert_signed_at=o5.published_at + 7 * DAY,
            terminated_at=utc(2025, 9, 1),
            termination_reason="企业转产",
        ),
        # first signature in 2024, second in 2025: effective in January 2025; delivered in June
        "a6": await agreement(
            o6,
            x2,
            s1,
            status=AgreementStatus.DELIVERED,
            enterprise_signed_at=utc(2024, 12, 20, 2),
            expert_signed_at=utc(2025, 1, 25, 2),
            delivered_at=utc(2025, 6, 30, 2),
            enterprise_rating=2,
            expert_rating=None,
            catalogued_at=utc(2025, 7, 1, 2),
        ),
    }
    a1, a2, a6 = agreements["a1"], agreements["a2"], agreements["a6"]

    def outcome(
        a: Agreement, title: str, converted: bool, achieved_on: date | None, created_at: datetime
    ) -> Outcome:
        return Outcome(
            agreement_id=a.id,
            kind=OutcomeKind.INNOVATION,
            title=title,
            converted=converted,
            achieved_on=achieved_on,
            created_at=created_at,
        )

    session.add_all(
        [
            outcome(a1, "主轴动平衡工艺", True, date(2025, 3, 1), utc(2025, 3, 2)),
            outcome(a2, "砂轮修整器样机", False, None, utc(2025, 6, 1)),
            # achieved in 2024 although recorded in 2025: not a 2025 outcome
            outcome(a6, "振动监测方案", True, date(2024, 12, 31), utc(2025, 1, 5)),
            # no date: recorded at 2025-01-01 00:30 China time
            outcome(a1, "在线诊断软件", True, None, utc(2024, 12, 31, 16, 30)),
            outcome(a2, "新型夹具", True, date(2026, 1, 1), utc(2026, 1, 2)),
        ]
    )

    def training(a: Agreement, held_on: date, trainees: int) -> Training:
        return Training(
            agreement_id=a.id, kind=TrainingKind.MENTORING, held_on=held_on, trainee_count=trainees, hours=8
        )

    session.add_all(
        [
            training(a1, date(2025, 2, 10), 300),
            training(a2, date(2025, 12, 31), 200),
            training(a2, date(2026, 1, 1), 999),
            training(a6, date(2024, 12, 31), 50),
            # consultations feed no figure of the dashboard
            Consultation(agreement_id=a1.id, kind=ConsultationKind.GUIDANCE, held_on=date(2025, 2, 1)),
            Consultation(agreement_id=a2.id, kind=ConsultationKind.DIAGNOSIS, held_on=date(2025, 3, 1)),
        ]
    )
    await session.flush()
    return Scenario(studios, experts, orders, proposals, agreements)
