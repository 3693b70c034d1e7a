"""The lists' sorts: a column that may be empty keeps its empty values last in both directions, and
on PostgreSQL every sort of the long lists (orders, experts, achievements) is read from an index."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.achievements.repository import SORT_COLUMNS as ACHIEVEMENT_SORTS
from app.experts.repository import SORT_COLUMNS as EXPERT_SORTS
from app.orders.models import OrderStatus
from app.orders.repository import SORT_COLUMNS as ORDER_SORTS
from tests.factories import make_achievement, make_enterprise, make_expert, make_order, make_studio, make_user
from tests.problems import Auth

FULL_SORT = re.compile(r"^\s*(->\s+)?Sort\s+\(", re.MULTILINE)
LISTS = {
    "/api/v1/orders": ORDER_SORTS,
    "/api/v1/experts": EXPERT_SORTS,
    "/api/v1/achievements": ACHIEVEMENT_SORTS,
}


async def test_a_descending_sort_keeps_the_records_without_a_value_last(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)
    draft = await make_order(session, studio, status=OrderStatus.DRAFT, published_at=None, deadline=None)
    published = await make_order(session, studio, published_at=datetime.now(UTC))
    await session.flush()

    for sort in ("-published_at", "published_at", "-deadline", "deadline"):
        response = await client.get(
            "/api/v1/orders", params={"studio_id": studio.id, "sort": sort}, headers=auth(admin)
        )
        assert response.status_code == 200, response.text
        assert [o["id"] for o in response.json()["items"]] == [published.id, draft.id], sort


async def _plans(
    session: AsyncSession, client: AsyncClient, headers: dict[str, str], url: str, sort: str
) -> str:
    """The plan PostgreSQL makes for the list's statement when it may neither sort nor scan the table."""
    connection = await session.connection()
    sync_connection = connection.sync_connection
    assert sync_connection is not None
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "ORDER BY" in statement:
            sent.append((statement, parameters))

    event.listen(sync_connection, "before_cursor_execute", record)
    try:
        response = await client.get(url, params={"sort": sort}, headers=headers)
    finally:
        event.remove(sync_connection, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    assert len(sent) == 1, sent
    statement, parameters = sent[0]
    await session.execute(text("SET LOCAL enable_sort = off"))
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        plan = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in plan)
    finally:
        await session.execute(text("SET LOCAL enable_sort = on"))
        await session.execute(text("SET LOCAL enable_seqscan = on"))


@pytest.mark.parametrize("role", [UserRole.ADMIN, UserRole.ENTERPRISE])
async def test_every_sort_of_the_long_lists_is_read_from_an_index(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    if session.bind.dialect.name != "postgresql":
        pytest.skip("the embedded database may sort")
    enterprise = await make_enterprise(session)
    user = await make_user(session, role, enterprise=enterprise if role is UserRole.ENTERPRISE else None)
    await make_order(session, await make_studio(session, enterprise))
    await make_achievement(session, await make_expert(session))
    headers = auth(user)

    unordered = []
    for url, sorts in LISTS.items():
        for key in sorts:
            for sort in (key, f"-{key}"):
                plan = await _plans(session, client, headers, url, sort)
                # a Sort node sorts everything it reads; an ordered read may still sort the ties
                # of the index's column by id (an Incremental Sort)
                if FULL_SORT.search(plan):
                    unordered.append(f"{url}?sort={sort}\n{plan}")
    assert not unordered, "\n\n".join(unordered)
