"""JSON API for achievements: ``/api/v1/achievements``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status

from app.accounts.deps import ActorDep
from app.achievements import service as achievement_service
from app.achievements.models import AchievementKind, Maturity
from app.achievements.repository import AchievementFilters
from app.achievements.schemas import AchievementCreate, AchievementRead, AchievementUpdate
from app.db import SessionDep
from app.pagination import ListPage, PageDep
from app.routing import IdPath, IdQuery, TextQuery

router = APIRouter(prefix="/achievements", tags=["科技成果"])

AchievementSort = Literal["id", "-id", "year", "-year", "title", "-title", "updated_at", "-updated_at"]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AchievementRead,
    summary="发布科技成果（专家本人或管理员）",
)
async def publish_achievement(
    body: AchievementCreate, session: SessionDep, actor: ActorDep
) -> AchievementRead:
    """Publish an achievement. The expert themself or an administrator."""
    return AchievementRead.model_validate(await achievement_service.publish_achievement(session, actor, body))


@router.get("", response_model=ListPage[AchievementRead], summary="成果库（公开）")
async def list_achievements(
    session: SessionDep,
    page: PageDep,
    q: TextQuery = None,
    expert_id: IdQuery = None,
    kind: AchievementKind | None = None,
    maturity: Maturity | None = None,
    keyword: TextQuery = None,
    sort: AchievementSort = "id",
) -> ListPage[AchievementRead]:
    """List the achievement library, filtered and sorted (ties broken by id). Public."""
    filters = AchievementFilters(q=q, expert_id=expert_id, kind=kind, maturity=maturity, keyword=keyword)
    window = await achievement_service.list_achievements(session, filters, page, sort)
    return ListPage.of_window([AchievementRead.model_validate(a) for a in window.items], window, page)


@router.get("/{achievement_id}", response_model=AchievementRead, summary="科技成果详情（公开）")
async def get_achievement(achievement_id: IdPath, session: SessionDep) -> AchievementRead:
    """Return one achievement. Public."""
    return AchievementRead.model_validate(await achievement_service.get_achievement(session, achievement_id))


@router.patch("/{achievement_id}", response_model=AchievementRead, summary="修改科技成果（专家本人或管理员）")
async def update_achievement(
    achievement_id: IdPath, body: AchievementUpdate, session: SessionDep, actor: ActorDep
) -> AchievementRead:
    """Change an achievement. Its expert and administrators."""
    return AchievementRead.model_validate(
        await achievement_service.update_achievement(session, actor, achievement_id, body)
    )
