"""Queries for orders."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select

from app.orders.models import SLOT_HOLDING, NeedKind, Order, OrderStatus, OrderTaking
from app.pagination import PageParams, Window
from app.repository import Repository
from app.search import has_tokens, query_tokens, term_token
from app.studios.models import Studio

SORT_COLUMNS = {
    "id": Order.id,
    "created_at": Order.created_at,
    "updated_at": Order.updated_at,
    "deadline": Order.deadline,
    "published_at": Order.published_at,
}

# orders anyone logged in may see; drafts and withdrawn orders stay with their enterprise
PUBLIC_STATUSES = (OrderStatus.PUBLISHED, OrderStatus.TAKEN, OrderStatus.CLOSED)


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """Filters of the order list; ``None`` means "any"."""

    # every content word of ``q`` (after normalisation: traditional characters find simplified text)
    q: str | None = None
    status: OrderStatus | None = None
    studio_id: int | None = None
    enterprise_id: int | None = None
    need_kind: NeedKind | None = None
    field: str | None = None
    district: str | None = None


class OrderRepository(Repository[Order]):
    """Orders by id and filters, with visibility applied in SQL."""

    model = Order

    async def open_for_matching(self, ids: Collection[int] | None = None) -> Sequence[Order]:
        """Published orders (all, or these ids), the ones experts may be recommended."""
        statement = select(Order).where(Order.status == OrderStatus.PUBLISHED).order_by(Order.id)
        if ids is not None:
            statement = statement.where(Order.id.in_(list(ids)))
        return (await self.session.scalars(statement)).all()

    async def open_for_matching_after(self, after: int | None, limit: int) -> Sequence[Order]:
        """The next ``limit`` published orders by id after ``after`` (from the first: ``None``)."""
        statement = select(Order).where(Order.status == OrderStatus.PUBLISHED).order_by(Order.id).limit(limit)
        if after is not None:
            statement = statement.where(Order.id > after)
        return (await self.session.scalars(statement)).all()

    async def lock(self, order_id: int) -> Order | None:
        """Load the order and lock its row until the transaction ends (``SELECT … FOR UPDATE``).

        Every change to an order's takings or slots goes through this lock, so two experts taking the
        last slot at the same moment, or an edit of the slots and a taking, are served one after the
        other and the second sees the first. SQLite ignores the lock (it has one writer anyway).
        """
        statement = (
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(statement)

    async def holding(self, order_id: int) -> int:
        """How many takings hold a slot of the order."""
        statement = select(func.count()).where(
            OrderTaking.order_id == order_id, OrderTaking.status.in_(SLOT_HOLDING)
        )
        return int(await self.session.scalar(statement) or 0)

    async def get_with_enterprise(self, order_id: int, *, lock: bool = False) -> tuple[Order, int] | None:
        """Return the order and the id of the enterprise whose studio posted it (``lock``: lock the order's row)."""
        statement = (
            select(Order, Studio.enterprise_id)
            .join(Studio, Studio.id == Order.studio_id)
            .where(Order.id == order_id)
        )
        if lock:
            statement = statement.with_for_update(of=Order).execution_options(populate_existing=True)
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row else None

    async def list(
        self,
        filters: OrderFilters,
        params: PageParams,
        sort: str,
        *,
        private_visible_to: int | None,
        all_visible: bool,
    ) -> Window[Order]:
        """Return one page of orders the caller may see.

        Every filter is a column of ``orders`` (an enterprise's studios are a sub-select, not a join),
        so the page is read from an index: the sort's (``created_at``, ``published_at``, alone or after
        ``status`` or ``district``), or the GIN index of the search tokens for a text or field search.

        Args:
            filters: the caller's filters.
            params: the requested page.
            sort: the sort key.
            private_visible_to: an enterprise whose own drafts and withdrawn orders are included.
            all_visible: administrators see every order.
        """
        statement = select(Order)
        if not all_visible:
            visible: ColumnElement[bool] = Order.status.in_(PUBLIC_STATUSES)
            if private_visible_to is not None:
                visible = or_(visible, Order.studio_id.in_(_studios_of(private_visible_to)))
            statement = statement.where(visible)
        tokens = query_tokens(filters.q) if filters.q else []
        if filters.field:
            tokens.append(term_token(filters.field))
        if filters.q or tokens:
            statement = statement.where(has_tokens(Order.search_tokens, tokens, self.dialect_name))
        if filters.status is not None:
            statement = statement.where(Order.status == filters.status)
        if filters.studio_id is not None:
            statement = statement.where(Order.studio_id == filters.studio_id)
        if filters.enterprise_id is not None:
            statement = statement.where(Order.studio_id.in_(_studios_of(filters.enterprise_id)))
        if filters.need_kind is not None:
            statement = statement.where(Order.need_kind == filters.need_kind)
        if filters.district:
            statement = statement.where(Order.district == filters.district)
        return await self.window(
            statement, params, sort=sort, sort_columns=SORT_COLUMNS, token_search=bool(tokens)
        )


def _studios_of(enterprise_id: int) -> Select[int]:
    return select(Studio.id).where(Studio.enterprise_id == enterprise_id)
