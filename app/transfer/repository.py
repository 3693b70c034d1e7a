"""Read-only queries for the transfer: credit-code look-ups for imports and the joined rows of exports.

Imports write through the other domains' services; only these reads span several domains' tables, so
they live here rather than in one domain's repository.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TypeVarTuple

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agreements.models import Agreement, Consultation, Outcome, Training
from app.enterprises.models import Enterprise
from app.experts.models import Expert
from app.orders.models import Order
from app.studios.models import Studio

_Ts = TypeVarTuple("_Ts")


class TransferRepository:
    """Queries of the XLSX import and export."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enterprise_ids_by_credit_code(self, codes: Collection[str]) -> dict[str, int]:
        """Map each of ``codes`` registered on the platform to its enterprise's id."""
        if not codes:
            return {}
        rows = await self.session.execute(
            select(Enterprise.credit_code, Enterprise.id).where(Enterprise.credit_code.in_(sorted(codes)))
        )
        return {code: enterprise_id for code, enterprise_id in rows.all()}

    async def orders(self) -> Sequence[Row[Order, str, str]]:
        """Every order with its studio's and enterprise's names, by id."""
        statement = (
            select(Order, Studio.name, Enterprise.name)
            .join(Studio, Studio.id == Order.studio_id)
            .join(Enterprise, Enterprise.id == Studio.enterprise_id)
            .order_by(Order.id)
        )
        return (await self.session.execute(statement)).all()

    async def agreements(self) -> Sequence[Row[Agreement, str, str, str, str]]:
        """Every agreement with its parties, by id."""
        statement = _with_parties(select(Agreement, *_PARTY_COLUMNS)).order_by(Agreement.id)
        return (await self.session.execute(statement)).all()

    async def consultations(self) -> Sequence[Row[Consultation, str, str, str, str]]:
        """Every consultation with its agreement's parties, by date then id."""
        statement = _with_parties(
            select(Consultation, *_PARTY_COLUMNS).join(Agreement, Agreement.id == Consultation.agreement_id)
        ).order_by(Consultation.held_on, Consultation.id)
        return (await self.session.execute(statement)).all()

    async def trainings(self) -> Sequence[Row[Training, str, str, str, str]]:
        """Every training with its agreement's parties, by date then id."""
        statement = _with_parties(
            select(Training, *_PARTY_COLUMNS).join(Agreement, Agreement.id == Training.agreement_id)
        ).order_by(Training.held_on, Training.id)
        return (await self.session.execute(statement)).all()

    async def outcomes(self) -> Sequence[Row[Outcome, str, str, str, str]]:
        """Every outcome with its agreement's parties, by id."""
        statement = _with_parties(
            select(Outcome, *_PARTY_COLUMNS).join(Agreement, Agreement.id == Outcome.agreement_id)
        ).order_by(Outcome.id)
        return (await self.session.execute(statement)).all()


# an agreement's parties as exports show them: order title, expert, studio, enterprise
_PARTY_COLUMNS = (Order.title, Expert.name, Studio.name, Enterprise.name)


def _with_parties(statement: Select[*_Ts]) -> Select[*_Ts]:
    return (
        statement.join(Order, Order.id == Agreement.order_id)
        .join(Expert, Expert.id == Agreement.expert_id)
        .join(Studio, Studio.id == Agreement.studio_id)
        .join(Enterprise, Enterprise.id == Agreement.enterprise_id)
    )
