"""``MatcherIndex`` inside one transaction: stored builds, the change feed, no refit between builds.

These tests lend the index the test's own session, as the HTTP tests do: it sees the test's rows
(uncommitted, rolled back afterwards). What crosses processes and transactions is in
``test_index_shared.py``, on a database of its own with real commits.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.accounts.security import Actor
from app.achievements import service as achievement_service
from app.achievements.models import AchievementKind
from app.achievements.schemas import AchievementCreate
from app.experts import service as expert_service
from app.experts.models import Expert
from app.experts.schemas import ExpertCreate, ExpertUpdate
from app.orders.models import Order, OrderStatus
from app.proposals.index import IndexState, MatcherIndex, borrowed
from app.proposals.models import MatcherBuild, MatcherBuildChunk, MatcherChange
from app.proposals.profiles import load_expert_profiles, order_text
from matching import Matcher
from tests.factories import make_achievement, make_expert
from tests.proposals.test_api import ACHIEVEMENTS, EXPERTS, ORDERS, make_catalogue, make_field_order


def top_expert(matcher: Matcher | None, order: Order) -> int:
    assert matcher is not None
    return int(matcher.rank_experts(order_text(order), 1)[0].id)


async def ranked_orders(session: AsyncSession, matcher: Matcher | None, expert: Expert) -> list[int]:
    assert matcher is not None
    profile = (await load_expert_profiles(session, [expert.id]))[0]
    return [int(c.id) for c in matcher.rank_orders(profile, 10)]


async def register_rice_expert(session: AsyncSession, admin: User) -> Expert:
    """The rice expert, entered the way the service does it."""
    actor = Actor.of(admin)
    expert = await expert_service.register_expert(
        session, actor, ExpertCreate(title="教授", **EXPERTS["rice"])
    )
    for achievement in ACHIEVEMENTS["rice"]:
        await achievement_service.publish_achievement(
            session,
            actor,
            AchievementCreate(expert_id=expert.id, kind=AchievementKind.PATENT, year=2023, **achievement),
        )
    return expert


async def first_state(session: AsyncSession) -> tuple[MatcherIndex, IndexState]:
    index = MatcherIndex(borrowed(session), concurrent=False)
    state = await index.current()
    assert state.matcher is not None
    return index, state


# --- the feed --------------------------------------------------------------------------------------


async def test_every_change_writes_a_feed_row_in_its_transaction(session: AsyncSession, admin: User) -> None:
    before = await session.scalar(select(func.count()).select_from(MatcherChange))
    rice = await register_rice_expert(session, admin)
    order = await make_field_order(session, "rice")

    rows = (await session.execute(select(MatcherChange.entity, MatcherChange.entity_id))).all()

    assert ("expert", rice.id) in rows and ("order", order.id) in rows
    assert len(rows) > (before or 0)
    xids = await session.scalars(select(MatcherChange.xid).where(MatcherChange.entity_id == rice.id))
    own = await session.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
    assert set(xids) == {own}  # the writing transaction's id, filled by the server


# --- freshness without refit ------------------------------------------------------------------------


async def test_a_new_expert_is_ranked_without_a_refit(session: AsyncSession, admin: User) -> None:
    experts = await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    index, state = await first_state(session)
    assert top_expert(state.matcher, rice_order) in {e.id for e in experts.values()}

    rice = await register_rice_expert(session, admin)
    fresh = await index.current()

    assert fresh.build_id == state.build_id  # no refit: the same stored build, with the change applied
    assert fresh.matcher is not state.matcher  # a fork was swapped in; the old one is untouched
    assert fresh.matcher is not None and state.matcher is not None
    assert fresh.matcher.version_ == state.matcher.version_
    assert fresh.matcher.n_experts == state.matcher.n_experts + 1
    assert state.matcher.n_experts == len(experts)
    assert top_expert(fresh.matcher, rice_order) == rice.id
    assert "稻飞虱" in fresh.matcher.rank_experts(order_text(rice_order), 1)[0].shared_terms
    assert fresh.label != state.label and fresh.label.startswith(f"b{state.build_id}+c")


async def test_an_edited_profile_is_reindexed(session: AsyncSession, admin: User) -> None:
    experts = await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    index, state = await first_state(session)
    assert top_expert(state.matcher, rice_order) != experts["cnc"].id

    await expert_service.update_expert_profile(
        session,
        Actor.of(admin),
        experts["cnc"].id,
        ExpertUpdate(bio="转向水稻稻飞虱绿色防控与精准施药研究。", disciplines=["植物保护"]),
    )
    fresh = await index.current()

    assert fresh.build_id == state.build_id
    assert top_expert(fresh.matcher, rice_order) == experts["cnc"].id


async def test_a_closed_order_leaves_the_recommendations(session: AsyncSession) -> None:
    experts = await make_catalogue(session)
    orders = {key: await make_field_order(session, key) for key in ORDERS}
    index, state = await first_state(session)
    assert state.matcher is not None and state.matcher.n_orders == len(ORDERS)
    assert (await ranked_orders(session, state.matcher, experts["cooking"]))[0] == orders["cooking"].id

    orders["cooking"].status = OrderStatus.CLOSED
    await session.commit()
    fresh = await index.current()

    assert fresh.matcher is not None and fresh.matcher.n_orders == len(ORDERS) - 1
    remaining = await ranked_orders(session, fresh.matcher, experts["cooking"])
    assert orders["cooking"].id not in remaining
    assert set(remaining) == {o.id for key, o in orders.items() if key != "cooking"}


async def test_a_published_draft_joins_the_recommendations(session: AsyncSession) -> None:
    experts = await make_catalogue(session)
    others = [await make_field_order(session, key) for key in ("welding", "chips")]
    draft = await make_field_order(session, "rice", status=OrderStatus.DRAFT)
    index, state = await first_state(session)
    assert draft.id not in await ranked_orders(session, state.matcher, experts["rice"])

    draft.status = OrderStatus.PUBLISHED
    await session.commit()
    fresh = await index.current()

    assert fresh.matcher is not None and fresh.matcher.n_orders == len(others) + 1
    assert (await ranked_orders(session, fresh.matcher, experts["rice"]))[0] == draft.id


async def test_a_deleted_expert_is_never_ranked(session: AsyncSession) -> None:
    await make_catalogue(session)
    welding_order = await make_field_order(session, "welding")
    welder = await make_expert(session, name="临时专家", bio="船舶焊接变形控制与焊接残余应力研究。")
    index, state = await first_state(session)
    assert welder.id in {int(c.id) for c in state.matcher.rank_experts(order_text(welding_order), 10)}  # type: ignore[union-attr]

    await session.delete(welder)
    await session.flush()
    fresh = await index.current()

    assert fresh.matcher is not None
    assert welder.id not in {int(c.id) for c in fresh.matcher.rank_experts(order_text(welding_order), 10)}


async def test_without_experts_there_is_no_matcher_until_one_is_entered(
    session: AsyncSession, admin: User
) -> None:
    rice_order = await make_field_order(session, "rice")
    index = MatcherIndex(borrowed(session), concurrent=False)

    assert (await index.current()).matcher is None

    rice = await register_rice_expert(session, admin)

    assert top_expert((await index.current()).matcher, rice_order) == rice.id


# --- stored builds ------------------------------------------------------------------------------------


async def test_a_build_is_stored_and_another_worker_loads_it(session: AsyncSession) -> None:
    experts = await make_catalogue(session)
    welding_order = await make_field_order(session, "welding")
    steps: list[str] = []

    built = await MatcherIndex(borrowed(session), concurrent=False).build(steps.append)

    stored = await session.get(MatcherBuild, built.build_id)
    assert stored is not None and stored.status == "ready" and stored.size_bytes > 0
    assert stored.experts == len(experts) and stored.orders == 1
    chunks = await session.scalar(
        select(func.count()).select_from(MatcherBuildChunk).where(MatcherBuildChunk.build_id == stored.id)
    )
    assert chunks and chunks >= 1
    assert "写入数据库" in steps and all(steps)

    other = await MatcherIndex(
        borrowed(session), concurrent=False
    ).current()  # another worker starting: loads, no fit

    assert other.build_id == built.build_id
    assert other.matcher is not None and built.matcher is not None and other.matcher is not built.matcher
    assert other.matcher.version_ == built.matcher.version_
    assert top_expert(other.matcher, welding_order) == experts["welding"].id


async def test_a_new_build_replaces_the_old_one_in_every_worker(session: AsyncSession, admin: User) -> None:
    await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    worker, first = await first_state(session)
    rice = await register_rice_expert(session, admin)

    rebuilt = await MatcherIndex(
        borrowed(session), concurrent=False
    ).build()  # `studio-match reindex`, or the job
    assert rebuilt.build_id > first.build_id
    assert rebuilt.matcher is not None and first.matcher is not None
    assert rebuilt.matcher.version_ != first.matcher.version_  # refitted on a new corpus

    moved = await worker.current()  # sees the new build and moves to it

    assert moved.build_id == rebuilt.build_id
    assert top_expert(moved.matcher, rice_order) == rice.id


async def test_changes_after_a_build_are_applied_on_load(session: AsyncSession) -> None:
    experts = await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    cooking_order = await make_field_order(session, "cooking")
    built = await MatcherIndex(borrowed(session), concurrent=False).build()
    assert top_expert(built.matcher, rice_order) != experts["cooking"].id
    cook = experts["cooking"]
    cook.bio, cook.disciplines = "转向水稻稻飞虱绿色防控与精准施药研究。", ["植物保护"]
    cooking_order.status = OrderStatus.CLOSED
    rice = await make_expert(
        session, name="新来的专家", **{k: v for k, v in EXPERTS["rice"].items() if k != "name"}
    )
    await make_achievement(session, rice, **ACHIEVEMENTS["rice"][0])
    await session.flush()

    loaded = await MatcherIndex(borrowed(session), concurrent=False).current()

    assert loaded.build_id == built.build_id  # loaded, not refitted
    assert loaded.matcher is not None and built.matcher is not None
    assert loaded.matcher.n_orders == built.matcher.n_orders - 1
    assert loaded.matcher.n_experts == built.matcher.n_experts + 1
    ranked = {int(c.id) for c in loaded.matcher.rank_experts(order_text(rice_order), 2)}
    assert ranked == {cook.id, rice.id}
    assert cooking_order.id not in await ranked_orders(session, loaded.matcher, cook)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
async def test_an_unreadable_build_falls_back_to_a_new_one(session: AsyncSession, damage: str) -> None:
    experts = await make_catalogue(session)
    welding_order = await make_field_order(session, "welding")
    built = await MatcherIndex(borrowed(session), concurrent=False).build()
    chunk = MatcherBuildChunk.__table__
    if damage == "garbage":
        await session.execute(update(chunk).values(data="这不是索引".encode()))
    else:  # e.g. a restore that stopped halfway
        await session.execute(update(chunk).values(data=func.substring(chunk.c.data, 1, 200)))

    state = await MatcherIndex(borrowed(session), concurrent=False).current()

    assert state.build_id > built.build_id
    assert top_expert(state.matcher, welding_order) == experts["welding"].id


async def test_experts_load_in_chunks_beyond_the_drivers_parameter_limit(session: AsyncSession) -> None:
    # asyncpg refuses a statement with more than 32,767 parameters: 40,000 ids must still load
    experts = await make_catalogue(session)
    wanted = set(range(10**9, 10**9 + 40_000)) | {e.id for e in experts.values()}

    profiles = await load_expert_profiles(session, wanted)

    assert {p.id for p in profiles} == {e.id for e in experts.values()}
