"""Background jobs on a PostgreSQL queue (procrastinate): the matcher reindex, the consultation reminders
and the nightly dashboard snapshot.

- ``app.jobs.tasks``: the procrastinate ``App`` (``queue``), the tasks and their periodic schedules.
- ``app.jobs.enqueue``: ``enqueue(session, task_name, **args)`` queues a job in the caller's transaction.
- ``app.jobs.worker``: ``studio-match worker`` (PostgreSQL).
- ``app.jobs.in_process``: on the embedded SQLite database there is no queue; jobs and schedules run
  inside the app.

Only ``enqueue`` is imported here, so that a service can import it without importing every task (the
tasks import the services).
"""

from app.jobs.enqueue import enqueue

__all__ = ["enqueue"]
