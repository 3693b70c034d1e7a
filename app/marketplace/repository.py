"""Queries for the marketplace: takings, and locking an order while its slots are counted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from app.orders.models import Order, OrderTaking
from app.repository import Repository


class TakingRepository(Repository[OrderTaking]):
    """Takings by order and expert."""

    model = OrderTaking

    async def lock_order(self, order_id: int) -> Order | None:
        """Load the order and lock its row until the transaction ends (``SELECT … FOR UPDATE``).

        Every change to an order's takings goes through this lock, so two experts taking the last
        slot at the same moment are served one after the other, and the second sees the first.
        """
        statement = (
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(statement)

    async def of_expert(self, order_id: int, expert_id: int) -> OrderTaking | None:
        """The expert's taking of the order, if any (held or released)."""
        return await self.session.scalar(
            select(OrderTaking).where(OrderTaking.order_id == order_id, OrderTaking.expert_id == expert_id)
        )

    async def for_order(self, order_id: int) -> Sequence[OrderTaking]:
        """Every taking of the order, oldest first."""
        statement = select(OrderTaking).where(OrderTaking.order_id == order_id).order_by(OrderTaking.id)
        return (await self.session.scalars(statement)).all()

    async def for_expert(self, expert_id: int) -> Sequence[OrderTaking]:
        """Every taking of the expert, newest first."""
        statement = (
            select(OrderTaking).where(OrderTaking.expert_id == expert_id).order_by(OrderTaking.id.desc())
        )
        return (await self.session.scalars(statement)).all()
