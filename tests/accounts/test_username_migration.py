"""The migration that makes usernames unique by NFKC + casefold backfills the key, and refuses (naming
the accounts) when existing usernames already clash that way. SQLite, the embedded default, here; the
rest of the suite runs it on PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app import migrations

BEFORE = "20261203_0006"
AFTER = "20261203_0007"


def _add_admin(path: Path, user_id: int, username: str) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO users (id, username, password_hash, display_name, role, is_active, created_at, updated_at)"
            " VALUES (?, ?, 'x', '管理员', 'admin', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            (user_id, username),
        )


def _keys(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as connection:
        return dict(connection.execute("SELECT username, username_key FROM users").fetchall())


def test_existing_usernames_get_their_key(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    migrations.upgrade(url, BEFORE)
    _add_admin(path, 1, "Zhang.Wei")
    _add_admin(path, 2, "ｌｉ．ｎａ")

    migrations.upgrade(url, AFTER)

    assert _keys(path) == {"Zhang.Wei": "zhang.wei", "ｌｉ．ｎａ": "li.na"}
    migrations.downgrade(url, BEFORE)  # and back
    migrations.upgrade(url, AFTER)


def test_clashing_usernames_stop_the_migration_with_their_names(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    migrations.upgrade(url, BEFORE)
    _add_admin(path, 1, "Admin")
    _add_admin(path, 2, "ＡＤＭＩＮ")
    _add_admin(path, 3, "wang")

    with pytest.raises(RuntimeError, match=r"id=1 'Admin'.*id=2 'ＡＤＭＩＮ'.*Rename"):
        migrations.upgrade(url, AFTER)

    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE users SET username = 'admin2' WHERE id = 2")
    migrations.upgrade(url, AFTER)
    assert _keys(path)["admin2"] == "admin2"
