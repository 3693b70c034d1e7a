"""the lists' sorts from an index: descending sorts of columns that may be empty, and the rest

A descending sort put the records without a value first (PostgreSQL's NULLS FIRST), read from the
ascending index backwards. For ``-published_at`` those are the drafts, which nobody but their
enterprise may see: at 1,000,000 orders the page walked 50,000 invisible drafts first (304 ms, against
1 ms with the status filter). The lists now sort a nullable column with its empty values last in both
directions (the same on SQLite, whose NULLs sorted last in a descending sort already), and PostgreSQL
gets the descending indexes that read such a page in order. The sorts of the expert directory and
the achievement library that had no index (by last update, by title) get theirs, on both databases.

Revision ID: 20261203_0009
Revises: 20261203_0008
Create Date: 2026-12-03 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0009"
down_revision: str | None = "20261203_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# on both databases: table → index → columns
SORT_INDEXES = {
    "experts": {
        "ix_experts_cohort_number_id": ["cohort_number", "id"],
        "ix_experts_updated_at_id": ["updated_at", "id"],
    },
    "achievements": {
        "ix_achievements_title_id": ["title", "id"],
        "ix_achievements_updated_at_id": ["updated_at", "id"],
    },
}
# PostgreSQL only: table → index → its columns, each as written in CREATE INDEX
INDEXES = {
    "orders": {
        "ix_orders_published_at_desc_id": ["published_at DESC NULLS LAST", "id DESC"],
        "ix_orders_status_published_at_desc_id": ["status", "published_at DESC NULLS LAST", "id DESC"],
        "ix_orders_deadline_desc_id": ["deadline DESC NULLS LAST", "id DESC"],
        "ix_orders_status_deadline_desc_id": ["status", "deadline DESC NULLS LAST", "id DESC"],
    },
    "achievements": {"ix_achievements_year_desc_id": ["year DESC NULLS LAST", "id DESC"]},
    "experts": {"ix_experts_cohort_number_desc_id": ["cohort_number DESC NULLS LAST", "id DESC"]},
}


def upgrade() -> None:
    """Apply this migration (the descending indexes on PostgreSQL only: the embedded database may sort)."""
    for table, indexes in SORT_INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in indexes.items():
                batch_op.create_index(name, columns, unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, indexes in INDEXES.items():
        for name, columns in indexes.items():
            op.create_index(name, table, [sa.text(c) for c in columns], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    for table, indexes in SORT_INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, indexes in INDEXES.items():
        for name in indexes:
            op.drop_index(name, table_name=table)
