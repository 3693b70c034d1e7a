"""Authentication costs one indexed lookup per request: the session by its token hash, joined to its account.

The session's last activity is written at most once a minute, never once per request.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import UserRole, UserSession
from app.accounts.security import SESSION_COOKIE
from app.clock import utcnow
from app.config import Settings
from tests.conftest import recorded_statements
from tests.factories import login_session, make_expert, make_order, make_user


@pytest.mark.parametrize("carrier", ["bearer", "cookie"])
async def test_a_request_pays_one_session_lookup_for_its_caller(
    client: AsyncClient, session: AsyncSession, settings: Settings, carrier: str
) -> None:
    user = await make_user(session, UserRole.EXPERT, expert=await make_expert(session))
    order = await make_order(session)
    row, token = login_session(user, settings.secret_key.get_secret_value())
    session.add(row)
    headers = {"Authorization": f"Bearer {token}"}
    if carrier == "cookie":
        client.cookies.set(SESSION_COOKIE, headers.pop("Authorization").removeprefix("Bearer "))

    response, statements = await recorded_statements(
        session, lambda: client.get(f"/api/v1/orders/{order.id}", headers=headers)
    )

    assert response.status_code == 200, response.text
    # who is calling (the session by its unique token hash, joined to the account), then the order
    assert len(statements) == 2, "\n".join(statements)
    assert statements[0].startswith("SELECT user_sessions.id")
    assert "FROM user_sessions JOIN users ON users.id = user_sessions.user_id" in statements[0]
    assert "WHERE user_sessions.token_hash = $1" in statements[0]
    assert "FROM orders" in statements[1]


async def test_last_activity_is_written_at_most_once_a_minute(
    client: AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session, UserRole.EXPERT, expert=await make_expert(session))
    order = await make_order(session)
    stale = utcnow() - timedelta(minutes=5)
    row, token = login_session(user, settings.secret_key.get_secret_value(), last_seen_at=stale)
    session.add(row)
    headers = {"Authorization": f"Bearer {token}"}

    first, first_statements = await recorded_statements(
        session, lambda: client.get(f"/api/v1/orders/{order.id}", headers=headers)
    )
    second, second_statements = await recorded_statements(
        session, lambda: client.get(f"/api/v1/orders/{order.id}", headers=headers)
    )

    assert first.status_code == second.status_code == 200
    assert sum(s.startswith("UPDATE user_sessions SET last_seen_at") for s in first_statements) == 1
    assert not any(s.startswith("UPDATE") for s in second_statements), "\n".join(second_statements)
    stored = await session.get(UserSession, row.id)
    assert stored is not None and stored.last_seen_at > stale + timedelta(minutes=4)
