"""The service's connection pool: no ping round trips per request, and a connection the server dropped
costs at most one 503 before the pool recovers by itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.accounts.models import UserRole
from app.config import DatabaseLimits, Settings
from app.db import create_engine
from tests.conftest import own_migrated_database, real_app_client
from tests.factories import login_session, make_user
from tests.problems import assert_problem

API = "/api/v1"


async def test_a_request_checks_its_pooled_connection_with_one_round_trip(
    settings: Settings, pool_database_url: str
) -> None:
    # SQLAlchemy's pre-ping on asyncpg cost three (BEGIN, an empty query, ROLLBACK) on every request
    sent: list[str] = []

    def log_queries(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda record: sent.append(record.query))

    event.listen(Engine, "connect", log_queries)  # every engine's new connections, the app's among them
    try:
        async with real_app_client(settings, pool_database_url) as (client, _engine, _secret):
            assert (await client.get("/readyz")).status_code == 200  # a new connection: nothing to check
            sent.clear()
            assert (await client.get("/readyz")).status_code == 200
    finally:
        event.remove(Engine, "connect", log_queries)
    # the simple-protocol queries (the probe's own SELECT is a prepared statement, not logged here):
    # the check, then the request's transaction
    assert sent == [";", "BEGIN;", "ROLLBACK;"], sent


@pytest.fixture(scope="module")
def pool_database_url() -> Iterator[str]:
    """A database of this module's own: the test commits a login and drops the app's connections."""
    yield from own_migrated_database("pool")


async def _drop_app_connections(engine: AsyncEngine) -> int:
    async with engine.connect() as admin:
        ended = await admin.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'studio-match' AND datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        )
    return int(ended or 0)


async def test_a_connection_the_server_dropped_costs_at_most_one_503(
    settings: Settings, pool_database_url: str
) -> None:
    async with real_app_client(settings, pool_database_url) as (client, engine, secret):
        async with AsyncSession(engine, expire_on_commit=False) as session:
            user = await make_user(session, UserRole.EXPERT)
            row, token = login_session(user, secret)
            session.add(row)
            await session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get(f"{API}/orders", headers=headers)).status_code == 200
        assert await _drop_app_connections(engine) >= 1

        answers = [await client.get(f"{API}/orders", headers=headers) for _ in range(3)]

        statuses = [a.status_code for a in answers]
        assert statuses in ([200, 200, 200], [503, 200, 200]), statuses
        if statuses[0] == 503:
            assert_problem(answers[0], 503, "database_unavailable")
            assert int(answers[0].headers["retry-after"]) > 0


async def test_the_readiness_probe_asks_again_after_a_dropped_connection(
    settings: Settings, pool_database_url: str
) -> None:
    async with real_app_client(settings, pool_database_url) as (client, engine, _secret):
        assert (await client.get("/readyz")).status_code == 200
        assert await _drop_app_connections(engine) >= 1
        # not "never migrated" (what it said when the lost connection's error reached the second check)
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text


async def test_prepared_statements_are_planned_for_their_own_values(settings: Settings) -> None:
    # a search by several words, once PostgreSQL switched to a generic plan, took 93 ms instead of 13
    engine = create_engine(settings.database_url, limits=DatabaseLimits())
    try:
        async with engine.connect() as connection:
            assert (
                await connection.execute(text("SHOW plan_cache_mode"))
            ).scalar_one() == "force_custom_plan"
    finally:
        await engine.dispose()


async def test_statements_are_not_jit_compiled(settings: Settings) -> None:
    # compiling a token search's page (its estimated cost passes jit_above_cost) took longer than
    # running it
    engine = create_engine(settings.database_url, limits=DatabaseLimits())
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SHOW jit"))).scalar_one() == "off"
    finally:
        await engine.dispose()
