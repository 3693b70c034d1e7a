"""The app runs as a PostgreSQL role without owner rights (docs/DEPLOY.md): its writes and their audit
events go through, while rewriting, emptying or unguarding the trail is refused to it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from app import migrations
from app.accounts.models import UserRole
from app.audit.models import AuditEvent
from app.cli import cli
from app.config import Settings, get_settings
from app.db import create_engine
from app.main import create_app
from tests.conftest import ADMIN_URL, TEST_DATABASE, create_database, drop_database
from tests.factories import bearer, make_expert, make_user

# roles belong to the whole server: the pid keeps parallel runs apart
ROLE = f"studio_match_app_{os.getpid()}"


async def _as_superuser(*statements: str) -> None:
    engine = create_engine(ADMIN_URL)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def owner_url() -> Iterator[str]:
    """A migrated database (its owner runs the migrations) and a login role for the app, granted by the command."""
    name = f"{TEST_DATABASE}_roles"
    url = create_database(name)
    migrations.upgrade(url)
    asyncio.run(_as_superuser(f"DROP ROLE IF EXISTS {ROLE}", f"CREATE ROLE {ROLE} LOGIN"))
    yield url
    drop_database(name)
    asyncio.run(_as_superuser(f"DROP ROLE IF EXISTS {ROLE}"))


@pytest.fixture(scope="module")
def app_url(owner_url: str) -> Iterator[str]:
    """The URL the app connects with: the same database as the unprivileged role."""
    os.environ["STUDIO_MATCH_DATABASE_URL"] = owner_url
    get_settings.cache_clear()
    try:
        printed = CliRunner().invoke(cli, ["audit", "grants", ROLE])
        assert printed.exit_code == 0, printed.output
        assert f"GRANT SELECT, INSERT ON TABLE public.audit_events, public.audit_anchors TO {ROLE}" in (
            printed.output.replace('"', "")
        )
        assert "TRUNCATE" not in printed.output and "TRIGGER" not in printed.output
        applied = CliRunner().invoke(cli, ["audit", "grants", ROLE, "--apply"])
        assert applied.exit_code == 0 and "已授权" in applied.output, applied.output
    finally:
        del os.environ["STUDIO_MATCH_DATABASE_URL"]
        get_settings.cache_clear()
    yield make_url(owner_url).set(username=ROLE, password=None).render_as_string(hide_password=False)


@pytest.fixture
async def app_engine(app_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(app_url)
    yield engine
    await engine.dispose()


async def test_the_app_writes_and_audits_as_the_unprivileged_role(
    settings: Settings, owner_url: str, app_url: str, app_engine: AsyncEngine
) -> None:
    owner = create_engine(owner_url)
    async with AsyncSession(owner, expire_on_commit=False) as session:
        expert = await make_expert(session, capacity=3)
        admin = await make_user(session, UserRole.ADMIN)
        await session.commit()
    await owner.dispose()

    app_settings = settings.model_copy(update={"database_url": app_url})
    app = create_app(app_settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        response = await client.patch(
            f"/api/v1/experts/{expert.id}",
            json={"capacity": 5},
            headers=bearer(admin, app_settings.secret_key.get_secret_value()),
        )
    assert response.status_code == 200, response.text

    async with AsyncSession(app_engine) as session:
        assert await session.scalar(select(func.current_user())) == ROLE
        events = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "expert.updated", AuditEvent.entity_id == expert.id)
        )
    assert events == 1


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE audit_events SET action = 'tampered'", "permission denied"),
        ("DELETE FROM audit_events", "permission denied"),
        ("TRUNCATE audit_events", "permission denied"),
        ("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", "must be owner"),
        ("ALTER TABLE audit_events DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER audit_events_append_only ON audit_events", "must be owner"),
        ("ALTER TABLE audit_events DROP COLUMN row_hash", "must be owner"),
        ("UPDATE audit_anchors SET seq = 0", "permission denied"),
        ("TRUNCATE audit_anchors", "permission denied"),
    ],
)
async def test_the_unprivileged_role_cannot_rewrite_or_unguard_the_trail(
    app_engine: AsyncEngine, statement: str, refusal: str
) -> None:
    async with app_engine.connect() as connection:
        with pytest.raises(DBAPIError, match=refusal):
            await connection.execute(text(statement))


async def test_the_unprivileged_role_keeps_full_rights_on_ordinary_tables(app_engine: AsyncEngine) -> None:
    async with app_engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("UPDATE experts SET capacity = capacity"))
        await connection.execute(text("DELETE FROM notifications WHERE false"))
        await transaction.rollback()
