"""search tokens for studios and enterprises: their searches find either script (创新 / 創新)

Studios and enterprises were searched with a substring match (``ILIKE``), which finds 创新 only where
it is written in simplified characters. They get the ``search_tokens`` of orders, experts and
achievements (``text[]`` with a GIN index on PostgreSQL, JSON text on SQLite), normalised the way the
matcher reads text; ``studio-match migrate`` fills them for the rows already there.

Revision ID: 20261203_0010
Revises: 20261203_0009
Create Date: 2026-12-03 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261203_0010"
down_revision: str | None = "20261203_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENS = sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")
SEARCHABLE = ("studios", "enterprises")


def upgrade() -> None:
    """Apply this migration."""
    # plain ALTER TABLE on both databases (SQLite 3.35+ drops a column in place): a batch copy of
    # ``enterprises`` on SQLite would be refused while studios refer to it
    for table in SEARCHABLE:
        op.add_column(table, sa.Column("search_tokens", TOKENS, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for table in SEARCHABLE:
            op.create_index(f"ix_{table}_search_tokens", table, ["search_tokens"], postgresql_using="gin")


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "postgresql":
        for table in SEARCHABLE:
            op.drop_index(f"ix_{table}_search_tokens", table_name=table)
    for table in reversed(SEARCHABLE):
        op.drop_column(table, "search_tokens")
