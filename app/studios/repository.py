"""Queries for studios."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.enterprises.models import Enterprise
from app.pagination import PageParams
from app.repository import Repository, json_list_contains, text_contains
from app.studios.models import Studio, StudioKind

SORT_COLUMNS = {
    "id": Studio.id,
    "name": Studio.name,
    "star_rating": Studio.star_rating,
    "updated_at": Studio.updated_at,
}


@dataclass(frozen=True, slots=True)
class StudioFilters:
    """Filters of the studio list; ``None`` means "any"."""

    q: str | None = None
    enterprise_id: int | None = None
    kind: StudioKind | None = None
    field: str | None = None
    district: str | None = None
    star_rating: int | None = None
    alliance: str | None = None


class StudioRepository(Repository[Studio]):
    """Studios by id and filters."""

    model = Studio

    async def list(
        self, filters: StudioFilters, params: PageParams, sort: str
    ) -> tuple[Sequence[Studio], int]:
        """Return one page of studios matching ``filters``."""
        statement = select(Studio)
        if filters.q:
            statement = statement.where(
                text_contains([Studio.name, Studio.leader_name, Studio.description], filters.q)
            )
        if filters.enterprise_id is not None:
            statement = statement.where(Studio.enterprise_id == filters.enterprise_id)
        if filters.kind is not None:
            statement = statement.where(Studio.kind == filters.kind)
        if filters.field:
            statement = statement.where(json_list_contains(Studio.fields, filters.field))
        if filters.district:
            statement = statement.join(Enterprise, Enterprise.id == Studio.enterprise_id).where(
                Enterprise.district == filters.district
            )
        if filters.star_rating is not None:
            statement = statement.where(Studio.star_rating == filters.star_rating)
        if filters.alliance:
            statement = statement.where(
                (Studio.alliance == filters.alliance) | (Studio.sub_alliance == filters.alliance)
            )
        return await self.page(statement, params, sort=sort, sort_columns=SORT_COLUMNS)
