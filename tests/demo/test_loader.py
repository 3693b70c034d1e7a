"""The demo data loads through the services, in every state the issue asks for, exactly once."""

from __future__ import annotations

import re
from collections import Counter

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.achievements.models import Achievement
from app.demo.loader import DEMO_ADMIN, DEMO_PASSWORD, load_demo_into, read_demo_data
from app.enterprises import uscc
from app.enterprises.models import Enterprise
from app.experts.models import Expert
from app.orders.models import Order, OrderStatus
from app.studios.models import Studio

CJK = re.compile(r"[\u4e00-\u9fff]")
# characters that exist only in traditional script (their simplified forms differ)
TRADITIONAL_ONLY = set("連術製數際與們機電業設測實驗鋼範處導體網頭發產線營資務會檢專師質進")


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_demo_has_the_volume_and_variety_the_issue_asks_for(session: AsyncSession) -> None:
    summary = await load_demo_into(session)

    assert not summary.skipped
    assert await _count(session, Expert) >= 40
    assert await _count(session, Enterprise) >= 30
    assert await _count(session, Studio) >= 40
    assert await _count(session, Order) >= 60
    per_expert = Counter((await session.scalars(select(Achievement.expert_id))).all())
    assert len(per_expert) == await _count(session, Expert)
    assert all(2 <= n <= 5 for n in per_expert.values())
    statuses = set((await session.scalars(select(Order.status))).all())
    assert statuses == set(OrderStatus)
    roles = Counter((await session.scalars(select(User.role))).all())
    assert roles[UserRole.ADMIN] == 1
    # every expert the matcher may propose can log in and answer; so can every enterprise
    with_login = set((await session.scalars(select(User.expert_id).where(User.expert_id.is_not(None)))).all())
    assert with_login == set((await session.scalars(select(Expert.id))).all())
    enterprises = set(
        (await session.scalars(select(User.enterprise_id).where(User.enterprise_id.is_not(None)))).all()
    )
    assert enterprises == set((await session.scalars(select(Enterprise.id))).all())
    assert summary.users == await _count(session, User) == sum(roles.values())
    for code in (await session.scalars(select(Enterprise.credit_code))).all():
        assert uscc.problem(code) is None, code


async def test_loading_twice_adds_nothing(session: AsyncSession) -> None:
    await load_demo_into(session)
    counts = [await _count(session, m) for m in (Enterprise, Studio, Expert, Achievement, Order, User)]
    again = await load_demo_into(session)
    assert again.skipped
    assert [
        await _count(session, m) for m in (Enterprise, Studio, Expert, Achievement, Order, User)
    ] == counts


def test_demo_text_is_chinese_and_some_studios_write_in_traditional_characters() -> None:
    data = read_demo_data()
    assert all(CJK.search(e["name"]) for e in data["experts"])
    traditional = [s for s in data["studios"] if TRADITIONAL_ONLY & set(s["name"] + s["description"])]
    assert len(traditional) >= 5
    traditional_keys = {s["key"] for s in traditional}
    assert any(
        o["studio"] in traditional_keys and TRADITIONAL_ONLY & set(o["description"]) for o in data["orders"]
    )


async def test_the_demo_logins_work(client: AsyncClient, session: AsyncSession) -> None:
    await load_demo_into(session)
    response = await client.post(
        "/api/v1/auth/login", json={"username": DEMO_ADMIN, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["user"]["role"] == "admin"


async def test_the_demo_plays_a_year_of_matching_through_the_services(session: AsyncSession) -> None:
    from app.agreements.models import Agreement, AgreementStatus, Consultation, Outcome, Training
    from app.orders.models import OrderTaking
    from app.projects.models import ProjectFunding
    from app.proposals.models import Proposal, ProposalStatus

    summary = await load_demo_into(session)

    assert summary.agreements >= 10
    statuses = Counter((await session.scalars(select(Agreement.status))).all())
    assert statuses[AgreementStatus.DELIVERED] >= 3 and statuses[AgreementStatus.IN_PROGRESS] >= 3
    assert await _count(session, OrderTaking) > summary.agreements  # some takers still wait
    for model in (Consultation, Training, Outcome, ProjectFunding):
        assert await _count(session, model) >= 3, model.__name__
    declined = (
        await session.scalars(select(Proposal).where(Proposal.status == ProposalStatus.DECLINED))
    ).all()
    assert declined and all(p.decline_reason for p in declined)
    # spread over the months: publications in at least six different months
    months = {o.published_at.month for o in (await session.scalars(select(Order))).all() if o.published_at}
    assert len(months) >= 6
