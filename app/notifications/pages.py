"""The inbox page (站内消息) with its unread count."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.notifications import service as notification_service
from app.pagination import PageParams
from app.routing import IdPath
from app.web.deps import CsrfChecked, PageActor
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
async def inbox(request: Request, session: SessionDep, actor: PageActor, unread: bool = False) -> Response:
    """The caller's notifications, newest first."""
    items, total = await notification_service.inbox(
        session, actor, PageParams(page=1, page_size=100), unread_only=unread
    )
    return render(
        request, "notifications/inbox.html", {"items": items, "total": total, "only_unread": unread}
    )


@router.get("/inbox/{notification_id}")
async def open_notification(notification_id: IdPath, session: SessionDep, actor: PageActor) -> Response:
    """Open a message: it is marked read and the page it is about opens (the inbox if it has none)."""
    notification = await notification_service.mark_read(session, actor, notification_id)
    link = notification.link or ""
    # our own pages only (the links are written by the services; never a redirect to another site)
    target = link if link.startswith("/") and not link.startswith("//") else "/inbox"
    return RedirectResponse(target, status_code=303)


@router.post("/inbox/read-all", dependencies=[CsrfChecked])
async def read_all(session: SessionDep, actor: PageActor) -> Response:
    """Mark everything read."""
    await notification_service.mark_all_read(session, actor)
    return RedirectResponse("/inbox?flash=read", status_code=303)
