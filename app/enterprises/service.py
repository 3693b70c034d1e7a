"""Use cases for enterprises: register, update, read, list."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.audit.service import apply_changes, record_change
from app.enterprises import uscc
from app.enterprises.errors import CreditCodeInvalid, CreditCodeTaken, EnterpriseNotFound
from app.enterprises.models import Enterprise
from app.enterprises.repository import EnterpriseFilters, EnterpriseRepository
from app.enterprises.schemas import EnterpriseCreate, EnterpriseUpdate
from app.errors import Forbidden
from app.pagination import PageParams


def can_manage(actor: Actor, enterprise_id: int) -> bool:
    """True if ``actor`` may edit the enterprise and what belongs to it (its studios and orders)."""
    return actor.is_admin or actor.enterprise_id == enterprise_id


async def require_enterprise(session: AsyncSession, enterprise_id: int) -> Enterprise:
    """Return the enterprise or raise ``EnterpriseNotFound``."""
    enterprise = await EnterpriseRepository(session).get(enterprise_id)
    if enterprise is None:
        raise EnterpriseNotFound(enterprise_id)
    return enterprise


async def enterprise_exists(session: AsyncSession, enterprise_id: int) -> bool:
    """True if an enterprise with this id exists."""
    return await EnterpriseRepository(session).get(enterprise_id) is not None


async def register_enterprise(
    session: AsyncSession, actor: Actor | None, data: EnterpriseCreate
) -> Enterprise:
    """Register an enterprise after checking its credit code.

    Args:
        session: the request session.
        actor: an administrator (``None`` only for trusted jobs such as the demo loader).
        data: the enterprise.

    Raises:
        Forbidden: the caller is not an administrator.
        CreditCodeInvalid: the code fails GB 32100-2015.
        CreditCodeTaken: another enterprise has this code.
    """
    if actor is not None and not actor.is_admin:
        raise Forbidden("只有管理员可以登记企业。")
    code = uscc.normalise(data.credit_code)
    reason = uscc.problem(code)
    if reason:
        raise CreditCodeInvalid(code, reason)
    repository = EnterpriseRepository(session)
    if await repository.get_by_credit_code(code):
        raise CreditCodeTaken(code)
    enterprise = Enterprise(**data.model_dump(exclude={"credit_code"}), credit_code=code)
    try:
        await repository.add(enterprise)
    except IntegrityError:  # a concurrent registration won the unique index
        await session.rollback()
        raise CreditCodeTaken(code) from None
    await record_change(session, actor=actor, action="enterprise.created", record=enterprise, before=None)
    await session.commit()
    return enterprise


async def update_enterprise(
    session: AsyncSession, actor: Actor, enterprise_id: int, data: EnterpriseUpdate
) -> Enterprise:
    """Change an enterprise's details; its own users and administrators may.

    Raises:
        EnterpriseNotFound: no such enterprise.
        Forbidden: the caller belongs to another enterprise or is an expert.
    """
    enterprise = await require_enterprise(session, enterprise_id)
    if not can_manage(actor, enterprise_id):
        raise Forbidden("您只能修改本企业的信息。")
    await apply_changes(
        session, actor=actor, record=enterprise, changes=data.changes(), action="enterprise.updated"
    )
    await session.commit()
    return enterprise


async def get_enterprise(session: AsyncSession, enterprise_id: int) -> Enterprise:
    """Return one enterprise (any logged-in user may read enterprises)."""
    return await require_enterprise(session, enterprise_id)


async def list_enterprises(
    session: AsyncSession, filters: EnterpriseFilters, params: PageParams, sort: str
) -> tuple[Sequence[Enterprise], int]:
    """Return one page of enterprises."""
    return await EnterpriseRepository(session).list(filters, params, sort)
