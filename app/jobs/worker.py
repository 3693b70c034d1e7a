"""``studio-match worker``: procrastinate's worker, with the periodic schedules, on the PostgreSQL queue."""

from __future__ import annotations

from procrastinate import PsycopgConnector
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.jobs.tasks import RUNTIME_KEY, JobRuntime, queue
from app.proposals.index import MatcherIndex


def queue_conninfo(database_url: str) -> str:
    """The psycopg (libpq) form of a SQLAlchemy PostgreSQL URL: ``postgresql+asyncpg://…`` → ``postgresql://…``.

    Raises:
        ValueError: the database is not PostgreSQL (the embedded database has no queue).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the job queue needs PostgreSQL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def run_worker(
    settings: Settings,
    *,
    concurrency: int = 1,
    wait: bool = True,
    install_signal_handlers: bool = True,
    delete_jobs: str = "successful",
) -> None:
    """Run the queue's worker against ``settings.database_url`` until stopped (SIGINT/SIGTERM).

    Args:
        settings: the service's settings; the tasks use them too.
        concurrency: jobs run at once (the tasks are async).
        wait: ``False`` to return once the queue is empty (tests).
        install_signal_handlers: ``False`` when the caller handles signals.
        delete_jobs: procrastinate's ``delete_jobs``: by default successful jobs are removed, failed
            ones stay for inspection.

    Raises:
        ValueError: the database is not PostgreSQL.
    """
    conninfo = queue_conninfo(settings.database_url)
    engine = create_engine(settings.database_url, echo=settings.sql_echo)
    sessionmaker = create_sessionmaker(engine)
    runtime = JobRuntime(
        settings=settings, sessionmaker=sessionmaker, matcher_index=MatcherIndex(sessionmaker)
    )
    try:
        with queue.replace_connector(PsycopgConnector(conninfo=conninfo)) as app:
            async with app.open_async():
                await app.run_worker_async(
                    name="studio-match",
                    concurrency=concurrency,
                    wait=wait,
                    install_signal_handlers=install_signal_handlers,
                    delete_jobs=delete_jobs,
                    additional_context={RUNTIME_KEY: runtime},
                )
    finally:
        await engine.dispose()
