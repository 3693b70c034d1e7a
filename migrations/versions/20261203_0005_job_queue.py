"""job queue: procrastinate's schema (PostgreSQL only) and the nightly dashboard snapshots

Revision ID: 20261203_0005
Revises: 20261203_0004
Create Date: 2026-12-03 10:45:00

The queue's tables, types and functions are procrastinate's own: this revision runs the schema SQL
shipped with the installed package (``procrastinate/sql/schema.sql``, the version pinned in
pyproject.toml). A later procrastinate with schema changes comes with a new revision that runs its
migration scripts (``procrastinate schema --migrations-path``). The embedded SQLite database has no
queue (jobs run inside the app), so it only gets the snapshot table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0005"
down_revision: str | None = "20261203_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# everything procrastinate's schema creates, so that a downgrade leaves no trace of the queue
DROP_QUEUE = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE
    routine regprocedure;
BEGIN
    FOR routine IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.proname LIKE 'procrastinate\\_%' AND p.pronamespace = current_schema()::regnamespace
    LOOP
        EXECUTE 'DROP ROUTINE ' || routine::text || ' CASCADE';
    END LOOP;
END;
$$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def _is_postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _run_script(script: str) -> None:
    """Run a multi-statement SQL script (plpgsql bodies included) in the migration's transaction."""
    if op.get_context().as_sql:  # `alembic upgrade --sql`: print it as it is
        op.execute(script)
        return
    from sqlalchemy.util import await_

    # asyncpg prepares every statement it is given, and a prepared statement holds one command:
    # the script goes through the driver's simple-query path, on the connection (and transaction)
    # Alembic is migrating with
    driver_connection = op.get_bind().connection.driver_connection
    await_(driver_connection.execute(script))


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "dashboard_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_snapshots")),
        sa.UniqueConstraint("taken_on", name=op.f("uq_dashboard_snapshots_taken_on")),
    )
    if _is_postgresql():
        from procrastinate.schema import SchemaManager

        _run_script(SchemaManager.get_schema())


def downgrade() -> None:
    """Revert this migration."""
    if _is_postgresql():
        _run_script(DROP_QUEUE)
    op.drop_table("dashboard_snapshots")
