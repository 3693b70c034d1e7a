"""The matcher index across workers and transactions, on a database of its own with real commits.

Each ``MatcherIndex`` here reads through its own sessions, as a worker process does: two of them on
one database are two workers. Changes go in through services and are committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import create_engine, create_sessionmaker
from app.experts.models import Expert
from app.orders.models import Order, OrderStatus
from app.proposals import index as index_module
from app.proposals.index import MatcherIndex
from app.proposals.profiles import order_text
from matching import Matcher
from tests.conftest import own_migrated_database
from tests.factories import make_achievement, make_expert, make_order

pytestmark = pytest.mark.asyncio(loop_scope="session")

WELDING = {"disciplines": ["材料加工工程"], "bio": "船舶分段焊接变形预测与控制，焊接残余应力测量。"}


@pytest.fixture(scope="module")
def shared_database_url() -> Iterator[str]:
    yield from own_migrated_database("index_shared")


@pytest.fixture
async def sessions(shared_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = create_engine(shared_database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def committed(
    sessions: async_sessionmaker[AsyncSession], build: Callable[[AsyncSession], Awaitable[Any]]
) -> Any:
    async with sessions() as session:
        result = await build(session)
        await session.commit()
        return result


async def new_welder(session: AsyncSession, name: str) -> Expert:
    expert = await make_expert(session, name=name, **WELDING)
    await make_achievement(session, expert, title=f"{name}的船体焊接变形控制方法", keywords=["焊接变形"])
    return expert


def ranked(matcher: Matcher | None, order: Order, k: int = 50) -> list[int]:
    assert matcher is not None
    return [int(c.id) for c in matcher.rank_experts(order_text(order), k)]


async def welding_order(session: AsyncSession) -> Order:
    return await make_order(
        session,
        title="船舶分段焊接变形控制",
        description="分段合拢后焊接变形超差，需要焊接变形预测与控制方案。",
    )


async def test_two_workers_converge_after_a_change_through_either(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    order = await committed(sessions, welding_order)
    await committed(sessions, lambda s: new_welder(s, "甲工"))
    worker_a, worker_b = MatcherIndex(sessions), MatcherIndex(sessions)
    start_a, start_b = await worker_a.current(), await worker_b.current()
    assert start_a.label == start_b.label

    # an expert entered through worker A's request, and an order closed through worker B's
    welder = await committed(sessions, lambda s: new_welder(s, "乙工"))
    closing = await committed(sessions, lambda s: make_order(s, title="焊接机器人示教编程培训"))

    async def close(session: AsyncSession) -> None:
        record = await session.get(Order, closing.id)
        assert record is not None
        record.status = OrderStatus.CLOSED

    await committed(sessions, close)
    after_a, after_b = await worker_a.current(), await worker_b.current()

    assert welder.id in ranked(after_a.matcher, order) and welder.id in ranked(after_b.matcher, order)
    assert ranked(after_a.matcher, order) == ranked(after_b.matcher, order)
    assert after_a.label == after_b.label != start_a.label  # both name the same state
    assert after_a.build_id == start_a.build_id  # applied, not rebuilt


async def test_an_uncommitted_change_is_not_seen_and_a_committed_one_is(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    order = await committed(sessions, welding_order)
    worker = MatcherIndex(sessions)
    await worker.current()

    async with sessions() as writing:
        welder = await new_welder(writing, "丙工")  # flushed, so its feed row exists, uncommitted
        assert welder.id not in ranked((await worker.current()).matcher, order)
        await writing.commit()

    assert welder.id in ranked((await worker.current()).matcher, order)


async def test_an_earlier_transaction_committing_later_is_not_skipped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # T1 takes the smaller feed id, T2 the larger one and commits first: a cursor on the id would
    # move past T1's row before T1 commits, and never see it
    order = await committed(sessions, welding_order)
    worker = MatcherIndex(sessions)
    await worker.current()

    async with sessions() as first:
        early = await new_welder(first, "丁工")
        late = await committed(sessions, lambda s: new_welder(s, "戊工"))
        between = await worker.current()
        assert late.id in ranked(between.matcher, order)
        assert early.id not in ranked(between.matcher, order)
        await first.commit()

    assert early.id in ranked((await worker.current()).matcher, order)


async def test_a_change_committed_during_a_build_is_not_lost(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    order = await committed(sessions, welding_order)
    await committed(sessions, lambda s: new_welder(s, "己工"))
    reading_started = asyncio.Event()
    added: list[Expert] = []

    async def add_during_the_build() -> None:
        await reading_started.wait()
        added.append(await committed(sessions, lambda s: new_welder(s, "庚工")))

    def progress(step: str) -> None:
        if step == "读取专家与科技成果":  # the build's snapshot is taken: what follows is after it
            reading_started.set()

    writer = asyncio.create_task(add_during_the_build())
    builder = MatcherIndex(sessions)
    built = await builder.build(progress)
    await writer

    fresh_worker = MatcherIndex(sessions)
    state = await fresh_worker.current()  # loads the new build, then the feed after its watermark
    assert state.build_id == built.build_id
    assert added[0].id in ranked(state.matcher, order)
    assert added[0].id in ranked((await builder.current()).matcher, order)


async def test_a_failed_apply_is_retried(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = await committed(sessions, welding_order)
    worker = MatcherIndex(sessions)
    before = await worker.current()
    failures = []
    real_apply = index_module._apply

    def apply_failing_once(matcher: Matcher, batch: Any) -> Matcher:
        if not failures:
            failures.append(batch)
            raise MemoryError("simulated: the worker ran short while applying")
        return real_apply(matcher, batch)

    monkeypatch.setattr(index_module, "_apply", apply_failing_once)
    welder = await committed(sessions, lambda s: new_welder(s, "辛工"))

    during = await worker.current()  # the apply fails: ranking goes on with the state as it was
    assert failures and during.label == before.label
    assert welder.id not in ranked(during.matcher, order)

    after = await worker.current()  # the cursor did not move: the same changes are applied now
    assert welder.id in ranked(after.matcher, order)
    assert after.label != before.label
