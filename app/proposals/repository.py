"""Queries for proposals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, delete, func, insert, literal, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.experts.models import Expert
from app.proposals.models import (
    MatcherBuild,
    MatcherBuildChunk,
    MatcherBuildStatus,
    MatcherChange,
    Proposal,
    ProposalStatus,
)
from app.repository import Repository


class ProposalRepository(Repository[Proposal]):
    """Proposals of an order, with the proposed experts."""

    model = Proposal

    async def for_order(self, order_id: int) -> Sequence[tuple[Proposal, Expert]]:
        """The order's proposals with their experts, best rank first."""
        rows = await self.session.execute(
            select(Proposal, Expert)
            .join(Expert, Expert.id == Proposal.expert_id)
            .where(Proposal.order_id == order_id)
            .order_by(Proposal.rank, Proposal.id)
        )
        return [(proposal, expert) for proposal, expert in rows.all()]

    async def by_expert(self, order_id: int) -> dict[int, Proposal]:
        """The order's proposals keyed by expert id."""
        rows = await self.session.scalars(select(Proposal).where(Proposal.order_id == order_id))
        return {p.expert_id: p for p in rows.all()}

    async def of_expert(self, order_id: int, expert_id: int) -> Proposal | None:
        """The proposal of this expert for this order, if the matcher made one."""
        return await self.session.scalar(
            select(Proposal).where(Proposal.order_id == order_id, Proposal.expert_id == expert_id)
        )

    async def invitations_for(self, expert_id: int) -> Sequence[Proposal]:
        """The expert's open invitations, newest first."""
        statement = (
            select(Proposal)
            .where(Proposal.expert_id == expert_id, Proposal.status == ProposalStatus.INVITED)
            .order_by(Proposal.id.desc())
        )
        return (await self.session.scalars(statement)).all()


class MatcherStoreRepository:
    """The matcher's change feed and its stored index versions (builds, in chunks).

    PostgreSQL orders the feed by transaction: a change's id is handed out before its transaction
    commits, so a reader that advanced past an id could miss a smaller one committed later. Instead
    every change below the oldest transaction still running (``pg_snapshot_xmin``) is final, and
    that xid is the reader's cursor. SQLite runs one writing transaction at a time, so there ids do
    arrive in commit order and the last id read is the cursor.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    async def record_changes(self, rows: Sequence[tuple[str, int]]) -> None:
        """Add feed rows in the session's transaction (the hook calls the sync twin below)."""
        await self.session.execute(insert(MatcherChange), [{"entity": e, "entity_id": i} for e, i in rows])

    async def feed_after(self, watermark: int) -> FeedRead:
        """The latest ready build and the feed rows at or after ``watermark``, read in one statement.

        Returns the new watermark too (PostgreSQL: the oldest running transaction; SQLite: the last id).
        """
        latest = select(func.max(MatcherBuild.id)).where(MatcherBuild.status == MatcherBuildStatus.READY)
        change = MatcherChange.__table__
        if self._postgresql:
            head = select(
                literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger).label(
                    "xmin"
                ),
                latest.scalar_subquery().label("latest_build"),
            ).subquery()
            condition = change.c.xid >= watermark
        else:
            head = select(
                literal(None, BigInteger).label("xmin"), latest.scalar_subquery().label("latest_build")
            ).subquery()
            condition = change.c.id > watermark
        statement = (
            select(
                head.c.xmin,
                head.c.latest_build,
                change.c.id,
                change.c.entity,
                change.c.entity_id,
                change.c.xid,
            )
            .select_from(head.outerjoin(change, condition))
            .order_by(change.c.id)
        )
        rows = (await self.session.execute(statement)).all()
        xmin, latest_build = rows[0].xmin, rows[0].latest_build
        changes = [FeedRow(r.id, r.entity, r.entity_id, r.xid) for r in rows if r.id is not None]
        if xmin is None:  # SQLite: every row read is final
            xmin = max([watermark, *(c.id for c in changes)])
        return FeedRead(int(xmin), latest_build, changes)

    async def build_watermark(self) -> tuple[int, int]:
        """Where the feed continues after a build reading the database now: (watermark, last change id).

        Call it first in the build's transaction, so that it shares the transaction's snapshot.
        """
        last = await self.session.scalar(select(func.coalesce(func.max(MatcherChange.id), 0)))
        if self._postgresql:
            xmin = await self.session.scalar(
                text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            )
            return int(xmin), int(last or 0)
        return int(last or 0), int(last or 0)

    async def latest_ready_build(self) -> MatcherBuild | None:
        """The newest build that is completely written."""
        return await self.session.scalar(
            select(MatcherBuild)
            .where(MatcherBuild.status == MatcherBuildStatus.READY)
            .order_by(MatcherBuild.id.desc())
            .limit(1)
        )

    async def get_build(self, build_id: int) -> MatcherBuild | None:
        """A stored build by id."""
        return await self.session.get(MatcherBuild, build_id)

    async def begin_build(self, build: MatcherBuild) -> MatcherBuild:
        """Add a build that is being written (its chunks follow, then ``finish_build``)."""
        self.session.add(build)
        await self.session.flush()
        return build

    async def add_chunk(self, build_id: int, seq: int, data: bytes) -> None:
        """Store the ``seq``-th piece of a build's payload (in the caller's transaction)."""
        await self.session.execute(insert(MatcherBuildChunk).values(build_id=build_id, seq=seq, data=data))

    async def finish_build(self, build: MatcherBuild, size_bytes: int) -> MatcherBuild:
        """Mark a build whose chunks are all stored ready (in the caller's transaction)."""
        build.size_bytes = size_bytes
        build.status = MatcherBuildStatus.READY
        await self.session.flush()
        return build

    async def add_build(self, build: MatcherBuild, payload: bytes, chunk_size: int) -> MatcherBuild:
        """Store a build and a payload held in memory in chunks, then mark it ready (small payloads, tests)."""
        await self.begin_build(build)
        for seq, start in enumerate(range(0, max(len(payload), 1), chunk_size)):
            await self.add_chunk(build.id, seq, payload[start : start + chunk_size])
        return await self.finish_build(build, len(payload))

    async def chunks(self, build_id: int) -> list[bytes]:
        """A stored build's payload as its chunks, in order (not joined: the reader reads across them)."""
        result = await self.session.stream_scalars(
            select(MatcherBuildChunk.data)
            .where(MatcherBuildChunk.build_id == build_id)
            .order_by(MatcherBuildChunk.seq)
        )
        return [bytes(chunk) async for chunk in result]

    async def payload(self, build_id: int) -> bytes:
        """A stored build's payload, its chunks joined in order (one copy: ``bytes.join``)."""
        return b"".join(await self.chunks(build_id))

    async def prune(self, keep: int) -> None:
        """Keep the ``keep`` newest builds and the feed rows the oldest of them still needs."""
        kept = (
            await self.session.scalars(select(MatcherBuild).order_by(MatcherBuild.id.desc()).limit(keep))
        ).all()
        if len(kept) < keep:
            return
        oldest = kept[-1]
        await self.session.execute(delete(MatcherBuild).where(MatcherBuild.id < oldest.id))
        column = MatcherChange.xid if self._postgresql else MatcherChange.id
        await self.session.execute(delete(MatcherChange).where(column < oldest.watermark))

    async def lock_builds(self) -> None:
        """Hold the cluster-wide build lock until ``unlock_builds`` (PostgreSQL; a no-op on SQLite)."""
        if self._postgresql:
            await self.session.execute(select(func.pg_advisory_lock(BUILD_LOCK_KEY)))

    async def unlock_builds(self) -> None:
        """Release the lock taken by ``lock_builds``."""
        if self._postgresql:
            await self.session.execute(select(func.pg_advisory_unlock(BUILD_LOCK_KEY)))


# one application-wide advisory lock key: two processes never build the first index at once
BUILD_LOCK_KEY = 0x5D_3A_7C_01


@dataclass(frozen=True, slots=True)
class FeedRow:
    """A change read from the feed."""

    id: int
    entity: str
    entity_id: int
    xid: int | None


@dataclass(frozen=True, slots=True)
class FeedRead:
    """What one read of the feed returned."""

    watermark: int
    latest_build: int | None
    changes: list[FeedRow]
