"""Fixtures of the XLSX transfer tests: a client whose app caps uploads at a few kilobytes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from tests.conftest import app_on_session

SMALL_CAP = 64 * 1024


@pytest.fixture
async def small_client(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    """Like ``client``, but its app refuses uploads over ``SMALL_CAP`` bytes."""
    app = app_on_session(settings.model_copy(update={"max_upload_bytes": SMALL_CAP}), session)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        yield http
