"""Queries for proposals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from app.experts.models import Expert
from app.proposals.models import Proposal, ProposalStatus
from app.repository import Repository


class ProposalRepository(Repository[Proposal]):
    """Proposals of an order, with the proposed experts."""

    model = Proposal

    async def for_order(self, order_id: int) -> Sequence[tuple[Proposal, Expert]]:
        """The order's proposals with their experts, best rank first."""
        rows = await self.session.execute(
            select(Proposal, Expert)
            .join(Expert, Expert.id == Proposal.expert_id)
            .where(Proposal.order_id == order_id)
            .order_by(Proposal.rank, Proposal.id)
        )
        return [(proposal, expert) for proposal, expert in rows.all()]

    async def by_expert(self, order_id: int) -> dict[int, Proposal]:
        """The order's proposals keyed by expert id."""
        rows = await self.session.scalars(select(Proposal).where(Proposal.order_id == order_id))
        return {p.expert_id: p for p in rows.all()}

    async def declined_experts(self, order_id: int) -> set[int]:
        """Experts who declined this order: never proposed for it again."""
        rows = await self.session.scalars(
            select(Proposal.expert_id).where(
                Proposal.order_id == order_id, Proposal.status == ProposalStatus.DECLINED
            )
        )
        return set(rows.all())
