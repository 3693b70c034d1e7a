"""Queries for studios and their star assessments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.enterprises.models import Enterprise
from app.pagination import PageParams
from app.repository import Repository
from app.search import ALLIANCE_PREFIX, has_tokens, query_tokens, term_token
from app.studios.models import AssessmentKind, Studio, StudioAssessment, StudioKind

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

    async def get_for_update(self, studio_id: int) -> Studio | None:
        """Return the studio with its row locked until the transaction ends (``SELECT … FOR UPDATE``).

        Two assessments of one studio then run one after the other, so each sees the other's result
        when it works out its kind and checks its date. SQLite ignores the lock (it has one writer anyway).
        """
        return await self.session.get(Studio, studio_id, with_for_update=True, populate_existing=True)

    async def list(
        self, filters: StudioFilters, params: PageParams, sort: str
    ) -> tuple[Sequence[Studio], int]:
        """Return one page of studios matching ``filters``."""
        statement = select(Studio)
        # the text, the field and the alliance are searched on the tokens: either script finds them
        tokens = query_tokens(filters.q) if filters.q else []
        if filters.field:
            tokens.append(term_token(filters.field))
        if filters.alliance:
            tokens.append(term_token(filters.alliance, ALLIANCE_PREFIX))
        if filters.q or tokens:
            statement = statement.where(has_tokens(Studio.search_tokens, tokens, self.dialect_name))
        if filters.enterprise_id is not None:
            statement = statement.where(Studio.enterprise_id == filters.enterprise_id)
        if filters.kind is not None:
            statement = statement.where(Studio.kind == filters.kind)
        if filters.district:
            statement = statement.join(Enterprise, Enterprise.id == Studio.enterprise_id).where(
                Enterprise.district == filters.district
            )
        if filters.star_rating is not None:
            statement = statement.where(Studio.star_rating == filters.star_rating)
        return await self.page(statement, params, sort=sort, sort_columns=SORT_COLUMNS)


class StudioAssessmentRepository(Repository[StudioAssessment]):
    """A studio's star assessments (星级评定), newest first."""

    model = StudioAssessment

    async def list_for_studio(self, studio_id: int) -> Sequence[StudioAssessment]:
        """Return every assessment of the studio, newest first (by date, then by order of recording)."""
        rows = await self.session.scalars(
            select(StudioAssessment)
            .where(StudioAssessment.studio_id == studio_id)
            .order_by(StudioAssessment.assessed_on.desc(), StudioAssessment.id.desc())
        )
        return rows.all()

    async def latest(self, studio_id: int) -> StudioAssessment | None:
        """Return the studio's newest assessment of any kind, or ``None``."""
        return await self.session.scalar(
            select(StudioAssessment)
            .where(StudioAssessment.studio_id == studio_id)
            .order_by(StudioAssessment.assessed_on.desc(), StudioAssessment.id.desc())
            .limit(1)
        )

    async def has_scored(self, studio_id: int) -> bool:
        """True if the studio has been scored before (de-listings are not scorings)."""
        found = await self.session.scalar(
            select(StudioAssessment.id)
            .where(
                StudioAssessment.studio_id == studio_id,
                StudioAssessment.kind != AssessmentKind.DELISTING,
            )
            .limit(1)
        )
        return found is not None
