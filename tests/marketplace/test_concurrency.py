"""Concurrency and integrity against PostgreSQL, as production runs it: the app's own sessions, one per
request, on a database of this module's own (the shared rolled-back test transaction would serialise
everything and hide what a real race does)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.accounts.models import User, UserRole
from app.agreements.models import Agreement, AgreementStatus
from app.audit.models import AuditEvent
from app.clock import local_today
from app.config import Settings
from app.marketplace import service as marketplace_service
from app.orders.models import Order, OrderStatus, OrderTaking, TakingStatus
from app.proposals.models import Proposal
from tests.conftest import own_migrated_database, real_app_client
from tests.factories import (
    bearer,
    make_achievement,
    make_agreement,
    make_expert,
    make_order,
    make_studio,
    make_user,
)

API = "/api/v1"


@pytest.fixture(scope="module")
def race_database_url() -> Iterator[str]:
    yield from own_migrated_database("race")


@pytest.fixture
async def race(
    settings: Settings, race_database_url: str
) -> AsyncIterator[tuple[AsyncClient, AsyncEngine, str]]:
    """A client of a real app (its own engine and sessions), an engine for set-up and checks, the secret."""
    async with real_app_client(settings, race_database_url) as race:
        yield race


async def committed(engine: AsyncEngine, build: Any) -> Any:
    """Run ``build(session)`` and commit, so that the app's own sessions see the rows."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        result = await build(session)
        await session.commit()
        return result


async def fresh_scalar(engine: AsyncEngine, statement: Any) -> Any:
    async with AsyncSession(engine) as session:  # a new session sees committed rows only
        return await session.scalar(statement)


async def test_twenty_experts_taking_a_one_slot_order_at_once(
    race: tuple[AsyncClient, AsyncEngine, str],
) -> None:
    client, engine, secret = race

    async def build(session: AsyncSession) -> tuple[Order, list[User]]:
        order = await make_order(session, await make_studio(session), slots=1)
        experts = [
            await make_user(session, UserRole.EXPERT, expert=await make_expert(session)) for _ in range(20)
        ]
        return order, experts

    order, experts = await committed(engine, build)
    answers = await asyncio.gather(
        *(
            client.post(
                f"{API}/orders/{order.id}/takings", json={"note": "愿意承接"}, headers=bearer(u, secret)
            )
            for u in experts
        )
    )

    assert sorted(a.status_code for a in answers) == [201] + [409] * 19
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"order_full"}
    takings = await fresh_scalar(engine, select(func.count()).where(OrderTaking.order_id == order.id))
    assert takings == 1
    assert await fresh_scalar(engine, select(Order.status).where(Order.id == order.id)) == OrderStatus.TAKEN


async def test_ranking_one_order_several_times_at_once_keeps_one_set_of_proposals(
    race: tuple[AsyncClient, AsyncEngine, str],
) -> None:
    client, engine, secret = race

    async def build(session: AsyncSession) -> tuple[list[Order], User]:
        studio = await make_studio(session)
        orders = [
            await make_order(
                session,
                studio,
                title=f"盾构刀盘磨损监测{n}",
                description="盾构机刀盘滚刀磨损在线监测与换刀预测。",
            )
            for n in range(3)
        ]
        for n in range(6):
            expert = await make_expert(session, name=f"盾构专家{n}", bio="盾构刀盘滚刀磨损监测与寿命预测。")
            await make_achievement(
                session, expert, title=f"盾构滚刀磨损在线监测方法{n}", keywords=["滚刀磨损"]
            )
        owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
        return orders, owner

    orders, owner = await committed(engine, build)
    for order in orders:  # three rounds: a race that slips through once is still caught
        answers = await asyncio.gather(
            *(
                client.post(f"{API}/orders/{order.id}/proposals", headers=bearer(owner, secret))
                for _ in range(12)
            )
        )

        assert [a.status_code for a in answers] == [201] * 12, [
            a.text for a in answers if a.status_code != 201
        ]
        proposed = {frozenset(p["expert_id"] for p in a.json()) for a in answers}
        assert len(proposed) == 1  # every answer names the same experts
        rows = await fresh_scalar(engine, select(func.count()).where(Proposal.order_id == order.id))
        assert rows == len(next(iter(proposed))) >= 6


async def pending_agreement(engine: AsyncEngine) -> tuple[Agreement, User, User]:
    async def build(session: AsyncSession) -> tuple[Agreement, User, User]:
        expert = await make_expert(session)
        agreement = await make_agreement(session, expert=expert)
        owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=agreement.enterprise_id)
        expert_user = await make_user(session, UserRole.EXPERT, expert=expert)
        return agreement, owner, expert_user

    result: tuple[Agreement, User, User] = await committed(engine, build)
    return result


async def signed_events(engine: AsyncEngine, agreement_id: int) -> list[int | None]:
    async with AsyncSession(engine) as session:
        rows = await session.scalars(
            select(AuditEvent.actor_user_id).where(
                AuditEvent.entity_type == "agreements",
                AuditEvent.entity_id == agreement_id,
                AuditEvent.action == "agreement.signed",
            )
        )
        return sorted(rows.all(), key=lambda x: x or 0)


async def test_both_sides_signing_at_once_each_sign_once(race: tuple[AsyncClient, AsyncEngine, str]) -> None:
    client, engine, secret = race
    agreement, owner, expert_user = await pending_agreement(engine)
    url = f"{API}/agreements/{agreement.id}/sign"

    answers = await asyncio.gather(
        client.post(url, json={}, headers=bearer(owner, secret)),
        client.post(url, json={}, headers=bearer(expert_user, secret)),
    )

    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    async with AsyncSession(engine) as session:
        stored = await session.get(Agreement, agreement.id)
        assert stored is not None
        assert stored.status is AgreementStatus.IN_PROGRESS
        assert (stored.enterprise_signed_by_user_id, stored.expert_signed_by_user_id) == (
            owner.id,
            expert_user.id,
        )
    assert await signed_events(engine, agreement.id) == sorted([owner.id, expert_user.id])


async def test_a_repeated_sign_with_the_same_key_signs_once(
    race: tuple[AsyncClient, AsyncEngine, str],
) -> None:
    client, engine, secret = race
    agreement, owner, _ = await pending_agreement(engine)
    url = f"{API}/agreements/{agreement.id}/sign"
    headers = bearer(owner, secret) | {"Idempotency-Key": "sign-7f3a2c"}

    answers = await asyncio.gather(*(client.post(url, json={}, headers=headers) for _ in range(3)))
    later = await client.post(url, json={}, headers=headers)

    assert [a.status_code for a in answers] + [later.status_code] == [200] * 4, [a.text for a in answers]
    assert len({a.text for a in [*answers, later]}) == 1  # the very same answer each time
    assert await signed_events(engine, agreement.id) == [owner.id]
    without_key = await client.post(url, json={}, headers=bearer(owner, secret))
    assert without_key.status_code == 409
    assert without_key.json()["code"] == "agreement_already_signed"
    other_request = await client.post(
        f"{API}/agreements/{agreement.id}/revise", json={"version": 99, "reason": "重新核对"}, headers=headers
    )
    assert other_request.status_code in (409, 422)


async def test_two_edits_from_the_same_version_one_wins(race: tuple[AsyncClient, AsyncEngine, str]) -> None:
    client, engine, secret = race
    agreement, owner, expert_user = await pending_agreement(engine)

    async def to_draft(session: AsyncSession) -> int:
        stored = await session.get(Agreement, agreement.id)
        assert stored is not None
        stored.status, stored.content_hash = AgreementStatus.DRAFT, None
        await session.flush()
        return stored.version

    version = await committed(engine, to_draft)
    url = f"{API}/agreements/{agreement.id}"
    answers = await asyncio.gather(
        client.patch(url, json={"goals": "企业的修改", "version": version}, headers=bearer(owner, secret)),
        client.patch(
            url, json={"goals": "专家的修改", "version": version}, headers=bearer(expert_user, secret)
        ),
    )

    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json()["code"] == "agreement_version_conflict"
    winner = next(a for a in answers if a.status_code == 200).json()["goals"]
    assert await fresh_scalar(engine, select(Agreement.goals).where(Agreement.id == agreement.id)) == winner


async def test_a_failure_midway_through_confirming_changes_nothing(
    race: tuple[AsyncClient, AsyncEngine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, engine, secret = race

    async def build(session: AsyncSession) -> tuple[Order, User, int]:
        studio = await make_studio(session)
        order = await make_order(session, studio, slots=1, deadline=local_today() + timedelta(days=30))
        owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
        expert_user = await make_user(session, UserRole.EXPERT, expert=await make_expert(session))
        return order, owner, expert_user

    order, owner, expert_user = await committed(engine, build)
    taken = await client.post(
        f"{API}/orders/{order.id}/takings", json={}, headers=bearer(expert_user, secret)
    )
    assert taken.status_code == 201, taken.text
    events_before = await fresh_scalar(engine, select(func.count()).select_from(AuditEvent))

    async def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash after the taking and the agreement were written")

    # the confirmation has already flushed the taking and the agreement draft when it notifies
    monkeypatch.setattr(marketplace_service.notification_service, "notify", fail)
    crashed = await client.post(f"{API}/takings/{taken.json()['id']}/confirm", headers=bearer(owner, secret))

    assert crashed.status_code == 500
    assert crashed.json()["code"] == "internal"
    assert await fresh_scalar(engine, select(func.count()).where(Agreement.order_id == order.id)) == 0
    taking_status = await fresh_scalar(
        engine, select(OrderTaking.status).where(OrderTaking.order_id == order.id)
    )
    assert taking_status is TakingStatus.PENDING
    assert await fresh_scalar(engine, select(Order.status).where(Order.id == order.id)) == OrderStatus.TAKEN
    assert await fresh_scalar(engine, select(func.count()).select_from(AuditEvent)) == events_before


async def test_the_same_key_with_other_content_is_refused(race: tuple[AsyncClient, AsyncEngine, str]) -> None:
    client, engine, secret = race
    agreement, owner, _ = await pending_agreement(engine)
    url = f"{API}/agreements/{agreement.id}/sign"
    headers = bearer(owner, secret) | {"Idempotency-Key": "sign-body-check"}

    first = await client.post(url, json={}, headers=headers)
    other = await client.post(url, json={"content_hash": "1" * 64}, headers=headers)

    assert first.status_code == 200, first.text
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
