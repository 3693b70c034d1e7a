"""The job queue on PostgreSQL: jobs enqueued in the caller's transaction, a worker runs each task,
the periodic schedules; and the in-process mode of the embedded SQLite database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import croniter
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import migrations
from app.accounts.models import UserRole
from app.agreements.models import Agreement, AgreementStatus
from app.agreements.service import terms_hash, terms_of
from app.audit.models import AuditAnchor
from app.audit.service import record_event
from app.clock import CHINA_TZ, local_today, utcnow
from app.config import Settings
from app.dashboard.models import DashboardSnapshot
from app.db import create_engine, create_sessionmaker
from app.jobs import enqueue, tasks
from app.jobs.in_process import InProcessJobs
from app.jobs.worker import queue_conninfo, run_worker
from app.main import create_app
from app.notifications.models import Notification, NotificationKind
from app.orders.models import OrderStatus
from app.proposals.index import MatcherIndex
from tests.conftest import own_migrated_database
from tests.factories import make_expert, make_order, make_studio, make_user


@pytest.fixture(scope="module")
def queue_database_url() -> Iterator[str]:
    """A migrated database of this module's own: a worker needs committed jobs, on its own connections."""
    yield from own_migrated_database("jobs")


@pytest.fixture
async def sessionmaker(queue_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the module's database, which starts each test with an empty queue."""
    engine = create_engine(queue_database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("TRUNCATE procrastinate_jobs, procrastinate_periodic_defers, dashboard_snapshots CASCADE")
        )
    yield create_sessionmaker(engine)
    await engine.dispose()


async def _jobs(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT id, task_name, args, lock, queueing_lock, status::text AS status FROM procrastinate_jobs"
        )
    )
    return [dict(row._mapping) for row in rows]


async def test_a_rolled_back_transaction_enqueues_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        job_id = await enqueue(session, "snapshot_dashboard")
        assert job_id is not None
        assert len(await _jobs(session)) == 1  # inside the transaction, the job is there
        await session.rollback()
    async with sessionmaker() as session:
        assert await _jobs(session) == []


async def test_a_committed_transaction_enqueues_the_job_with_the_task_defaults(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        job_id = await enqueue(session, "reindex", timestamp=1_700_000_000)
        await session.commit()
    async with sessionmaker() as session:
        assert await _jobs(session) == [
            {
                "id": job_id,
                "task_name": "reindex",
                "args": {"timestamp": 1_700_000_000},
                "lock": "matcher-index",
                "queueing_lock": "reindex",
                "status": "todo",
            }
        ]


async def test_a_job_already_waiting_is_not_queued_twice_and_the_transaction_goes_on(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        assert await enqueue(session, "remind_overdue_consultations") is not None
        await session.commit()
    async with sessionmaker() as session:
        expert = await make_expert(session, name="排队专家")
        assert await enqueue(session, "remind_overdue_consultations") is None
        await session.commit()  # the change staged before still commits
    async with sessionmaker() as session:
        assert len(await _jobs(session)) == 1
        assert await session.get(type(expert), expert.id) is not None


async def test_an_unknown_task_is_refused(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        with pytest.raises(KeyError):
            await enqueue(session, "no_such_task")


async def _overdue_agreement(session: AsyncSession) -> tuple[int, int]:
    """An agreement in progress for 40 days without a consultation; returns its parties' user ids."""
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    expert = await make_expert(session)
    expert_user = await make_user(session, UserRole.EXPERT, expert=expert)
    order = await make_order(session, studio, status=OrderStatus.TAKEN)
    agreement = Agreement(
        order_id=order.id,
        expert_id=expert.id,
        studio_id=studio.id,
        enterprise_id=studio.enterprise_id,
        status=AgreementStatus.IN_PROGRESS,
        goals="消除主轴 8000 转以上的振纹",
        deliverables="诊断报告一份",
        funding_amount=order.budget_max,
        duration_months=6,
        start_date=local_today() - timedelta(days=40),
        enterprise_signed_by_user_id=owner.id,
        enterprise_signed_at=utcnow(),
        expert_signed_by_user_id=expert_user.id,
        expert_signed_at=utcnow(),
    )
    session.add(agreement)
    await session.flush()
    agreement.content_hash = terms_hash(agreement, terms_of(agreement))
    return owner.id, expert_user.id


async def test_a_worker_runs_each_task_and_its_effects_are_there(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rebuilt: list[tuple[Any, ...]] = []

    async def rebuild(*args: Any) -> str:
        rebuilt.append(args)
        return "v-test"

    # the reindex itself belongs to the matcher's domain (and is tested there): here, that the job calls it
    monkeypatch.setattr(tasks, "_rebuild_matcher_index", rebuild)
    async with sessionmaker() as session:
        parties = await _overdue_agreement(session)
        await record_event(
            session, actor=None, action="test.event", entity_type="agreements", entity_id=1, details={}
        )
        job_ids = [
            await enqueue(session, name)
            for name in (
                "remind_overdue_consultations",
                "snapshot_dashboard",
                "reindex",
                "verify_audit_chain",
            )
        ]
        await session.commit()

    settings = Settings(database_url=queue_database_url, log_format="text")
    await run_worker(settings, wait=False, install_signal_handlers=False, delete_jobs="never")

    async with sessionmaker() as session:
        statuses = {job["id"]: job["status"] for job in await _jobs(session)}
        assert [statuses[job_id] for job_id in job_ids] == ["succeeded"] * 4
        reminded = await session.scalars(
            select(Notification.user_id).where(Notification.kind == NotificationKind.CONSULTATION_OVERDUE)
        )
        assert set(parties) <= set(reminded)
        snapshot = await session.scalar(select(DashboardSnapshot))
        assert snapshot is not None and snapshot.taken_on == local_today()
        assert snapshot.year == local_today().year
        assert {card["key"] for card in snapshot.payload["kpis"]} >= {"innovations", "worker_trainings"}
        assert "steps" in snapshot.payload["funnel"]
        # the chain held (the set-up's audit events), so its head was anchored
        assert await session.scalar(select(func.count()).select_from(AuditAnchor))
    assert len(rebuilt) == 1
    index, _progress = rebuilt[0]
    assert isinstance(index, MatcherIndex)


def _local_time(cron: str) -> tuple[int, int]:
    start = datetime(2026, 12, 3, 12, 0, tzinfo=CHINA_TZ).timestamp()
    fire = croniter.croniter(cron).get_next(ret_type=float, start_time=start)
    moment = datetime.fromtimestamp(fire, CHINA_TZ)
    return moment.hour, moment.minute


def test_the_periodic_schedules_in_china_time() -> None:
    schedules = {
        name: periodic.cron for (name, _id), periodic in tasks.queue.periodic_registry.periodic_tasks.items()
    }
    assert schedules == {
        "remind_overdue_consultations": tasks.REMINDERS_CRON,
        "snapshot_dashboard": tasks.SNAPSHOT_CRON,
        "reindex": tasks.REINDEX_CRON,
        "verify_audit_chain": tasks.AUDIT_CRON,
    }
    # procrastinate reads cron in UTC: the reminders go out in the morning in China, the rest at night
    assert _local_time(tasks.REMINDERS_CRON) == (8, 0)
    assert _local_time(tasks.SNAPSHOT_CRON) == (23, 50)
    assert _local_time(tasks.REINDEX_CRON) == (3, 0)
    assert _local_time(tasks.AUDIT_CRON) == (4, 0)
    for name in schedules:
        task = tasks.queue.tasks[name]
        assert task.lock and task.queueing_lock, f"{name} must not run twice at once"


def test_the_worker_connects_with_the_libpq_form_of_the_url() -> None:
    assert (
        queue_conninfo("postgresql+asyncpg://app:s%40cret@db.internal:5433/studio")
        == "postgresql://app:s%40cret@db.internal:5433/studio"
    )
    with pytest.raises(ValueError):
        queue_conninfo("sqlite+aiosqlite:///var/studio-match.db")


# ---------------------------------------------------------------------------------------------- SQLite


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated embedded database (no queue tables)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('jobs') / 'studio-match.db'}"
    migrations.upgrade(url)
    return url


async def _snapshots(sessions: Callable[[], AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count(DashboardSnapshot.id))) or 0)


async def test_on_the_embedded_database_the_app_runs_jobs_after_the_commit(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the schedules: started within ten minutes after 23:50 China time, the app would take
    # the nightly snapshot itself (procrastinate defers a tick it missed by less than its max_delay).
    monkeypatch.setattr(InProcessJobs, "start", lambda self: None)
    app = create_app(Settings(database_url=sqlite_url, log_format="text"))
    async with app.router.lifespan_context(app):
        runner: InProcessJobs = app.state.in_process_jobs
        assert isinstance(runner, InProcessJobs)
        sessions = app.state.sessionmaker

        async with sessions() as session:
            assert await enqueue(session, "snapshot_dashboard") is None
            await session.rollback()
        await runner.drain()
        assert await _snapshots(sessions) == 0

        async with sessions() as session:
            await enqueue(session, "snapshot_dashboard")
            assert await _snapshots(sessions) == 0  # not before the commit
            await session.commit()
        await runner.drain()
        assert await _snapshots(sessions) == 1


async def test_on_the_embedded_database_the_app_keeps_the_schedules(sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url, log_format="text"))
    async with app.router.lifespan_context(app):
        runner: InProcessJobs = app.state.in_process_jobs
        assert runner._scheduler is not None
        await asyncio.sleep(0.05)
        assert not runner._scheduler.done()
    assert runner._scheduler.cancelled()


async def test_in_process_locks_hold_and_a_waiting_job_is_not_doubled(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = create_engine(sqlite_url)
    runtime = tasks.JobRuntime(
        settings=Settings(database_url=sqlite_url, log_format="text"),
        sessionmaker=create_sessionmaker(engine),
        matcher_index=MatcherIndex(None),
    )
    runner = InProcessJobs(runtime)
    job = tasks.queue.tasks["snapshot_dashboard"].configure().job
    assert runner.submit(job) is True
    assert runner.submit(job) is False  # the first one has not started yet
    await runner.drain()
    assert runner.submit(job) is True  # it ran: a new one may wait again
    await runner.drain()
    await runner.stop()
    await engine.dispose()
    await asyncio.sleep(0)


def test_the_worker_command_explains_that_the_embedded_database_needs_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli
    from app.config import get_settings

    monkeypatch.setenv("STUDIO_MATCH_DATABASE_URL", "sqlite+aiosqlite:///var/never-created.db")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["worker"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "PostgreSQL" in result.output and "无需启动 worker" in result.output
