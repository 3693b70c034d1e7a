"""matcher change feed and stored index versions; proposals name the index state that ranked them

Revision ID: 20261203_0003
Revises: 20261122_0002
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0003"
down_revision: str | None = "20261122_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "matcher_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entity", sa.String(length=10), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        # the writing transaction's id, filled by the server: ids are handed out before commit, so
        # readers use it to know which changes are final (below the oldest running transaction)
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text::bigint)") if postgresql else None,
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matcher_changes")),
    )
    op.create_index(op.f("ix_matcher_changes_xid"), "matcher_changes", ["xid"], unique=False)
    op.create_table(
        "matcher_builds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("writing", "ready", name="matcherbuildstatus", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("algorithm_version", sa.String(length=64), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=False),
        sa.Column("last_change_id", sa.BigInteger(), nullable=False),
        sa.Column("experts", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matcher_builds")),
    )
    op.create_table(
        "matcher_build_chunks",
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["matcher_builds.id"],
            name=op.f("fk_matcher_build_chunks_build_id_matcher_builds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("build_id", "seq", name=op.f("pk_matcher_build_chunks")),
    )
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("index_state", sa.String(length=40), server_default="", nullable=False))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("proposals") as batch:
        batch.drop_column("index_state")
    op.drop_table("matcher_build_chunks")
    op.drop_table("matcher_builds")
    op.drop_index(op.f("ix_matcher_changes_xid"), table_name="matcher_changes")
    op.drop_table("matcher_changes")
