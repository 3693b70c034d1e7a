"""Use cases for experts: register, update the profile, read, list."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.audit.service import apply_changes, record_change
from app.errors import Forbidden
from app.experts.errors import ExpertNotFound, ExpertTermInvalid
from app.experts.models import Expert
from app.experts.repository import ExpertFilters, ExpertRepository
from app.experts.schemas import ExpertCreate, ExpertUpdate
from app.pagination import PageParams, Window


async def require_expert(session: AsyncSession, expert_id: int) -> Expert:
    """Return the expert or raise ``ExpertNotFound``."""
    expert = await ExpertRepository(session).get(expert_id)
    if expert is None:
        raise ExpertNotFound(expert_id)
    return expert


async def expert_exists(session: AsyncSession, expert_id: int) -> bool:
    """True if an expert with this id exists."""
    return await ExpertRepository(session).get(expert_id) is not None


def can_manage(actor: Actor, expert_id: int) -> bool:
    """True if ``actor`` may edit the expert's profile and achievements."""
    return actor.is_admin or actor.expert_id == expert_id


def can_see_contact(actor: Actor | None) -> bool:
    """Phone and e-mail are for logged-in users only; the public directory hides them."""
    return actor is not None


async def register_expert(session: AsyncSession, actor: Actor | None, data: ExpertCreate) -> Expert:
    """Enter an expert record (科技镇长团名单). Administrators only.

    Raises:
        Forbidden: the caller is not an administrator.
        ExpertTermInvalid: the term ends before it starts.
    """
    if actor is not None and not actor.is_admin:
        raise Forbidden("只有管理员可以录入专家。")
    expert = Expert(**data.model_dump())
    _check_term(expert)
    await ExpertRepository(session).add(expert)
    await record_change(session, actor=actor, action="expert.created", record=expert, before=None)
    await session.commit()
    return expert


async def update_expert_profile(
    session: AsyncSession, actor: Actor, expert_id: int, data: ExpertUpdate
) -> Expert:
    """Change an expert's profile: the expert themself or an administrator.

    Raises:
        ExpertNotFound: no such expert.
        Forbidden: another expert or an enterprise user.
        ExpertTermInvalid: the term would end before it starts.
    """
    expert = await require_expert(session, expert_id)
    if not can_manage(actor, expert_id):
        raise Forbidden("您只能修改自己的专家档案。")
    await apply_changes(
        session,
        actor=actor,
        record=expert,
        changes=data.changes(),
        action="expert.updated",
        check=_check_term,
    )
    await session.commit()
    return expert


async def get_expert(session: AsyncSession, expert_id: int) -> Expert:
    """Return one expert (the directory is public)."""
    return await require_expert(session, expert_id)


async def list_experts(
    session: AsyncSession, filters: ExpertFilters, params: PageParams, sort: str
) -> Window[Expert]:
    """Return one page of the expert directory (counted up to ``COUNT_LIMIT``)."""
    return await ExpertRepository(session).list(filters, params, sort)


async def experts_by_ids(session: AsyncSession, ids: Collection[int]) -> Sequence[Expert]:
    """The experts with these ids (their achievements not loaded), by id."""
    return await ExpertRepository(session).by_ids(ids)


async def experts_for_matching(session: AsyncSession, ids: Collection[int] | None = None) -> Sequence[Expert]:
    """Experts (all, or these ids) with their achievements, as the matcher indexes them."""
    return await ExpertRepository(session).with_achievements(ids)


async def experts_for_matching_after(
    session: AsyncSession, after: int | None, limit: int
) -> Sequence[Expert]:
    """The next ``limit`` experts by id after ``after``, with their achievements (reading all in chunks)."""
    return await ExpertRepository(session).with_achievements_after(after, limit)


def _check_term(expert: Expert) -> None:
    if expert.term_start and expert.term_end and expert.term_end < expert.term_start:
        raise ExpertTermInvalid()
