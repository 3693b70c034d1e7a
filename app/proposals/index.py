"""The matcher index every worker ranks with: one stored version, kept fresh through the database.

A fitted matcher is built by a job (``studio-match reindex``, the queue's nightly ``reindex``) and
stored in the database (``matcher_builds``), so every worker on every machine loads the same
version in seconds instead of fitting its own. Changes reach every worker through the change feed
(``matcher_changes``): the transaction that changes an expert, an achievement, an agreement or an
order also writes a feed row (the session hook at the bottom of this module). Before each ranking,
and every few seconds in the background, a worker reads the rows after its cursor, loads the
changed records, applies them off the event loop to a fork of its matcher and swaps the fork in by
assignment: requests already ranking keep the matcher they started with. The cursor only moves
once the fork is in place, so a failed apply is retried on the next read.

The state a worker ranks with is named ``b<build>+c<last change applied>``; proposals store it.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from typing import Any

import joblib
from sqlalchemy import event, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from app.models import Achievement, Agreement, Expert, Order
from app.proposals.models import MatcherBuild, MatcherChange
from app.proposals.profiles import (
    iter_expert_profiles,
    iter_open_orders,
    load_expert_profiles,
    load_open_orders,
)
from app.proposals.repository import FeedRow, MatcherStoreRepository
from matching import ExpertProfile, Matcher, OrderText
from matching.matcher import STATE_FORMAT

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
SessionSource = Callable[[], AbstractAsyncContextManager[AsyncSession]]

EXPERT, ORDER = "expert", "order"
# stored builds are written in pieces of this size (one value per row stays far below 1 GB)
CHUNK_BYTES = 8 * 1024 * 1024
# builds kept besides the newest: a worker still loading an older one finds it
BUILDS_KEPT = 3


def borrowed(session: AsyncSession) -> SessionSource:
    """A session source that hands out ``session`` itself and leaves it open (commands, tests).

    Give it to ``MatcherIndex`` with ``concurrent=False``: one session serves one task at a time.
    """

    @asynccontextmanager
    async def source() -> AsyncIterator[AsyncSession]:
        yield session

    return source


@dataclass(frozen=True, slots=True)
class IndexState:
    """What a worker ranks with: a matcher and the exact database state it reflects.

    Attributes:
        matcher: the fitted matcher (``None`` while there is no expert to match).
        build_id: the stored build it started from (0: none stored).
        watermark: the feed cursor (see ``MatcherStoreRepository``).
        last_change: the highest feed id applied.
        applied: feed ids at or above the watermark already applied (they are read again until the
            watermark passes them, and must not be applied twice).
    """

    matcher: Matcher | None
    build_id: int
    watermark: int
    last_change: int = 0
    applied: frozenset[int] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        """The state's name, stored with proposals: ``b<build>+c<last change>``."""
        return f"b{self.build_id}+c{self.last_change}"


@dataclass(slots=True)
class _Batch:
    """The records a group of feed rows asks to refresh, loaded from the database."""

    experts: set[int]
    orders: set[int]
    profiles: list[ExpertProfile]
    open_orders: list[OrderText]


class MatcherIndex:
    """Holds a process's ``IndexState`` and keeps it in step with the database.

    Args:
        sessions: where the index reads (and, when it must build one, writes): each call gives a
            session. The app passes its session factory; commands and tests may lend one session.
        compact_after: pending changes (delta rows and removed rows) after which the matcher is
            compacted in the background, so memory stays flat however many edits arrive.
        concurrent: run slow work (loading a newer build, compacting) in background tasks while
            requests keep ranking. A lent session cannot serve two tasks at once: with ``False`` that
            work runs at the end of the call that found it.
    """

    def __init__(
        self, sessions: SessionSource, *, compact_after: int = 1000, concurrent: bool = True
    ) -> None:
        self.sessions = sessions
        self.compact_after = compact_after
        self.concurrent = concurrent
        self.state: IndexState | None = None
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._deferred: list[Coroutine[Any, Any, None]] = []
        self._reads_started = 0
        self._reads_done = 0

    # ------------------------------------------------------------------ reading

    async def current(self) -> IndexState:
        """The state to rank with, with every change committed before this call applied.

        Raises:
            SQLAlchemyError: the database could not be read (the caller's error handling applies).
        """
        arrived = self._reads_started
        async with self._lock:
            # requests queue here together: one read of the feed that started after this request
            # arrived serves all of them (the database is read once per wave, not once per request)
            if self.state is None or self._reads_done <= arrived:
                self._reads_started += 1
                read = self._reads_started
                async with self.sessions() as session:
                    if self.state is None:
                        self.state = await self._start(session)
                    await self._catch_up(session)
                self._reads_done = read
        while self._deferred:
            await self._deferred.pop(0)
        assert self.state is not None
        return self.state

    async def refresh(self) -> None:
        """Apply what the feed holds now (the background poller calls this every few seconds)."""
        await self.current()

    # ------------------------------------------------------------------ building

    async def build(self, progress: Progress | None = None) -> IndexState:
        """Fit a new matcher on the whole database, store it as the newest build and use it.

        ``studio-match reindex`` and the queue's ``reindex`` job call this; workers load the result.
        """
        async with self._lock:
            async with self.sessions() as session:
                store = MatcherStoreRepository(session)
                await store.lock_builds()
                try:
                    state = await self._build_and_store(progress)
                finally:
                    await store.unlock_builds()
                self.state = state
                await self._catch_up(session)
            return self.state

    async def _start(self, session: AsyncSession) -> IndexState:
        """Load the newest stored build, or build the first one (one process at a time does)."""
        store = MatcherStoreRepository(session)
        build = await store.latest_ready_build()
        if build is not None:
            try:
                return await self._load(session, build)
            except (SQLAlchemyError, OSError):
                raise
            except Exception:
                # a payload this code cannot read (another matcher version, damaged): build afresh
                log.warning("matcher.build_unreadable build=%s", build.id, exc_info=True)
                return await self._build_and_store(None)
        await store.lock_builds()
        try:
            # another process may have finished the first build while this one waited for the lock
            build = await store.latest_ready_build()
            if build is not None:
                return await self._load(session, build)
            return await self._build_and_store(None)
        finally:
            await store.unlock_builds()

    async def _build_and_store(self, progress: Progress | None) -> IndexState:
        say = progress or (lambda _step: None)
        async with self.sessions() as reading:
            own_transaction = not reading.in_transaction()
            if own_transaction and reading.get_bind().dialect.name == "postgresql":
                # one snapshot for the watermark and every read: nothing committed meanwhile is
                # half-seen, and whatever the snapshot missed is after the watermark
                await reading.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            store = MatcherStoreRepository(reading)
            watermark, last_change = await store.build_watermark()
            say("读取专家与科技成果")
            # chunk by chunk: only the matcher's records are kept, never every ORM object at once
            experts: list[ExpertProfile] = []
            async for profiles in iter_expert_profiles(reading):
                experts += profiles
            say("读取已发布的需求")
            orders: list[OrderText] = []
            async for texts in iter_open_orders(reading):
                orders += texts
            if own_transaction:
                await reading.rollback()  # read only: end the snapshot
        n_experts, n_orders = len(experts), len(orders)
        if not experts:
            say("数据库中还没有专家")
            return IndexState(None, 0, watermark, last_change)
        say(f"分词并建立索引（{n_experts} 位专家、{n_orders} 条需求）")
        matcher = await asyncio.to_thread(Matcher().fit, experts, orders)
        del experts, orders  # the fitted matcher holds what it needs
        say("写入数据库")
        async with self.sessions() as writing:
            store = MatcherStoreRepository(writing)
            build = await store.begin_build(
                MatcherBuild(
                    algorithm_version=matcher.version_,
                    watermark=watermark,
                    last_change_id=last_change,
                    experts=n_experts,
                    orders=n_orders,
                )
            )
            # serialised straight into chunk rows: the payload is never whole in memory
            sink = ChunkSink(partial(store.add_chunk, build.id), CHUNK_BYTES, asyncio.get_running_loop())
            await asyncio.to_thread(_dump, matcher, sink)
            await store.finish_build(build, sink.written)
            await store.prune(BUILDS_KEPT)
            await writing.commit()
        log.info(
            "matcher.built build=%s experts=%s orders=%s bytes=%s chunks=%s version=%s",
            build.id,
            n_experts,
            n_orders,
            sink.written,
            sink.chunks,
            matcher.version_,
        )
        return IndexState(matcher, build.id, watermark, last_change)

    async def _load(self, session: AsyncSession, build: MatcherBuild) -> IndexState:
        chunks = await MatcherStoreRepository(session).chunks(build.id)
        size = sum(len(chunk) for chunk in chunks)
        # the reader lets go of each chunk once read: the payload is never joined into one value
        matcher = await asyncio.to_thread(_undump, ChunksReader(chunks))
        log.info("matcher.loaded build=%s bytes=%s version=%s", build.id, size, matcher.version_)
        return IndexState(matcher, build.id, build.watermark, build.last_change_id)

    # ------------------------------------------------------------------ applying the feed

    async def _catch_up(self, session: AsyncSession) -> None:
        state = self.state
        assert state is not None
        store = MatcherStoreRepository(session)
        feed = await store.feed_after(state.watermark)
        if feed.latest_build is not None and feed.latest_build > state.build_id:
            # a newer build was stored (by the job or another process): load it in the background
            # and keep ranking with this one until it is ready
            self._in_background(self._switch_to(feed.latest_build))
        fresh = [row for row in feed.changes if row.id not in state.applied]
        matcher: Matcher | None
        if fresh:
            batch = await _load_batch(session, fresh)
            if state.matcher is None:
                # the first expert arrived after an empty start: fit from scratch
                self.state = await self._build_and_store(None)
                return
            try:
                matcher = await asyncio.to_thread(_apply, state.matcher, batch)
            except Exception:
                # rank with the state as it was; the cursor stays, so the next read tries again
                log.exception("matcher.apply_failed changes=%s", len(fresh))
                return
            log.info(
                "matcher.updated experts=%s orders=%s changes=%s",
                len(batch.experts),
                len(batch.orders),
                len(fresh),
            )
        else:
            matcher = state.matcher
        # ids still at or above the watermark are read again next time: remember they are applied
        applied = frozenset(
            row.id for row in feed.changes if row.xid is not None and row.xid >= feed.watermark
        )
        last_change = max([state.last_change, *(row.id for row in fresh)])
        self.state = IndexState(matcher, state.build_id, feed.watermark, last_change, applied)
        if matcher is not None and matcher.n_pending_changes >= self.compact_after:
            self._in_background(self._compact())

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` unless background work is under way already (one at a time per process)."""
        if not self.concurrent:
            if self._deferred:
                work.close()
            else:
                self._deferred.append(work)
            return
        if self._background:
            work.close()
            return
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _switch_to(self, build_id: int) -> None:
        try:
            async with self.sessions() as session:
                build = await MatcherStoreRepository(session).get_build(build_id)
                if build is None:
                    return
                loaded = await self._load(session, build)
            async with self._lock:
                current = self.state
                if current is not None and current.build_id >= build_id:
                    return
                self.state = loaded
                async with self.sessions() as session:
                    await self._catch_up(session)
        except Exception:
            log.warning("matcher.switch_failed build=%s", build_id, exc_info=True)

    async def _compact(self) -> None:
        state = self.state
        if state is None or state.matcher is None:
            return
        try:
            compacted = await asyncio.to_thread(lambda: state.matcher.fork().compact())  # type: ignore[union-attr]
        except Exception:
            log.warning("matcher.compact_failed build=%s", state.build_id, exc_info=True)
            return
        async with self._lock:
            current = self.state
            if (
                current is None
                or current.build_id != state.build_id
                or current.last_change != state.last_change
            ):
                # changes arrived while compacting: compact again later, from the newer state
                return
            self.state = IndexState(
                compacted, current.build_id, current.watermark, current.last_change, current.applied
            )
        log.info("matcher.compacted build=%s", state.build_id)


async def _load_batch(session: AsyncSession, rows: Sequence[FeedRow]) -> _Batch:
    experts = {row.entity_id for row in rows if row.entity == EXPERT}
    orders = {row.entity_id for row in rows if row.entity == ORDER}
    profiles = await load_expert_profiles(session, experts) if experts else []
    open_orders = await load_open_orders(session, orders) if orders else []
    return _Batch(experts, orders, profiles, open_orders)


def _apply(matcher: Matcher, batch: _Batch) -> Matcher:
    """A fork of ``matcher`` with the batch applied; ``matcher`` itself is left as it was."""
    fork = matcher.fork()
    fork.remove_experts(batch.experts - {p.id for p in batch.profiles})
    if batch.profiles:
        fork.add_experts(batch.profiles)
    fork.remove_orders(batch.orders - {o.id for o in batch.open_orders})
    if batch.open_orders:
        fork.add_orders(batch.open_orders)
    return fork


class ChunkSink(io.RawIOBase):
    """A binary stream that a worker thread writes, cut into pieces of ``size`` bytes as it fills.

    Each full piece is handed to ``store(seq, piece)``, a coroutine run on the event loop ``loop``
    (where the database session lives) while the writing thread waits for it: at most one piece and
    the write being cut are in memory. ``finish`` hands over the rest (one empty piece for an empty
    stream, as the stored format has always had at least one chunk).
    """

    def __init__(
        self,
        store: Callable[[int, bytes], Coroutine[Any, Any, None]],
        size: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__()
        if size < 1:
            raise ValueError("the chunk size must be at least one byte")
        self._store = store
        self._size = size
        self._loop = loop
        self._buffer = bytearray()
        self.written = 0
        self.chunks = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        self.written += len(view)
        while len(self._buffer) >= self._size:
            piece = bytes(self._buffer[: self._size])
            del self._buffer[: self._size]
            self._send(piece)
        return len(view)

    def finish(self) -> None:
        """Hand over what is left; the stream is complete."""
        if self._buffer or not self.chunks:
            piece, self._buffer = bytes(self._buffer), bytearray()
            self._send(piece)

    def _send(self, piece: bytes) -> None:
        asyncio.run_coroutine_threadsafe(self._store(self.chunks, piece), self._loop).result()
        self.chunks += 1


class ChunksReader(io.RawIOBase):
    """A stored payload's chunks read as one binary stream, without joining them.

    Each chunk is dropped from ``chunks`` (the list is the reader's) once it has been read.
    """

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._index = 0
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        while self._index < len(self._chunks) and self._offset >= len(self._chunks[self._index]):
            self._chunks[self._index] = b""
            self._index += 1
            self._offset = 0
        if self._index >= len(self._chunks) or not len(target):
            return 0
        chunk = self._chunks[self._index]
        n = min(len(target), len(chunk) - self._offset)
        target[:n] = memoryview(chunk)[self._offset : self._offset + n]
        self._offset += n
        return n


def _dump(matcher: Matcher, sink: ChunkSink) -> None:
    joblib.dump(matcher, sink, compress=1)
    sink.finish()


def _undump(payload: bytes | ChunksReader) -> Matcher:
    stream = io.BufferedReader(payload) if isinstance(payload, ChunksReader) else io.BytesIO(payload)
    matcher = joblib.load(stream)
    if not isinstance(matcher, Matcher):
        raise TypeError("the stored build does not hold a Matcher")
    if getattr(matcher, "state_format_", None) != STATE_FORMAT:
        raise ValueError("the stored build was written by another version of the matcher")
    return matcher


# ---------------------------------------------------------------------------------------------- the hook


def changed_records(records: Collection[object]) -> set[tuple[str, int]]:
    """The feed rows a set of new, changed or deleted ORM records calls for."""
    rows: set[tuple[str, int]] = set()
    for record in records:
        if isinstance(record, Expert):
            rows.add((EXPERT, record.id))
        elif isinstance(record, Achievement | Agreement):
            # an achievement changes the expert's profile; an agreement the expert's workload
            rows.add((EXPERT, record.expert_id))
        elif isinstance(record, Order):
            rows.add((ORDER, record.id))
    return {(entity, entity_id) for entity, entity_id in rows if entity_id is not None}


def _write_feed(session: Session, _flush: UOWTransaction) -> None:
    # after_flush still sees what the flush wrote; the rows go into the same transaction
    rows = changed_records(list(chain(session.new, session.dirty, session.deleted)))
    if rows:
        session.connection().execute(
            insert(MatcherChange),
            [{"entity": entity, "entity_id": entity_id} for entity, entity_id in sorted(rows)],
        )


event.listen(Session, "after_flush", _write_feed)
