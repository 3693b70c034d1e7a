"""Readiness checks: the database answers and its schema is at the migration head."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.migrations import head_revision


@dataclass(frozen=True, slots=True)
class Readiness:
    """What the readiness probe found."""

    database: bool
    revision: str | None
    head: str

    @property
    def ready(self) -> bool:
        """True when the database answers and is migrated to head."""
        return self.database and self.revision == self.head


async def check_readiness(session: AsyncSession) -> Readiness:
    """Ask the database for its current migration revision."""
    head = head_revision()
    try:
        revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        # unreachable, or never migrated (no alembic_version table): either way not ready
        try:
            await session.rollback()
            await session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return Readiness(database=False, revision=None, head=head)
        return Readiness(database=True, revision=None, head=head)
    return Readiness(database=True, revision=revision, head=head)
