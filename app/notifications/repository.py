"""Queries over notifications."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from app.notifications.models import Notification
from app.pagination import PageParams
from app.repository import Repository


class NotificationRepository(Repository[Notification]):
    """A user's inbox: pages, unread counts, marking read, and reminders already sent."""

    model = Notification

    async def inbox(
        self, user_id: int, params: PageParams, *, unread_only: bool
    ) -> tuple[Sequence[Notification], int]:
        """One page of a user's notifications, newest first."""
        statement = select(Notification).where(Notification.user_id == user_id)
        if unread_only:
            statement = statement.where(Notification.read_at.is_(None))
        return await self.page(
            statement, params, sort="-created_at", sort_columns={"created_at": Notification.created_at}
        )

    async def unread_count(self, user_id: int) -> int:
        """How many of the user's notifications are unread."""
        statement = select(func.count()).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
        return int(await self.session.scalar(statement) or 0)

    async def mark_all_read(self, user_id: int, moment: datetime) -> int:
        """Mark every unread notification of the user read; return how many changed."""
        result = await self.session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=moment)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def already_sent(self, user_ids: Collection[int], dedupe_key: str) -> set[int]:
        """The users who already have a notification with this key."""
        rows = await self.session.scalars(
            select(Notification.user_id).where(
                Notification.user_id.in_(list(user_ids)), Notification.dedupe_key == dedupe_key
            )
        )
        return set(rows)
