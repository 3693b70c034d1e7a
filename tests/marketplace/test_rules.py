"""The marketplace's rules through the API: order transitions, taking, invitations, confirm/release,
the notifications each step sends and the audit event each step writes. Every refusal is a problem+json
answer with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.agreements.models import Agreement, AgreementStatus
from app.audit.models import AuditEvent
from app.notifications.models import Notification, NotificationKind
from app.orders.models import Order, OrderStatus, OrderTaking, TakingSource, TakingStatus
from app.proposals.models import Proposal, ProposalStatus
from tests.factories import make_achievement, make_expert, make_order, make_studio, make_user
from tests.problems import Auth, assert_problem

API = "/api/v1"

LABELS = {
    OrderStatus.DRAFT: "草稿",
    OrderStatus.PUBLISHED: "已发布",
    OrderStatus.TAKEN: "已接单",
    OrderStatus.CLOSED: "已关闭",
    OrderStatus.WITHDRAWN: "已撤回",
}


# ---------------------------------------------------------------------------------------------- helpers


@dataclass
class Market:
    """An enterprise's order, its owner's login, and a few expert logins."""

    order: Order
    owner: User
    experts: list[User]

    @property
    def url(self) -> str:
        return f"{API}/orders/{self.order.id}"


# experts the matcher never proposes for a CNC order: nothing in their profile meets its words
UNRELATED = {"disciplines": ["烹饪"], "bio": "淮扬菜烹饪与刀工火候教学。"}


async def market(session: AsyncSession, *, experts: int = 2, **order: Any) -> Market:
    """A studio's order (published unless ``status`` says otherwise), its owner and ``experts`` experts."""
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    the_order = await make_order(session, studio, **order)
    users = [
        await make_user(session, UserRole.EXPERT, expert=await make_expert(session, **UNRELATED))
        for _ in range(experts)
    ]
    return Market(the_order, owner, users)


async def propose(session: AsyncSession, order: Order, *experts: User) -> list[Proposal]:
    """Store proposals as the matcher would (rank by position)."""
    proposals = [
        Proposal(
            order_id=order.id,
            expert_id=user.expert_id,
            rank=rank,
            score=0.9 - rank / 10,
            reasons={},
            matcher_version="test",
            status=ProposalStatus.PROPOSED,
        )
        for rank, user in enumerate(experts, start=1)
    ]
    session.add_all(proposals)
    await session.flush()
    return proposals


async def take(client: AsyncClient, auth: Auth, m: Market, user: User, note: str = "") -> dict[str, Any]:
    response = await client.post(f"{m.url}/takings", json={"note": note}, headers=auth(user))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def notifications(session: AsyncSession, user: User) -> list[Notification]:
    statement = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    return list((await session.scalars(statement)).all())


async def kinds(session: AsyncSession, user: User) -> list[NotificationKind]:
    return [n.kind for n in await notifications(session, user)]


async def audit(session: AsyncSession, entity_type: str, entity_id: int) -> list[AuditEvent]:
    statement = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return list((await session.scalars(statement)).all())


async def actions(session: AsyncSession, entity_type: str, entity_id: int) -> list[str]:
    return [e.action for e in await audit(session, entity_type, entity_id)]


async def taking_row(session: AsyncSession, taking_id: int) -> OrderTaking:
    taking = await session.get(OrderTaking, taking_id, populate_existing=True)
    assert taking is not None
    return taking


async def proposal_row(session: AsyncSession, order: Order, user: User) -> Proposal:
    proposal = await session.scalar(
        select(Proposal)
        .where(Proposal.order_id == order.id, Proposal.expert_id == user.expert_id)
        .execution_options(populate_existing=True)
    )
    assert proposal is not None
    return proposal


async def order_status(session: AsyncSession, order: Order) -> OrderStatus:
    status = await session.scalar(
        select(Order.status).where(Order.id == order.id).execution_options(populate_existing=True)
    )
    assert status is not None
    return status


# ---------------------------------------------------------------------------------------------- publish


async def test_publishing_a_draft_releases_nothing_and_is_audited(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, status=OrderStatus.DRAFT)

    published = await client.post(f"{m.url}/publish", headers=auth(m.owner))

    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["published_at"] is not None
    assert await actions(session, "orders", m.order.id) == ["order.published", "order.proposals_computed"]
    assert await actions(session, "order_takings", m.order.id) == []
    released = await session.scalars(select(AuditEvent).where(AuditEvent.action == "taking.released"))
    assert released.all() == []
    for user in (m.owner, *m.experts):
        assert NotificationKind.TAKING_RELEASED not in await kinds(session, user)
    assert (await client.get(f"{m.url}/takings", headers=auth(m.owner))).json() == []


@pytest.mark.parametrize(
    "status", [OrderStatus.PUBLISHED, OrderStatus.TAKEN, OrderStatus.CLOSED, OrderStatus.WITHDRAWN]
)
async def test_only_a_draft_can_be_published(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    m = await market(session, status=status)

    answer = await client.post(f"{m.url}/publish", headers=auth(m.owner))

    body = assert_problem(answer, 409, "order_transition_invalid")
    assert f"“{LABELS[status]}”" in body["detail"] and "发布" in body["detail"]
    assert await order_status(session, m.order) is status
    assert await actions(session, "orders", m.order.id) == []


async def test_only_the_orders_enterprise_may_publish_withdraw_or_close(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    draft = await market(session, status=OrderStatus.DRAFT, experts=1)
    published = await market(session, experts=0)
    stranger = await make_user(session, UserRole.ENTERPRISE)

    # a draft is private: it answers like a missing order
    assert_problem(await client.post(f"{draft.url}/publish", headers=auth(stranger)), 404, "order_not_found")
    assert_problem(
        await client.post(f"{draft.url}/publish", headers=auth(draft.experts[0])), 404, "order_not_found"
    )
    for action in ("withdraw", "close"):
        answer = await client.post(f"{published.url}/{action}", headers=auth(stranger))
        assert_problem(answer, 403, "forbidden")
        answer = await client.post(f"{published.url}/{action}", headers=auth(draft.experts[0]))
        assert_problem(answer, 403, "forbidden")
    assert_problem(
        await client.post(f"{API}/orders/999999/withdraw", headers=auth(stranger)), 404, "order_not_found"
    )
    assert await order_status(session, draft.order) is OrderStatus.DRAFT
    assert await order_status(session, published.order) is OrderStatus.PUBLISHED


async def test_an_administrator_may_publish_an_enterprises_draft(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    m = await market(session, status=OrderStatus.DRAFT, experts=0)
    answer = await client.post(f"{m.url}/publish", headers=auth(admin))
    assert answer.status_code == 200, answer.text
    event = (await audit(session, "orders", m.order.id))[0]
    assert (event.action, event.actor_user_id) == ("order.published", admin.id)


# ---------------------------------------------------------------------------------------------- withdraw / close


@pytest.mark.parametrize("status", [OrderStatus.DRAFT, OrderStatus.PUBLISHED, OrderStatus.TAKEN])
async def test_withdrawing_from_an_open_state(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    m = await market(session, status=status, experts=0)
    answer = await client.post(f"{m.url}/withdraw", headers=auth(m.owner))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "withdrawn"
    event = (await audit(session, "orders", m.order.id))[-1]
    assert event.action == "order.withdrawn"
    assert event.before is not None and event.before["status"] == status.value
    assert event.after is not None and event.after["status"] == "withdrawn"
    assert event.actor_user_id == m.owner.id


@pytest.mark.parametrize("status", [OrderStatus.CLOSED, OrderStatus.WITHDRAWN])
async def test_withdrawing_a_closed_or_withdrawn_order_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    m = await market(session, status=status, experts=0)
    body = assert_problem(
        await client.post(f"{m.url}/withdraw", headers=auth(m.owner)), 409, "order_transition_invalid"
    )
    assert f"“{LABELS[status]}”" in body["detail"] and "撤回" in body["detail"]
    assert await order_status(session, m.order) is status


@pytest.mark.parametrize("status", [OrderStatus.PUBLISHED, OrderStatus.TAKEN])
async def test_closing_a_published_or_taken_order(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    m = await market(session, status=status, experts=0)
    answer = await client.post(f"{m.url}/close", headers=auth(m.owner))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "closed"
    assert (await actions(session, "orders", m.order.id))[-1] == "order.closed"


@pytest.mark.parametrize("status", [OrderStatus.DRAFT, OrderStatus.CLOSED, OrderStatus.WITHDRAWN])
async def test_closing_from_other_states_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    m = await market(session, status=status, experts=0)
    body = assert_problem(
        await client.post(f"{m.url}/close", headers=auth(m.owner)), 409, "order_transition_invalid"
    )
    assert f"“{LABELS[status]}”" in body["detail"] and "关闭" in body["detail"]
    assert await order_status(session, m.order) is status
    assert await actions(session, "orders", m.order.id) == []


async def test_withdrawing_with_a_confirmed_taker_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2)
    first = await take(client, auth, m, m.experts[0])
    second = await take(client, auth, m, m.experts[1])
    confirmed = await client.post(f"{API}/takings/{first['id']}/confirm", headers=auth(m.owner))
    assert confirmed.status_code == 201, confirmed.text

    body = assert_problem(
        await client.post(f"{m.url}/withdraw", headers=auth(m.owner)), 409, "order_transition_invalid"
    )

    assert "已确认接单专家" in body["detail"]
    assert await order_status(session, m.order) is OrderStatus.TAKEN
    # nothing was released on the way
    assert (await taking_row(session, second["id"])).status is TakingStatus.PENDING
    assert NotificationKind.TAKING_RELEASED not in await kinds(session, m.experts[1])


async def test_withdrawing_releases_the_waiting_takers_and_tells_them(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2)
    takings = [await take(client, auth, m, user) for user in m.experts]
    assert await order_status(session, m.order) is OrderStatus.TAKEN

    answer = await client.post(f"{m.url}/withdraw", headers=auth(m.owner))

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "withdrawn"
    for taking, user in zip(takings, m.experts, strict=True):
        row = await taking_row(session, taking["id"])
        assert row.status is TakingStatus.RELEASED
        assert row.release_reason == "企业已撤回该需求"
        assert row.decided_at is not None
        released = [
            n for n in await notifications(session, user) if n.kind is NotificationKind.TAKING_RELEASED
        ]
        assert len(released) == 1
        assert "企业已撤回该需求" in released[0].body
        assert released[0].link == f"/orders/{m.order.id}"
        events = await audit(session, "order_takings", taking["id"])
        assert [e.action for e in events] == ["order.taken", "taking.released"]
        assert events[-1].actor_user_id == m.owner.id
    # the enterprise itself is not told about its own withdrawal
    assert NotificationKind.TAKING_RELEASED not in await kinds(session, m.owner)
    assert (await actions(session, "orders", m.order.id))[-1] == "order.withdrawn"


async def test_closing_releases_waiting_takers_but_keeps_the_confirmed_one(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2)
    kept = await take(client, auth, m, m.experts[0])
    waiting = await take(client, auth, m, m.experts[1])
    assert (
        await client.post(f"{API}/takings/{kept['id']}/confirm", headers=auth(m.owner))
    ).status_code == 201

    answer = await client.post(f"{m.url}/close", headers=auth(m.owner))

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "closed"
    assert (await taking_row(session, kept["id"])).status is TakingStatus.CONFIRMED
    released = await taking_row(session, waiting["id"])
    assert (released.status, released.release_reason) == (TakingStatus.RELEASED, "企业已关闭该需求")
    assert NotificationKind.TAKING_RELEASED in await kinds(session, m.experts[1])
    assert NotificationKind.TAKING_RELEASED not in await kinds(session, m.experts[0])
    # the agreement of the confirmed taker is untouched
    agreement = await session.scalar(select(Agreement).where(Agreement.order_id == m.order.id))
    assert agreement is not None and agreement.status is AgreementStatus.DRAFT


# ---------------------------------------------------------------------------------------------- taking


async def test_only_experts_take_orders(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    m = await market(session, experts=0)
    other_enterprise = await make_user(session, UserRole.ENTERPRISE)
    for user in (m.owner, other_enterprise, admin):
        answer = await client.post(f"{m.url}/takings", json={}, headers=auth(user))
        assert_problem(answer, 403, "forbidden")
    assert await session.scalar(select(OrderTaking.id).where(OrderTaking.order_id == m.order.id)) is None


async def test_taking_needs_a_login(client: AsyncClient, session: AsyncSession) -> None:
    m = await market(session, experts=0)
    assert_problem(await client.post(f"{m.url}/takings", json={}), 401, "unauthenticated")


async def test_a_draft_or_missing_order_cannot_be_taken(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, status=OrderStatus.DRAFT, experts=1)
    assert_problem(
        await client.post(f"{m.url}/takings", json={}, headers=auth(m.experts[0])), 404, "order_not_found"
    )
    missing = await client.post(f"{API}/orders/2147483647/takings", json={}, headers=auth(m.experts[0]))
    assert_problem(missing, 404, "order_not_found")
    assert await order_status(session, m.order) is OrderStatus.DRAFT


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (OrderStatus.TAKEN, "order_full"),
        (OrderStatus.CLOSED, "order_closed"),
    ],
)
async def test_an_order_that_is_not_open_cannot_be_taken(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus, code: str
) -> None:
    m = await market(session, status=status, experts=1)
    answer = await client.post(f"{m.url}/takings", json={"note": "愿意承接"}, headers=auth(m.experts[0]))
    assert_problem(answer, 409, code)
    assert await session.scalar(select(OrderTaking.id).where(OrderTaking.order_id == m.order.id)) is None


def _as_missing(body: dict[str, Any], order_id: int, missing_id: int) -> dict[str, Any]:
    # the same answer but for the id the caller typed (and the request id)
    shown = {k: v for k, v in body.items() if k != "request_id"}
    return {
        k: v.replace(str(order_id), str(missing_id)) if isinstance(v, str) else v for k, v in shown.items()
    }


@pytest.mark.parametrize("status", [OrderStatus.DRAFT, OrderStatus.WITHDRAWN])
@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("takings", {"note": "愿意承接"}),
        ("invitations/accept", {}),
        ("invitations/decline", {"reason": "方向不符"}),
    ],
)
async def test_another_enterprises_private_order_answers_an_expert_as_a_missing_one(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    status: OrderStatus,
    action: str,
    body: dict[str, Any],
) -> None:
    # a draft or a withdrawn order is visible to its enterprise only: taking it or answering an
    # invitation to it must not tell an expert that it exists, nor in which state (issue 11, finding 12)
    m = await market(session, status=status, experts=1)
    await propose(session, m.order, m.experts[0])  # invited, too: the invitation must not tell either
    missing_id = 2147483647
    private = await client.post(f"{m.url}/{action}", json=body, headers=auth(m.experts[0]))
    missing = await client.post(f"{API}/orders/{missing_id}/{action}", json=body, headers=auth(m.experts[0]))
    assert_problem(missing, 404, "order_not_found")
    assert private.status_code == missing.status_code
    assert _as_missing(private.json(), m.order.id, missing_id) == _as_missing(
        missing.json(), missing_id, missing_id
    )
    assert await order_status(session, m.order) is status


async def test_the_last_slot_taken_makes_the_order_full(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=1)
    await take(client, auth, m, m.experts[0])
    body = assert_problem(
        await client.post(f"{m.url}/takings", json={}, headers=auth(m.experts[1])), 409, "order_full"
    )
    assert "1 个名额" in body["detail"]


async def test_the_note_is_limited(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    m = await market(session, experts=1)
    answer = await client.post(f"{m.url}/takings", json={"note": "长" * 501}, headers=auth(m.experts[0]))
    assert_problem(answer, 422, "request_invalid", "note")
    answer = await client.post(f"{m.url}/takings", json={"price": 1}, headers=auth(m.experts[0]))
    assert_problem(answer, 422, "request_invalid", "price")


@pytest.mark.parametrize("confirm_first", [False, True])
async def test_the_same_expert_cannot_take_a_multi_slot_order_twice(
    client: AsyncClient, session: AsyncSession, auth: Auth, confirm_first: bool
) -> None:
    m = await market(session, slots=3, experts=1)
    first = await take(client, auth, m, m.experts[0])
    if confirm_first:
        confirmed = await client.post(f"{API}/takings/{first['id']}/confirm", headers=auth(m.owner))
        assert confirmed.status_code == 201, confirmed.text

    again = await client.post(f"{m.url}/takings", json={}, headers=auth(m.experts[0]))

    assert_problem(again, 409, "order_already_taken_by_you")
    takings = (await client.get(f"{m.url}/takings", headers=auth(m.owner))).json()
    assert [t["id"] for t in takings] == [first["id"]]


async def test_the_same_expert_taking_a_one_slot_order_twice_is_told_so(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=1, experts=1)
    await take(client, auth, m, m.experts[0])
    again = await client.post(f"{m.url}/takings", json={}, headers=auth(m.experts[0]))
    assert_problem(again, 409, "order_already_taken_by_you")


async def test_a_released_expert_may_take_again(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=1, experts=1)
    expert = m.experts[0]
    first = await take(client, auth, m, expert, note="第一次")
    released = await client.post(
        f"{API}/takings/{first['id']}/release", json={"reason": "时间冲突"}, headers=auth(expert)
    )
    assert released.status_code == 200, released.text
    assert await order_status(session, m.order) is OrderStatus.PUBLISHED

    second = await take(client, auth, m, expert, note="时间已调整")

    # one row per expert and order, taken up again
    assert second["id"] == first["id"]
    assert (second["status"], second["note"], second["release_reason"], second["decided_at"]) == (
        "pending", "时间已调整", None, None,
    )  # fmt: skip
    assert await order_status(session, m.order) is OrderStatus.TAKEN
    assert await actions(session, "order_takings", first["id"]) == [
        "order.taken",
        "taking.released",
        "order.taken",
    ]


async def test_a_three_slot_order_fills_at_the_third_taker_and_reopens_on_a_release(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=3, experts=5)
    takings = []
    for n, user in enumerate(m.experts[:3], start=1):
        takings.append(await take(client, auth, m, user))
        expected = OrderStatus.TAKEN if n == 3 else OrderStatus.PUBLISHED
        assert await order_status(session, m.order) is expected, n
    assert_problem(
        await client.post(f"{m.url}/takings", json={}, headers=auth(m.experts[3])), 409, "order_full"
    )
    assert (await actions(session, "orders", m.order.id)).count("order.filled") == 1

    released = await client.post(
        f"{API}/takings/{takings[1]['id']}/release", json={"reason": "方向不符"}, headers=auth(m.owner)
    )
    assert released.status_code == 200, released.text
    assert await order_status(session, m.order) is OrderStatus.PUBLISHED
    assert (await actions(session, "orders", m.order.id))[-1] == "order.reopened"

    await take(client, auth, m, m.experts[3])
    assert await order_status(session, m.order) is OrderStatus.TAKEN
    assert_problem(
        await client.post(f"{m.url}/takings", json={}, headers=auth(m.experts[4])), 409, "order_full"
    )


async def test_a_confirmed_taker_keeps_the_slot_and_the_order_stays_published(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2, experts=2)
    first = await take(client, auth, m, m.experts[0])
    assert (
        await client.post(f"{API}/takings/{first['id']}/confirm", headers=auth(m.owner))
    ).status_code == 201
    assert await order_status(session, m.order) is OrderStatus.PUBLISHED
    await take(client, auth, m, m.experts[1])
    assert await order_status(session, m.order) is OrderStatus.TAKEN


async def test_slots_cannot_be_cut_below_the_takers_of_a_published_order(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=3, experts=2)
    for user in m.experts:
        await take(client, auth, m, user)

    answer = await client.patch(m.url, json={"slots": 2}, headers=auth(m.owner))

    # either refused, or the order is full from now on: never 'published' with every slot held
    assert answer.status_code != 200 or answer.json()["status"] == "taken", answer.text


# ---------------------------------------------------------------------------------------------- invitations


async def test_only_proposed_experts_can_be_invited(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=2)
    await propose(session, m.order, m.experts[0])

    answer = await client.post(
        f"{m.url}/invitations", json={"expert_id": m.experts[1].expert_id}, headers=auth(m.owner)
    )
    assert_problem(answer, 409, "expert_not_proposed")
    answer = await client.post(f"{m.url}/invitations", json={"expert_id": 2147483647}, headers=auth(m.owner))
    assert_problem(answer, 409, "expert_not_proposed")
    assert await kinds(session, m.experts[1]) == []


@pytest.mark.parametrize("body", [{}, {"expert_id": 0}, {"expert_id": "李明"}, {"expert_id": 1, "x": 1}])
async def test_an_invitation_needs_a_valid_expert_id(
    client: AsyncClient, session: AsyncSession, auth: Auth, body: dict[str, Any]
) -> None:
    m = await market(session, experts=0)
    field = "x" if "x" in body else "expert_id"
    assert_problem(
        await client.post(f"{m.url}/invitations", json=body, headers=auth(m.owner)),
        422,
        "request_invalid",
        field,
    )


async def test_inviting_notifies_the_expert_and_a_second_invitation_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=1)
    expert = m.experts[0]
    await propose(session, m.order, expert)

    invited = await client.post(
        f"{m.url}/invitations", json={"expert_id": expert.expert_id}, headers=auth(m.owner)
    )

    assert invited.status_code == 201, invited.text
    assert (invited.json()["status"], invited.json()["expert_id"]) == ("invited", expert.expert_id)
    [note] = await notifications(session, expert)
    assert note.kind is NotificationKind.INVITATION
    assert m.order.title in note.title and note.link == f"/orders/{m.order.id}"
    assert await kinds(session, m.owner) == []
    proposal = await proposal_row(session, m.order, expert)
    assert [e.action for e in await audit(session, "proposals", proposal.id)] == ["proposal.invited"]
    inbox = (await client.get(f"{API}/me/invitations", headers=auth(expert))).json()
    assert [(i["order_id"], i["status"]) for i in inbox] == [(m.order.id, "invited")]

    twice = await client.post(
        f"{m.url}/invitations", json={"expert_id": expert.expert_id}, headers=auth(m.owner)
    )
    body = assert_problem(twice, 409, "invitation_exists")
    assert "已邀请" in body["detail"]
    assert len(await notifications(session, expert)) == 1


async def test_an_expired_proposal_can_still_be_invited(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=1)
    [proposal] = await propose(session, m.order, m.experts[0])
    proposal.status = ProposalStatus.EXPIRED
    await session.flush()
    invited = await client.post(
        f"{m.url}/invitations", json={"expert_id": m.experts[0].expert_id}, headers=auth(m.owner)
    )
    assert invited.status_code == 201, invited.text


async def test_only_the_orders_enterprise_invites_and_only_on_a_published_order(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=1)
    await propose(session, m.order, m.experts[0])
    stranger = await make_user(session, UserRole.ENTERPRISE)
    body = {"expert_id": m.experts[0].expert_id}
    assert_problem(
        await client.post(f"{m.url}/invitations", json=body, headers=auth(stranger)), 403, "forbidden"
    )
    assert_problem(
        await client.post(f"{m.url}/invitations", json=body, headers=auth(m.experts[0])), 403, "forbidden"
    )

    draft = await market(session, status=OrderStatus.DRAFT, experts=0)
    await propose(session, draft.order, m.experts[0])
    answer = await client.post(f"{draft.url}/invitations", json=body, headers=auth(draft.owner))
    assert_problem(answer, 409, "order_not_published")
    assert await kinds(session, m.experts[0]) == []


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (OrderStatus.TAKEN, "order_full"),
        (OrderStatus.WITHDRAWN, "order_withdrawn"),
        (OrderStatus.CLOSED, "order_closed"),
    ],
)
async def test_no_invitations_on_an_order_that_is_not_open(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus, code: str
) -> None:
    m = await market(session, status=status, experts=1)
    await propose(session, m.order, m.experts[0])
    answer = await client.post(
        f"{m.url}/invitations", json={"expert_id": m.experts[0].expert_id}, headers=auth(m.owner)
    )
    assert_problem(answer, 409, code)
    assert (await proposal_row(session, m.order, m.experts[0])).status is ProposalStatus.PROPOSED


async def test_answering_without_an_invitation_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=2)
    await propose(session, m.order, m.experts[0])  # proposed, but never invited
    for user in m.experts:
        accepted = await client.post(f"{m.url}/invitations/accept", json={}, headers=auth(user))
        assert_problem(accepted, 404, "invitation_not_found")
        declined = await client.post(
            f"{m.url}/invitations/decline", json={"reason": "方向不符"}, headers=auth(user)
        )
        assert_problem(declined, 404, "invitation_not_found")
    assert await session.scalar(select(OrderTaking.id).where(OrderTaking.order_id == m.order.id)) is None
    assert (await proposal_row(session, m.order, m.experts[0])).status is ProposalStatus.PROPOSED
    assert await kinds(session, m.owner) == []


async def test_only_experts_answer_invitations(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=0)
    for answer in ("accept", "decline"):
        response = await client.post(
            f"{m.url}/invitations/{answer}", json={"reason": "不适用"} if answer == "decline" else {},
            headers=auth(m.owner),
        )  # fmt: skip
        assert_problem(response, 403, "forbidden")
    assert_problem(await client.get(f"{API}/me/invitations", headers=auth(m.owner)), 403, "forbidden")


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "   \n\t "}, {"reason": None}, {"reason": "长" * 501}]
)
async def test_declining_needs_a_reason(
    client: AsyncClient, session: AsyncSession, auth: Auth, body: dict[str, Any]
) -> None:
    m = await market(session, experts=1)
    [proposal] = await propose(session, m.order, m.experts[0])
    proposal.status = ProposalStatus.INVITED
    await session.flush()

    answer = await client.post(f"{m.url}/invitations/decline", json=body, headers=auth(m.experts[0]))

    assert_problem(answer, 422, "request_invalid", "reason")
    assert (await proposal_row(session, m.order, m.experts[0])).status is ProposalStatus.INVITED
    assert await kinds(session, m.owner) == []


async def test_declining_records_the_reason_and_tells_the_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=1)
    expert = m.experts[0]
    await propose(session, m.order, expert)
    await client.post(f"{m.url}/invitations", json={"expert_id": expert.expert_id}, headers=auth(m.owner))

    declined = await client.post(
        f"{m.url}/invitations/decline", json={"reason": "  研究方向不符  "}, headers=auth(expert)
    )

    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["decline_reason"]) == ("declined", "研究方向不符")
    proposal = await proposal_row(session, m.order, expert)
    assert (proposal.status, proposal.decline_reason) == (ProposalStatus.DECLINED, "研究方向不符")
    assert proposal.decided_at is not None
    [note] = await notifications(session, m.owner)
    assert note.kind is NotificationKind.INVITATION_ANSWERED
    assert "研究方向不符" in note.body and m.order.title in note.title
    assert [e.action for e in await audit(session, "proposals", proposal.id)] == [
        "proposal.invited", "proposal.declined",
    ]  # fmt: skip
    assert (await client.get(f"{API}/me/invitations", headers=auth(expert))).json() == []
    # a declined expert is not invited again, and cannot answer again
    again = await client.post(
        f"{m.url}/invitations", json={"expert_id": expert.expert_id}, headers=auth(m.owner)
    )
    body = assert_problem(again, 409, "invitation_exists")
    assert "“已婉拒”" in body["detail"]
    assert_problem(
        await client.post(f"{m.url}/invitations/accept", json={}, headers=auth(expert)),
        404,
        "invitation_not_found",
    )


async def test_accepting_takes_the_order_and_records_the_proposal_as_accepted(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2, experts=1)
    expert = m.experts[0]
    await propose(session, m.order, expert)
    await client.post(f"{m.url}/invitations", json={"expert_id": expert.expert_id}, headers=auth(m.owner))

    accepted = await client.post(
        f"{m.url}/invitations/accept", json={"note": "下周到现场"}, headers=auth(expert)
    )

    assert accepted.status_code == 201, accepted.text
    taking = accepted.json()
    assert (taking["source"], taking["status"], taking["note"]) == ("invited", "pending", "下周到现场")
    proposal = await proposal_row(session, m.order, expert)
    assert proposal.status is ProposalStatus.ACCEPTED and proposal.decided_at is not None
    assert await order_status(session, m.order) is OrderStatus.PUBLISHED  # one of two slots
    [note] = await notifications(session, m.owner)
    assert note.kind is NotificationKind.ORDER_TAKEN and "下周到现场" in note.body
    assert [e.action for e in await audit(session, "proposals", proposal.id)] == [
        "proposal.invited", "proposal.accepted",
    ]  # fmt: skip
    assert (await client.get(f"{API}/me/invitations", headers=auth(expert))).json() == []
    again = await client.post(f"{m.url}/invitations/accept", json={}, headers=auth(expert))
    assert_problem(again, 404, "invitation_not_found")


async def test_accepting_an_invitation_to_a_full_order_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=1, experts=2)
    invited, other = m.experts
    await propose(session, m.order, invited)
    await client.post(f"{m.url}/invitations", json={"expert_id": invited.expert_id}, headers=auth(m.owner))
    await take(client, auth, m, other)

    answer = await client.post(f"{m.url}/invitations/accept", json={}, headers=auth(invited))

    assert_problem(answer, 409, "order_full")
    assert (await proposal_row(session, m.order, invited)).status is ProposalStatus.INVITED


async def test_taking_directly_marks_the_experts_proposal_accepted(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=1)
    await propose(session, m.order, m.experts[0])
    taking = await take(client, auth, m, m.experts[0])
    assert taking["source"] == "taken"
    assert (await proposal_row(session, m.order, m.experts[0])).status is ProposalStatus.ACCEPTED


@pytest.mark.parametrize("action", ["withdraw", "close"])
async def test_ending_an_order_ends_its_open_invitations(
    client: AsyncClient, session: AsyncSession, auth: Auth, action: str
) -> None:
    m = await market(session, experts=2)
    invited, only_proposed = m.experts
    await propose(session, m.order, invited, only_proposed)
    await client.post(f"{m.url}/invitations", json={"expert_id": invited.expert_id}, headers=auth(m.owner))

    assert (await client.post(f"{m.url}/{action}", headers=auth(m.owner))).status_code == 200

    assert (await client.get(f"{API}/me/invitations", headers=auth(invited))).json() == []
    ended = await proposal_row(session, m.order, invited)
    assert ended.status is ProposalStatus.EXPIRED and ended.decided_at is not None
    assert (await proposal_row(session, m.order, only_proposed)).status is ProposalStatus.PROPOSED
    assert await kinds(session, invited) == [NotificationKind.INVITATION, NotificationKind.INVITATION_ENDED]
    assert await kinds(session, only_proposed) == []
    assert (await actions(session, "proposals", ended.id))[-1] == "proposal.invitation_ended"
    late = await client.post(f"{m.url}/invitations/accept", json={}, headers=auth(invited))
    # a withdrawn order is its enterprise's alone again: to the expert it is as good as missing
    assert_problem(late, 404, "order_not_found" if action == "withdraw" else "invitation_not_found")
    assert await session.scalar(select(OrderTaking.id).where(OrderTaking.order_id == m.order.id)) is None


async def test_a_declined_expert_is_not_proposed_again(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    expert = await make_expert(session, name="李振华", disciplines=["机械工程"], bio="数控机床主轴振动诊断")
    await make_achievement(
        session,
        expert,
        title="数控机床主轴振动诊断方法",
        abstract="主轴振动信号分析与振纹抑制。",
        keywords=["主轴振动"],
    )
    second = await make_expert(
        session, name="周建军", disciplines=["机械工程"], bio="机床主轴动平衡与振动抑制"
    )
    await make_achievement(
        session,
        second,
        title="机床主轴动平衡校正装置",
        abstract="主轴振动抑制与动平衡。",
        keywords=["主轴振动"],
    )
    expert_user = await make_user(session, UserRole.EXPERT, expert=expert)
    order = await make_order(session, studio, status=OrderStatus.DRAFT)
    url = f"{API}/orders/{order.id}"
    assert (await client.post(f"{url}/publish", headers=auth(owner))).status_code == 200
    before = (await client.get(f"{url}/proposals", headers=auth(owner))).json()
    assert expert.id in [p["expert_id"] for p in before]

    await client.post(f"{url}/invitations", json={"expert_id": expert.id}, headers=auth(owner))
    declined = await client.post(
        f"{url}/invitations/decline", json={"reason": "时间冲突"}, headers=auth(expert_user)
    )
    assert declined.status_code == 200, declined.text

    recomputed = await client.post(f"{url}/proposals", headers=auth(owner))

    assert recomputed.status_code == 201, recomputed.text
    assert expert.id not in [p["expert_id"] for p in recomputed.json()]
    assert second.id in [p["expert_id"] for p in recomputed.json()]
    stored = {
        p["expert_id"]: p["status"]
        for p in (await client.get(f"{url}/proposals", headers=auth(owner))).json()
    }
    assert stored[expert.id] == "declined"
    proposal = await session.scalar(
        select(Proposal).where(Proposal.order_id == order.id, Proposal.expert_id == expert.id)
    )
    assert proposal is not None and proposal.decline_reason == "时间冲突"


# ---------------------------------------------------------------------------------------------- confirm / release


async def test_only_the_orders_enterprise_confirms_a_taker(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=2)
    taking = await take(client, auth, m, m.experts[0])
    stranger = await make_user(session, UserRole.ENTERPRISE)
    url = f"{API}/takings/{taking['id']}/confirm"

    for intruder in (stranger, m.experts[0], m.experts[1]):
        body = assert_problem(await client.post(url, headers=auth(intruder)), 404, "taking_not_found")
        assert str(taking["id"]) in body["detail"]
    assert_problem(
        await client.post(f"{API}/takings/2147483647/confirm", headers=auth(m.owner)), 404, "taking_not_found"
    )
    assert (await taking_row(session, taking["id"])).status is TakingStatus.PENDING
    assert await session.scalar(select(Agreement.id).where(Agreement.order_id == m.order.id)) is None

    confirmed = await client.post(url, headers=auth(m.owner))

    assert confirmed.status_code == 201, confirmed.text
    agreement = confirmed.json()
    assert (agreement["status"], agreement["order_id"], agreement["expert_id"]) == (
        "draft", m.order.id, m.experts[0].expert_id,
    )  # fmt: skip
    assert agreement["enterprise_id"] == m.owner.enterprise_id
    assert agreement["studio_id"] == m.order.studio_id
    assert (agreement["goals"], agreement["funding_amount"]) == (m.order.title, m.order.budget_max)
    row = await taking_row(session, taking["id"])
    assert row.status is TakingStatus.CONFIRMED and row.decided_at is not None
    [note] = [
        n for n in await notifications(session, m.experts[0]) if n.kind is NotificationKind.TAKING_CONFIRMED
    ]
    assert note.link == f"/agreements/{agreement['id']}"
    assert await kinds(session, m.experts[1]) == []
    assert await actions(session, "order_takings", taking["id"]) == ["order.taken", "taking.confirmed"]
    assert await actions(session, "agreements", agreement["id"]) == ["agreement.drafted"]


async def test_a_taking_is_confirmed_or_released_once(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2, experts=2)
    confirmed = await take(client, auth, m, m.experts[0])
    released = await take(client, auth, m, m.experts[1])
    assert (
        await client.post(f"{API}/takings/{confirmed['id']}/confirm", headers=auth(m.owner))
    ).status_code == 201
    assert (
        await client.post(
            f"{API}/takings/{released['id']}/release", json={"reason": "方向不符"}, headers=auth(m.owner)
        )
    ).status_code == 200

    twice = await client.post(f"{API}/takings/{confirmed['id']}/confirm", headers=auth(m.owner))
    body = assert_problem(twice, 409, "taking_not_pending")
    assert "“已确认”" in body["detail"]
    assert_problem(
        await client.post(
            f"{API}/takings/{confirmed['id']}/release", json={"reason": "反悔"}, headers=auth(m.owner)
        ),
        409,
        "taking_not_pending",
    )
    assert_problem(
        await client.post(
            f"{API}/takings/{confirmed['id']}/release", json={"reason": "反悔"}, headers=auth(m.experts[0])
        ),
        409,
        "taking_not_pending",
    )
    assert_problem(
        await client.post(f"{API}/takings/{released['id']}/confirm", headers=auth(m.owner)),
        409,
        "taking_not_pending",
    )
    assert_problem(
        await client.post(
            f"{API}/takings/{released['id']}/release", json={"reason": "再次"}, headers=auth(m.owner)
        ),
        409,
        "taking_not_pending",
    )
    agreements = (await session.scalars(select(Agreement).where(Agreement.order_id == m.order.id))).all()
    assert [a.expert_id for a in agreements] == [m.experts[0].expert_id]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}, {"reason": "长" * 501}])
async def test_releasing_needs_a_reason(
    client: AsyncClient, session: AsyncSession, auth: Auth, body: dict[str, Any]
) -> None:
    m = await market(session, experts=1)
    taking = await take(client, auth, m, m.experts[0])
    for user in (m.owner, m.experts[0]):
        answer = await client.post(f"{API}/takings/{taking['id']}/release", json=body, headers=auth(user))
        assert_problem(answer, 422, "request_invalid", "reason")
    assert (await taking_row(session, taking["id"])).status is TakingStatus.PENDING
    assert await order_status(session, m.order) is OrderStatus.TAKEN


async def test_the_expert_steps_back_and_the_enterprise_is_told(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=1, experts=1)
    expert = m.experts[0]
    taking = await take(client, auth, m, expert)

    released = await client.post(
        f"{API}/takings/{taking['id']}/release", json={"reason": "出差无法到场"}, headers=auth(expert)
    )

    assert released.status_code == 200, released.text
    assert (released.json()["status"], released.json()["release_reason"]) == ("released", "出差无法到场")
    assert released.json()["decided_at"] is not None
    assert await order_status(session, m.order) is OrderStatus.PUBLISHED
    owner_notes = await notifications(session, m.owner)
    assert [n.kind for n in owner_notes] == [NotificationKind.ORDER_TAKEN, NotificationKind.TAKING_RELEASED]
    assert "出差无法到场" in owner_notes[-1].body
    assert await kinds(session, expert) == []
    events = await audit(session, "order_takings", taking["id"])
    assert [e.action for e in events] == ["order.taken", "taking.released"]
    assert events[-1].actor_user_id == expert.id
    assert (await actions(session, "orders", m.order.id))[-2:] == ["order.filled", "order.reopened"]


async def test_the_enterprise_releases_a_taker_and_the_expert_is_told(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=1, experts=1)
    expert = m.experts[0]
    taking = await take(client, auth, m, expert)

    released = await client.post(
        f"{API}/takings/{taking['id']}/release", json={"reason": "已找到其他方案"}, headers=auth(m.owner)
    )

    assert released.status_code == 200, released.text
    [note] = await notifications(session, expert)
    assert note.kind is NotificationKind.TAKING_RELEASED
    assert "已找到其他方案" in note.body and note.link == f"/orders/{m.order.id}"
    assert [n.kind for n in await notifications(session, m.owner)] == [NotificationKind.ORDER_TAKEN]
    assert await order_status(session, m.order) is OrderStatus.PUBLISHED


async def test_nobody_else_releases_a_taking(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    m = await market(session, slots=2, experts=2)
    taking = await take(client, auth, m, m.experts[0])
    stranger = await make_user(session, UserRole.ENTERPRISE)
    for intruder in (stranger, m.experts[1]):
        answer = await client.post(
            f"{API}/takings/{taking['id']}/release", json={"reason": "不相干"}, headers=auth(intruder)
        )
        assert_problem(answer, 404, "taking_not_found")
    assert (await taking_row(session, taking["id"])).status is TakingStatus.PENDING


async def test_takings_are_listed_for_the_enterprise_and_the_taker_only(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2, experts=3)
    first = await take(client, auth, m, m.experts[0])
    second = await take(client, auth, m, m.experts[1])
    assert [t["id"] for t in (await client.get(f"{m.url}/takings", headers=auth(m.owner))).json()] == [
        first["id"], second["id"],
    ]  # fmt: skip
    assert [t["id"] for t in (await client.get(f"{m.url}/takings", headers=auth(m.experts[1]))).json()] == [
        second["id"]
    ]
    assert (await client.get(f"{m.url}/takings", headers=auth(m.experts[2]))).json() == []
    mine = (await client.get(f"{API}/me/takings", headers=auth(m.experts[0]))).json()
    assert [(t["id"], t["source"]) for t in mine] == [(first["id"], TakingSource.TAKEN.value)]


# ---------------------------------------------------------------------------------------------- notifications and audit


async def test_each_step_notifies_the_right_people(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2, experts=2)
    colleague = await make_user(session, UserRole.ENTERPRISE, enterprise_id=m.owner.enterprise_id)
    invited, walker = m.experts
    await propose(session, m.order, invited)

    await client.post(f"{m.url}/invitations", json={"expert_id": invited.expert_id}, headers=auth(m.owner))
    accepted = await client.post(f"{m.url}/invitations/accept", json={}, headers=auth(invited))
    walked = await take(client, auth, m, walker)
    await client.post(f"{API}/takings/{accepted.json()['id']}/confirm", headers=auth(m.owner))
    await client.post(
        f"{API}/takings/{walked['id']}/release", json={"reason": "方向不符"}, headers=auth(colleague)
    )

    assert await kinds(session, invited) == [NotificationKind.INVITATION, NotificationKind.TAKING_CONFIRMED]
    assert await kinds(session, walker) == [NotificationKind.TAKING_RELEASED]
    # every active login of the enterprise hears of each taker
    for user in (m.owner, colleague):
        assert await kinds(session, user) == [NotificationKind.ORDER_TAKEN, NotificationKind.ORDER_TAKEN]
    for user in (m.owner, colleague, invited, walker):
        for note in await notifications(session, user):
            assert note.read_at is None and note.title


async def test_an_inactive_login_receives_nothing(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, experts=1)
    retired = await make_user(
        session, UserRole.ENTERPRISE, enterprise_id=m.owner.enterprise_id, is_active=False
    )
    await take(client, auth, m, m.experts[0])
    assert await kinds(session, retired) == []
    assert await kinds(session, m.owner) == [NotificationKind.ORDER_TAKEN]


async def test_every_transition_writes_an_audit_event_with_its_actor(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=2, experts=2, status=OrderStatus.DRAFT)
    invited, walker = m.experts
    await client.post(f"{m.url}/publish", headers=auth(m.owner))
    [proposal] = await propose(session, m.order, invited)
    await client.post(f"{m.url}/invitations", json={"expert_id": invited.expert_id}, headers=auth(m.owner))
    accepted = (await client.post(f"{m.url}/invitations/accept", json={}, headers=auth(invited))).json()
    walked = await take(client, auth, m, walker)
    agreement = (await client.post(f"{API}/takings/{accepted['id']}/confirm", headers=auth(m.owner))).json()
    await client.post(
        f"{API}/takings/{walked['id']}/release", json={"reason": "时间冲突"}, headers=auth(walker)
    )
    await client.post(f"{m.url}/close", headers=auth(m.owner))

    trail = [
        (e.action, e.entity_type, e.entity_id, e.actor_user_id)
        for e in (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
        if e.action != "order.proposals_computed"
    ]
    order_id = m.order.id
    assert trail == [
        ("order.published", "orders", order_id, m.owner.id),
        ("proposal.invited", "proposals", proposal.id, m.owner.id),
        ("order.taken", "order_takings", accepted["id"], invited.id),
        ("proposal.accepted", "proposals", proposal.id, invited.id),
        ("order.taken", "order_takings", walked["id"], walker.id),
        ("order.filled", "orders", order_id, walker.id),
        ("taking.confirmed", "order_takings", accepted["id"], m.owner.id),
        ("agreement.drafted", "agreements", agreement["id"], m.owner.id),
        ("taking.released", "order_takings", walked["id"], walker.id),
        ("order.reopened", "orders", order_id, walker.id),
        ("order.closed", "orders", order_id, m.owner.id),
    ]
    released = (await audit(session, "order_takings", walked["id"]))[-1]
    assert released.before is not None and released.before["status"] == "pending"
    assert released.after is not None
    assert (released.after["status"], released.after["release_reason"]) == ("released", "时间冲突")


# ---------------------------------------------------------------------------------------------- termination


async def test_an_agreement_ended_before_it_took_effect_gives_the_slot_back(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    m = await market(session, slots=1, experts=2)
    first = await take(client, auth, m, m.experts[0])
    confirmed = await client.post(f"{API}/takings/{first['id']}/confirm", headers=auth(m.owner))
    assert confirmed.status_code == 201, confirmed.text
    assert await order_status(session, m.order) is OrderStatus.TAKEN

    ended = await client.post(
        f"{API}/agreements/{confirmed.json()['id']}/termination",
        json={"reason": "双方商定改期"},
        headers=auth(m.owner),
    )

    assert ended.status_code == 200, ended.text
    taking = await taking_row(session, first["id"])
    assert taking.status is TakingStatus.RELEASED and "双方商定改期" in (taking.release_reason or "")
    assert await order_status(session, m.order) is OrderStatus.PUBLISHED
    assert "order.reopened" in await actions(session, "orders", m.order.id)
    await take(client, auth, m, m.experts[1])  # the slot is free again


async def test_an_agreement_that_took_effect_keeps_its_slot_when_ended(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    from app.agreements.models import Agreement, AgreementStatus

    m = await market(session, slots=1, experts=1)
    first = await take(client, auth, m, m.experts[0])
    confirmed = await client.post(f"{API}/takings/{first['id']}/confirm", headers=auth(m.owner))
    agreement = await session.get(Agreement, confirmed.json()["id"])
    assert agreement is not None
    agreement.status = AgreementStatus.IN_PROGRESS  # as if both had signed
    await session.flush()

    ended = await client.post(
        f"{API}/agreements/{agreement.id}/termination", json={"reason": "企业停产"}, headers=auth(m.owner)
    )

    assert ended.status_code == 200, ended.text
    assert (await taking_row(session, first["id"])).status is TakingStatus.CONFIRMED
    assert await order_status(session, m.order) is OrderStatus.TAKEN
