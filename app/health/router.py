"""``/healthz`` (the process is up) and ``/readyz`` (the database answers and is migrated)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.db import SessionDep
from app.health.service import check_readiness

router = APIRouter(tags=["运维"])


@router.get("/healthz", summary="存活检查")
async def healthz() -> dict[str, str]:
    """Answer as long as the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="就绪检查（数据库可达且迁移到最新）", response_model=None)
async def readyz(session: SessionDep) -> JSONResponse:
    """Answer 200 when the database answers and is at the migration head, else 503."""
    readiness = await check_readiness(session)
    body: dict[str, Any] = {
        "status": "ready" if readiness.ready else "not_ready",
        "database": "ok" if readiness.database else "unreachable",
        "migration": readiness.revision,
        "migration_head": readiness.head,
    }
    return JSONResponse(body, status_code=200 if readiness.ready else 503)
