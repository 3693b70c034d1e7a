"""The job queue's tasks and schedules (procrastinate).

Every task is idempotent and holds a ``lock`` (two of them never run at once, whatever the number of
workers) and a ``queueing_lock`` (one waiting job is enough: deferring another while one waits is a
no-op). Schedules are in UTC, procrastinate's cron clock; China has no daylight saving, so each one
is a fixed time in Asia/Shanghai.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import procrastinate
from procrastinate import JobContext, PsycopgConnector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agreements import service as agreement_service
from app.clock import CHINA_TZ
from app.config import Settings
from app.dashboard import service as dashboard_service
from app.proposals.index import MatcherIndex

log = logging.getLogger(__name__)

# the context key under which a worker hands the tasks what they need
RUNTIME_KEY = "studio_match_runtime"

# cron in UTC: 08:00, 23:50 and 03:00 in Asia/Shanghai (UTC+8)
REMINDERS_CRON = "0 0 * * *"
SNAPSHOT_CRON = "50 15 * * *"
REINDEX_CRON = "0 19 * * *"

# a database hiccup should not cost a night's job: retry a few times, a minute apart
RETRY = procrastinate.RetryStrategy(max_attempts=3, wait=60)

# The connector is replaced by the worker (``app.jobs.worker``) with one for the configured database;
# this one is never opened. Jobs are enqueued through SQLAlchemy (``app.jobs.enqueue``), not through it.
queue = procrastinate.App(connector=PsycopgConnector(), import_paths=[__name__])


@dataclass(frozen=True, slots=True)
class JobRuntime:
    """What the tasks need from the process that runs them (the worker, or the app in-process)."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    matcher_index: MatcherIndex


def runtime_of(context: JobContext) -> JobRuntime:
    """The runtime the worker put in the job's context."""
    runtime = context.additional_context[RUNTIME_KEY]
    assert isinstance(runtime, JobRuntime)
    return runtime


@queue.periodic(cron=REINDEX_CRON, periodic_id="nightly")
@queue.task(name="reindex", pass_context=True, lock="matcher-index", queueing_lock="reindex", retry=RETRY)
async def reindex(context: JobContext, timestamp: int | None = None) -> None:
    """Rebuild the matcher index from the whole database (nightly, and whenever a change asks for it)."""
    runtime = runtime_of(context)
    version = await _rebuild_matcher_index(runtime.matcher_index, _log_step)
    log.info("job.reindex_done version=%s", version)


@queue.periodic(cron=REMINDERS_CRON, periodic_id="daily")
@queue.task(
    name="remind_overdue_consultations",
    pass_context=True,
    lock="consultation-reminders",
    queueing_lock="consultation-reminders",
    retry=RETRY,
)
async def remind_overdue_consultations(context: JobContext, timestamp: int | None = None) -> None:
    """Notify both parties of agreements whose consultation is overdue (what ``studio-match remind`` does).

    Idempotent: a reminder is sent once per agreement and due date.
    """
    async with runtime_of(context).sessionmaker() as session:
        overdue = await agreement_service.remind_overdue_consultations(session)
    log.info("job.reminders_sent overdue_agreements=%s", overdue)


@queue.periodic(cron=SNAPSHOT_CRON, periodic_id="nightly")
@queue.task(
    name="snapshot_dashboard",
    pass_context=True,
    lock="dashboard-snapshot",
    queueing_lock="dashboard-snapshot",
    retry=RETRY,
)
async def snapshot_dashboard(context: JobContext, timestamp: int | None = None) -> None:
    """Record the day's dashboard KPIs (one snapshot per day in China time; a rerun replaces it).

    Args:
        context: the job's context.
        timestamp: the schedule's time (UTC seconds); its date in China is the snapshot's day.
            Without one (a job deferred by hand), today.
    """
    runtime = runtime_of(context)
    day = None if timestamp is None else datetime.fromtimestamp(timestamp, CHINA_TZ).date()
    async with runtime.sessionmaker() as session:
        await dashboard_service.take_snapshot(
            session,
            targets=runtime.settings.targets,
            strong_proposal_score=runtime.settings.strong_proposal_score,
            day=day,
        )


async def _rebuild_matcher_index(
    index: MatcherIndex,
    progress: Callable[[str], None],
) -> str | None:
    # the one call into the matcher's domain: stores a new index version in the database, which every
    # worker then moves to; returns the version built (None: no expert yet)
    state = await index.build(progress)
    return f"{state.matcher.version_} {state.label}" if state.matcher is not None else None


def _log_step(description: str) -> None:
    log.info("job.reindex_step step=%s", description)
