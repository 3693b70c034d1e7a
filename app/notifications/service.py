"""Use cases for the inbox: other services send notifications; users read them."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.clock import utcnow
from app.notifications.errors import NotificationNotFound
from app.notifications.models import Notification, NotificationKind
from app.notifications.repository import NotificationRepository
from app.pagination import PageParams


async def notify(
    session: AsyncSession,
    user_ids: Collection[int],
    kind: NotificationKind,
    title: str,
    *,
    body: str = "",
    link: str | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Stage one notification per user in the caller's transaction (it commits with the change).

    Args:
        session: the use case's session.
        user_ids: who receives it (duplicates are sent once).
        kind: what it is about.
        title: a short Chinese line for the inbox.
        body: more detail in Chinese.
        link: the page or API path the notification points to.
        dedupe_key: a reminder's key: users who already have a notification with it get no second one.
    """
    recipients = sorted(set(user_ids))
    if dedupe_key is not None and recipients:
        sent = await NotificationRepository(session).already_sent(recipients, dedupe_key)
        recipients = [user_id for user_id in recipients if user_id not in sent]
    notifications = [
        Notification(user_id=user_id, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key)
        for user_id in recipients
    ]
    session.add_all(notifications)
    await session.flush()
    return notifications


async def inbox(
    session: AsyncSession, actor: Actor, params: PageParams, *, unread_only: bool = False
) -> tuple[Sequence[Notification], int]:
    """One page of the caller's notifications, newest first."""
    return await NotificationRepository(session).inbox(actor.user_id, params, unread_only=unread_only)


async def unread_count(session: AsyncSession, actor: Actor) -> int:
    """How many of the caller's notifications are unread."""
    return await NotificationRepository(session).unread_count(actor.user_id)


async def mark_read(session: AsyncSession, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the caller's notifications read (reading it twice changes nothing).

    Raises:
        NotificationNotFound: no such notification, or someone else's.
    """
    notification = await NotificationRepository(session).get(notification_id)
    if notification is None or notification.user_id != actor.user_id:
        raise NotificationNotFound(notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        await session.commit()
    return notification


async def mark_all_read(session: AsyncSession, actor: Actor) -> int:
    """Mark all the caller's notifications read; return how many were unread."""
    changed = await NotificationRepository(session).mark_all_read(actor.user_id, utcnow())
    await session.commit()
    return changed
