"""The one Alembic chain upgrades, matches the models, and downgrades cleanly on PostgreSQL and SQLite."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app import migrations
from app.db import create_engine
from app.models import Base
from tests.conftest import TEST_DATABASE, create_database, drop_database

EXPECTED_TABLES = {
    "users",
    "user_sessions",
    "login_attempts",
    "enterprises",
    "studios",
    "studio_assessments",
    "experts",
    "achievements",
    "orders",
    "proposals",
    "agreements",
    "consultations",
    "trainings",
    "outcomes",
    "project_reviews",
    "audit_events",
    "audit_anchors",
    "order_takings",
    "agreement_amendments",
    "notifications",
    "idempotency_records",
    "review_rounds",
    "project_fundings",
    "matcher_changes",
    "matcher_builds",
    "matcher_build_chunks",
    "dashboard_snapshots",
}
# the job queue's tables, applied from procrastinate's schema on PostgreSQL only
QUEUE_TABLES = {
    "procrastinate_jobs",
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
}


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind the service runs on."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"{TEST_DATABASE}_migrations"
    yield create_database(name)
    drop_database(name)


def _schema_report(connection: Connection) -> dict[str, Any]:
    # indexes declared for PostgreSQL only (the GIN indexes of the search tokens) are not expected on
    # SQLite; the job queue's own tables are procrastinate's, not ours
    opts = {
        "compare_type": True,
        "include_object": migrations.include_object(connection.dialect.name),
        "include_name": migrations.include_name,
    }
    context = MigrationContext.configure(connection, opts=opts)
    with warnings.catch_warnings():
        # SQLite's comparison announces it skips the descending indexes before asking include_object;
        # they are PostgreSQL's only (app.db.descending_indexes) and not created here anyway
        warnings.filterwarnings(
            "ignore", r"autogenerate skipping .* index 'ix_\w+_desc_id'; dialect 'sqlite'"
        )
        diff = compare_metadata(context, Base.metadata)
    return {
        "dialect": connection.dialect.name,
        "tables": set(inspect(connection).get_table_names()) - {"alembic_version"},
        "queue_objects": connection.exec_driver_sql(
            "SELECT (SELECT count(*) FROM pg_type WHERE typname LIKE 'procrastinate%')"
            " + (SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%')"
        ).scalar()
        if connection.dialect.name == "postgresql"
        else 0,
        "diff": diff,
    }


async def _report(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_schema_report)
    finally:
        await engine.dispose()


def _run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


def test_upgrade_matches_the_models_and_downgrade_removes_everything(empty_database_url: str) -> None:
    migrations.upgrade(empty_database_url)
    upgraded = _run(_report(empty_database_url))
    expected = EXPECTED_TABLES | (QUEUE_TABLES if upgraded["dialect"] == "postgresql" else set())
    assert upgraded["tables"] == expected
    assert upgraded["diff"] == [], "models and migrations disagree: write a migration"

    migrations.downgrade(empty_database_url, "base")
    downgraded = _run(_report(empty_database_url))
    assert downgraded["tables"] == set()
    assert downgraded["queue_objects"] == 0, "the queue's types or functions outlived the downgrade"

    # and the chain can be climbed again after a full downgrade
    migrations.upgrade(empty_database_url)
    assert _run(_report(empty_database_url))["tables"] == expected


def test_the_chain_has_a_single_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrations.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert script.get_current_head() == migrations.head_revision()
