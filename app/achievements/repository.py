"""Queries for achievements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Text, cast, or_, select

from app.achievements.models import Achievement, AchievementKind, Maturity
from app.pagination import PageParams
from app.repository import Repository, json_list_contains, text_contains

SORT_COLUMNS = {
    "id": Achievement.id,
    "year": Achievement.year,
    "title": Achievement.title,
    "updated_at": Achievement.updated_at,
}


@dataclass(frozen=True, slots=True)
class AchievementFilters:
    """Filters of the achievement library; ``None`` means "any"."""

    q: str | None = None
    expert_id: int | None = None
    kind: AchievementKind | None = None
    maturity: Maturity | None = None
    keyword: str | None = None
    # every one of these (normalised) words must appear in the title, abstract or keywords
    words: tuple[str, ...] = ()


class AchievementRepository(Repository[Achievement]):
    """Achievements by id and filters."""

    model = Achievement

    async def list(
        self, filters: AchievementFilters, params: PageParams, sort: str
    ) -> tuple[Sequence[Achievement], int]:
        """Return one page of achievements matching ``filters``."""
        statement = select(Achievement)
        if filters.q:
            statement = statement.where(
                or_(
                    text_contains([Achievement.title, Achievement.abstract], filters.q),
                    json_list_contains(Achievement.keywords, filters.q),
                )
            )
        for word in filters.words:
            statement = statement.where(
                or_(
                    text_contains([Achievement.title, Achievement.abstract], word),
                    cast(Achievement.keywords, Text).icontains(word, autoescape=True),
                )
            )
        if filters.expert_id is not None:
            statement = statement.where(Achievement.expert_id == filters.expert_id)
        if filters.kind is not None:
            statement = statement.where(Achievement.kind == filters.kind)
        if filters.maturity is not None:
            statement = statement.where(Achievement.maturity == filters.maturity)
        if filters.keyword:
            statement = statement.where(json_list_contains(Achievement.keywords, filters.keyword))
        return await self.page(statement, params, sort=sort, sort_columns=SORT_COLUMNS)
