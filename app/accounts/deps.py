"""FastAPI dependencies that find out who is calling, from a bearer token or the session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.accounts import service as account_service
from app.accounts.security import SESSION_COOKIE, Actor, TokenSigner
from app.db import SessionDep
from app.errors import Unauthenticated

_bearer = HTTPBearer(auto_error=False, description="登录接口返回的 access_token")


def get_token_signer(request: Request) -> TokenSigner:
    """Return the app's token signer (built once from the settings)."""
    signer: TokenSigner = request.app.state.token_signer
    return signer


async def get_optional_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor | None:
    """Return the caller, or ``None`` when the request carries no valid credentials.

    A bearer token wins over the cookie. A present-but-invalid bearer token is an error rather than
    an anonymous call, so a client with an expired token learns it must log in again.
    """
    signer = get_token_signer(request)
    if credentials is not None:
        actor = await account_service.actor_for_token(session, signer, credentials.credentials)
        if actor is None:
            raise Unauthenticated("登录凭证无效或已过期，请重新登录。")
        return actor
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return await account_service.actor_for_token(session, signer, cookie)
    return None


async def get_actor(actor: Annotated[Actor | None, Depends(get_optional_actor)]) -> Actor:
    """Return the caller, or answer 401 when nobody is logged in."""
    if actor is None:
        raise Unauthenticated()
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]
OptionalActorDep = Annotated[Actor | None, Depends(get_optional_actor)]
