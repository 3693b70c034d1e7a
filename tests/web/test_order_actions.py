"""One rule per state (issue 12): the order page shows an action's button exactly when the action would
succeed — the buttons are read from ``app/orders/transitions.py``, the table the services enforce."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.enterprises.models import Enterprise
from app.orders.models import Order, OrderStatus, OrderTaking, TakingSource, TakingStatus
from app.orders.transitions import OrderAction
from tests.factories import make_expert, make_order, make_studio, make_user
from tests.problems import Auth
from tests.web.test_pages import logged_in

BUTTONS = {OrderAction.PUBLISH: "发布需求", OrderAction.CLOSE: "关闭需求", OrderAction.WITHDRAW: "撤回需求"}


async def _order(
    session: AsyncSession, enterprise: Enterprise, status: OrderStatus, confirmed: bool
) -> Order:
    order = await make_order(session, await make_studio(session, enterprise), status=status)
    if confirmed:
        session.add(
            OrderTaking(
                order_id=order.id,
                expert_id=(await make_expert(session)).id,
                source=TakingSource.TAKEN,
                status=TakingStatus.CONFIRMED,
            )
        )
        await session.flush()
    return order


@pytest.mark.parametrize("confirmed", [False, True])
@pytest.mark.parametrize("status", list(OrderStatus))
async def test_the_page_offers_exactly_the_actions_that_succeed(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus, confirmed: bool
) -> None:
    if confirmed and status is OrderStatus.DRAFT:
        pytest.skip("a draft has no takers")
    owner: User = await make_user(session, UserRole.ENTERPRISE)
    enterprise = await session.get(Enterprise, owner.enterprise_id)
    assert enterprise is not None
    shown_order = await _order(session, enterprise, status, confirmed)
    await logged_in(client, owner)

    page = await client.get(f"/orders/{shown_order.id}")
    assert page.status_code == 200
    shown = {action for action, text in BUTTONS.items() if f">{text}</button>" in page.text}

    succeeded = set()
    for action in OrderAction:
        order = await _order(session, enterprise, status, confirmed)
        answer = await client.post(f"/api/v1/orders/{order.id}/{action.value}", headers=auth(owner))
        assert answer.status_code in (200, 409), answer.text
        if answer.status_code == 200:
            succeeded.add(action)
    assert shown == succeeded, (status, confirmed)
