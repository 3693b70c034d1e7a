"""Writing and checking the audit trail.

Every service that changes a record calls ``record_change`` before committing; each event is linked
into a hash chain (``app.audit.chain``) in the caller's transaction. ``verify_chain`` walks the chain
from its first event and reports the first broken link; ``record_anchor`` remembers the head.

Appending holds the chain from the append to the end of the caller's transaction (an advisory lock
on PostgreSQL, the write lock on SQLite): appends from every worker and machine are serialised, so
the chain cannot fork, at the price that writing transactions queue for the short stretch between
their first audit event and their commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.audit import roles
from app.audit.chain import GENESIS, BreakKind, json_round_trip, row_hash
from app.audit.models import AuditAnchor, AuditEvent
from app.audit.repository import AuditRepository
from app.db import Base, utcnow
from app.logging import request_id_var

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Base)

# never copied into the trail: secrets stay out of an append-only table, and derived search tokens
# (app/search.py) are no one's edit (and are not loaded with the record)
_REDACTED_COLUMNS = frozenset({"password_hash", "search_tokens"})


_COLUMNS = tuple(column.name for column in AuditEvent.__table__.columns)


async def _append(session: AsyncSession, event: AuditEvent) -> None:
    # the values are set here, not by column defaults at flush time: the hash must cover exactly what
    # is stored (JSON as it reads back, the timestamp the row gets)
    repository = AuditRepository(session)
    head = await repository.lock_chain_and_read_head()
    event.id = head.next_id
    event.seq = head.seq + 1
    event.prev_hash = head.row_hash or GENESIS
    event.occurred_at = event.occurred_at or utcnow()
    event.before = json_round_trip(event.before)
    event.after = json_round_trip(event.after)
    event.row_hash = row_hash({name: getattr(event, name) for name in _COLUMNS})
    await repository.add(event)


def _json_safe(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def snapshot(record: Base) -> dict[str, Any]:
    """Return the record's column values as a JSON-safe dict (secrets left out)."""
    state = inspect(record)
    return {
        attr.key: _json_safe(getattr(record, attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in _REDACTED_COLUMNS
    }


async def record_change(
    session: AsyncSession,
    *,
    actor: Actor | None,
    action: str,
    record: Base,
    before: dict[str, Any] | None,
) -> AuditEvent | None:
    """Append an audit event for ``record`` in the caller's transaction.

    Args:
        session: the use case's session; the event commits or rolls back with the change itself.
        actor: who did it (``None`` for trusted jobs such as the demo loader).
        action: an English event name such as ``order.created``.
        record: the changed record, already flushed (so it has its id and new values).
        before: ``snapshot(record)`` taken before the change, or ``None`` for a creation.

    Returns:
        The staged event, or ``None`` when an update changed nothing (no event is written).
    """
    after = snapshot(record)
    entity_id = int(after["id"])
    if before is not None:
        # keep only what changed, so the trail shows the edit rather than the whole row twice
        changed = {k for k in after if before.get(k) != after[k]}
        if not changed:
            return None
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after[k] for k in sorted(changed)}
    event = AuditEvent(
        actor_user_id=actor.user_id if actor else None,
        action=action,
        entity_type=type(record).__tablename__,
        entity_id=entity_id,
        before=before,
        after=after,
        request_id=request_id_var.get(),
    )
    await _append(session, event)
    return event


async def record_event(
    session: AsyncSession,
    *,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: int,
    details: dict[str, Any],
) -> AuditEvent:
    """Append an event that is not a single row's edit (e.g. a batch of proposals computed for an order)."""
    event = AuditEvent(
        actor_user_id=actor.user_id if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=None,
        after=_json_safe(details),
        request_id=request_id_var.get(),
    )
    await _append(session, event)
    return event


async def apply_changes(
    session: AsyncSession,
    *,
    actor: Actor,
    record: M,
    changes: Mapping[str, Any],
    action: str,
    check: Callable[[M], None] | None = None,
) -> None:
    """Apply a partial update to ``record``, check it, flush it and append its audit event.

    The caller still owns the transaction: it commits (or handles a flush error such as a stale
    version) after this returns.

    Args:
        session: the use case's session.
        actor: who makes the change.
        record: the loaded record.
        changes: field → new value, as sent by the caller.
        action: the audit event name, e.g. ``order.updated``.
        check: a rule the record must satisfy after the change; it raises a ``DomainError``.
    """
    before = snapshot(record)
    for field, value in changes.items():
        setattr(record, field, value)
    if check is not None:
        check(record)
    await session.flush()
    await record_change(session, actor=actor, action=action, record=record, before=before)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first broken link: the event where the walk stopped, what is wrong, and a Chinese detail."""

    kind: BreakKind
    event_id: int | None
    seq: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of a walk: events checked, the head reached, anchors checked, the first break."""

    events: int
    head_seq: int
    head_hash: str
    anchors: int
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        """Whether every link and every anchor held."""
        return self.broken is None


async def verify_chain(
    session: AsyncSession,
    *,
    batch_size: int = 1000,
    external_anchors: Sequence[tuple[int, str]] = (),
    on_batch: Callable[[int], None] | None = None,
) -> ChainReport:
    """Walk the audit chain from its first event in id order and report the first broken link.

    Checked for each event, in this order: its position follows the previous one (a gap is a
    deletion, a position found elsewhere a reordering), its ``prev_hash`` is the previous event's
    hash, and its values still hash to its ``row_hash``. Then every anchor (stored, and the ones
    given, e.g. from the log) must name an event still there with the same hash: this is what finds
    the newest events cut off, or the whole chain rewritten with recomputed hashes.

    Args:
        session: a session; nothing is written.
        batch_size: events read per query.
        external_anchors: ``(seq, row_hash)`` pairs kept outside the database.
        on_batch: called with the number of events after each batch (a progress bar).

    Returns:
        The report; ``report.ok`` when nothing is broken.
    """
    repository = AuditRepository(session)
    # anchors first: one recorded while we walk must not claim more than the walk could see
    anchors = [
        (a.seq, a.row_hash, a.recorded_at.isoformat(timespec="seconds")) for a in await repository.anchors()
    ]
    anchors += [(seq, digest, "外部保存") for seq, digest in external_anchors]
    events, expected, prev_hash, prev_id, after = 0, 1, GENESIS, None, 0
    while rows := await repository.batch_after(after, batch_size):
        for row in rows:
            broken = await _check_link(repository, row, expected, prev_hash, prev_id)
            if broken is not None:
                return ChainReport(events, expected - 1, prev_hash, 0, broken)
            events, expected, prev_hash, prev_id = events + 1, row["seq"] + 1, row["row_hash"], row["id"]
        after = rows[-1]["id"]
        if on_batch is not None:
            on_batch(len(rows))
    head_seq = expected - 1
    for checked, (seq, digest, when) in enumerate(sorted(anchors)):
        broken = await _check_anchor(repository, seq, digest, when, head_seq)
        if broken is not None:
            return ChainReport(events, head_seq, prev_hash, checked, broken)
    return ChainReport(events, head_seq, prev_hash, len(anchors), None)


async def _check_link(
    repository: AuditRepository, row: dict[str, Any], expected: int, prev_hash: str, prev_id: int | None
) -> ChainBreak | None:
    event_id, seq = int(row["id"]), int(row["seq"])
    after_prev = f"事件 #{prev_id} 之后" if prev_id is not None else "链首"
    if seq > expected:
        elsewhere = await repository.id_of_seq(range(expected, seq))
        if elsewhere is not None:
            return ChainBreak(
                BreakKind.REORDERED,
                event_id,
                seq,
                f"{after_prev}应为第 {expected} 条事件，而事件 #{event_id} 是第 {seq} 条，"
                f"前面的事件却在 #{elsewhere}：事件的顺序被调换。",
            )
        missing = f"第 {expected} 条" if seq == expected + 1 else f"第 {expected}–{seq - 1} 条"
        return ChainBreak(
            BreakKind.DELETED,
            event_id,
            seq,
            f"{after_prev}、事件 #{event_id}（第 {seq} 条）之前的{missing}事件不见了：事件被删除。",
        )
    if seq < expected:
        return ChainBreak(
            BreakKind.REORDERED,
            event_id,
            seq,
            f"事件 #{event_id} 是第 {seq} 条，却排在第 {expected - 1} 条（#{prev_id}）之后：事件的顺序被调换。",
        )
    if row["prev_hash"] != prev_hash:
        return ChainBreak(
            BreakKind.RELINKED,
            event_id,
            seq,
            f"事件 #{event_id} 记录的前一哈希与{'事件 #' + str(prev_id) if prev_id else '链的起点'}的哈希不符："
            "两者之一被改写（并重算了哈希）。",
        )
    if row_hash(row) != row["row_hash"]:
        return ChainBreak(
            BreakKind.CHANGED,
            event_id,
            seq,
            f"事件 #{event_id}（第 {seq} 条）的内容与其哈希不符：内容被改动。",
        )
    return None


async def _check_anchor(
    repository: AuditRepository, seq: int, digest: str, when: str, head_seq: int
) -> ChainBreak | None:
    if seq > head_seq:
        return ChainBreak(
            BreakKind.TRUNCATED,
            None,
            seq,
            f"锚点（{when}）记录链曾有 {seq} 条事件，现在只有 {head_seq} 条：最新的事件被删除。",
        )
    found = await repository.event_at(seq)
    if found is None or found[1] != digest:
        return ChainBreak(
            BreakKind.TRUNCATED,
            found[0] if found else None,
            seq,
            f"锚点（{when}）记录的第 {seq} 条事件的哈希与现在不符：整条链在此之后被重写。",
        )
    return None


async def verify_and_anchor(
    session: AsyncSession,
    *,
    batch_size: int = 1000,
    external_anchors: Sequence[tuple[int, str]] = (),
    on_batch: Callable[[int], None] | None = None,
    anchor: bool = True,
) -> tuple[ChainReport, AuditAnchor | None]:
    """Verify the chain (``verify_chain``) and, when it holds, remember its head (``record_anchor``).

    What ``studio-match audit verify`` and the nightly job run. A broken chain is logged as an error
    (``audit.chain_broken``) for the monitoring to pick up, and no anchor is taken over it.

    Returns:
        The report and the anchor recorded (``None``: broken, empty, or ``anchor=False``).
    """
    report = await verify_chain(
        session, batch_size=batch_size, external_anchors=external_anchors, on_batch=on_batch
    )
    await session.rollback()  # end the long read before the anchor's own short transaction
    if report.broken is not None:
        log.error(
            "audit.chain_broken kind=%s event_id=%s seq=%s intact_events=%s",
            report.broken.kind.value,
            report.broken.event_id,
            report.broken.seq,
            report.events,
        )
        return report, None
    log.info("audit.chain_verified events=%s anchors=%s", report.events, report.anchors)
    return report, (await record_anchor(session) if anchor else None)


async def record_anchor(session: AsyncSession) -> AuditAnchor | None:
    """Remember the chain's current head (position and hash) in ``audit_anchors`` and in the log.

    The log line is the copy that outlives someone who can empty both tables: keep the logs
    elsewhere, and pass a logged head back to ``verify_chain`` (``audit verify --expect``).

    Args:
        session: a session; the anchor is committed.

    Returns:
        The anchor, or ``None`` when the chain is still empty.
    """
    head = await AuditRepository(session).head_event()
    if head is None:
        return None
    anchor = AuditAnchor(event_id=head.id, seq=head.seq, row_hash=head.row_hash, recorded_at=utcnow())
    await AuditRepository(session).add_anchor(anchor)
    await session.commit()
    log.info("audit.anchor seq=%s event_id=%s row_hash=%s", anchor.seq, anchor.event_id, anchor.row_hash)
    return anchor


async def count_events(session: AsyncSession) -> int:
    """Return the number of events in the trail (the length of a verify walk)."""
    return await AuditRepository(session).count()


async def database_grants(session: AsyncSession, role: str, *, apply: bool) -> list[str]:
    """Build (and with ``apply``, run and commit) the GRANTs of the app's database role (PostgreSQL).

    Args:
        session: a session connected as the owner of the tables (to apply).
        role: the app's login role.
        apply: run the statements, not only return them.

    Returns:
        The statements.

    Raises:
        ValueError: ``role`` is not a plain identifier.
    """
    repository = AuditRepository(session)
    database, schema, tables = await repository.schema_tables()
    statements = roles.grant_statements(role, database=database, schema=schema, tables=tables)
    if apply:
        await repository.execute_statements(statements)
        await session.commit()
        log.info("audit.grants_applied role=%s tables=%s", role, len(tables))
    return statements
