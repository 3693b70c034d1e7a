"""Use cases for achievements: publish, update, read, list."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.achievements.errors import AchievementNotFound
from app.achievements.models import Achievement
from app.achievements.repository import AchievementFilters, AchievementRepository
from app.achievements.schemas import AchievementCreate, AchievementUpdate
from app.audit.service import apply_changes, record_change
from app.errors import Forbidden, InvalidInput
from app.experts import service as expert_service
from app.pagination import PageParams, Window
from matching import Tokenizer, normalise


async def require_achievement(session: AsyncSession, achievement_id: int) -> Achievement:
    """Return the achievement or raise ``AchievementNotFound``."""
    achievement = await AchievementRepository(session).get(achievement_id)
    if achievement is None:
        raise AchievementNotFound(achievement_id)
    return achievement


async def publish_achievement(
    session: AsyncSession, actor: Actor | None, data: AchievementCreate
) -> Achievement:
    """Add an achievement to an expert's record: the expert themself or an administrator.

    Raises:
        Forbidden: enterprise users, or an expert publishing for someone else.
        ExpertNotFound: the expert does not exist.
    """
    values = data.model_dump()
    if actor is not None and not actor.is_admin:
        if actor.expert_id is None:
            raise Forbidden("只有专家本人或管理员可以发布科技成果。")
        if values["expert_id"] not in (None, actor.expert_id):
            raise Forbidden("您只能为自己发布科技成果。")
        values["expert_id"] = actor.expert_id
    if values["expert_id"] is None:
        raise InvalidInput("expert_id", "请指定成果所属专家")
    await expert_service.require_expert(session, values["expert_id"])
    achievement = Achievement(**values)
    await AchievementRepository(session).add(achievement)
    await record_change(session, actor=actor, action="achievement.created", record=achievement, before=None)
    await session.commit()
    return achievement


async def update_achievement(
    session: AsyncSession, actor: Actor, achievement_id: int, data: AchievementUpdate
) -> Achievement:
    """Change an achievement: its expert or an administrator.

    Raises:
        AchievementNotFound: no such achievement.
        Forbidden: anyone else.
    """
    achievement = await require_achievement(session, achievement_id)
    if not expert_service.can_manage(actor, achievement.expert_id):
        raise Forbidden("您只能修改自己的科技成果。")
    await apply_changes(
        session, actor=actor, record=achievement, changes=data.changes(), action="achievement.updated"
    )
    await session.commit()
    return achievement


async def get_achievement(session: AsyncSession, achievement_id: int) -> Achievement:
    """Return one achievement (the achievement library is public)."""
    return await require_achievement(session, achievement_id)


async def list_achievements(
    session: AsyncSession, filters: AchievementFilters, params: PageParams, sort: str
) -> Window[Achievement]:
    """Return one page of the achievement library (counted up to ``COUNT_LIMIT``)."""
    return await AchievementRepository(session).list(filters, params, sort)


def search_words(query: str) -> tuple[str, ...]:
    """The words of a search as the matcher reads them, to show on the page: traditional characters,
    full-width forms and case folded to one spelling (數控機床 → 数控机床), segmented by the matcher's
    tokenizer. (The search itself asks for their tokens: ``AchievementFilters.q``.)"""
    words = Tokenizer(char_ngrams="none").words(normalise(query))
    return tuple(dict.fromkeys(words))[:8] if words else ()
