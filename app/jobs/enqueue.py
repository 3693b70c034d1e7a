"""``enqueue``: queue a job in the same transaction as the change that causes it.

procrastinate's own ``defer`` goes through its psycopg connector, outside our SQLAlchemy (asyncpg)
transaction: a job deferred that way would exist even if the change that caused it rolled back, and
the worker could run it before the change is visible. So on PostgreSQL ``enqueue`` calls the queue's
own SQL function, ``procrastinate_defer_jobs_v1(procrastinate_job_to_defer_v1[])`` from the installed
procrastinate's ``schema.sql``, on the session's connection: the job is committed or rolled back with
everything else. On the embedded SQLite database (no queue), the job is handed to the app's in-process
runner once the session commits, and dropped if it rolls back.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from procrastinate.jobs import Job

    from app.jobs.in_process import InProcessJobs

log = logging.getLogger(__name__)

# session.info keys: the app's in-process runner (SQLite), and the jobs waiting for the commit
IN_PROCESS_INFO_KEY = "jobs.in_process"
_PENDING_KEY = "jobs.pending"

# the queueing lock's unique index: a job with the same lock already waits
_QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"

_DEFER_JOB = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
    "CAST(:queue_name AS varchar), CAST(:task_name AS varchar), CAST(:priority AS integer), "
    "CAST(:lock AS text), CAST(:queueing_lock AS text), CAST(:args AS jsonb), "
    "CAST(:scheduled_at AS timestamptz)"
    ")::procrastinate_job_to_defer_v1])) AS id"
)


async def enqueue(session: AsyncSession, task_name: str, **args: Any) -> int | None:
    """Queue ``task_name`` with ``args`` in the session's transaction; it exists only if that commits.

    The task's defaults (queue, priority, ``lock``, ``queueing_lock``) apply. The caller commits, as
    for any other change staged in its use case.

    Args:
        session: the use case's session (its transaction carries the job).
        task_name: a task of ``app.jobs.tasks`` (``reindex``, ``remind_overdue_consultations``,
            ``snapshot_dashboard``).
        **args: the task's keyword arguments (JSON-serialisable).

    Returns:
        The job's id on PostgreSQL; ``None`` when a job with the same queueing lock is already
        waiting (nothing is added, and the transaction goes on), or on the embedded database, where
        the app runs the job itself after the commit.

    Raises:
        KeyError: no such task.
    """
    from app.jobs.tasks import queue

    task = queue.tasks.get(task_name)
    if task is None:
        raise KeyError(f"unknown job task {task_name!r}")
    job = task.configure(task_kwargs=args).job
    if session.get_bind().dialect.name != "postgresql":
        _run_after_commit(session, job)
        return None
    return await _insert(session, job)


async def _insert(session: AsyncSession, job: Job) -> int | None:
    params = {
        "queue_name": job.queue,
        "task_name": job.task_name,
        "priority": job.priority,
        "lock": job.lock,
        "queueing_lock": job.queueing_lock,
        "args": json.dumps(job.task_kwargs),
        "scheduled_at": job.scheduled_at,
    }
    if job.queueing_lock is None:
        return int((await session.execute(_DEFER_JOB, params)).scalar_one())
    # a waiting job with the same queueing lock violates a unique index; the savepoint keeps that
    # from aborting the caller's transaction
    try:
        async with session.begin_nested():
            job_id = int((await session.execute(_DEFER_JOB, params)).scalar_one())
    except IntegrityError as exc:
        if _QUEUEING_LOCK_INDEX not in str(exc.orig):
            raise
        log.info("job.already_queued task=%s queueing_lock=%s", job.task_name, job.queueing_lock)
        return None
    log.info("job.queued task=%s job_id=%s", job.task_name, job_id)
    return job_id


def _run_after_commit(session: AsyncSession, job: Job) -> None:
    runner: InProcessJobs | None = session.info.get(IN_PROCESS_INFO_KEY)
    if runner is None:
        # a command's own session on SQLite: nothing here runs jobs
        log.warning("job.not_run task=%s reason=no_queue_and_no_in_process_runner", job.task_name)
        return
    session.info.setdefault(_PENDING_KEY, []).append(job)
    sync_session = session.sync_session
    if not event.contains(sync_session, "after_commit", _submit_pending):
        event.listen(sync_session, "after_commit", _submit_pending)
        event.listen(sync_session, "after_rollback", _drop_pending)


def _submit_pending(sync_session: Session) -> None:
    runner: InProcessJobs = sync_session.info[IN_PROCESS_INFO_KEY]
    for job in sync_session.info.pop(_PENDING_KEY, []):
        runner.submit(job)


def _drop_pending(sync_session: Session) -> None:
    dropped = sync_session.info.pop(_PENDING_KEY, [])
    if dropped:
        log.info("job.dropped_on_rollback count=%s", len(dropped))
