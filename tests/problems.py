"""Assertions shared by the API tests: RFC 9457 problem+json answers in Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User

CJK = re.compile(r"[\u4e00-\u9fff]")
Auth = Callable[[User], dict[str, str]]


def assert_problem(response: Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """Check the RFC 9457 shape, the stable code, a Chinese title and detail and, if given, the named field."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f"/problems/{code}")
    assert CJK.search(body["title"]) and CJK.search(body["detail"]), body
    assert "Traceback" not in response.text
    if field is not None:
        assert field in {e["field"] for e in body.get("errors", [])}, body
    return body


async def count(session: AsyncSession, model: type[Any]) -> int:
    """Number of rows of ``model`` visible in the test's transaction."""
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)
