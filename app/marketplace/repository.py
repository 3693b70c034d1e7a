"""Queries for the marketplace: takings (the order's row lock is ``order_service.lock_order``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from app.orders.models import OrderTaking
from app.repository import Repository


class TakingRepository(Repository[OrderTaking]):
    """Takings by order and expert."""

    model = OrderTaking

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
