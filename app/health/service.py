"""Readiness checks: the database answers and its schema is at the migration head."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DatabaseFault, DatabaseUnavailable, database_fault
from app.migrations import head_revision


@dataclass(frozen=True, slots=True)
class Readiness:
    """What the readiness probe found; ``fault`` says why the database did not answer."""

    database: bool
    revision: str | None
    head: str
    fault: DatabaseFault | None = None

    @property
    def ready(self) -> bool:
        """True when the database answers and is migrated to head."""
        return self.database and self.revision == self.head


async def check_readiness(session: AsyncSession) -> Readiness:
    """Ask the database for its current migration revision.

    Never raises: whatever goes wrong (refused, reset, timeout, pool exhausted, no ``alembic_version``
    table) is a finding of the probe, which answers 503 for it.
    """
    head = head_revision()
    try:
        revision = await _revision(session)
    except Exception:
        # a pooled connection the server dropped: the pool is now invalidated, so ask once more on a
        # fresh one (the probe must not report "never migrated" for a connection that was lost)
        try:
            await session.rollback()
            revision = await _revision(session)
        except Exception:
            return await _why_not(session, head)
    return Readiness(database=True, revision=revision, head=head)


async def _revision(session: AsyncSession) -> str | None:
    revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    return None if revision is None else str(revision)


async def _why_not(session: AsyncSession, head: str) -> Readiness:
    # unreachable, or never migrated (no alembic_version table): tell them apart with a plain query
    try:
        await session.rollback()
        await session.execute(text("SELECT 1"))
    except Exception as exc:
        fault = database_fault(exc) or DatabaseUnavailable()
        return Readiness(database=False, revision=None, head=head, fault=fault)
    return Readiness(database=True, revision=None, head=head)
