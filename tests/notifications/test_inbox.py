"""The inbox through the API: unread count, the unread filter, marking one or all read, and nobody reads
someone else's messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.notifications import service as notification_service
from app.notifications.models import Notification, NotificationKind
from tests.factories import make_user
from tests.problems import Auth, assert_problem

URL = "/api/v1/notifications"
MOMENT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def inbox_of(session: AsyncSession, user: User, count: int, *, read: int = 0) -> list[Notification]:
    """``count`` notifications for ``user``, one minute apart (the last one newest); the first ``read`` read."""
    kinds = list(NotificationKind)
    notes = [
        Notification(
            user_id=user.id,
            kind=kinds[n % len(kinds)],
            title=f"第 {n + 1} 条消息",
            body="请查看详情。",
            link=f"/orders/{n + 1}",
            created_at=MOMENT + timedelta(minutes=n),
            read_at=MOMENT + timedelta(hours=1) if n < read else None,
        )
        for n in range(count)
    ]
    session.add_all(notes)
    await session.flush()
    return notes


def ok(response: Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def unread(client: AsyncClient, headers: dict[str, str]) -> int:
    count: int = ok(await client.get(f"{URL}/unread-count", headers=headers))["unread"]
    return count


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT, UserRole.ADMIN])
async def test_every_role_has_an_inbox(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    user = await make_user(session, role)
    assert await unread(client, auth(user)) == 0
    assert ok(await client.get(URL, headers=auth(user))) == {
        "items": [],
        "total": 0,
        "page": 1,
        "page_size": 20,
    }
    await inbox_of(session, user, 2)
    assert await unread(client, auth(user)) == 2


async def test_the_inbox_lists_the_callers_messages_newest_first(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.EXPERT)
    other = await make_user(session, UserRole.EXPERT)
    notes = await inbox_of(session, user, 3, read=1)
    await inbox_of(session, other, 4)

    page = ok(await client.get(URL, headers=auth(user)))

    assert page["total"] == 3
    assert [n["id"] for n in page["items"]] == [notes[2].id, notes[1].id, notes[0].id]
    newest = page["items"][0]
    assert (newest["title"], newest["body"], newest["link"], newest["read_at"]) == (
        "第 3 条消息",
        "请查看详情。",
        "/orders/3",
        None,
    )
    assert newest["kind"] == notes[2].kind.value and newest["kind_label"]
    assert page["items"][-1]["read_at"] is not None
    second_page = ok(await client.get(URL, params={"page": 2, "page_size": 2}, headers=auth(user)))
    assert [n["id"] for n in second_page["items"]] == [notes[0].id]
    assert (second_page["total"], second_page["page"], second_page["page_size"]) == (3, 2, 2)


async def test_the_same_moment_breaks_ties_by_id(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    notes = await notification_service.notify(
        session, [user.id, user.id], NotificationKind.ORDER_TAKEN, "专家接单"
    )
    more = await notification_service.notify(
        session, [user.id], NotificationKind.ORDER_TAKEN, "又一位专家接单"
    )
    assert len(notes) == 1  # a recipient listed twice is sent one message
    for note in (*notes, *more):
        note.created_at = MOMENT
    await session.flush()
    assert [n["id"] for n in ok(await client.get(URL, headers=auth(user)))["items"]] == [
        more[0].id,
        notes[0].id,
    ]


async def test_the_unread_filter_and_count(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    notes = await inbox_of(session, user, 5, read=2)

    assert await unread(client, auth(user)) == 3
    only_unread = ok(await client.get(URL, params={"unread": "true"}, headers=auth(user)))
    assert [n["id"] for n in only_unread["items"]] == [notes[4].id, notes[3].id, notes[2].id]
    assert only_unread["total"] == 3
    assert all(n["read_at"] is None for n in only_unread["items"])
    everything = ok(await client.get(URL, params={"unread": "false"}, headers=auth(user)))
    assert everything["total"] == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"unread": "maybe"}, "unread"),
        ({"page": 0}, "page"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
    ],
)
async def test_bad_list_parameters_are_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, params: dict[str, Any], field: str
) -> None:
    user = await make_user(session, UserRole.EXPERT)
    assert_problem(await client.get(URL, params=params, headers=auth(user)), 422, "request_invalid", field)


async def test_marking_one_read(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await make_user(session, UserRole.EXPERT)
    notes = await inbox_of(session, user, 3)
    target = notes[1]

    marked = ok(await client.post(f"{URL}/{target.id}/read", headers=auth(user)))

    assert marked["id"] == target.id and marked["read_at"] is not None
    assert await unread(client, auth(user)) == 2
    remaining = ok(await client.get(URL, params={"unread": True}, headers=auth(user)))["items"]
    assert [n["id"] for n in remaining] == [notes[2].id, notes[0].id]
    stored = await session.get(Notification, target.id, populate_existing=True)
    assert stored is not None and stored.read_at is not None
    # reading it again changes nothing: the first moment of reading stays
    again = ok(await client.post(f"{URL}/{target.id}/read", headers=auth(user)))
    assert again["read_at"] == marked["read_at"]
    assert await unread(client, auth(user)) == 2


async def test_someone_elses_notification_is_not_found(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    owner = await make_user(session, UserRole.EXPERT)
    intruder = await make_user(session, UserRole.EXPERT)
    admin = await make_user(session, UserRole.ADMIN)
    [note] = await inbox_of(session, owner, 1)

    for user in (intruder, admin):
        problem = assert_problem(
            await client.post(f"{URL}/{note.id}/read", headers=auth(user)), 404, "notification_not_found"
        )
        assert str(note.id) in problem["detail"]
    assert_problem(
        await client.post(f"{URL}/2147483647/read", headers=auth(owner)), 404, "notification_not_found"
    )
    assert_problem(await client.post(f"{URL}/0/read", headers=auth(owner)), 422, "request_invalid")
    stored = await session.get(Notification, note.id, populate_existing=True)
    assert stored is not None and stored.read_at is None
    assert await unread(client, auth(owner)) == 1
    assert ok(await client.get(URL, headers=auth(intruder)))["total"] == 0


async def test_read_all_marks_only_the_callers_unread_messages(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    other = await make_user(session, UserRole.ENTERPRISE)
    notes = await inbox_of(session, user, 4, read=1)
    await inbox_of(session, other, 2)
    already_read_at = notes[0].read_at

    assert ok(await client.post(f"{URL}/read-all", headers=auth(user))) == {"marked": 3}

    assert await unread(client, auth(user)) == 0
    assert ok(await client.get(URL, params={"unread": "true"}, headers=auth(user)))["total"] == 0
    assert await unread(client, auth(other)) == 2
    rows = (
        await session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    assert all(n.read_at is not None for n in rows)
    assert rows[0].read_at == already_read_at  # an old read stays as it was
    assert ok(await client.post(f"{URL}/read-all", headers=auth(user))) == {"marked": 0}


async def test_the_inbox_needs_a_login(client: AsyncClient) -> None:
    for method, path in (
        ("GET", URL),
        ("GET", f"{URL}/unread-count"),
        ("POST", f"{URL}/1/read"),
        ("POST", f"{URL}/read-all"),
    ):
        assert_problem(await client.request(method, path), 401, "unauthenticated")


async def test_a_reminder_key_sends_each_user_one_message(session: AsyncSession) -> None:
    first = await make_user(session, UserRole.EXPERT)
    second = await make_user(session, UserRole.EXPERT)
    sent = await notification_service.notify(
        session,
        [first.id],
        NotificationKind.CONSULTATION_OVERDUE,
        "会商已逾期",
        dedupe_key="overdue:1:2026-03-01",
    )
    again = await notification_service.notify(
        session,
        [first.id, second.id],
        NotificationKind.CONSULTATION_OVERDUE,
        "会商已逾期",
        dedupe_key="overdue:1:2026-03-01",
    )
    assert [n.user_id for n in sent] == [first.id]
    assert [n.user_id for n in again] == [second.id]
    later = await notification_service.notify(
        session,
        [first.id],
        NotificationKind.CONSULTATION_OVERDUE,
        "会商已逾期",
        dedupe_key="overdue:1:2026-04-01",
    )
    assert [n.user_id for n in later] == [first.id]
