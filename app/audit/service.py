"""Writing the audit trail. Every service that changes a record calls ``record_change`` before committing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.audit.models import AuditEvent
from app.db import Base
from app.logging import request_id_var

M = TypeVar("M", bound=Base)

# never copied into the trail: secrets stay out of an append-only table, and derived search tokens
# (app/search.py) are no one's edit (and are not loaded with the record)
_REDACTED_COLUMNS = frozenset({"password_hash", "search_tokens"})


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
    session.add(event)
    await session.flush()
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
    session.add(event)
    await session.flush()
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
