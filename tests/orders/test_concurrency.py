"""An edit of an order's slots racing a taking, against PostgreSQL with the app's own sessions and commits
(on a database of this module's own: the shared rolled-back test transaction would serialise them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.accounts.models import User, UserRole
from app.config import Settings
from app.orders.models import SLOT_HOLDING, Order, OrderStatus, OrderTaking
from tests.conftest import own_migrated_database, real_app_client
from tests.factories import bearer, make_expert, make_order, make_studio, make_user

API = "/api/v1"
# each round is one chance for the race; without the row lock far fewer than this many pass
ROUNDS = 12


@pytest.fixture(scope="module")
def race_database_url() -> Iterator[str]:
    yield from own_migrated_database("order_race")


@pytest.fixture
async def race(
    settings: Settings, race_database_url: str
) -> AsyncIterator[tuple[AsyncClient, AsyncEngine, str]]:
    """A client of a real app (its own engine and sessions), an engine for set-up and checks, the secret."""
    async with real_app_client(settings, race_database_url) as race:
        yield race


async def _orders(engine: AsyncEngine) -> tuple[list[Order], User, list[User]]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        studio = await make_studio(session)
        orders = [await make_order(session, studio, slots=2) for _ in range(ROUNDS)]
        owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
        experts = [
            await make_user(session, UserRole.EXPERT, expert=await make_expert(session))
            for _ in range(ROUNDS)
        ]
        await session.commit()
        return orders, owner, experts


async def test_cutting_the_slots_while_an_expert_takes_keeps_the_order_consistent(
    race: tuple[AsyncClient, AsyncEngine, str],
) -> None:
    client, engine, secret = race
    orders, owner, experts = await _orders(engine)

    broken = []
    for round_number, (order, expert) in enumerate(zip(orders, experts, strict=True)):
        edit = client.patch(f"{API}/orders/{order.id}", json={"slots": 1}, headers=bearer(owner, secret))
        take = client.post(f"{API}/orders/{order.id}/takings", json={}, headers=bearer(expert, secret))
        # alternate who starts first: the race must not depend on the order of the coroutines
        pair = (edit, take) if round_number % 2 == 0 else (take, edit)
        answers = await asyncio.gather(*pair)
        assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]

        async with AsyncSession(engine) as session:  # a new session sees committed rows only
            stored = await session.get(Order, order.id)
            held = await session.scalar(
                select(func.count()).where(
                    OrderTaking.order_id == order.id, OrderTaking.status.in_(SLOT_HOLDING)
                )
            )
        assert stored is not None
        # either way round the outcome is one slot, one taker, and the order full
        if (stored.slots, held, stored.status) != (1, 1, OrderStatus.TAKEN):
            broken.append((order.id, stored.slots, held, stored.status.value))

    assert broken == [], f"inconsistent orders (id, slots, takers, status): {broken}"
