"""Queries over agreements."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import case, func, select

from app.agreements.models import Agreement, AgreementStatus
from app.repository import Repository

ACTIVE_STATUSES = (AgreementStatus.PENDING_SIGNATURE, AgreementStatus.IN_PROGRESS)


class AgreementRepository(Repository[Agreement]):
    """Agreements by id, and per-expert workload figures."""

    model = Agreement

    async def workloads(
        self, expert_ids: Collection[int] | None = None
    ) -> dict[int, tuple[int, int, float | None]]:
        """Per expert: active agreements, delivered agreements, mean rating given by enterprises."""
        active = func.sum(case((Agreement.status.in_(ACTIVE_STATUSES), 1), else_=0))
        delivered = func.sum(case((Agreement.status == AgreementStatus.DELIVERED, 1), else_=0))
        statement = select(
            Agreement.expert_id, active, delivered, func.avg(Agreement.enterprise_rating)
        ).group_by(Agreement.expert_id)
        if expert_ids is not None:
            statement = statement.where(Agreement.expert_id.in_(list(expert_ids)))
        rows = await self.session.execute(statement)
        return {
            expert_id: (int(a or 0), int(d or 0), float(r) if r is not None else None)
            for expert_id, a, d, r in rows.all()
        }
