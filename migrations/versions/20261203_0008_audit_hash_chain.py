"""audit_events: a hash chain (seq, prev_hash, row_hash), anchors of its head, no TRUNCATE

Each event stores the hash of the event before it and its own hash over every other column, so an
edit, a deletion or a reordering breaks a link that ``studio-match audit verify`` finds. The events
already written are chained here, in id order. ``audit_anchors`` remembers heads seen intact, so that
cutting off the newest events shows too. On PostgreSQL both tables also refuse ``TRUNCATE`` (the
owner can still drop the trigger: the app must not connect as the owner, see docs/DEPLOY.md).

Revision ID: 20261203_0008
Revises: 20261203_0007
Create Date: 2026-12-03 14:00:00
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0008"
down_revision: str | None = "20261203_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
BATCH = 1000

_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor_user_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.Integer()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
    sa.column("request_id", sa.String()),
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)

# one function for every append-only table and operation (row-level UPDATE/DELETE, statement TRUNCATE)
_PG_APPEND_ONLY = """CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
    END $$"""


def _canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    # a frozen copy of app.audit.chain.canonical_bytes as of this revision (a test checks they agree):
    # sorted-key JSON of every column but row_hash, None left out, timestamps as UTC text
    def value_of(value: Any) -> Any:
        if isinstance(value, datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value

    document = {k: value_of(v) for k, v in fields.items() if k != "row_hash" and v is not None}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sqlite_guard(table: str, create: bool) -> None:
    for event in ("update", "delete"):
        if create:
            op.execute(
                f"CREATE TRIGGER {table}_no_{event} BEFORE {event.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only ({event.upper()} refused)'); END"
            )
        else:
            op.execute(f"DROP TRIGGER {table}_no_{event}")


def _chain_existing_events() -> None:
    connection = op.get_bind()
    prev_hash, seq, after = GENESIS, 0, 0
    while True:
        rows = connection.execute(
            sa.select(_events).where(_events.c.id > after).order_by(_events.c.id).limit(BATCH)
        ).mappings()
        updates = []
        for row in rows:
            seq += 1
            fields = {**row, "seq": seq, "prev_hash": prev_hash, "row_hash": None}
            prev_hash = hashlib.sha256(_canonical_bytes(fields)).hexdigest()
            updates.append(
                {"event_id": row["id"], "seq": seq, "prev_hash": fields["prev_hash"], "row_hash": prev_hash}
            )
            after = row["id"]
        if not updates:
            return
        connection.execute(
            _events.update()
            .where(_events.c.id == sa.bindparam("event_id"))
            .values(
                seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev_hash"),
                row_hash=sa.bindparam("row_hash"),
            ),
            updates,
        )


def upgrade() -> None:
    """Apply this migration."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    # the guard refuses the one rewrite the chain needs; SQLite loses its triggers when the batch
    # below copies the table anyway
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    else:
        _sqlite_guard("audit_events", create=False)
    _chain_existing_events()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        for column in ("seq", "prev_hash", "row_hash"):
            batch_op.alter_column(column, nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])

    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
    )
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        op.execute(_PG_APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON audit_anchors "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_anchors_no_truncate BEFORE TRUNCATE ON audit_anchors "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )
    else:
        _sqlite_guard("audit_events", create=True)
        _sqlite_guard("audit_anchors", create=True)


def downgrade() -> None:
    """Revert this migration."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    else:
        _sqlite_guard("audit_events", create=False)
    op.drop_table("audit_anchors")
    if postgresql:
        op.execute("DROP FUNCTION audit_append_only()")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        for column in ("row_hash", "prev_hash", "seq"):
            batch_op.drop_column(column)
    if not postgresql:
        _sqlite_guard("audit_events", create=True)
