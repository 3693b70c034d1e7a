"""agreements: why the last 退回修改 happened, when, and by which side

Taking an agreement back from signature wiped the other party's signature with no reason asked and no
message sent. The reason (required now), the time and the side are kept on the agreement and shown on
its page until it is submitted again; the other party is told.

Revision ID: 20261203_0011
Revises: 20261203_0010
Create Date: 2026-12-03 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0011"
down_revision: str | None = "20261203_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("revision_reason", sa.Text()),
    ("revised_at", sa.DateTime(timezone=True)),
    ("revised_by_side", sa.String(length=20)),
)


def upgrade() -> None:
    """Apply this migration (plain ALTER TABLE on both databases: agreements are referred to)."""
    for name, type_ in COLUMNS:
        op.add_column("agreements", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    for name, _ in reversed(COLUMNS):
        op.drop_column("agreements", name)
