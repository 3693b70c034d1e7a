"""What chaining the audit trail costs on the write path (PostgreSQL): a small timing comparison.

Each transaction appends one audit event and commits, once as before the chain (a plain INSERT) and
once through ``record_event`` (advisory lock, head read with the next id, SHA-256, INSERT), first one
after another, then from several concurrent sessions (where the lock makes them queue).

    python scripts/bench_audit_chain.py postgresql+asyncpg://postgres@127.0.0.1:5432/studio_match_bench

The database is created (or emptied) and migrated first.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app import migrations
from app.audit.models import AuditEvent
from app.audit.service import record_event
from app.db import create_engine


async def _recreate(url: str) -> None:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        user=parsed.username, password=parsed.password, host=parsed.host, port=parsed.port or 5432
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await connection.close()


async def plain(session: AsyncSession, n: int) -> None:
    """The write path before the chain: one INSERT (chain columns filled with throwaway values)."""
    digest = uuid.uuid4().hex * 2
    session.add(
        AuditEvent(
            action="bench.event",
            entity_type="experts",
            entity_id=n,
            after={"n": n, "说明": "基准"},
            seq=-(uuid.uuid4().int % 2**62),
            prev_hash=digest,
            row_hash=digest,
        )
    )
    await session.flush()


async def chained(session: AsyncSession, n: int) -> None:
    """The write path now."""
    await record_event(
        session,
        actor=None,
        action="bench.event",
        entity_type="experts",
        entity_id=n,
        details={"n": n, "说明": "基准"},
    )


async def run(
    engine: AsyncEngine, append: Callable[[AsyncSession, int], Awaitable[None]], writers: int, each: int
) -> list[float]:
    """Commit ``each`` transactions from each of ``writers`` sessions; return every transaction's seconds."""
    timings: list[float] = []

    async def writer(w: int) -> None:
        for i in range(each):
            started = time.perf_counter()
            async with AsyncSession(engine) as session:
                await append(session, w * each + i)
                await session.commit()
            timings.append(time.perf_counter() - started)

    await asyncio.gather(*(writer(w) for w in range(writers)))
    return timings


def _line(name: str, timings: list[float], wall: float) -> str:
    ms = sorted(t * 1000 for t in timings)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return (
        f"{name:<28} {len(ms):>4} tx  median {statistics.median(ms):6.2f} ms  p95 {p95:6.2f} ms"
        f"  {len(ms) / wall:7.0f} tx/s"
    )


async def main(url: str) -> None:
    """Create and migrate the database, then time both write paths, sequential and concurrent."""
    await _recreate(url)
    await asyncio.to_thread(migrations.upgrade, url)
    engine = create_engine(url)
    try:
        for writers, each in ((1, 300), (8, 40)):
            for name, append in (("plain insert", plain), ("chained (record_event)", chained)):
                async with engine.begin() as connection:  # the same table size for both
                    await connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
                    await connection.execute(text("TRUNCATE audit_events"))
                    await connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
                await run(engine, append, writers, 5)  # warm the pool
                started = time.perf_counter()
                timings = await run(engine, append, writers, each)
                wall = time.perf_counter() - started
                print(_line(f"{name}, {writers} writer(s)", timings, wall))
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1]
            if len(sys.argv) > 1
            else "postgresql+asyncpg://postgres@127.0.0.1:5432/studio_match_bench_audit"
        )
    )
