"""API shapes for the inbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, computed_field

from app.labels import label
from app.notifications.models import NotificationKind


class NotificationRead(BaseModel):
    """A notification as the inbox shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: NotificationKind
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        """The kind in Chinese."""
        return label(self.kind)


class UnreadCount(BaseModel):
    """How many notifications are unread."""

    unread: int


class MarkedRead(BaseModel):
    """How many notifications a mark-all call changed."""

    marked: int
