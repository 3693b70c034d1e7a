"""Building an index version with bounded memory (``studio-match reindex``).

The build reads experts and orders chunk by chunk (only one chunk's ORM objects at a time), and
serialises the fitted matcher straight into ``matcher_build_chunks`` rows. What it stores must rank
exactly as a matcher fitted on the same records read at once.
"""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.experts.models import Expert
from app.orders.models import Order
from app.proposals import index as index_module
from app.proposals import profiles as profiles_module
from app.proposals.index import ChunkSink, ChunksReader, MatcherIndex, _undump, borrowed
from app.proposals.models import MatcherBuild, MatcherBuildChunk
from app.proposals.profiles import load_expert_profiles, load_open_orders
from app.proposals.repository import MatcherStoreRepository
from matching import Matcher
from tests.factories import make_achievement, make_expert, make_order, make_studio
from tests.proposals.test_api import ORDERS, make_catalogue, make_field_order


def rankings(matcher: Matcher | None, experts: list[Any], orders: list[Any]) -> list[Any]:
    """Every order's ranked experts and every expert's ranked orders, with their scores and evidence."""
    assert matcher is not None
    ranked = [
        [(c.id, round(c.score, 9), dict(c.factors), c.shared_terms) for c in matcher.rank_experts(o, 50)]
        for o in orders
    ]
    ranked += [
        [(c.id, round(c.score, 9), dict(c.factors)) for c in matcher.rank_orders(e, 50)] for e in experts
    ]
    return ranked


async def catalogue_with_orders(session: AsyncSession) -> None:
    await make_catalogue(session)
    studio = await make_studio(session)
    for key in ORDERS:
        await make_field_order(session, key, studio)
    await session.flush()


async def test_a_streamed_build_ranks_exactly_like_a_fit_on_the_same_records(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await catalogue_with_orders(session)
    monkeypatch.setattr(profiles_module, "READ_CHUNK", 2)  # several chunks of experts and orders
    monkeypatch.setattr(index_module, "CHUNK_BYTES", 4096)  # several chunks of payload

    built = await MatcherIndex(borrowed(session), concurrent=False).build()
    loaded = await MatcherIndex(borrowed(session), concurrent=False).current()  # from the stored chunks
    stored = _undump(ChunksReader(await MatcherStoreRepository(session).chunks(built.build_id)))

    experts = await load_expert_profiles(session)
    orders = await load_open_orders(session)
    assert len(experts) >= 4 and len(orders) >= 4
    reference = Matcher().fit(experts, orders)  # every record read at once, as before
    assert stored.version_ == reference.version_
    assert stored.n_experts == reference.n_experts and stored.n_orders == reference.n_orders
    # the stored fit is the same index: the same candidates, scores and evidence, to the last bit
    assert rankings(stored, experts, orders) == rankings(reference, experts, orders)
    # the workers' matchers also applied the test's own (uncommitted) feed rows on top: same order
    assert built.matcher is not None and loaded.matcher is not None
    order_of = [[c[0] for c in ranked] for ranked in rankings(reference, experts, orders)]
    assert [[c[0] for c in ranked] for ranked in rankings(built.matcher, experts, orders)] == order_of
    assert [[c[0] for c in ranked] for ranked in rankings(loaded.matcher, experts, orders)] == order_of


async def test_the_stored_payload_round_trips_through_several_chunks(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await catalogue_with_orders(session)
    monkeypatch.setattr(index_module, "CHUNK_BYTES", 1000)

    built = await MatcherIndex(borrowed(session), concurrent=False).build()

    stored = await session.get(MatcherBuild, built.build_id)
    assert stored is not None and stored.status == "ready"
    sizes = (
        await session.scalars(
            select(func.length(MatcherBuildChunk.data))
            .where(MatcherBuildChunk.build_id == built.build_id)
            .order_by(MatcherBuildChunk.seq)
        )
    ).all()
    assert len(sizes) > 3
    assert all(size == 1000 for size in sizes[:-1]) and 0 < sizes[-1] <= 1000
    assert sum(sizes) == stored.size_bytes
    chunks = (
        await session.scalars(
            select(MatcherBuildChunk.data)
            .where(MatcherBuildChunk.build_id == built.build_id)
            .order_by(MatcherBuildChunk.seq)
        )
    ).all()
    # read across the chunks as one stream, and joined: the same matcher
    streamed = _undump(ChunksReader(list(chunks)))
    joined = _undump(b"".join(chunks))
    assert built.matcher is not None
    assert streamed.version_ == joined.version_ == built.matcher.version_
    experts = await load_expert_profiles(session)
    orders = await load_open_orders(session)
    assert rankings(streamed, experts, orders) == rankings(joined, experts, orders)


def stream_pieces(payload: bytes) -> Iterator[bytes]:
    """``payload`` cut at random places, as a serialiser writes it."""
    rng = random.Random(7)
    start = 0
    while start < len(payload):
        end = start + rng.choice([1, 7, 999, 1000, 1001, 3500])
        yield payload[start:end]
        start = end


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 10_000])
async def test_the_chunk_stream_cuts_and_joins_any_payload(size: int) -> None:
    payload = random.Random(size).randbytes(size)
    stored: list[tuple[int, bytes]] = []

    async def store(seq: int, data: bytes) -> None:
        stored.append((seq, data))

    sink = ChunkSink(store, 1000, asyncio.get_running_loop())

    def write() -> None:
        for piece in stream_pieces(payload):
            sink.write(piece)
        sink.finish()

    await asyncio.to_thread(write)

    assert [seq for seq, _ in stored] == list(range(len(stored)))
    assert len(stored) == max(1, -(-size // 1000))  # at least one chunk, as before
    assert all(len(data) == 1000 for _, data in stored[:-1])
    assert sink.written == size and b"".join(data for _, data in stored) == payload
    reader = io.BufferedReader(ChunksReader([data for _, data in stored]), buffer_size=64)
    assert reader.peek(4)[:4] == payload[:4]
    assert reader.read() == payload


async def test_a_build_holds_one_chunk_of_orm_objects_at_a_time(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = await make_studio(session)
    for n in range(12):
        expert = await make_expert(session, bio=f"第{n}位专家，研究数控机床主轴振动诊断。")
        await make_achievement(session, expert)
        await make_achievement(session, expert, title=f"主轴轴承故障诊断方法{n}")
    for n in range(10):
        await make_order(session, studio, title=f"数控机床主轴振动诊断{n}")
    await session.flush()
    session.expunge_all()  # the build starts from an empty identity map: what it holds, it loaded
    monkeypatch.setattr(profiles_module, "READ_CHUNK", 3, raising=False)
    held = {Expert: 0, Order: 0}
    reading = False

    def progress(step: str) -> None:
        # the build reads between these steps (afterwards the feed's own rows are applied, by id)
        nonlocal reading
        reading = step.startswith("读取") or (reading and not step.startswith("分词"))

    def count(target: object, context: Any) -> None:
        if not reading:
            return
        kind = type(target)
        keys = list(context.session.identity_map.keys())
        held[kind] = max(held[kind], sum(1 for key in keys if key[0] is kind))

    event.listen(Expert, "load", count)
    event.listen(Order, "load", count)
    try:
        built = await MatcherIndex(borrowed(session), concurrent=False).build(progress)
    finally:
        event.remove(Expert, "load", count)
        event.remove(Order, "load", count)

    assert built.matcher is not None
    assert built.matcher.n_experts == 12 and built.matcher.n_orders == 10
    assert 0 < held[Expert] <= 3, held
    assert 0 < held[Order] <= 3, held
