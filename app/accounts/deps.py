"""FastAPI dependencies that find out who is calling, from a bearer token or the session cookie.

Both carry the token of a server-side session (``user_sessions``): one indexed lookup per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.accounts import service as account_service
from app.accounts.errors import PasswordChangeRequired
from app.accounts.security import SESSION_COOKIE, Actor
from app.accounts.service import AuthConfig, Authenticated
from app.db import SessionDep
from app.errors import Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="登录接口返回的 access_token")


async def get_auth_config(request: Request) -> AuthConfig:
    """Return the app's login config (built once from the settings)."""
    auth: AuthConfig = request.app.state.auth
    return auth


AuthConfigDep = Annotated[AuthConfig, Depends(get_auth_config)]


def session_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The session token a request carries: the bearer token if any, else the session cookie."""
    if credentials is not None:
        return credentials.credentials
    return request.cookies.get(SESSION_COOKIE) or None


async def get_authenticated(
    request: Request,
    session: SessionDep,
    auth: AuthConfigDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Authenticated | None:
    """Return the caller's session, or ``None`` when the request carries no valid credentials.

    A bearer token wins over the cookie. A present-but-invalid bearer token is an error rather than
    an anonymous call, so a client with an expired token learns it must log in again.
    """
    if credentials is not None:
        found = await account_service.authenticate(session, auth, credentials.credentials)
        if found is None:
            raise Unauthenticated("登录凭证无效或已过期，请重新登录。")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        found = await account_service.authenticate(session, auth, cookie) if cookie else None
    if found is not None:
        # the page header shows who is logged in
        request.state.account = found
    return found


async def get_optional_actor(
    found: Annotated[Authenticated | None, Depends(get_authenticated)],
) -> Actor | None:
    """Return the caller, or ``None`` when nobody is logged in.

    Raises:
        PasswordChangeRequired: the account logged in with a temporary password it has not changed yet.
    """
    if found is None:
        return None
    if found.must_change_password:
        raise PasswordChangeRequired()
    return found.actor


async def get_actor(actor: Annotated[Actor | None, Depends(get_optional_actor)]) -> Actor:
    """Return the caller, or answer 401 when nobody is logged in."""
    if actor is None:
        raise Unauthenticated()
    return actor


async def get_session_owner(
    found: Annotated[Authenticated | None, Depends(get_authenticated)],
) -> Authenticated:
    """The caller's session even while a temporary password must be changed (for changing it, and ``/me``)."""
    if found is None:
        raise Unauthenticated()
    return found


ActorDep = Annotated[Actor, Depends(get_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(get_optional_actor)]
SessionOwnerDep = Annotated[Authenticated, Depends(get_session_owner)]


def client_of(request: Request) -> account_service.Client:
    """The login's client: its address (uvicorn applies a trusted proxy's ``X-Forwarded-For``) and browser."""
    address = request.client.host if request.client else "unknown"
    return account_service.Client(address=address, user_agent=request.headers.get("user-agent"))


def set_session_cookie(request: Request, response: Response, token: str, auth: AuthConfig) -> None:
    """Give the browser its session cookie: HttpOnly, SameSite=Lax, Secure whenever the site is https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=auth.max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    """Tell the browser to drop the session cookie (with the attributes it was set with)."""
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
    )
