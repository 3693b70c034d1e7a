"""Pages: log in and out, change one's password, the administrators' account management, and the home
page that sends each role to its own start page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import service as account_service
from app.accounts.deps import (
    AuthConfigDep,
    clear_session_cookie,
    client_of,
    get_authenticated,
    set_session_cookie,
)
from app.accounts.errors import LoginFailed, LoginThrottled
from app.accounts.models import UserRole
from app.accounts.schemas import LoginRequest, PasswordChange, UserCreate
from app.accounts.security import SESSION_COOKIE, Actor
from app.accounts.service import Authenticated
from app.db import SessionDep
from app.errors import DomainError
from app.routing import IdPath
from app.schemas import Text
from app.web.deps import AdminPage, CsrfChecked, LoginRequired, OptionalPageActor
from app.web.forms import domain_errors, form_values, parse_form
from app.web.templating import render

router = APIRouter(include_in_schema=False)

# where to go after logging in: a path of this site, under the character rule
NextQuery = Annotated[Annotated[str, Text(500, min_length=0)] | None, Query()]

START_PAGES = {
    UserRole.ENTERPRISE: "/my/orders",
    UserRole.EXPERT: "/my/recommended",
    UserRole.ADMIN: "/admin",
}
CHANGE_PASSWORD_PAGE = "/account/password"


def _safe_next(target: str | None) -> str | None:
    # only paths of this site: never an open redirect to another host
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _login_form(
    request: Request, *, next_path: str, username: str, error: str | None, status: int = 200
) -> Response:
    context = {
        "next": next_path,
        "username": username,
        "error": error,
        # the demo's passwords are printed in the README: say so wherever they may be in use
        "demo_warning": request.app.state.settings.is_development,
    }
    return render(request, "login.html", context, status_code=status)


@router.get("/")
async def home(actor: OptionalPageActor) -> Response:
    """Each role's start page; visitors see the expert directory."""
    return RedirectResponse(START_PAGES[actor.role] if actor else "/experts", status_code=303)


@router.get("/login")
async def login_page(request: Request, next: NextQuery = None) -> Response:
    """The login form."""
    return _login_form(request, next_path=_safe_next(next) or "", username="", error=None)


@router.post("/login", dependencies=[CsrfChecked])
async def log_in(
    request: Request,
    session: SessionDep,
    auth: AuthConfigDep,
    username: Annotated[str, Text(50, min_length=0), Form()] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Text(500, min_length=0), Form()] = "",
) -> Response:
    """Check the credentials, set the session cookie and go to the page asked for (or the start page).

    A temporary password set by an administrator leads to the change-password form first.
    """
    # the API's schema decides what a username may hold: a NUL or a bidi override is a 422 here, never a query
    credentials, errors = parse_form(LoginRequest, {"username": username, "password": password})
    if credentials is None:
        return _login_form(
            request, next_path=_safe_next(next) or "", username=username, error=errors["__all__"],
            status=422,
        )  # fmt: skip
    try:
        result = await account_service.log_in(
            session, auth, credentials.username, credentials.password, client_of(request)
        )
    except (LoginFailed, LoginThrottled) as problem:
        response = _login_form(
            request, next_path=_safe_next(next) or "", username=username, error=problem.detail,
            status=problem.status,
        )  # fmt: skip
        response.headers.update(problem.headers or {})
        return response
    target = _safe_next(next) or START_PAGES[result.user.role]
    if result.user.must_change_password:
        target = CHANGE_PASSWORD_PAGE
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, result.token, auth)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
async def log_out(request: Request, session: SessionDep, auth: AuthConfigDep) -> Response:
    """End the session of the cookie and clear it."""
    await account_service.log_out(session, auth, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


async def _owner_or_login(
    request: Request, found: Annotated[Authenticated | None, Depends(get_authenticated)]
) -> Authenticated:
    if found is None:
        raise LoginRequired(CHANGE_PASSWORD_PAGE)
    request.state.actor = found.actor
    return found


PageOwner = Annotated[Authenticated, Depends(_owner_or_login)]


def _password_form(
    request: Request, owner: Authenticated, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    context = {"required": owner.must_change_password, "errors": errors or {}}
    return render(request, "accounts/password.html", context, status_code=status)


@router.get(CHANGE_PASSWORD_PAGE)
async def password_page(request: Request, owner: PageOwner) -> Response:
    """修改密码: the form (the only page open while a temporary password must be changed)."""
    return _password_form(request, owner)


@router.post(CHANGE_PASSWORD_PAGE, dependencies=[CsrfChecked])
async def change_password(
    request: Request, session: SessionDep, auth: AuthConfigDep, owner: PageOwner
) -> Response:
    """Change my password with the API's model; my other sessions end, this one stays."""
    values = form_values(await request.form())
    data, errors = parse_form(PasswordChange, values)
    if data is None:
        return _password_form(request, owner, errors=errors, status=422)
    try:
        await account_service.change_password(
            session, auth, owner.actor,
            current_password=data.current_password, new_password=data.new_password,
            keep_session_id=owner.session_id, client=client_of(request),
        )  # fmt: skip
    except DomainError as problem:
        await session.rollback()
        return _password_form(request, owner, errors=domain_errors(problem), status=problem.status)
    return RedirectResponse(f"{START_PAGES[owner.actor.role]}?flash=password_changed", status_code=303)


# --- administrators: accounts ----------------------------------------------------------------------


async def _users_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    issued: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "users": await account_service.list_users(session, actor),
        "roles": list(UserRole),
        "errors": errors or {},
        "values": values or {},
        "issued": issued,
    }
    return render(request, "accounts/users.html", context, status_code=status)


@router.get("/admin/users")
async def users_page(request: Request, session: SessionDep, actor: AdminPage) -> Response:
    """账号管理: every account, with the forms to create, reset, disable and enable."""
    return await _users_page(request, session, actor)


@router.post("/admin/users", dependencies=[CsrfChecked])
async def create_user(
    request: Request, session: SessionDep, actor: AdminPage, auth: AuthConfigDep
) -> Response:
    """Create an account with the API's model (blank bindings left out)."""
    values = form_values(await request.form(), optional=("enterprise_id", "expert_id"))
    data, errors = parse_form(UserCreate, values)
    shown = {k: v for k, v in values.items() if k != "password"}
    if data is None:
        return await _users_page(request, session, actor, errors=errors, values=shown, status=422)
    try:
        await account_service.create_user(session, actor, data, hashing=auth.hashing)
    except DomainError as problem:
        await session.rollback()
        return await _users_page(
            request, session, actor, errors=domain_errors(problem), values=shown, status=problem.status
        )
    return RedirectResponse("/admin/users?flash=user_created", status_code=303)


@router.post("/admin/users/{user_id}/password-reset", dependencies=[CsrfChecked])
async def reset_password(
    request: Request, user_id: IdPath, session: SessionDep, actor: AdminPage, auth: AuthConfigDep
) -> Response:
    """Set a temporary password and show it once, to hand over; it must be changed at the next login."""
    user, password = await account_service.reset_password(session, auth, actor, user_id)
    issued = {"username": user.username, "display_name": user.display_name, "password": password}
    response = await _users_page(request, session, actor, issued=issued)
    response.headers["Cache-Control"] = "no-store"  # the temporary password must not stay in a cache
    return response


@router.post("/admin/users/{user_id}/disable", dependencies=[CsrfChecked])
async def disable_user(request: Request, user_id: IdPath, session: SessionDep, actor: AdminPage) -> Response:
    """Disable an account: all its sessions end at once."""
    await account_service.set_active(session, actor, user_id, active=False)
    return RedirectResponse("/admin/users?flash=user_disabled", status_code=303)


@router.post("/admin/users/{user_id}/enable", dependencies=[CsrfChecked])
async def enable_user(request: Request, user_id: IdPath, session: SessionDep, actor: AdminPage) -> Response:
    """Enable an account again."""
    await account_service.set_active(session, actor, user_id, active=True)
    return RedirectResponse("/admin/users?flash=user_enabled", status_code=303)
