"""Queries for experts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.experts.models import Expert
from app.pagination import PageParams, Window
from app.repository import Repository
from app.search import has_tokens, query_tokens, term_token

SORT_COLUMNS = {
    "id": Expert.id,
    "name": Expert.name,
    "cohort_number": Expert.cohort_number,
    "updated_at": Expert.updated_at,
}


@dataclass(frozen=True, slots=True)
class ExpertFilters:
    """Filters of the expert directory; ``None`` means "any"."""

    # every content word of ``q`` in the name, university, department, bio or disciplines
    q: str | None = None
    cohort_number: int | None = None
    discipline: str | None = None
    district: str | None = None
    university: str | None = None


class ExpertRepository(Repository[Expert]):
    """Experts by id and filters."""

    model = Expert

    async def by_ids(self, ids: Collection[int]) -> Sequence[Expert]:
        """The experts with these ids, by id (a handful: callers pass a ranking's candidates)."""
        if not ids:
            return []
        return (
            await self.session.scalars(select(Expert).where(Expert.id.in_(list(ids))).order_by(Expert.id))
        ).all()

    async def with_achievements(self, ids: Collection[int] | None = None) -> Sequence[Expert]:
        """Experts (all, or these ids) with their achievements loaded, by id."""
        statement = select(Expert).options(selectinload(Expert.achievements)).order_by(Expert.id)
        if ids is not None:
            statement = statement.where(Expert.id.in_(list(ids)))
        return (await self.session.scalars(statement)).all()

    async def with_achievements_after(self, after: int | None, limit: int) -> Sequence[Expert]:
        """The next ``limit`` experts by id after ``after`` (from the first: ``None``), achievements loaded."""
        statement = select(Expert).options(selectinload(Expert.achievements)).order_by(Expert.id).limit(limit)
        if after is not None:
            statement = statement.where(Expert.id > after)
        return (await self.session.scalars(statement)).all()

    async def list(self, filters: ExpertFilters, params: PageParams, sort: str) -> Window[Expert]:
        """Return one page of experts matching ``filters`` (text and discipline through the search tokens)."""
        statement = select(Expert)
        tokens = query_tokens(filters.q) if filters.q else []
        if filters.discipline:
            tokens.append(term_token(filters.discipline))
        if filters.q or tokens:
            statement = statement.where(has_tokens(Expert.search_tokens, tokens, self.dialect_name))
        if filters.cohort_number is not None:
            statement = statement.where(Expert.cohort_number == filters.cohort_number)
        if filters.district:
            statement = statement.where(Expert.seconded_district == filters.district)
        if filters.university:
            statement = statement.where(Expert.university == filters.university)
        return await self.window(
            statement, params, sort=sort, sort_columns=SORT_COLUMNS, token_search=bool(tokens)
        )
