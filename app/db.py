"""Database plumbing: declarative base, engine and session factories, the request session dependency."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import JSON, DateTime, Dialect, Enum, Index, MetaData, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only

from app.clock import utcnow
from app.config import DatabaseLimits

__all__ = [
    "Base",
    "SessionDep",
    "TimestampMixin",
    "create_engine",
    "create_sessionmaker",
    "get_session",
    "str_enum",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every database: stored in UTC, read back aware.

    PostgreSQL keeps the offset (``timestamptz``); SQLite stores text and hands back naive values,
    which could not be compared with the aware ones the services make (the embedded default would
    fail on the second signature of an agreement). Naive values read back are UTC, since that is
    how they were written.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base for every ORM model; one metadata, with a naming convention for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class TimestampMixin:
    """``created_at`` / ``updated_at`` columns maintained by the ORM."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _dump_json(value: Any) -> str:
    # Chinese stays readable in the database, and JSON list filters can match the literal text.
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def create_engine(
    database_url: str, *, echo: bool = False, limits: DatabaseLimits | None = None
) -> AsyncEngine:
    """Create the async engine for ``database_url`` (PostgreSQL via asyncpg, or embedded SQLite).

    For SQLite the parent directory is created, and foreign keys are switched on for every connection,
    so both databases enforce the same integrity rules.

    Args:
        database_url: SQLAlchemy URL of the database.
        echo: log every statement.
        limits: statement, lock, connect and pool timeouts and the pool size (PostgreSQL only). The
            service passes its settings; without them (migrations, batch commands, tests) statements
            run as long as they need and the pool keeps SQLAlchemy's defaults.

    Returns:
        The engine; nothing connects until the first statement.
    """
    url = make_url(database_url)
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": _dump_json}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    if limits is not None:
        kwargs |= {
            "pool_size": limits.pool_size,
            "max_overflow": limits.max_overflow,
            "pool_timeout": limits.pool_timeout_seconds,
            "pool_recycle": limits.pool_recycle_seconds,
            "connect_args": _asyncpg_limits(limits),
        }
    engine = create_async_engine(url, **kwargs)
    _ping_at_checkout(engine)
    return engine


# marks a pooled connection that has been handed out before (a new one needs no check)
_USED = "studio_match_used"


def _ping_at_checkout(engine: AsyncEngine) -> None:
    """Ping a pooled connection with one round trip before it is handed out again.

    SQLAlchemy's ``pool_pre_ping`` pings asyncpg with BEGIN, an empty query and ROLLBACK: three round
    trips per request (for pgbouncer's transaction mode, which the service does not use). An empty
    query alone tells as well whether the server still answers. A dead connection replaces every older
    pooled connection (``InvalidatePoolError``: a database restart kills them all at once), and the
    request gets a fresh one.
    """

    def ping(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if record.info.setdefault(_USED, False) is False:
            record.info[_USED] = True
            return  # just connected
        try:
            await_only(dbapi_connection.driver_connection.fetchrow(";"))
        except Exception as exc:
            raise sa_exc.InvalidatePoolError(f"a pooled connection did not answer: {exc!r}") from exc

    event.listen(engine.sync_engine, "checkout", ping)


def _asyncpg_limits(limits: DatabaseLimits) -> dict[str, Any]:
    # server_settings are sent in the start-up packet: every pooled connection has them, no extra round trip
    return {
        "timeout": limits.connect_timeout_seconds,
        "command_timeout": limits.command_timeout_seconds,
        "server_settings": {
            "application_name": "studio-match",
            "statement_timeout": str(round(limits.statement_timeout_seconds * 1000)),
            "lock_timeout": str(round(limits.lock_timeout_seconds * 1000)),
            # plan every execution of a prepared statement for its own values: after five runs
            # PostgreSQL would otherwise settle on one generic plan, and for a search by several words
            # that plan walks the whole sort index reading every order's tokens (93 ms instead of 13)
            "plan_cache_mode": "force_custom_plan",
            # no JIT compilation: the service's statements read a page, and compiling one whose
            # estimated cost passes jit_above_cost (a token search walking the sort index, whose
            # matches PostgreSQL underestimates) took longer than running it
            "jit": "off",
        },
    }


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_sessionmaker(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Return the session factory used by requests and commands; ``info`` is given to every session."""
    return async_sessionmaker(engine, expire_on_commit=False, info=info or {})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield one session per request; closing it rolls back anything a service did not commit.

    It never commits: services own their transaction, and code after ``yield`` runs after the
    response has been sent.
    """
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


# indexes that exist on PostgreSQL only; Alembic's comparison reads this (app.migrations.include_object)
POSTGRESQL_ONLY = {"dialect": "postgresql"}


def descending_indexes(table: str, indexes: dict[str, tuple[str, ...]]) -> list[Index]:
    """PostgreSQL indexes for a descending sort whose last column may be empty (``name → columns``).

    The lists sort such a column with its empty values last in both directions; the ascending
    index serves one direction, and one of these (``… DESC NULLS LAST, id DESC``) the other, so the
    page is read in order instead of sorting the table. The embedded database may sort.
    """
    made = []
    for name, columns in indexes.items():
        *prefix, sorted_by = columns
        expressions = [text(c) for c in prefix] + [text(f"{sorted_by} DESC NULLS LAST"), text("id DESC")]
        index = Index(f"ix_{table}_{name}_desc_id", *expressions, info=POSTGRESQL_ONLY)
        made.append(index.ddl_if(dialect="postgresql"))
    return made


def str_enum(enum_class: type[StrEnum], length: int = 30) -> Enum:
    """Store a ``StrEnum`` by its English value in a VARCHAR, the same on SQLite and PostgreSQL.

    Values rather than member names, so the database reads like the API (``in_progress``); no native
    PostgreSQL enum type, so a later issue can add a status without an ``ALTER TYPE``.
    """
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
