"""Moving a demo order's whole timeline into the past (the demo's history is played today, through the
services, and then spread over the months so that the dashboard's trend has a shape). Demo only."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agreements.models import Agreement, Consultation, Training
from app.orders.models import Order, OrderTaking
from app.proposals.models import Proposal

# the timestamps that move with the order (the catalogue entry and the yearly review stay in the
# present, as do the audit events: the trail records when things were really written)
_MOVING = {
    Proposal: ("created_at", "decided_at"),
    OrderTaking: ("created_at", "decided_at"),
    Agreement: (
        "created_at",
        "enterprise_signed_at",
        "expert_signed_at",
        "enterprise_delivery_confirmed_at",
        "expert_delivery_confirmed_at",
        "delivered_at",
    ),
}


async def shift_order_timeline(session: AsyncSession, order_id: int, delta: timedelta, now: datetime) -> None:
    """Publish the order ``delta`` (plus three days) before ``now`` and move what followed back by
    ``delta``, the consultations and trainings of its agreements too (done in Python, so it works the
    same on SQLite and PostgreSQL)."""
    order = await session.get(Order, order_id)
    if order is None:
        return
    order.published_at = now - delta - timedelta(days=3)
    for model, names in _MOVING.items():
        rows = await session.scalars(select(model).where(model.order_id == order_id))  # type: ignore[attr-defined]
        for row in rows:
            for name in names:
                value = getattr(row, name)
                if value is not None:
                    setattr(row, name, value - delta)
    # the work logged on its agreements moves with them (it is logged on the day the play signs them)
    agreements = select(Agreement.id).where(Agreement.order_id == order_id)
    for consultation in await session.scalars(
        select(Consultation).where(Consultation.agreement_id.in_(agreements))
    ):
        consultation.held_on -= timedelta(days=delta.days)
    for training in await session.scalars(select(Training).where(Training.agreement_id.in_(agreements))):
        training.held_on -= timedelta(days=delta.days)
    await session.flush()
