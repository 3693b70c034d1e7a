"""JSON API for login, sessions and accounts: ``/api/v1/auth`` and ``/api/v1/users``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.accounts import service as account_service
from app.accounts.deps import (
    ActorDep,
    AuthConfigDep,
    SessionOwnerDep,
    clear_session_cookie,
    client_of,
    session_token,
    set_session_cookie,
)
from app.accounts.schemas import (
    LoginRequest,
    LoginResponse,
    PasswordChange,
    PasswordReset,
    UserCreate,
    UserRead,
)
from app.db import SessionDep
from app.routing import IdPath

router = APIRouter(tags=["账号"])
_bearer = HTTPBearer(auto_error=False)


@router.post("/auth/login", response_model=LoginResponse, summary="登录（返回令牌并设置会话 Cookie）")
async def log_in(
    body: LoginRequest, request: Request, response: Response, session: SessionDep, auth: AuthConfigDep
) -> LoginResponse:
    """Check credentials; open a session whose token is both the bearer token and the pages' cookie.

    Too many failures for the account or from the address answer 429 ``login_throttled`` with
    ``Retry-After``, even for the right password.
    """
    result = await account_service.log_in(session, auth, body.username, body.password, client_of(request))
    set_session_cookie(request, response, result.token, auth)
    return LoginResponse(
        access_token=result.token, expires_in=auth.max_age_seconds, user=UserRead.model_validate(result.user)
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录（结束会话）")
async def log_out(
    request: Request,
    session: SessionDep,
    auth: AuthConfigDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    """End the session of the bearer token (or of the cookie) and clear the cookie."""
    await account_service.log_out(session, auth, session_token(request, credentials))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(request, response)
    return response


@router.get("/auth/me", response_model=UserRead, summary="当前登录用户")
async def who_am_i(session: SessionDep, owner: SessionOwnerDep) -> UserRead:
    """Return the caller's own account (also while a temporary password must be changed)."""
    return UserRead.model_validate(await account_service.get_user(session, owner.actor))


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT, summary="修改自己的密码")
async def change_password(
    body: PasswordChange, request: Request, session: SessionDep, auth: AuthConfigDep, owner: SessionOwnerDep
) -> Response:
    """Change the caller's password (the current one is required); the caller's other sessions end."""
    await account_service.change_password(
        session, auth, owner.actor,
        current_password=body.current_password, new_password=body.new_password,
        keep_session_id=owner.session_id, client=client_of(request),
    )  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users", response_model=list[UserRead], summary="账号列表（管理员）")
async def list_users(session: SessionDep, actor: ActorDep) -> list[UserRead]:
    """Every account. Administrators only."""
    return [UserRead.model_validate(u) for u in await account_service.list_users(session, actor)]


@router.post(
    "/users", status_code=status.HTTP_201_CREATED, response_model=UserRead, summary="创建账号（管理员）"
)
async def create_user(
    body: UserCreate, session: SessionDep, actor: ActorDep, auth: AuthConfigDep
) -> UserRead:
    """Create an account bound to an enterprise or an expert. Administrators only."""
    user = await account_service.create_user(session, actor, body, hashing=auth.hashing)
    return UserRead.model_validate(user)


@router.post("/users/{user_id}/password-reset", response_model=PasswordReset, summary="重置密码（管理员）")
async def reset_password(
    user_id: IdPath, session: SessionDep, actor: ActorDep, auth: AuthConfigDep
) -> PasswordReset:
    """Set a temporary password that must be changed at the next login; the account's sessions end."""
    user, password = await account_service.reset_password(session, auth, actor, user_id)
    return PasswordReset(user=UserRead.model_validate(user), temporary_password=password)


@router.post("/users/{user_id}/disable", response_model=UserRead, summary="停用账号（管理员）")
async def disable_user(user_id: IdPath, session: SessionDep, actor: ActorDep) -> UserRead:
    """Disable an account: it cannot log in, and all its sessions end at once."""
    return UserRead.model_validate(await account_service.set_active(session, actor, user_id, active=False))


@router.post("/users/{user_id}/enable", response_model=UserRead, summary="启用账号（管理员）")
async def enable_user(user_id: IdPath, session: SessionDep, actor: ActorDep) -> UserRead:
    """Enable a disabled account again."""
    return UserRead.model_validate(await account_service.set_active(session, actor, user_id, active=True))
