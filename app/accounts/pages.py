"""Pages: log in, log out, and the home page that sends each role to its own start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import service as account_service
from app.accounts.deps import get_token_signer
from app.accounts.errors import LoginFailed
from app.accounts.models import UserRole
from app.accounts.security import SESSION_COOKIE
from app.db import SessionDep
from app.web.deps import CsrfChecked, OptionalPageActor
from app.web.templating import render

router = APIRouter(include_in_schema=False)

START_PAGES = {
    UserRole.ENTERPRISE: "/my/orders",
    UserRole.EXPERT: "/my/recommended",
    UserRole.ADMIN: "/admin",
}


def _safe_next(target: str | None) -> str | None:
    # only paths of this site: never an open redirect to another host
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@router.get("/")
async def home(actor: OptionalPageActor) -> Response:
    """Each role's start page; visitors see the expert directory."""
    return RedirectResponse(START_PAGES[actor.role] if actor else "/experts", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    """The login form."""
    return render(request, "login.html", {"next": _safe_next(next) or "", "username": "", "error": None})


@router.post("/login", dependencies=[CsrfChecked])
async def log_in(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=50)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Check the credentials, set the session cookie and go to the page asked for (or the start page)."""
    try:
        user = await account_service.log_in(session, username.strip(), password)
    except LoginFailed as problem:
        context = {"next": _safe_next(next) or "", "username": username, "error": problem.detail}
        return render(request, "login.html", context, status_code=problem.status)
    signer = get_token_signer(request)
    response = RedirectResponse(_safe_next(next) or START_PAGES[user.role], status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signer.issue(user),
        max_age=signer.max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/logout", dependencies=[CsrfChecked])
async def log_out() -> Response:
    """Clear the session cookie."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
