"""Test fixtures: a PostgreSQL database of our own, migrated with Alembic, one rolled-back transaction per test."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app import migrations
from app.accounts.models import User, UserRole
from app.config import Settings
from app.db import create_engine, get_session
from app.main import create_app
from app.proposals.index import MatcherIndex, borrowed
from tests.factories import bearer, make_user

ADMIN_URL = os.environ.get(
    "STUDIO_MATCH_TEST_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
# one database per run, so that two runs on one machine (a developer and CI) never drop each other's
TEST_DATABASE = f"studio_match_test_{os.getpid()}"


def database_url(name: str) -> str:
    """Return the URL of database ``name`` on the test server."""
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


async def _recreate(name: str, *, drop_only: bool = False) -> None:
    url = make_url(ADMIN_URL)
    connection = await asyncpg.connect(
        user=url.username, password=url.password, host=url.host, port=url.port or 5432, database=url.database
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await connection.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    finally:
        await connection.close()


def create_database(name: str) -> str:
    """Create (or re-create) an empty database and return its URL. Call outside an event loop."""
    asyncio.run(_recreate(name))
    return database_url(name)


def drop_database(name: str) -> None:
    """Drop a database created by ``create_database``."""
    asyncio.run(_recreate(name, drop_only=True))


def own_migrated_database(suffix: str) -> Iterator[str]:
    """A migrated database of a test module's own (``studio_match_test_<pid>_<suffix>``), dropped after.

    For tests that need the app's real sessions and commits (races, all-or-nothing imports): the
    shared rolled-back transaction of the other tests would hide what they check.
    """
    name = f"{TEST_DATABASE}_{suffix}"
    url = create_database(name)
    migrations.upgrade(url)
    yield url
    drop_database(name)


@asynccontextmanager
async def real_app_client(
    settings: Settings, database_url: str
) -> AsyncIterator[tuple[AsyncClient, AsyncEngine, str]]:
    """A client of a real app on ``database_url`` (its own engine, sessions and commits), an engine for
    set-up and checks, and the app's secret key: for races that the rolled-back session would hide."""
    app_settings = settings.model_copy(update={"database_url": database_url})
    app = create_app(app_settings)
    engine = create_engine(database_url)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(
            transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
        ) as client,
    ):
        yield client, engine, app_settings.secret_key.get_secret_value()
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_database_url() -> Iterator[str]:
    """A fresh database of our own, migrated to head with Alembic (so every run also tests the migrations)."""
    url = create_database(TEST_DATABASE)
    migrations.upgrade(url)
    yield url
    drop_database(TEST_DATABASE)


@pytest.fixture(scope="session")
def settings(migrated_database_url: str) -> Settings:
    """Settings pointing at the test database."""
    return Settings(database_url=migrated_database_url, public_url="http://testserver", log_format="text")


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """One engine for the whole run."""
    engine = create_engine(settings.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test.

    Services call ``commit()``; with ``create_savepoint`` that only releases a savepoint, so each test
    sees its own writes and leaves nothing behind.
    """
    async with engine.connect() as connection:
        outer = await connection.begin()
        async with AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        ) as session:
            yield session
        await outer.rollback()


def app_on_session(settings: Settings, session: AsyncSession) -> FastAPI:
    """An app whose requests (and matcher index) all use the test's session, so they see its rows."""
    app = create_app(settings)

    async def _test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = _test_session
    app.state.matcher_index = MatcherIndex(borrowed(session), concurrent=False)
    return app


@pytest.fixture
async def client(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    """An HTTP client talking to an app whose requests share the test's session."""
    app = app_on_session(settings, session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
def auth(settings: Settings) -> Callable[[User], dict[str, str]]:
    """Return a function giving the Authorization header for a user."""
    secret = settings.secret_key.get_secret_value()
    return lambda user: bearer(user, secret)


@pytest.fixture
async def admin(session: AsyncSession) -> User:
    """An administrator (市总工会)."""
    return await make_user(session, UserRole.ADMIN, display_name="市总工会管理员")


async def recorded_statements(session: AsyncSession, call: Any) -> tuple[Any, list[str]]:
    """Run ``call`` and return its result with the SQL it sent through ``session``'s connection
    (the rolled-back test session, which the test app's requests share)."""
    await session.flush()
    session.expunge_all()  # nothing cached in the identity map: every read is a statement
    connection = (await session.connection()).sync_connection
    assert connection is not None
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        return await call(), statements
    finally:
        event.remove(connection, "before_cursor_execute", record)
