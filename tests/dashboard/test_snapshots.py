"""Nightly dashboard snapshots: one per day (a rerun replaces it), read by administrators."""

from __future__ import annotations

from datetime import date

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.config import YearlyTargets
from app.dashboard import service as dashboard_service
from app.dashboard.models import DashboardSnapshot
from tests.factories import make_user
from tests.problems import Auth, assert_problem, count

URL = "/api/v1/dashboard/snapshots"


async def snapshot(
    session: AsyncSession, day: date, targets: YearlyTargets | None = None
) -> DashboardSnapshot:
    return await dashboard_service.take_snapshot(
        session, targets=targets or YearlyTargets(), strong_proposal_score=0.35, day=day
    )


async def test_a_second_snapshot_the_same_day_replaces_the_first(session: AsyncSession) -> None:
    first = await snapshot(session, date(2026, 12, 2))
    again = await snapshot(session, date(2026, 12, 2), YearlyTargets(worker_trainings=42))

    assert again.id == first.id and await count(session, DashboardSnapshot) == 1
    trainings = next(card for card in again.payload["kpis"] if card["key"] == "worker_trainings")
    assert trainings["target"] == 42  # the figures of the latest run


async def test_administrators_read_the_snapshots_newest_day_first(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    for day in (date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2)):
        await snapshot(session, day)

    response = await client.get(URL, headers=auth(admin))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3
    assert [item["taken_on"] for item in body["items"]] == ["2026-01-02", "2026-01-01", "2025-12-31"]
    assert {"kpis", "funnel"} <= set(body["items"][0]["payload"])

    of_2025 = (await client.get(URL, params={"year": 2025}, headers=auth(admin))).json()
    assert [(item["taken_on"], item["year"]) for item in of_2025["items"]] == [("2025-12-31", 2025)]


async def test_only_administrators_read_the_snapshots(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    expert = await make_user(session, UserRole.EXPERT)
    assert_problem(await client.get(URL, headers=auth(expert)), 403, "forbidden")
