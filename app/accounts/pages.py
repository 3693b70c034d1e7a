"""Pages: log in, log out, and the home page that sends each role to its own start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import service as account_service
from app.accounts.deps import get_token_signer
from app.accounts.errors import LoginFailed
from app.accounts.models import UserRole
from app.accounts.schemas import LoginRequest
from app.accounts.security import SESSION_COOKIE
from app.db import SessionDep
from app.schemas import Text
from app.web.deps import CsrfChecked, OptionalPageActor
from app.web.forms import parse_form
from app.web.templating import render

router = APIRouter(include_in_schema=False)

# where to go after logging in: a path of this site, under the character rule
NextQuery = Annotated[Annotated[str, Text(500, min_length=0)] | None, Query()]

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
async def login_page(request: Request, next: NextQuery = None) -> Response:
    """The login form."""
    return render(request, "login.html", {"next": _safe_next(next) or "", "username": "", "error": None})


@router.post("/login", dependencies=[CsrfChecked])
async def log_in(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Text(50, min_length=0), Form()] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Text(500, min_length=0), Form()] = "",
) -> Response:
    """Check the credentials, set the session cookie and go to the page asked for (or the start page)."""
    # the API's schema decides what a username may hold: a NUL or a bidi override is a 422 here, never a query
    credentials, errors = parse_form(LoginRequest, {"username": username, "password": password})
    if credentials is None:
        context = {"next": _safe_next(next) or "", "username": username, "error": errors["__all__"]}
        return render(request, "login.html", context, status_code=422)
    try:
        user = await account_service.log_in(session, credentials.username, credentials.password)
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
