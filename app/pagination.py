"""Pagination and sorting shared by every list endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from app.errors import RequestInvalid

T = TypeVar("T")

MAX_PAGE_SIZE = 100
# a long list counts its matches up to this many; beyond, ``total`` is a lower bound (``total_exact``
# false): an exact count would read every matching row on every page
COUNT_LIMIT = 1000
# the deepest row a page may start at: OFFSET reads every row it skips (filters narrow a long list)
MAX_OFFSET = 10_000


@dataclass(frozen=True, slots=True)
class PageParams:
    """Which page the caller wants: 1-based page number and a bounded page size."""

    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        """Rows to skip before this page."""
        return (self.page - 1) * self.page_size


async def _page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="页码，从 1 开始")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="每页条数，1–100")] = 20,
) -> PageParams:
    params = PageParams(page=page, page_size=page_size)
    if params.offset > MAX_OFFSET:
        message = f"最多翻到第 {MAX_OFFSET + 1} 条记录，请用筛选条件或搜索缩小范围"
        raise RequestInvalid(f"页码：{message}。", errors=[{"field": "page", "message": message}])
    return params


PageDep = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, the total count and where this page sits."""

    items: list[T]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, items: Sequence[T], total: int, params: PageParams) -> Page[T]:
        """Build a page from already-converted items."""
        return cls(items=list(items), total=total, page=params.page, page_size=params.page_size)


@dataclass(frozen=True, slots=True)
class Window(Generic[T]):
    """One page of a list that may be long: its items, and what is known of the rest without reading it.

    ``total`` is exact when ``total_exact``; otherwise more than ``COUNT_LIMIT`` rows match and
    ``total`` is a lower bound. ``has_more`` says whether a next page has rows.
    """

    items: Sequence[T]
    total: int
    total_exact: bool
    has_more: bool

    @property
    def total_label(self) -> str:
        """The total as the pages show it: ``37``, or ``1000+`` past the count limit."""
        return str(self.total) if self.total_exact else f"{self.total}+"


class ListPage(Page[T], Generic[T]):
    """A page of a long list (orders, experts, achievements): ``total`` is counted up to 1,000 only."""

    total_exact: bool = Field(True, description="total 是否为精确条数；超过 1000 条时为 false，total 为下限")
    has_more: bool = Field(False, description="是否还有下一页")

    @classmethod
    def of_window(cls, items: Sequence[T], window: Window[Any], params: PageParams) -> ListPage[T]:
        """Build a page from already-converted items and the window they came from."""
        return cls(
            items=list(items),
            total=window.total,
            page=params.page,
            page_size=params.page_size,
            total_exact=window.total_exact,
            has_more=window.has_more,
        )
