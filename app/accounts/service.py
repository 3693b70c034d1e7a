"""Use cases for accounts: log in, resolve a token, create an account."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.errors import LoginFailed, RoleBindingInvalid, UsernameTaken
from app.accounts.models import User, UserRole
from app.accounts.repository import UserRepository
from app.accounts.schemas import UserCreate
from app.accounts.security import Actor, TokenSigner, hash_password, verify_password
from app.audit.service import record_change
from app.db import utcnow
from app.enterprises import service as enterprise_service
from app.errors import Forbidden
from app.experts import service as expert_service

log = logging.getLogger(__name__)


async def log_in(session: AsyncSession, username: str, password: str) -> User:
    """Check credentials and stamp the login time.

    Raises:
        LoginFailed: unknown user, wrong password or a disabled account (indistinguishable on purpose).
    """
    user = await UserRepository(session).get_by_username(username.strip())
    if (
        not verify_password(user.password_hash if user else None, password)
        or user is None
        or not user.is_active
    ):
        log.info("auth.login_failed")
        raise LoginFailed()
    user.last_login_at = utcnow()
    await session.commit()
    log.info("auth.login_succeeded user_id=%s", user.id)
    return user


async def actor_for_token(session: AsyncSession, signer: TokenSigner, token: str) -> Actor | None:
    """Return the actor a token stands for, or ``None`` if it is invalid, expired, revoked or disabled."""
    parsed = signer.read_user_id(token)
    if parsed is None:
        return None
    user_id, fingerprint = parsed
    user = await UserRepository(session).get(user_id)
    if user is None or not user.is_active or not signer.matches(user, fingerprint):
        return None
    return Actor.of(user)


async def get_user(session: AsyncSession, actor: Actor) -> User:
    """Return the caller's own account."""
    user = await UserRepository(session).get(actor.user_id)
    if user is None:  # deleted between the token check and now
        raise LoginFailed()
    return user


async def create_user(session: AsyncSession, actor: Actor | None, data: UserCreate) -> User:
    """Create an account bound to its enterprise or expert record.

    Args:
        session: the request session.
        actor: the administrator doing it (``None`` only for trusted jobs such as the demo loader).
        data: the new account.

    Raises:
        Forbidden: the caller is not an administrator.
        RoleBindingInvalid: the binding does not fit the role, or the bound record does not exist.
        UsernameTaken: the username is in use.
    """
    if actor is not None and not actor.is_admin:
        raise Forbidden("只有管理员可以创建账号。")
    await _check_binding(session, data)
    repository = UserRepository(session)
    if await repository.get_by_username(data.username):
        raise UsernameTaken(data.username)
    user = User(
        username=data.username,
        password_hash=hash_password(data.password),
        display_name=data.display_name,
        role=data.role,
        enterprise_id=data.enterprise_id,
        expert_id=data.expert_id,
    )
    try:
        await repository.add(user)
    except IntegrityError:
        await session.rollback()
        raise UsernameTaken(data.username) from None
    await record_change(session, actor=actor, action="user.created", record=user, before=None)
    await session.commit()
    return user


async def _check_binding(session: AsyncSession, data: UserCreate) -> None:
    if data.role is UserRole.ENTERPRISE:
        if data.enterprise_id is None or data.expert_id is not None:
            raise RoleBindingInvalid("企业用户必须绑定一个企业（enterprise_id），且不能绑定专家。")
        if not await enterprise_service.enterprise_exists(session, data.enterprise_id):
            raise RoleBindingInvalid(f"要绑定的企业（编号 {data.enterprise_id}）不存在。")
    elif data.role is UserRole.EXPERT:
        if data.expert_id is None or data.enterprise_id is not None:
            raise RoleBindingInvalid("专家用户必须绑定一个专家档案（expert_id），且不能绑定企业。")
        if not await expert_service.expert_exists(session, data.expert_id):
            raise RoleBindingInvalid(f"要绑定的专家档案（编号 {data.expert_id}）不存在。")
    elif data.enterprise_id is not None or data.expert_id is not None:
        raise RoleBindingInvalid("管理员账号不能绑定企业或专家。")


async def enterprise_user_ids(session: AsyncSession, enterprise_id: int) -> list[int]:
    """The active logins of an enterprise (who receives its notifications)."""
    return await UserRepository(session).active_ids(enterprise_id=enterprise_id)


async def expert_user_ids(session: AsyncSession, expert_id: int) -> list[int]:
    """The active login of an expert, if the expert has one."""
    return await UserRepository(session).active_ids(expert_id=expert_id)


async def admin_user_ids(session: AsyncSession) -> list[int]:
    """The active administrators."""
    return await UserRepository(session).active_ids(admins=True)
