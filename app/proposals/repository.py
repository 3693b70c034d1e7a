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

    async def of_expert(self, order_id: int, expert_id: int) -> Proposal | None:
        """The proposal of this expert for this order, if the matcher made one."""
        return await self.session.scalar(
            select(Proposal).where(Proposal.order_id == order_id, Proposal.expert_id == expert_id)
        )

    async def invitations_for(self, expert_id: int) -> Sequence[Proposal]:
        """The expert's open invitations, newest first."""
        statement = (
            select(Proposal)
            .where(Proposal.expert_id == expert_id, Proposal.status == ProposalStatus.INVITED)
            .order_by(Proposal.id.desc())
        )
        return (await self.session.scalars(statement)).all()
