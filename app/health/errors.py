"""Errors of the readiness probe."""

from __future__ import annotations

from typing import Any

from app.errors import DatabaseFault


class DatabaseNotMigrated(DatabaseFault):
    """The database answers but its schema is not at the migration head this code needs."""

    code, status, title = "database_not_migrated", 503, "数据库结构不是最新版本"
    retry_after = 30

    def __init__(self, revision: str | None, head: str, *, extensions: dict[str, Any]) -> None:
        found = f"当前为 {revision}" if revision else "尚未迁移"
        super().__init__(
            f"数据库结构{found}，本程序需要 {head}。请运行 studio-match migrate 后再接入流量。",
            extensions=extensions,
        )
