"""accounts: revocable login sessions, login attempts for the throttle, normalised usernames

``user_sessions`` holds one row per login (the token only as a keyed hash), so logging out, changing
a password or disabling an account ends sessions at once. ``login_attempts`` counts failed logins
for every worker and machine alike. ``users.username_key`` (NFKC + casefold) makes ``Admin`` and
``ＡＤＭＩＮ`` one username; the upgrade refuses to run, naming the accounts, when existing usernames
already clash that way. ``must_change_password`` marks a temporary password set by an administrator.

Revision ID: 20261203_0007
Revises: 20261203_0006
Create Date: 2026-12-03 14:00:00
"""

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0007"
down_revision: str | None = "20261203_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(username: str) -> str:
    # the rule of app.accounts.security.username_key, frozen here as it was when this ran
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username.strip()).casefold())


def upgrade() -> None:
    """Apply this migration."""
    # clashes first, before any change: SQLite would keep a half-done ALTER
    connection = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("username_key", sa.String),
    )
    by_key: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for user_id, username in connection.execute(sa.select(users.c.id, users.c.username)):
        by_key[_key(username)].append((user_id, username))
    clashes = {key: rows for key, rows in by_key.items() if len(rows) > 1}
    if clashes:
        listed = "; ".join(
            f"{key!r}: " + ", ".join(f"id={user_id} {username!r}" for user_id, username in rows)
            for key, rows in sorted(clashes.items())
        )
        raise RuntimeError(
            "Cannot make usernames unique regardless of case and width: these accounts would share a"
            f" username ({listed}). Rename all but one of each group (UPDATE users SET username = ...)"
            " or merge them, then run the migration again. Nothing was changed."
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))

    for key, rows in by_key.items():
        connection.execute(sa.update(users).where(users.c.id == rows[0][0]).values(username_key=key))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_username_key"), ["username_key"])

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "end_reason",
            sa.Enum(
                "logout",
                "password_changed",
                "password_reset",
                "disabled",
                name="sessionend",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username_key", sa.String(length=200), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_attempts_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_attempts_username_key_attempted_at", ["username_key", "attempted_at"], unique=False
        )
        batch_op.create_index(
            "ix_login_attempts_client_address_attempted_at", ["client_address", "attempted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_login_attempts_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempts_attempted_at"), ["attempted_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("login_attempts")
    op.drop_table("user_sessions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_username_key"), type_="unique")
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("username_key")
