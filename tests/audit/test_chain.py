"""The audit trail is a hash chain: ``studio-match audit verify`` finds an edit, a deletion, a reordering
and cut-off newest events (with an anchor), and concurrent appends never fork it, on PostgreSQL and SQLite.

The events are committed through the app's own sessions on a database of this module's own, and the
command reads them with its own engine, as an operator runs it. Tampering is done as the owner (here
the superuser), who disables the append-only triggers first: exactly what the app's role cannot do.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app import migrations
from app.audit.chain import row_hash
from app.audit.models import AuditAnchor, AuditEvent
from app.audit.service import record_event
from app.cli import cli
from app.config import get_settings
from app.db import create_engine
from tests.conftest import own_migrated_database


@pytest.fixture(scope="module")
def chain_database_url() -> Iterator[str]:
    yield from own_migrated_database("chain")


async def _as_owner(
    url: str, *statements: str, tables: tuple[str, ...] = ("audit_events", "audit_anchors")
) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            postgresql = connection.dialect.name == "postgresql"
            if postgresql:
                for table in tables:
                    await connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            for statement in statements:
                await connection.execute(text(statement))
            if postgresql:
                for table in tables:
                    await connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    finally:
        await engine.dispose()


@pytest.fixture
def pg_url(chain_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The module's PostgreSQL database with an empty trail; the command points at it."""
    asyncio.run(_as_owner(chain_database_url, "TRUNCATE audit_events, audit_anchors"))
    monkeypatch.setenv("STUDIO_MATCH_DATABASE_URL", chain_database_url)
    get_settings.cache_clear()
    yield chain_database_url
    get_settings.cache_clear()


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated embedded database; the command points at it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'studio-match.db'}"
    migrations.upgrade(url)
    monkeypatch.setenv("STUDIO_MATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def _append(url: str, count: int, *, writers: int = 1, pause: float = 0.0) -> None:
    """Commit ``count`` events from each of ``writers`` concurrent sessions (one connection each)."""
    engine = create_engine(url)

    async def writer(number: int) -> None:
        for i in range(count):
            async with AsyncSession(engine, expire_on_commit=False) as session:
                await record_event(
                    session,
                    actor=None,
                    action="test.event",
                    entity_type="experts",
                    entity_id=number * 1000 + i,
                    details={"说明": f"第 {number} 号写入者的第 {i} 条", "n": i, "pair": (number, i)},
                )
                if pause:  # hold the transaction open after the append, as a slow request would
                    await asyncio.sleep(pause)
                await session.commit()

    try:
        await asyncio.gather(*(writer(n) for n in range(writers)))
    finally:
        await engine.dispose()


async def _ids_by_seq(url: str) -> dict[int, int]:
    engine = create_engine(url)
    try:
        async with AsyncSession(engine) as session:
            return {seq: id_ for id_, seq in await session.execute(select(AuditEvent.id, AuditEvent.seq))}
    finally:
        await engine.dispose()


def _verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "verify", *args])
    return result.exit_code, result.output


def test_an_intact_chain_verifies_and_its_head_is_anchored(pg_url: str) -> None:
    asyncio.run(_append(pg_url, 5))
    code, output = _verify()
    assert code == 0, output
    assert "审计链完整：共 5 条事件" in output
    assert re.search(r"链头：第 5 条，哈希 [0-9a-f]{64}", output)

    async def anchors() -> list[int]:
        engine = create_engine(pg_url)
        async with AsyncSession(engine) as session:
            seqs = list(await session.scalars(select(AuditAnchor.seq)))
        await engine.dispose()
        return seqs

    assert asyncio.run(anchors()) == [5]
    code, output = _verify()  # the anchor it left is checked on the next walk
    assert code == 0 and "核对锚点 1 个" in output, output


def test_a_changed_event_is_reported_with_its_id(pg_url: str) -> None:
    asyncio.run(_append(pg_url, 5))
    changed = asyncio.run(_ids_by_seq(pg_url))[3]
    asyncio.run(_as_owner(pg_url, f"""UPDATE audit_events SET after = '{{"n": 99}}' WHERE id = {changed}"""))
    code, output = _verify()
    assert code == 1, output
    assert "，changed）" in output and f"事件 #{changed}（第 3 条）的内容与其哈希不符" in output
    assert "此前的 2 条事件完好" in output


def test_a_deleted_middle_event_is_reported(pg_url: str) -> None:
    asyncio.run(_append(pg_url, 5))
    ids = asyncio.run(_ids_by_seq(pg_url))
    asyncio.run(_as_owner(pg_url, f"DELETE FROM audit_events WHERE id = {ids[3]}"))
    code, output = _verify()
    assert code == 1, output
    assert "，deleted）" in output
    assert f"事件 #{ids[2]} 之后、事件 #{ids[4]}（第 4 条）之前的第 3 条事件不见了" in output


def test_deleted_first_events_are_reported(pg_url: str) -> None:
    asyncio.run(_append(pg_url, 4))
    ids = asyncio.run(_ids_by_seq(pg_url))
    asyncio.run(_as_owner(pg_url, f"DELETE FROM audit_events WHERE id IN ({ids[1]}, {ids[2]})"))
    code, output = _verify()
    assert code == 1 and "，deleted）" in output and "第 1–2 条事件不见了" in output, output


def test_swapped_events_are_reported(pg_url: str) -> None:
    asyncio.run(_append(pg_url, 5))
    ids = asyncio.run(_ids_by_seq(pg_url))
    second, third = ids[2], ids[3]
    asyncio.run(
        _as_owner(
            pg_url,
            f"UPDATE audit_events SET id = -1 WHERE id = {second}",
            f"UPDATE audit_events SET id = {second} WHERE id = {third}",
            f"UPDATE audit_events SET id = {third} WHERE id = -1",
        )
    )
    code, output = _verify()
    assert code == 1, output
    assert "，reordered）" in output and f"事件 #{second} 是第 3 条" in output


def test_a_rewritten_and_rehashed_event_breaks_the_next_link(pg_url: str) -> None:
    # someone who knows the scheme rewrites an event and recomputes its hash: the next one names the old hash
    asyncio.run(_append(pg_url, 4))
    ids = asyncio.run(_ids_by_seq(pg_url))

    async def rewrite() -> str:
        engine = create_engine(pg_url)
        async with engine.connect() as connection:
            table = AuditEvent.__table__
            row = dict((await connection.execute(select(table).where(table.c.id == ids[2]))).mappings().one())
        await engine.dispose()
        return row_hash({**row, "after": {"n": 99}})

    digest = asyncio.run(rewrite())
    asyncio.run(
        _as_owner(
            pg_url,
            f"""UPDATE audit_events SET after = '{{"n": 99}}', row_hash = '{digest}' WHERE id = {ids[2]}""",
        )
    )
    code, output = _verify()
    assert code == 1 and "，relinked）" in output and f"事件 #{ids[3]} 记录的前一哈希" in output, output


def test_cut_off_newest_events_are_found_by_an_anchor_and_only_by_one(pg_url: str) -> None:
    asyncio.run(_append(pg_url, 5))
    code, output = _verify()
    assert code == 0, output
    head = re.search(r"链头：第 5 条，哈希 ([0-9a-f]{64})", output)
    assert head is not None
    ids = asyncio.run(_ids_by_seq(pg_url))
    asyncio.run(_as_owner(pg_url, f"DELETE FROM audit_events WHERE id IN ({ids[4]}, {ids[5]})"))
    code, output = _verify()
    assert code == 1 and "，truncated）" in output and "链曾有 5 条事件，现在只有 3 条" in output, output

    # both tables emptied: the database alone cannot tell (an empty chain is intact) ...
    asyncio.run(_as_owner(pg_url, "TRUNCATE audit_events, audit_anchors"))
    code, output = _verify("--no-anchor")
    assert code == 0 and "共 0 条事件" in output, output
    # ... the head kept outside the database (the log's audit.anchor line) can
    code, output = _verify("--expect", f"5:{head.group(1)}")
    assert code == 1 and "，truncated）" in output and "外部保存" in output, output


def test_concurrent_appends_from_many_sessions_make_one_unbroken_chain(pg_url: str) -> None:
    asyncio.run(_append(pg_url, 10, writers=8, pause=0.005))
    by_seq = asyncio.run(_ids_by_seq(pg_url))
    assert sorted(by_seq) == list(range(1, 81))
    ids_in_chain_order = [by_seq[seq] for seq in sorted(by_seq)]
    assert ids_in_chain_order == sorted(ids_in_chain_order)  # ids rise along the chain
    code, output = _verify("--batch-size", "7")  # batches that end mid-chain
    assert code == 0 and "共 80 条事件" in output, output


def test_the_embedded_database_chains_concurrent_appends_and_finds_an_edit(sqlite_url: str) -> None:
    asyncio.run(_append(sqlite_url, 5, writers=4))
    by_seq = asyncio.run(_ids_by_seq(sqlite_url))
    assert sorted(by_seq) == list(range(1, 21))
    code, output = _verify()
    assert code == 0 and "共 20 条事件" in output, output
    asyncio.run(
        _as_owner(
            sqlite_url,
            "DROP TRIGGER audit_events_no_update",
            f"UPDATE audit_events SET action = 'test.other' WHERE id = {by_seq[7]}",
        )
    )
    code, output = _verify()
    assert code == 1 and "，changed）" in output and f"事件 #{by_seq[7]}（第 7 条）" in output, output


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_the_migration_chains_the_events_written_before_it_in_id_order(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "sqlite":
        url, name = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", None
    else:
        from tests.conftest import TEST_DATABASE, create_database

        name = f"{TEST_DATABASE}_chain_migration"
        url = create_database(name)
    try:
        migrations.upgrade(url, "20261203_0006")
        rows = [
            "(5, '2026-11-30 08:00:00.123456+00', NULL, 'order.created', 'orders', 1, NULL,"
            """ '{"title": "数控机床主轴振动诊断", "budget": "20000.00"}', 'req-1')""",
            "(9, '2026-12-01 09:30:00+00', NULL, 'order.updated', 'orders', 1,"
            """ '{"status": "draft"}', '{"status": "published"}', NULL)""",
            "(7, '2026-11-30 10:00:00.5+00', NULL, 'expert.created', 'experts', 3, NULL, '{}', NULL)",
        ]
        values = ", ".join(rows)
        if kind == "sqlite":  # SQLite stores timestamps as text without the offset
            values = values.replace("+00'", "'")
        asyncio.run(
            _as_owner(
                url,
                "INSERT INTO audit_events (id, occurred_at, actor_user_id, action, entity_type, entity_id,"
                f" before, after, request_id) VALUES {values}",
                tables=("audit_events",),
            )
        )
        migrations.upgrade(url)
        assert asyncio.run(_ids_by_seq(url)) == {1: 5, 2: 7, 3: 9}
        monkeypatch.setenv("STUDIO_MATCH_DATABASE_URL", url)
        get_settings.cache_clear()
        code, output = _verify()
        assert code == 0 and "共 3 条事件" in output, output
        asyncio.run(_append(url, 1))  # the app goes on from the migrated head
        code, output = _verify()
        assert code == 0 and "共 4 条事件" in output, output
        migrations.downgrade(url, "20261203_0006")
    finally:
        get_settings.cache_clear()
        if name is not None:
            from tests.conftest import drop_database

            drop_database(name)
