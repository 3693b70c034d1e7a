"""The inbox (issue 12, bug 10): opening a message marks it read and opens the page it is about."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import UserRole
from app.notifications.models import Notification, NotificationKind
from tests.factories import make_order, make_user
from tests.web.test_pages import logged_in


async def test_opening_a_message_marks_it_read_and_opens_its_page(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    order = await make_order(session)
    message = Notification(
        user_id=user.id, kind=NotificationKind.ORDER_TAKEN, title="专家承接了需求", link=f"/orders/{order.id}"
    )
    session.add(message)
    await session.flush()
    await logged_in(client, user)
    inbox = await client.get("/inbox")
    assert f'href="/inbox/{message.id}"' in inbox.text and "（未读 1 条）" in inbox.text

    opened = await client.get(f"/inbox/{message.id}")

    assert opened.status_code == 303 and opened.headers["location"] == f"/orders/{order.id}"
    await session.refresh(message)
    assert message.read_at is not None
    assert "（未读 0 条）" in (await client.get("/inbox")).text


async def test_someone_elses_message_is_not_found(client: AsyncClient, session: AsyncSession) -> None:
    owner = await make_user(session, UserRole.ENTERPRISE)
    other = await make_user(session, UserRole.ENTERPRISE)
    message = Notification(user_id=owner.id, kind=NotificationKind.ORDER_TAKEN, title="专家承接了需求")
    session.add(message)
    await session.flush()
    await logged_in(client, other)

    page = await client.get(f"/inbox/{message.id}")

    assert page.status_code == 404
    await session.refresh(message)
    assert message.read_at is None
