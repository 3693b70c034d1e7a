"""Fixtures of the XLSX transfer tests: a client whose app caps uploads at a few kilobytes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import get_session
from app.main import create_app

SMALL_CAP = 64 * 1024


@pytest.fixture
async def small_client(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    """Like ``client``, but its app refuses uploads over ``SMALL_CAP`` bytes."""
    app = create_app(settings.model_copy(update={"max_upload_bytes": SMALL_CAP}))

    async def _test_session() -> AsyncIterator[AsyncSession]:
        yield session

    app.dependency_overrides[get_session] = _test_session
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http
