"""Use cases for studios: register, update, read, list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.audit.service import apply_changes, record_change
from app.enterprises import service as enterprise_service
from app.errors import Forbidden, InvalidInput
from app.pagination import PageParams
from app.studios.errors import StarRatingInconsistent, StudioNotFound
from app.studios.models import Studio
from app.studios.repository import StudioFilters, StudioRepository
from app.studios.schemas import STAR_FIELDS, StudioCreate, StudioUpdate


async def require_studio(session: AsyncSession, studio_id: int) -> Studio:
    """Return the studio or raise ``StudioNotFound``."""
    studio = await StudioRepository(session).get(studio_id)
    if studio is None:
        raise StudioNotFound(studio_id)
    return studio


def can_manage(actor: Actor, studio: Studio) -> bool:
    """True if ``actor`` may edit the studio and post orders for it."""
    return enterprise_service.can_manage(actor, studio.enterprise_id)


async def register_studio(session: AsyncSession, actor: Actor | None, data: StudioCreate) -> Studio:
    """Register a studio under an enterprise.

    Args:
        session: the request session.
        actor: an administrator, or an enterprise user registering a studio of its own enterprise
            (``None`` only for trusted jobs such as the demo loader).
        data: the studio.

    Raises:
        Forbidden: experts; enterprise users for another enterprise or setting the star rating.
        EnterpriseNotFound: the enterprise does not exist.
    """
    values = data.model_dump()
    if actor is not None:
        if actor.role is UserRole.EXPERT:
            raise Forbidden("专家账号不能登记工作室。")
        if not actor.is_admin:
            if values["enterprise_id"] not in (None, actor.enterprise_id):
                raise Forbidden("您只能为本企业登记工作室。")
            values["enterprise_id"] = actor.enterprise_id
            _forbid_star_fields(actor, {k: v for k, v in values.items() if k in STAR_FIELDS and v})
    if values["enterprise_id"] is None:
        raise InvalidInput("enterprise_id", "请指定所属企业")
    await enterprise_service.require_enterprise(session, values["enterprise_id"])
    studio = Studio(**values)
    _check_star(studio)
    await StudioRepository(session).add(studio)
    await record_change(session, actor=actor, action="studio.created", record=studio, before=None)
    await session.commit()
    return studio


async def update_studio(session: AsyncSession, actor: Actor, studio_id: int, data: StudioUpdate) -> Studio:
    """Change a studio; its enterprise's users and administrators may (star fields: administrators only).

    Raises:
        StudioNotFound: no such studio.
        Forbidden: the caller does not manage the studio, or sets star fields without being an administrator.
    """
    studio = await require_studio(session, studio_id)
    if not can_manage(actor, studio):
        raise Forbidden("您只能修改本企业的工作室。")
    changes = data.changes()
    _forbid_star_fields(actor, {k: v for k, v in changes.items() if k in STAR_FIELDS})
    await apply_changes(
        session, actor=actor, record=studio, changes=changes, action="studio.updated", check=_check_star
    )
    await session.commit()
    return studio


async def get_studio(session: AsyncSession, studio_id: int) -> Studio:
    """Return one studio (any logged-in user may read studios)."""
    return await require_studio(session, studio_id)


async def list_studios(
    session: AsyncSession, filters: StudioFilters, params: PageParams, sort: str
) -> tuple[Sequence[Studio], int]:
    """Return one page of studios."""
    return await StudioRepository(session).list(filters, params, sort)


def _forbid_star_fields(actor: Actor, star_changes: Mapping[str, Any]) -> None:
    if star_changes and not actor.is_admin:
        raise Forbidden("星级由管理员根据星级评定结果设置，企业用户不能修改。")


def _check_star(studio: Studio) -> None:
    # a rated studio must say when and with what score it was rated; an unrated one must not
    rated = studio.star_rating > 0
    if rated and (studio.star_assessed_on is None or studio.star_score is None):
        raise StarRatingInconsistent("星级为 1–3 星时，需同时填写评定日期和评定得分。")
    if not rated and studio.star_score is not None and studio.star_assessed_on is None:
        raise StarRatingInconsistent("填写了评定得分时，需同时填写评定日期。")
