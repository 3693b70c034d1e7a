"""Queries for enterprises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.enterprises.models import Enterprise
from app.pagination import PageParams
from app.repository import Repository
from app.search import has_tokens, query_tokens

SORT_COLUMNS = {"id": Enterprise.id, "name": Enterprise.name, "updated_at": Enterprise.updated_at}


@dataclass(frozen=True, slots=True)
class EnterpriseFilters:
    """Filters of the enterprise list; ``None`` means "any"."""

    q: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    industry: str | None = None


class EnterpriseRepository(Repository[Enterprise]):
    """Enterprises by id, credit code and filters."""

    model = Enterprise

    async def get_by_credit_code(self, credit_code: str) -> Enterprise | None:
        """Return the enterprise registered with this code, or ``None``."""
        return await self.session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))

    async def list(
        self, filters: EnterpriseFilters, params: PageParams, sort: str
    ) -> tuple[Sequence[Enterprise], int]:
        """Return one page of enterprises matching ``filters``."""
        statement = select(Enterprise)
        if filters.q:
            # either script finds the name (app/search.py)
            tokens = query_tokens(filters.q)
            statement = statement.where(has_tokens(Enterprise.search_tokens, tokens, self.dialect_name))
        for column, value in (
            (Enterprise.province, filters.province),
            (Enterprise.city, filters.city),
            (Enterprise.district, filters.district),
            (Enterprise.industry, filters.industry),
        ):
            if value:
                statement = statement.where(column == value)
        return await self.page(statement, params, sort=sort, sort_columns=SORT_COLUMNS)
