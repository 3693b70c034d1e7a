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
from tests.proposals.test_api import enterprise_owner, make_catalogue, make_field_order
from tests.web.test_pages import logged_in, token_of

BUTTONS = {
    OrderAction.PUBLISH: ("发布需求",),
    OrderAction.CLOSE: ("关闭需求",),
    OrderAction.WITHDRAW: ("撤回需求",),
    OrderAction.PROPOSE: ("生成匹配建议", "刷新匹配建议"),
}
# the API route of each action
ROUTES = {action: action.value for action in OrderAction} | {OrderAction.PROPOSE: "proposals"}


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
    shown = {action for action, texts in BUTTONS.items() if any(f">{t}</button>" in page.text for t in texts)}
    if f'href="/orders/{shown_order.id}/edit"' in page.text:  # a link to the form, not a button
        shown.add(OrderAction.EDIT)

    succeeded = set()
    for action in OrderAction:
        order = await _order(session, enterprise, status, confirmed)
        if action is OrderAction.EDIT:
            answer = await client.patch(
                f"/api/v1/orders/{order.id}", json={"title": "改过的标题"}, headers=auth(owner)
            )
        else:
            answer = await client.post(f"/api/v1/orders/{order.id}/{ROUTES[action]}", headers=auth(owner))
        assert answer.status_code in (200, 201, 409), answer.text
        if answer.status_code in (200, 201):
            succeeded.add(action)
    assert shown == succeeded, (status, confirmed)


async def test_a_published_order_without_proposals_gets_them_and_can_refresh_them(
    client: AsyncClient, session: AsyncSession
) -> None:
    experts = await make_catalogue(session)
    owner, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio)  # published, never ranked
    await logged_in(client, owner)

    page = await client.get(f"/orders/{order.id}")

    assert page.status_code == 200
    assert experts["welding"].name in page.text  # computed on the first view: no dead end
    assert ">刷新匹配建议</button>" in page.text
    refreshed = await client.post(f"/orders/{order.id}/proposals", data={"csrf_token": token_of(page)})
    assert refreshed.status_code == 303, refreshed.text
    assert "flash=proposals_refreshed" in refreshed.headers["location"]
    shown = await client.get(refreshed.headers["location"])
    assert "匹配建议已按最新的专家信息重新生成" in shown.text and experts["welding"].name in shown.text


async def test_a_draft_is_edited_and_published_from_its_form(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    owner: User = await make_user(session, UserRole.ENTERPRISE)
    enterprise = await session.get(Enterprise, owner.enterprise_id)
    assert enterprise is not None
    order = await _order(session, enterprise, OrderStatus.DRAFT, confirmed=False)
    await logged_in(client, owner)

    form = await client.get(f"/orders/{order.id}/edit")
    assert form.status_code == 200 and f'value="{order.title}"' in form.text and "保存并发布" in form.text
    token = token_of(form)
    typed = {"csrf_token": token, "version": str(order.version), "title": "", "description": "改写后的描述",
             "need_kind": "consulting", "fields": "数控加工"}  # fmt: skip
    refused = await client.post(f"/orders/{order.id}/edit", data=typed)
    assert refused.status_code == 422 and 'id="title-error">请填写标题<' in refused.text
    assert "改写后的描述" in refused.text  # nothing typed is lost

    typed["title"] = "数控机床主轴振动诊断（修订）"
    done = await client.post(f"/orders/{order.id}/edit", data=typed | {"action": "publish"})
    assert done.status_code == 303 and done.headers["location"].endswith("flash=published"), done.text
    await session.refresh(order)
    assert (order.title, order.description, order.status) == (
        typed["title"],
        "改写后的描述",
        OrderStatus.PUBLISHED,
    )
    stale = await client.post(f"/orders/{order.id}/edit", data=typed)  # the version the form showed
    assert stale.status_code == 409 and 'role="alert"' in stale.text
