"""Authentication costs at most one indexed lookup per request: the account by its primary key."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import UserRole
from app.accounts.security import SESSION_COOKIE
from tests.factories import make_expert, make_order, make_user
from tests.problems import Auth


async def _statements(session: AsyncSession, call: Any) -> tuple[Any, list[str]]:
    session.expunge_all()  # nothing cached in the identity map: every read is a statement
    connection = (await session.connection()).sync_connection
    assert connection is not None
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(connection, "before_cursor_execute", record)
    try:
        return await call(), statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


@pytest.mark.parametrize("carrier", ["bearer", "cookie"])
async def test_a_request_pays_one_primary_key_lookup_for_its_caller(
    client: AsyncClient, session: AsyncSession, auth: Auth, carrier: str
) -> None:
    user = await make_user(session, UserRole.EXPERT, expert=await make_expert(session))
    order = await make_order(session)
    headers = auth(user)
    if carrier == "cookie":
        client.cookies.set(SESSION_COOKIE, headers.pop("Authorization").removeprefix("Bearer "))

    response, statements = await _statements(
        session, lambda: client.get(f"/api/v1/orders/{order.id}", headers=headers)
    )

    assert response.status_code == 200, response.text
    # who is calling (by primary key), then the order with its enterprise: nothing else
    assert len(statements) == 2, "\n".join(statements)
    assert statements[0].startswith("SELECT users.id")
    assert statements[0].endswith("FROM users WHERE users.id = $1::INTEGER")
    assert "FROM orders" in statements[1]
