"""JSON API for login and accounts: ``/api/v1/auth`` and ``/api/v1/users``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app.accounts import service as account_service
from app.accounts.deps import ActorDep, get_token_signer
from app.accounts.schemas import LoginRequest, LoginResponse, UserCreate, UserRead
from app.accounts.security import SESSION_COOKIE
from app.db import SessionDep

router = APIRouter(tags=["账号"])


@router.post("/auth/login", response_model=LoginResponse, summary="登录（返回令牌并设置会话 Cookie）")
async def log_in(
    body: LoginRequest, request: Request, response: Response, session: SessionDep
) -> LoginResponse:
    """Check credentials; return a bearer token for the API and set the signed session cookie for pages."""
    user = await account_service.log_in(session, body.username, body.password)
    signer = get_token_signer(request)
    token = signer.issue(user)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=signer.max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/",
    )
    return LoginResponse(
        access_token=token, expires_in=signer.max_age_seconds, user=UserRead.model_validate(user)
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="退出登录（清除会话 Cookie）")
async def log_out(response: Response) -> Response:
    """Clear the session cookie. Bearer tokens expire on their own or when the password changes."""
    response.status_code = status.HTTP_204_NO_CONTENT
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/auth/me", response_model=UserRead, summary="当前登录用户")
async def who_am_i(session: SessionDep, actor: ActorDep) -> UserRead:
    """Return the caller's own account."""
    return UserRead.model_validate(await account_service.get_user(session, actor))


@router.post(
    "/users", status_code=status.HTTP_201_CREATED, response_model=UserRead, summary="创建账号（管理员）"
)
async def create_user(body: UserCreate, session: SessionDep, actor: ActorDep) -> UserRead:
    """Create an account bound to an enterprise or an expert. Administrators only."""
    return UserRead.model_validate(await account_service.create_user(session, actor, body))
