"""Jobs without a queue: on the embedded SQLite database the app runs them itself.

``make run`` needs no PostgreSQL and no worker: a job enqueued in a request runs in the app's event
loop once the request's transaction commits, and the periodic schedules are kept by procrastinate's
own periodic deferrer (its cron arithmetic), which here starts the job in-process instead of
inserting it into a queue table. Locks hold within the process (a second job with the same ``lock``
waits for the first; a job whose ``queueing_lock`` is already waiting is skipped). Nothing survives
a restart, and each process of ``serve --workers N`` keeps its own schedule: the jobs are idempotent,
so that only repeats work. Deployments use PostgreSQL and ``studio-match worker``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from procrastinate import JobContext
from procrastinate.jobs import Job
from procrastinate.periodic import PeriodicDeferrer, TaskAtTime
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.jobs.enqueue import IN_PROCESS_INFO_KEY
from app.jobs.tasks import RUNTIME_KEY, JobRuntime, queue
from app.proposals.index import MatcherIndex

log = logging.getLogger(__name__)

# how long the app waits at shutdown for a running job before cancelling it
STOP_GRACE_SECONDS = 10.0


class InProcessJobs:
    """Runs the queue's tasks inside the app: jobs submitted after a commit, and the periodic schedules.

    Args:
        runtime: what the tasks need (settings, sessions, the matcher index).
    """

    def __init__(self, runtime: JobRuntime) -> None:
        self.runtime = runtime
        self._running: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: set[str] = set()
        self._scheduler: asyncio.Task[None] | None = None

    def submit(self, job: Job) -> bool:
        """Start ``job`` in the background; ``False`` if one with its queueing lock is already waiting."""
        if job.queueing_lock is not None:
            if job.queueing_lock in self._waiting:
                log.info("job.already_queued task=%s queueing_lock=%s", job.task_name, job.queueing_lock)
                return False
            self._waiting.add(job.queueing_lock)
        running = asyncio.get_running_loop().create_task(self._run(job), name=f"job:{job.task_name}")
        self._running.add(running)
        running.add_done_callback(self._running.discard)
        return True

    async def _run(self, job: Job) -> None:
        lock = self._locks.setdefault(job.lock, asyncio.Lock()) if job.lock else contextlib.nullcontext()
        async with lock:
            if job.queueing_lock is not None:
                self._waiting.discard(job.queueing_lock)
            task = queue.tasks[job.task_name]
            context = JobContext(
                app=queue,
                worker_name="in-process",
                job=job,
                start_timestamp=time.time(),
                additional_context={RUNTIME_KEY: self.runtime},
                abort_reason=lambda: None,
            )
            started = time.perf_counter()
            try:
                await task.func(context, **job.task_kwargs)
            except Exception:
                log.exception("job.failed task=%s mode=in_process", job.task_name)
            else:
                log.info(
                    "job.done task=%s mode=in_process seconds=%.3f",
                    job.task_name,
                    time.perf_counter() - started,
                )

    def start(self) -> None:
        """Start keeping the periodic schedules (call from within the app's event loop)."""
        deferrer = _InProcessDeferrer(self, **queue.periodic_defaults)
        self._scheduler = asyncio.get_running_loop().create_task(deferrer.worker(), name="jobs:schedule")

    async def drain(self) -> None:
        """Wait until every job submitted so far (and any it waits behind) has finished."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop the schedules, give running jobs ``grace`` seconds, then cancel what is left."""
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
        if not self._running:
            return
        _done, pending = await asyncio.wait(list(self._running), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("job.cancelled_at_shutdown count=%s", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)


class _InProcessDeferrer(PeriodicDeferrer):
    """procrastinate's periodic deferrer (which decides what is due when), starting jobs in-process."""

    def __init__(self, jobs: InProcessJobs, **defaults: Any) -> None:
        super().__init__(registry=queue.periodic_registry, **defaults)
        self.jobs = jobs

    async def defer_jobs(self, jobs_to_defer: Iterable[TaskAtTime]) -> None:
        for periodic_task, timestamp in jobs_to_defer:
            kwargs = {**(periodic_task.configure_kwargs.get("task_kwargs") or {}), "timestamp": timestamp}
            job = periodic_task.task.configure(task_kwargs=kwargs).job
            log.info("job.scheduled task=%s timestamp=%s mode=in_process", job.task_name, timestamp)
            self.jobs.submit(job)


def start_in_process_jobs(
    engine: AsyncEngine,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    matcher_index: MatcherIndex,
) -> InProcessJobs | None:
    """On the embedded database, start running jobs in the app; on PostgreSQL the worker runs them.

    The sessions of ``sessionmaker`` then hand what they enqueue to this runner after their commit.
    Call from the app's lifespan; ``stop()`` the runner at shutdown.

    Returns:
        The runner, or ``None`` on PostgreSQL (nothing to run here).
    """
    if engine.dialect.name == "postgresql":
        return None
    jobs = InProcessJobs(
        JobRuntime(settings=settings, sessionmaker=sessionmaker, matcher_index=matcher_index)
    )
    info = dict(sessionmaker.kw.get("info") or {})
    info[IN_PROCESS_INFO_KEY] = jobs
    sessionmaker.configure(info=info)
    jobs.start()
    log.info("jobs.in_process_started schedules=%s", len(queue.periodic_registry.periodic_tasks))
    return jobs
