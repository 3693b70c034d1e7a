"""Every SQL statement of the audit trail: the chain lock, its head, the walk in batches, the anchors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditAnchor, AuditEvent

# pg_advisory_xact_lock's key for "appending to the audit chain" (any constant no other lock uses;
# the bytes spell "auditchn")
CHAIN_LOCK_KEY = 0x61756469_7463686E

_EVENTS = cast(Table, AuditEvent.__table__)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest link: where the next event goes."""

    next_id: int
    seq: int
    row_hash: str | None


class AuditRepository:
    """Reads and appends of ``audit_events`` and ``audit_anchors``; flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind the repository to the use case's session."""
        self.session = session

    async def lock_chain_and_read_head(self) -> ChainHead:
        """Hold the chain until this transaction ends, then read its head and the next event id.

        PostgreSQL: a transaction-scoped advisory lock, so appends from every worker and machine
        queue up, each one reading the head its predecessor committed (READ COMMITTED takes a new
        snapshot per statement, and the head is read after the lock is granted). The id is drawn from
        the table's sequence under the lock, so ids rise in chain order. SQLite: a write that changes
        nothing takes the database's single write lock first; without it the driver would read the
        head outside any transaction and a second process could append in between.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
            row = (
                await self.session.execute(
                    # above the head's id even when the sequence lags (rows copied in with their ids)
                    text(
                        "SELECT greatest(nextval(pg_get_serial_sequence('audit_events', 'id')),"
                        " coalesce(head.id, 0) + 1) AS next_id, head.seq, head.row_hash"
                        " FROM (SELECT 1) AS one LEFT JOIN"
                        " (SELECT id, seq, row_hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS head ON true"
                    )
                )
            ).one()
            return ChainHead(next_id=int(row.next_id), seq=int(row.seq or 0), row_hash=row.row_hash)
        await self.session.execute(update(_EVENTS).where(text("0 = 1")).values(seq=_EVENTS.c.seq))
        row = (
            await self.session.execute(
                select(
                    select(func.coalesce(func.max(AuditEvent.id), 0)).scalar_subquery(),
                    select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1).scalar_subquery(),
                    select(AuditEvent.row_hash).order_by(AuditEvent.seq.desc()).limit(1).scalar_subquery(),
                )
            )
        ).one()
        return ChainHead(next_id=int(row[0]) + 1, seq=int(row[1] or 0), row_hash=row[2])

    async def add(self, event: AuditEvent) -> None:
        """Insert a linked event."""
        self.session.add(event)
        await self.session.flush()

    async def count(self) -> int:
        """Return the number of events stored."""
        return int(await self.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)

    async def batch_after(self, after_id: int, size: int) -> Sequence[dict[str, Any]]:
        """Return up to ``size`` events with an id above ``after_id``, in id order, as column → value."""
        rows = await self.session.execute(
            select(_EVENTS).where(_EVENTS.c.id > after_id).order_by(_EVENTS.c.id).limit(size)
        )
        return [dict(row) for row in rows.mappings()]

    async def id_of_seq(self, seqs: range) -> int | None:
        """Return the id of an event whose position is in ``seqs`` (it sits elsewhere), or ``None``."""
        return await self.session.scalar(
            select(AuditEvent.id).where(AuditEvent.seq >= seqs.start, AuditEvent.seq < seqs.stop).limit(1)
        )

    async def event_at(self, seq: int) -> tuple[int, str] | None:
        """Return ``(id, row_hash)`` of the event at position ``seq``, or ``None``."""
        row = (
            await self.session.execute(
                select(AuditEvent.id, AuditEvent.row_hash).where(AuditEvent.seq == seq)
            )
        ).one_or_none()
        return None if row is None else (int(row[0]), str(row[1]))

    async def anchors(self) -> Sequence[AuditAnchor]:
        """Return every anchor, oldest position first."""
        return (
            await self.session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq, AuditAnchor.id))
        ).all()

    async def add_anchor(self, anchor: AuditAnchor) -> None:
        """Insert an anchor."""
        self.session.add(anchor)
        await self.session.flush()

    async def head_event(self) -> AuditEvent | None:
        """Return the newest committed event (no lock: an anchor may lag the head, never lead it)."""
        return await self.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))

    async def schema_tables(self) -> tuple[str, str, list[str]]:
        """Return the database's name, the current schema and its tables (PostgreSQL)."""
        database, schema = (
            await self.session.execute(text("SELECT current_database(), current_schema()"))
        ).one()
        tables = await self.session.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
        )
        return str(database), str(schema), [str(t) for t in tables]

    async def execute_statements(self, statements: Sequence[str]) -> None:
        """Run DDL/DCL statements built from checked identifiers (``app.audit.roles``)."""
        for statement in statements:
            await self.session.execute(text(statement))
