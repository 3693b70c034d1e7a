"""Use cases for agreements. The workflow itself arrives with the marketplace; the matcher reads workloads now."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.agreements.repository import AgreementRepository


@dataclass(frozen=True, slots=True)
class Workload:
    """An expert's agreements: how many are running, how many were delivered, and how they were rated."""

    active: int = 0
    delivered: int = 0
    mean_rating: float | None = None


async def expert_workloads(
    session: AsyncSession, expert_ids: Collection[int] | None = None
) -> dict[int, Workload]:
    """Workloads of the given experts (all experts with agreements when ``None``); others have none."""
    rows = await AgreementRepository(session).workloads(expert_ids)
    return {expert_id: Workload(*figures) for expert_id, figures in rows.items()}
