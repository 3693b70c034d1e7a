"""JSON API for the inbox: ``/api/v1/notifications``."""

from __future__ import annotations

from fastapi import APIRouter

from app.accounts.deps import ActorDep
from app.db import SessionDep
from app.notifications import service as notification_service
from app.notifications.schemas import MarkedRead, NotificationRead, UnreadCount
from app.pagination import Page, PageDep
from app.routing import IdPath

router = APIRouter(prefix="/notifications", tags=["站内消息"])


@router.get("", response_model=Page[NotificationRead], summary="我的消息（最新在前）")
async def list_notifications(
    session: SessionDep, actor: ActorDep, page: PageDep, unread: bool = False
) -> Page[NotificationRead]:
    """The caller's notifications; ``unread=true`` lists only unread ones."""
    items, total = await notification_service.inbox(session, actor, page, unread_only=unread)
    return Page.of([NotificationRead.model_validate(n) for n in items], total, page)


@router.get("/unread-count", response_model=UnreadCount, summary="未读消息数")
async def unread_count(session: SessionDep, actor: ActorDep) -> UnreadCount:
    """How many of the caller's notifications are unread."""
    return UnreadCount(unread=await notification_service.unread_count(session, actor))


@router.post("/{notification_id}/read", response_model=NotificationRead, summary="标记为已读")
async def mark_read(notification_id: IdPath, session: SessionDep, actor: ActorDep) -> NotificationRead:
    """Mark one notification read."""
    return NotificationRead.model_validate(
        await notification_service.mark_read(session, actor, notification_id)
    )


@router.post("/read-all", response_model=MarkedRead, summary="全部标记为已读")
async def mark_all_read(session: SessionDep, actor: ActorDep) -> MarkedRead:
    """Mark every notification of the caller read."""
    return MarkedRead(marked=await notification_service.mark_all_read(session, actor))
