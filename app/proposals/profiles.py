"""Turning database rows into what the matcher reads (``matching.types``): the one place this happens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterator, Sequence

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
# records per statement when a build reads them all: each chunk's ORM objects are turned into the
# matcher's records and dropped before the next chunk is read (at most ID_CHUNK: a chunk's ids are
# bound once more, for the workloads)
READ_CHUNK = 2000


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


async def iter_expert_profiles(session: AsyncSession) -> AsyncIterator[list[ExpertProfile]]:
    """Every expert's profile, with its workload, read by id in chunks of ``READ_CHUNK`` experts.

    Only one chunk's ORM objects are in memory at a time: each chunk is turned into profiles and its
    objects leave the session before the next chunk is read (objects the session already held, such as
    a caller's, stay). Reading by id after the last one read (keyset) binds no parameter per record;
    inside one transaction every chunk sees the same snapshot.
    """
    after: int | None = None
    while True:
        held = set(session.identity_map.keys())
        experts = list(await expert_service.experts_for_matching_after(session, after, _read_chunk()))
        if not experts:
            return
        after = experts[-1].id
        workloads = await agreement_service.expert_workloads(session, [e.id for e in experts])
        profiles = [expert_profile(e, workloads.get(e.id)) for e in experts]
        del experts
        _release(session, held)
        yield profiles


async def iter_open_orders(session: AsyncSession) -> AsyncIterator[list[OrderText]]:
    """Every published order as the matcher reads it, in chunks of ``READ_CHUNK`` (as ``iter_expert_profiles``)."""
    after: int | None = None
    while True:
        held = set(session.identity_map.keys())
        orders = list(await order_service.orders_for_matching_after(session, after, _read_chunk()))
        if not orders:
            return
        after = orders[-1].id
        texts = [order_text(o) for o in orders]
        del orders
        _release(session, held)
        yield texts


def _read_chunk() -> int:
    return max(1, min(READ_CHUNK, ID_CHUNK))


def _release(session: AsyncSession, held: Collection[object]) -> None:
    """Expunge every object the session loaded since it held ``held`` (their identity keys)."""
    identity_map = session.identity_map
    keys = list(identity_map.keys())
    for key in keys:
        record = None if key in held else identity_map.get(key)
        if record is not None:
            session.expunge(record)


def chunked(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    """``ids`` in slices of at most ``size``."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
