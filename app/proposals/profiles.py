"""Turning database rows into what the matcher reads (``matching.types``): the one place this happens."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.agreements import service as agreement_service
from app.agreements.service import Workload
from app.experts import service as expert_service
from app.experts.models import Expert
from app.orders import service as order_service
from app.orders.models import Order
from matching import AchievementText, ExpertProfile, OrderText

# ids per statement when records are loaded by id (asyncpg refuses more than 32,767 parameters)
ID_CHUNK = 5000


def expert_profile(expert: Expert, workload: Workload | None = None) -> ExpertProfile:
    """The matcher's view of an expert (achievements must be loaded)."""
    workload = workload or Workload()
    return ExpertProfile(
        id=expert.id,
        name=expert.name,
        disciplines=tuple(expert.disciplines),
        achievements=tuple(
            AchievementText(
                title=a.title, abstract=a.abstract, keywords=tuple(a.keywords), maturity=a.maturity.value
            )
            for a in expert.achievements
        ),
        bio=expert.bio,
        district=expert.seconded_district,
        town=expert.seconded_town,
        capacity=expert.capacity,
        active_agreements=workload.active,
        term_end=expert.term_end,
        delivered_agreements=workload.delivered,
        mean_rating=workload.mean_rating,
    )


def order_text(order: Order) -> OrderText:
    """The matcher's view of an order: what the enterprise wrote, its kind and where it is."""
    return OrderText(
        id=order.id,
        title=order.title,
        description=order.description,
        fields=tuple(order.fields),
        need_kind=order.need_kind.value,
        district=order.district,
        town=order.town,
    )


async def load_expert_profiles(
    session: AsyncSession, ids: Collection[int] | None = None
) -> list[ExpertProfile]:
    """Profiles of all experts (or these ids), with their workloads.

    Ids go to the database in chunks: a driver takes at most 32,767 bind parameters per statement.
    """
    if ids is None:
        experts = list(await expert_service.experts_for_matching(session))
        workloads = await agreement_service.expert_workloads(session)
        return [expert_profile(e, workloads.get(e.id)) for e in experts]
    profiles = []
    for chunk in chunked(sorted(ids), ID_CHUNK):
        experts = list(await expert_service.experts_for_matching(session, chunk))
        workloads = await agreement_service.expert_workloads(session, [e.id for e in experts])
        profiles += [expert_profile(e, workloads.get(e.id)) for e in experts]
    return profiles


async def load_open_orders(session: AsyncSession, ids: Collection[int] | None = None) -> list[OrderText]:
    """Published orders (all, or these ids), the ones the matcher may recommend."""
    if ids is None:
        return [order_text(o) for o in await order_service.orders_for_matching(session)]
    return [
        order_text(o)
        for chunk in chunked(sorted(ids), ID_CHUNK)
        for o in await order_service.orders_for_matching(session, chunk)
    ]


def chunked(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    """``ids`` in slices of at most ``size``."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
