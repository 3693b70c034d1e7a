"""Page dependencies: who is logged in (from the session cookie), role checks, CSRF on forms."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from app.accounts.deps import get_optional_actor
from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.db import SessionDep
from app.errors import Forbidden
from app.notifications import service as notification_service
from app.web.csrf import check_csrf


class LoginRequired(Exception):
    """A page needs a logged-in user: the handler redirects to the login page and back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def page_actor(
    request: Request, session: SessionDep, actor: Annotated[Actor | None, Depends(get_optional_actor)]
) -> Actor:
    """The logged-in user of a page (else a redirect to the login page); loads the unread count for the menu."""
    if actor is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(target, safe="/?=&"))
    request.state.actor = actor
    request.state.unread = await notification_service.unread_count(session, actor)
    return actor


async def optional_page_actor(
    request: Request, session: SessionDep, actor: Annotated[Actor | None, Depends(get_optional_actor)]
) -> Actor | None:
    """The logged-in user, if any (public pages)."""
    if actor is not None:
        request.state.actor = actor
        request.state.unread = await notification_service.unread_count(session, actor)
    return actor


def role_required(*roles: UserRole) -> object:
    """A dependency that lets only these roles in (a Chinese 403 page for the others)."""

    async def check(actor: Annotated[Actor, Depends(page_actor)]) -> Actor:
        if actor.role not in roles:
            raise Forbidden("您的账号角色不能访问此页面。")
        return actor

    return Depends(check)


PageActor = Annotated[Actor, Depends(page_actor)]
OptionalPageActor = Annotated[Actor | None, Depends(optional_page_actor)]
EnterprisePage = Annotated[Actor, role_required(UserRole.ENTERPRISE, UserRole.ADMIN)]
ExpertPage = Annotated[Actor, role_required(UserRole.EXPERT)]
AdminPage = Annotated[Actor, role_required(UserRole.ADMIN)]
CsrfChecked = Depends(check_csrf)
