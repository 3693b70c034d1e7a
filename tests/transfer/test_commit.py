"""The import's transaction as production runs it: the app's own sessions on a database of this module's own.

The other tests share one rolled-back transaction with the app, so they cannot see whether an import
really commits, or whether a refused file leaves anything behind once the request's session is closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.accounts.models import User, UserRole
from app.audit.models import AuditEvent
from app.config import Settings
from app.db import create_engine
from app.enterprises.models import Enterprise
from app.main import create_app
from tests.conftest import own_migrated_database
from tests.factories import bearer, make_user, valid_credit_code
from tests.transfer.workbooks import ENTERPRISE_HEADERS, enterprise_row, sheet_bytes, upload


@pytest.fixture(scope="module")
def own_database_url() -> Iterator[str]:
    yield from own_migrated_database("transfer")


@pytest.fixture
async def own_engine(own_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(own_database_url)
    yield engine
    await engine.dispose()


async def scalar_count(engine: AsyncEngine, model: type[object]) -> int:
    async with AsyncSession(engine) as session:  # a session of its own: sees committed rows only
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_refused_file_leaves_nothing_and_a_good_one_is_committed(
    settings: Settings, own_database_url: str, own_engine: AsyncEngine
) -> None:
    app_settings = settings.model_copy(update={"database_url": own_database_url})
    app = create_app(app_settings)
    async with AsyncSession(own_engine, expire_on_commit=False) as session:
        admin: User = await make_user(session, UserRole.ADMIN)
        await session.commit()
    headers = bearer(admin, app_settings.secret_key.get_secret_value())
    rows = [enterprise_row(f"扬州提交测试企业{i}", valid_credit_code(division="321084")) for i in range(30)]
    bad = [list(r) for r in rows]
    bad[25][1] = bad[25][1][:-1] + ("0" if bad[25][1][-1] != "0" else "1")

    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        refused = await upload(client, headers, "enterprises", sheet_bytes(ENTERPRISE_HEADERS, bad))
        assert refused.status_code == 422, refused.text
        assert await scalar_count(own_engine, Enterprise) == 0
        assert await scalar_count(own_engine, AuditEvent) == 0

        accepted = await upload(client, headers, "enterprises", sheet_bytes(ENTERPRISE_HEADERS, rows))
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["created"] == 30
        assert await scalar_count(own_engine, Enterprise) == 30
        assert await scalar_count(own_engine, AuditEvent) == 30

        again = await upload(client, headers, "enterprises", sheet_bytes(ENTERPRISE_HEADERS, rows[:2]))
        assert again.status_code == 422, again.text
        assert {e["message"] for e in again.json()["errors"]} == {"已被其他企业登记"}
        assert await scalar_count(own_engine, Enterprise) == 30
