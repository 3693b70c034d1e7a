"""Liveness and readiness probes, and the request id every response carries."""

from __future__ import annotations

from pathlib import Path

from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.main import create_app
from app.migrations import head_revision
from tests.problems import assert_problem


async def test_healthz_answers_while_the_process_is_up(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_database_at_the_migration_head(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["migration"] == body["migration_head"] == head_revision()


async def test_every_response_carries_a_request_id(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert len(response.headers["x-request-id"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    # a hostile id is replaced, not echoed into logs and headers
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"


async def test_readyz_is_503_on_a_database_that_was_never_migrated(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http,
    ):
        response = await http.get("/readyz")
    body = assert_problem(response, 503, "database_not_migrated")
    assert response.headers["retry-after"] == "30"
    assert (body["database"], body["migration"], body["migration_head"]) == ("ok", None, head_revision())
