"""Queries for achievements."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.achievements.models import Achievement, AchievementKind, Maturity
from app.pagination import PageParams, Window
from app.repository import Repository
from app.search import KEYWORD_PREFIX, has_tokens, query_tokens, term_token

SORT_COLUMNS = {
    "id": Achievement.id,
    "year": Achievement.year,
    "title": Achievement.title,
    "updated_at": Achievement.updated_at,
}


@dataclass(frozen=True, slots=True)
class AchievementFilters:
    """Filters of the achievement library; ``None`` means "any"."""

    # every content word of ``q`` must appear in the title, abstract or keywords (after normalisation,
    # so traditional characters find simplified text)
    q: str | None = None
    expert_id: int | None = None
    kind: AchievementKind | None = None
    maturity: Maturity | None = None
    keyword: str | None = None


class AchievementRepository(Repository[Achievement]):
    """Achievements by id and filters."""

    model = Achievement

    async def list(self, filters: AchievementFilters, params: PageParams, sort: str) -> Window[Achievement]:
        """Return one page of achievements matching ``filters`` (text and keyword through the search tokens)."""
        statement = select(Achievement)
        tokens = query_tokens(filters.q) if filters.q else []
        if filters.keyword:
            tokens.append(term_token(filters.keyword, KEYWORD_PREFIX))
        if filters.q or tokens:
            statement = statement.where(has_tokens(Achievement.search_tokens, tokens, self.dialect_name))
        if filters.expert_id is not None:
            statement = statement.where(Achievement.expert_id == filters.expert_id)
        if filters.kind is not None:
            statement = statement.where(Achievement.kind == filters.kind)
        if filters.maturity is not None:
            statement = statement.where(Achievement.maturity == filters.maturity)
        return await self.window(
            statement, params, sort=sort, sort_columns=SORT_COLUMNS, token_search=bool(tokens)
        )
