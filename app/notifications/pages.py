"""The inbox page (站内消息) with its unread count."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.notifications import service as notification_service
from app.pagination import PageParams
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


@router.post("/inbox/read-all", dependencies=[CsrfChecked])
async def read_all(session: SessionDep, actor: PageActor) -> Response:
    """Mark everything read."""
    await notification_service.mark_all_read(session, actor)
    return RedirectResponse("/inbox?flash=read", status_code=303)
