"""search tokens (GIN on PostgreSQL) and composite indexes for the lists' sorts and filters

Orders, experts and achievements get a nullable ``search_tokens`` column (``text[]`` on PostgreSQL
with a GIN index, JSON text on SQLite). Existing rows keep ``NULL`` until
``studio-match backfill-search`` fills them; ``studio-match migrate`` runs it after upgrading.
The single-column indexes on ``orders.status`` and ``orders.district`` give way to composite indexes
that lead with the same column.

Revision ID: 20261203_0004
Revises: 20261203_0003
Create Date: 2026-12-03 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_0004"
down_revision: str | None = "20261203_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENS = sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")
SEARCHABLE = ("orders", "experts", "achievements")


def upgrade() -> None:
    """Apply this migration."""
    for table in SEARCHABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("search_tokens", TOKENS, nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_district")
        batch_op.drop_index("ix_orders_status")
        batch_op.create_index("ix_orders_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_orders_published_at_id", ["published_at", "id"], unique=False)
        batch_op.create_index("ix_orders_status_created_at_id", ["status", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_orders_status_published_at_id", ["status", "published_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_orders_district_created_at_id", ["district", "created_at", "id"], unique=False
        )
    with op.batch_alter_table("achievements", schema=None) as batch_op:
        batch_op.create_index("ix_achievements_year_id", ["year", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for table in SEARCHABLE:
            op.create_index(f"ix_{table}_search_tokens", table, ["search_tokens"], postgresql_using="gin")


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "postgresql":
        for table in SEARCHABLE:
            op.drop_index(f"ix_{table}_search_tokens", table_name=table)
    with op.batch_alter_table("achievements", schema=None) as batch_op:
        batch_op.drop_index("ix_achievements_year_id")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_district_created_at_id")
        batch_op.drop_index("ix_orders_status_published_at_id")
        batch_op.drop_index("ix_orders_status_created_at_id")
        batch_op.drop_index("ix_orders_published_at_id")
        batch_op.drop_index("ix_orders_created_at_id")
        batch_op.create_index("ix_orders_status", ["status"], unique=False)
        batch_op.create_index("ix_orders_district", ["district"], unique=False)
    for table in reversed(SEARCHABLE):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("search_tokens")
