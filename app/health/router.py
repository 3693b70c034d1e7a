"""``/healthz`` (the process is up) and ``/readyz`` (the database answers and is migrated)."""

from __future__ import annotations

from fastapi import APIRouter

from app.db import SessionDep
from app.health.errors import DatabaseNotMigrated
from app.health.service import check_readiness

router = APIRouter(tags=["运维"])

# what the probe reports in its ``database`` member, by the problem it answers with
_DATABASE_STATE = {"database_busy": "busy", "database_timeout": "timeout"}


@router.get("/healthz", summary="存活检查")
async def healthz() -> dict[str, str]:
    """Answer as long as the process serves requests (it never touches the database)."""
    return {"status": "ok"}


@router.get("/readyz", summary="就绪检查（数据库可达且迁移到最新）")
async def readyz(session: SessionDep) -> dict[str, str | None]:
    """Answer 200 when the database answers and is at the migration head.

    Otherwise 503 problem+json with ``Retry-After``: ``database_unavailable``, ``database_busy``,
    ``database_timeout`` or ``database_not_migrated``, with what the probe found as extension members.

    Raises:
        DatabaseFault: the database is not ready.
    """
    readiness = await check_readiness(session)
    found: dict[str, str | None] = {
        "database": "ok"
        if readiness.fault is None
        else _DATABASE_STATE.get(readiness.fault.code, "unreachable"),
        "migration": readiness.revision,
        "migration_head": readiness.head,
    }
    if readiness.fault is not None:
        readiness.fault.extensions = found
        raise readiness.fault
    if not readiness.ready:
        raise DatabaseNotMigrated(readiness.revision, readiness.head, extensions=found)
    return {"status": "ready", **found}
