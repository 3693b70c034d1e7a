"""The base repository: every SQL statement lives in a repository; repositories flush, never commit."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Text, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db import Base
from app.pagination import COUNT_LIMIT, PageParams, Window

M = TypeVar("M", bound=Base)


def json_list_contains(column: InstrumentedAttribute[list[str]], value: str) -> ColumnElement[bool]:
    """Match rows whose JSON string list holds ``value`` as a whole element, on SQLite and PostgreSQL alike.

    Lists are stored as JSON text written by our serializer (``ensure_ascii=False``), so the quoted
    element appears literally; comparing text keeps the query portable (no JSONB operators).
    """
    needle = json.dumps(value, ensure_ascii=False)
    return cast(column, Text).contains(needle, autoescape=True)


class Repository(Generic[M]):
    """Common queries for one model. Subclasses set ``model`` and add their own filters."""

    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, record_id: int) -> M | None:
        """Return the record with this id, or ``None``."""
        return await self.session.get(self.model, record_id)

    async def add(self, record: M) -> M:
        """Stage a new record and flush it so that it gets its id."""
        self.session.add(record)
        await self.session.flush()
        return record

    @property
    def dialect_name(self) -> str:
        """``postgresql`` or ``sqlite``: the few queries that differ (search tokens) ask this."""
        return self.session.get_bind().dialect.name

    async def flush(self) -> None:
        """Send pending changes to the database inside the current transaction."""
        await self.session.flush()

    async def page(
        self,
        statement: Select[M],
        params: PageParams,
        *,
        sort: str,
        sort_columns: Mapping[str, Any],
    ) -> tuple[Sequence[M], int]:
        """Run ``statement`` for one page, sorted by ``sort`` with the id as tie-breaker.

        Args:
            statement: a ``select(Model)`` with the filters applied.
            params: the requested page.
            sort: a key of ``sort_columns``, optionally prefixed with ``-`` for descending.
            sort_columns: allowed sort keys and their columns.

        Returns:
            The page's records and the total number of matching records.
        """
        total = await self.session.scalar(
            select(func.count()).select_from(statement.order_by(None).subquery())
        )
        rows = await self.session.scalars(
            statement.order_by(*self._ordering(sort, sort_columns))
            .offset(params.offset)
            .limit(params.page_size)
        )
        return rows.all(), int(total or 0)

    def _ordering(self, sort: str, sort_columns: Mapping[str, Any]) -> list[ColumnElement[Any]]:
        """``sort`` as ORDER BY terms, the id breaking ties in the same direction.

        A column that may be empty keeps its empty values last in both directions (a draft has no
        publication time: it is not the most recently published), the same on both databases; the
        indexes of the descending sorts are made for that (``app.db.descending_indexes``).
        """
        column = sort_columns[sort.removeprefix("-")]
        id_column = self.model.__mapper__.primary_key[0]
        if sort.startswith("-"):
            ordering = [column.desc(), id_column.desc()]
        else:
            ordering = [column.asc(), id_column.asc()]
        if column.nullable:
            ordering[0] = ordering[0].nulls_last()
        return ordering

    async def window(
        self,
        statement: Select[M],
        params: PageParams,
        *,
        sort: str,
        sort_columns: Mapping[str, Any],
        token_search: bool = False,
    ) -> Window[M]:
        """Run ``statement`` for one page of a list that may be long, without counting all of it.

        One statement: the page is read with one row more than asked (``has_more``), in the order of
        an index (``sort``, then the id, so ties page stably), and each row carries the number of
        matches counted up to ``COUNT_LIMIT + 1`` (an uncorrelated sub-select the database runs once,
        instead of a second statement). The last page needs no count (everything before it is the
        offset); only a page past the end (no rows, so no count) asks a second time.

        Args:
            statement: a ``select(Model)`` with the filters applied.
            params: the requested page.
            sort: a key of ``sort_columns``, optionally prefixed with ``-`` for descending.
            sort_columns: allowed sort keys and their columns.
            token_search: ``statement`` filters on the search tokens (``app.search.has_tokens``).
        """
        if token_search and self.dialect_name == "postgresql":
            return await self._token_search_window(statement, params, sort=sort, sort_columns=sort_columns)
        id_column = self.model.__mapper__.primary_key[0]
        ordering = self._ordering(sort, sort_columns)
        capped = statement.with_only_columns(id_column).order_by(None).limit(COUNT_LIMIT + 1).subquery()
        capped_count = select(func.count()).select_from(capped)
        rows = (
            await self.session.execute(
                statement.add_columns(capped_count.scalar_subquery())
                .order_by(*ordering)
                .offset(params.offset)
                .limit(params.page_size + 1)
            )
        ).all()
        items: list[M] = [row[0] for row in rows[: params.page_size]]
        has_more = len(rows) > params.page_size
        if items and not has_more:  # the last page: everything before it is the offset
            return Window(items, params.offset + len(items), total_exact=True, has_more=False)
        # past the end, the page brought no count
        counted = int(rows[0][1]) if rows else int(await self.session.scalar(capped_count) or 0)
        if counted <= COUNT_LIMIT:
            return Window(items, counted, total_exact=True, has_more=has_more)
        return Window(
            items, max(COUNT_LIMIT, params.offset + len(items)), total_exact=False, has_more=has_more
        )

    async def _token_search_window(
        self, statement: Select[M], params: PageParams, *, sort: str, sort_columns: Mapping[str, Any]
    ) -> Window[M]:
        """A page of a token search on PostgreSQL, read the way that suits how many rows match.

        PostgreSQL estimates ``search_tokens @> ARRAY[…]`` as if a query's tokens were independent
        (the bigrams of 精度造船 are not), so it expects a handful of rows where thousands match, and
        sorts every match read through the GIN index: 16,000–25,000 heap reads and 90–150 ms per page
        at 1,000,000 orders. So the matches are counted first, up to ``COUNT_LIMIT + 1`` ids from the
        GIN index, in the statement that sorts them for the page; when there are more, the page is
        read again by walking the sort's index and testing each row, which meets a page of dense
        matches within a few thousand rows.
        """
        id_column = self.model.__mapper__.primary_key[0]
        ordering = self._ordering(sort, sort_columns)
        # one statement: the matches up to the limit (from the GIN index), counted, and the page
        # drawn from them; a few thousand heap reads at most whatever the estimate
        capped = statement.with_only_columns(id_column).order_by(None).limit(COUNT_LIMIT + 1).cte("capped")
        counted = select(func.count()).select_from(capped).scalar_subquery()
        page = (
            select(self.model, counted)
            .where(id_column.in_(select(*capped.c)))
            .order_by(*ordering)
            .offset(params.offset)
            .limit(params.page_size)
        )
        rows = (await self.session.execute(page)).all()
        if rows:
            total = int(rows[0][1])
        else:  # past the end: the page brought no count
            total = int(await self.session.scalar(select(func.count()).select_from(capped)) or 0)
        if total <= COUNT_LIMIT:
            items: list[M] = [row[0] for row in rows]
            return Window(items, total, total_exact=True, has_more=params.offset + len(items) < total)
        # for this statement only (SET LOCAL, undone right after; a failure ends the transaction and
        # the settings with it): no bitmap of every match, no scan of the whole table, no sort of
        # what another index found, so the planner walks the sort's index
        await self.session.execute(_WALK_THE_SORT_INDEX)
        page = statement.order_by(*ordering).offset(params.offset).limit(params.page_size + 1)
        found = (await self.session.scalars(page)).all()
        await self.session.execute(_PLAN_FREELY)
        items = list(found[: params.page_size])
        has_more = len(found) > params.page_size
        if items and not has_more:  # the last page: everything before it is the offset
            return Window(items, params.offset + len(items), total_exact=True, has_more=False)
        return Window(
            items, max(COUNT_LIMIT, params.offset + len(items)), total_exact=False, has_more=has_more
        )


# every sort of a searchable list has its index (tests/test_list_sorts.py)
_WALK_SETTINGS = ("enable_bitmapscan", "enable_seqscan", "enable_sort")
_WALK_THE_SORT_INDEX = text(
    "SELECT " + ", ".join(f"set_config('{name}', 'off', true)" for name in _WALK_SETTINGS)
)
_PLAN_FREELY = text("SELECT " + ", ".join(f"set_config('{name}', 'on', true)" for name in _WALK_SETTINGS))
