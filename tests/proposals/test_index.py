"""``MatcherIndex``: built once, kept fresh by the session hook without a refit, shared through a file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.accounts.security import Actor
from app.achievements import service as achievement_service
from app.achievements.models import AchievementKind
from app.achievements.schemas import AchievementCreate
from app.clock import utcnow
from app.experts import service as expert_service
from app.experts.models import Expert
from app.experts.schemas import ExpertCreate, ExpertUpdate
from app.orders.models import Order, OrderStatus
from app.proposals.index import INDEX_INFO_KEY, MatcherIndex
from app.proposals.profiles import load_expert_profiles, order_text
from matching import Matcher
from tests.factories import make_achievement, make_expert
from tests.proposals.test_api import ACHIEVEMENTS, EXPERTS, ORDERS, make_catalogue, make_field_order


def top_expert(matcher: Matcher, order: Order) -> int:
    return int(matcher.rank_experts(order_text(order), 1)[0].id)


async def ranked_orders(session: AsyncSession, matcher: Matcher, expert: Expert) -> list[int]:
    profile = (await load_expert_profiles(session, [expert.id]))[0]
    return [int(c.id) for c in matcher.rank_orders(profile, 10)]


async def register_rice_expert(session: AsyncSession, admin: User) -> Expert:
    """The rice expert, entered the way the service does it (so that the commit marks it changed)."""
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


def indexed(session: AsyncSession, index: MatcherIndex) -> MatcherIndex:
    """Let the session's commits report to ``index``, as the app's sessions do."""
    session.info[INDEX_INFO_KEY] = index
    return index


# --- freshness without refit ------------------------------------------------------------------------


async def test_a_new_expert_is_ranked_without_a_refit(session: AsyncSession, admin: User) -> None:
    experts = await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    index = indexed(session, MatcherIndex())
    matcher = await index.current(session)
    assert matcher is not None
    version, size = matcher.version_, matcher.n_experts
    assert top_expert(matcher, rice_order) in {e.id for e in experts.values()}

    rice = await register_rice_expert(session, admin)
    fresh = await index.current(session)

    assert fresh is matcher  # updated in place
    assert fresh.version_ == version  # no refit
    assert fresh.n_experts == size + 1
    assert top_expert(fresh, rice_order) == rice.id
    candidate = fresh.rank_experts(order_text(rice_order), 1)[0]
    assert "稻飞虱" in candidate.shared_terms


async def test_changes_reach_the_index_on_commit_not_on_flush(session: AsyncSession) -> None:
    await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    index = indexed(session, MatcherIndex())
    matcher = await index.current(session)
    assert matcher is not None

    rice = await make_expert(session, **EXPERTS["rice"])
    await make_achievement(session, rice, **ACHIEVEMENTS["rice"][0])
    before_commit = top_expert(await index.current(session) or matcher, rice_order)
    await session.commit()
    after_commit = top_expert(await index.current(session) or matcher, rice_order)

    assert before_commit != rice.id
    assert after_commit == rice.id


async def test_an_edited_profile_is_reindexed(session: AsyncSession, admin: User) -> None:
    experts = await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    index = indexed(session, MatcherIndex())
    matcher = await index.current(session)
    assert matcher is not None and top_expert(matcher, rice_order) != experts["cnc"].id

    await expert_service.update_expert_profile(
        session,
        Actor.of(admin),
        experts["cnc"].id,
        ExpertUpdate(bio="转向水稻稻飞虱绿色防控与精准施药研究。", disciplines=["植物保护"]),
    )
    fresh = await index.current(session)

    assert fresh is not None and fresh.version_ == matcher.version_
    assert top_expert(fresh, rice_order) == experts["cnc"].id


async def test_a_closed_order_leaves_the_recommendations(session: AsyncSession) -> None:
    experts = await make_catalogue(session)
    orders = {key: await make_field_order(session, key) for key in ORDERS}
    index = indexed(session, MatcherIndex())
    matcher = await index.current(session)
    assert matcher is not None and matcher.n_orders == len(ORDERS)
    assert (await ranked_orders(session, matcher, experts["cooking"]))[0] == orders["cooking"].id

    orders["cooking"].status = OrderStatus.CLOSED
    await session.commit()
    fresh = await index.current(session)

    assert fresh is not None and fresh.version_ == matcher.version_
    assert fresh.n_orders == len(ORDERS) - 1
    remaining = await ranked_orders(session, fresh, experts["cooking"])
    assert orders["cooking"].id not in remaining
    assert set(remaining) == {o.id for key, o in orders.items() if key != "cooking"}


async def test_a_published_draft_joins_the_recommendations(session: AsyncSession) -> None:
    experts = await make_catalogue(session)
    others = [await make_field_order(session, key) for key in ("welding", "chips")]
    draft = await make_field_order(session, "rice", status=OrderStatus.DRAFT)
    index = indexed(session, MatcherIndex())
    matcher = await index.current(session)
    assert matcher is not None
    assert draft.id not in await ranked_orders(session, matcher, experts["rice"])

    draft.status = OrderStatus.PUBLISHED
    await session.commit()
    fresh = await index.current(session)

    assert fresh is not None and fresh.n_orders == len(others) + 1
    assert (await ranked_orders(session, fresh, experts["rice"]))[0] == draft.id


async def test_without_experts_there_is_no_matcher_until_one_is_entered(
    session: AsyncSession, admin: User
) -> None:
    rice_order = await make_field_order(session, "rice")
    index = indexed(session, MatcherIndex())

    assert await index.current(session) is None

    rice = await register_rice_expert(session, admin)
    matcher = await index.current(session)

    assert matcher is not None and top_expert(matcher, rice_order) == rice.id


async def test_a_rebuild_refits_with_a_new_version(session: AsyncSession, admin: User) -> None:
    await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    index = indexed(session, MatcherIndex())
    matcher = await index.current(session)
    assert matcher is not None
    rice = await register_rice_expert(session, admin)
    steps: list[str] = []

    rebuilt = await index.rebuild(session, steps.append)

    assert rebuilt is not None and rebuilt is not matcher
    assert rebuilt.version_ != matcher.version_
    assert top_expert(rebuilt, rice_order) == rice.id
    assert steps and all(step for step in steps)
    assert await index.current(session) is rebuilt


# --- sharing through a file -----------------------------------------------------------------------


async def test_a_rebuild_writes_the_file_that_another_worker_loads(
    session: AsyncSession, tmp_path: Path
) -> None:
    experts = await make_catalogue(session)
    welding_order = await make_field_order(session, "welding")
    path = tmp_path / "matcher.joblib"
    writer = MatcherIndex(path)
    steps: list[str] = []

    written = await writer.rebuild(session, steps.append)

    assert written is not None
    assert path.is_file()
    sidecar = path.with_name("matcher.joblib.json")
    snapshot_at = datetime.fromisoformat(json.loads(sidecar.read_text())["snapshot_at"])
    assert snapshot_at.tzinfo is not None and abs(utcnow() - snapshot_at) < timedelta(minutes=5)
    assert writer.snapshot_at == snapshot_at
    assert not path.with_suffix(".tmp").exists()
    assert "写入索引文件" in steps

    reader = MatcherIndex(path)
    loaded = await reader.current(session)

    assert loaded is not None and loaded is not written  # read from the file
    assert loaded.version_ == written.version_
    assert loaded.n_experts == written.n_experts and loaded.n_orders == written.n_orders
    assert top_expert(loaded, welding_order) == experts["welding"].id
    assert await writer.current(session) is written  # its own file is not reloaded


async def test_records_changed_after_the_snapshot_are_applied_on_load(
    session: AsyncSession, tmp_path: Path
) -> None:
    experts = await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    cooking_order = await make_field_order(session, "cooking")
    path = tmp_path / "matcher.joblib"
    written = await MatcherIndex(path).rebuild(session)
    assert written is not None and top_expert(written, rice_order) != experts["cnc"].id
    # after the snapshot, with no hook to report it: the cooking expert turns to rice, the order closes
    cook = experts["cooking"]
    cook.bio, cook.disciplines = "转向水稻稻飞虱绿色防控与精准施药研究。", ["植物保护"]
    cook.updated_at = utcnow() + timedelta(hours=1)
    cooking_order.status = OrderStatus.CLOSED
    await session.flush()

    loaded = await MatcherIndex(path).current(session)

    assert loaded is not None and loaded.version_ == written.version_  # loaded, not refitted
    assert top_expert(loaded, rice_order) == cook.id
    assert cooking_order.id not in await ranked_orders(session, loaded, cook)
    assert loaded.n_orders == written.n_orders - 1


async def test_an_expert_added_after_the_snapshot_is_applied_on_load(
    session: AsyncSession, tmp_path: Path
) -> None:
    await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    path = tmp_path / "matcher.joblib"
    written = await MatcherIndex(path).rebuild(session)
    assert written is not None
    rice = await make_expert(session, **EXPERTS["rice"])
    await make_achievement(session, rice, **ACHIEVEMENTS["rice"][0])

    loaded = await MatcherIndex(path).current(session)

    assert loaded is not None and loaded.n_experts == written.n_experts + 1
    assert top_expert(loaded, rice_order) == rice.id


async def test_a_rewritten_file_is_reloaded(session: AsyncSession, tmp_path: Path) -> None:
    await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    path = tmp_path / "matcher.joblib"
    await MatcherIndex(path).rebuild(session)
    reader = MatcherIndex(path)
    first = await reader.current(session)
    assert first is not None
    rice = await make_expert(session, **EXPERTS["rice"])
    await make_achievement(session, rice, **ACHIEVEMENTS["rice"][0])
    await session.flush()

    rewritten = await MatcherIndex(path).rebuild(session)  # `studio-match reindex` in another process
    reloaded = await reader.current(session)

    assert rewritten is not None and reloaded is not None
    assert reloaded is not first and reloaded.version_ == rewritten.version_ != first.version_
    assert top_expert(reloaded, rice_order) == rice.id


async def test_a_garbage_file_falls_back_to_a_build(session: AsyncSession, tmp_path: Path) -> None:
    experts = await make_catalogue(session)
    welding_order = await make_field_order(session, "welding")
    path = tmp_path / "matcher.joblib"
    await MatcherIndex(path).rebuild(session)
    path.write_bytes("这不是索引文件".encode())

    matcher = await MatcherIndex(path).current(session)

    assert matcher is not None
    assert top_expert(matcher, welding_order) == experts["welding"].id


async def test_a_truncated_file_falls_back_to_a_build(session: AsyncSession, tmp_path: Path) -> None:
    # e.g. a disk that filled up while the file was copied to another worker's machine
    experts = await make_catalogue(session)
    welding_order = await make_field_order(session, "welding")
    path = tmp_path / "matcher.joblib"
    await MatcherIndex(path).rebuild(session)
    data = path.read_bytes()
    crashed: list[str] = []

    for percent in range(5, 100, 5):
        path.write_bytes(data[: len(data) * percent // 100])
        try:
            matcher = await MatcherIndex(path).current(session)
        except Exception as error:  # every way of failing is collected and reported
            crashed.append(f"{percent}%: {type(error).__module__}.{type(error).__name__}")
            continue
        assert matcher is not None
        assert top_expert(matcher, welding_order) == experts["welding"].id

    assert not crashed, crashed


async def test_a_file_without_its_sidecar_is_not_trusted(session: AsyncSession, tmp_path: Path) -> None:
    await make_catalogue(session, skip={"rice"})
    rice_order = await make_field_order(session, "rice")
    path = tmp_path / "matcher.joblib"
    written = await MatcherIndex(path).rebuild(session)
    assert written is not None
    path.with_name("matcher.joblib.json").unlink()
    rice = await make_expert(session, **EXPERTS["rice"])
    await make_achievement(session, rice, **ACHIEVEMENTS["rice"][0])

    matcher = await MatcherIndex(path).current(session)

    # without the snapshot time the changes since cannot be known: the index is built afresh
    assert matcher is not None and matcher.version_ != written.version_
    assert top_expert(matcher, rice_order) == rice.id
