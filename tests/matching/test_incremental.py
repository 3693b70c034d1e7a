"""Incremental updates: the delta segment, tombstones, ``fork`` and ``compact``."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import AchievementText, Candidate, ExpertProfile, Matcher, OrderText
from tests.matching.corpus import CNC, CUISINE, EXPERTS, ORDERS, TODAY, TOOTHBRUSH

ORDERS_BY_ID = {o.id: o for o in ORDERS}

# an expert whose keywords and discipline the fit never saw
GLASS = ExpertProfile(
    id=300,
    name="新专家",
    disciplines=("玻璃工艺",),
    achievements=(
        AchievementText(
            title="琉璃吹制窑温曲线与气泡控制",
            abstract="琉璃吹制时窑温与退火曲线的优化，减少气泡和应力裂纹；数控机床加工模具。",
            keywords=("琉璃吹制", "退火曲线", "气泡缺陷"),
            maturity="pilot",
        ),
    ),
    district="广陵区",
    delivered_agreements=2,
    mean_rating=4.5,
)
GLASS_ORDER = OrderText(
    id="o-glass",
    title="琉璃吹制气泡缺陷",
    description="我们的琉璃吹制产品气泡缺陷多，退火曲线需要调整。",
    fields=("玻璃工艺",),
    need_kind="tech_transfer",
    district="广陵区",
)


def everything(matcher: Matcher) -> list[list[Candidate]]:
    """Every ranking the corpus asks for, with and without filters, in both directions."""
    rankings = []
    for order in (*ORDERS, GLASS_ORDER):
        rankings.append(matcher.rank_experts(order, 20, today=TODAY))
        rankings.append(matcher.rank_experts(order, 5, today=TODAY, only_available=True, exclude=[CNC.id]))
        rankings.append(matcher.rank_experts(order, 20, today=TODAY, require_evidence=True))
        rankings.append(matcher.rank_experts(order, 20, today=TODAY, district="广陵区"))
    for expert in (*EXPERTS, GLASS):
        rankings.append(matcher.rank_orders(expert, 20))
        rankings.append(matcher.rank_orders(expert, 3, district="广陵区", exclude=["o-cnc"]))
    return rankings


def changed(matcher: Matcher) -> Matcher:
    """Additions, changes and removals on both sides, none of them compacted."""
    matcher.add_experts([GLASS, dataclasses.replace(CUISINE, id=CNC.id)])
    matcher.remove_experts([TOOTHBRUSH.id, "no-such-expert"])
    matcher.add_experts([dataclasses.replace(TOOTHBRUSH, id=400, bio="牙刷 注塑")])
    matcher.add_orders([GLASS_ORDER, dataclasses.replace(ORDERS_BY_ID["o-chef"], id="o-cnc")])
    matcher.remove_orders(["o-brush"])
    return matcher


@pytest.mark.parametrize("expert_model", ["profile", "documents"])
def test_a_matcher_with_a_delta_ranks_exactly_as_after_compacting(expert_model: str) -> None:
    matcher = changed(Matcher(expert_model=expert_model).fit(EXPERTS, ORDERS))  # type: ignore[arg-type]
    assert matcher.n_pending_changes > 0
    compacted = matcher.fork().compact()
    assert compacted.n_pending_changes == 0
    assert everything(compacted) == everything(matcher)  # ids, scores, factors and reasons


def test_changes_are_seen_as_the_new_content() -> None:
    matcher = changed(Matcher().fit(EXPERTS, ORDERS))
    ids = [c.id for c in matcher.rank_experts(ORDERS_BY_ID["o-cnc"], 100, today=TODAY)]
    assert TOOTHBRUSH.id not in ids and 400 in ids and GLASS.id in ids
    assert len(ids) == len(set(ids)) == matcher.n_experts == len(EXPERTS) + 1
    # the CNC expert's id now holds the chef's profile
    chef = matcher.rank_experts(ORDERS_BY_ID["o-chef"], 2, today=TODAY)
    assert {c.id for c in chef} == {CNC.id, CUISINE.id}
    # the new expert is found by its keywords and its (new) discipline, which the fit never saw
    top = matcher.rank_experts(GLASS_ORDER, 1, today=TODAY)[0]
    assert top.id == GLASS.id
    assert set(top.matched_keywords) == {"琉璃吹制", "退火曲线", "气泡缺陷"}
    assert top.matched_fields == ("玻璃工艺",)
    assert top.factors["track_record"] > 0.5
    orders = [c.id for c in matcher.rank_orders(GLASS, 100)]
    assert "o-brush" not in orders and orders.count("o-cnc") == 1 and orders[0] == "o-glass"
    assert matcher.rank_orders(CUISINE, 1)[0].id in {"o-chef", "o-cnc"}


def test_changes_on_a_fork_are_invisible_in_the_original() -> None:
    original = Matcher().fit(EXPERTS, ORDERS)
    before = everything(original)
    fork = original.fork()
    changed(fork)
    fork.add_experts([dataclasses.replace(GLASS, id=301)])
    assert everything(original) == before
    fork.compact()
    assert everything(original) == before
    assert original.n_experts == len(EXPERTS) and original.n_pending_changes == 0
    assert fork.n_experts == len(EXPERTS) + 2
    # and the other way round: a fork of a fork, changed, leaves its parent alone
    parent_rankings = everything(fork)
    fork.fork().remove_experts([GLASS.id]).compact()
    assert everything(fork) == parent_rankings


def test_a_fork_shares_the_large_arrays() -> None:
    original = changed(Matcher().fit(EXPERTS, ORDERS))
    fork = original.fork()
    assert fork.expert_postings_ is original.expert_postings_
    assert fork.order_matrix_ is original.order_matrix_
    assert fork.version_ == original.version_


def test_save_and_load_keep_the_delta(tmp_path: Path) -> None:
    matcher = changed(Matcher().fit(EXPERTS, ORDERS))
    path = tmp_path / "index.joblib"
    matcher.save(str(path))
    loaded = Matcher.load(str(path))
    assert loaded.n_pending_changes == matcher.n_pending_changes
    assert everything(loaded) == everything(matcher)


def index_size(matcher: Matcher) -> dict[str, int]:
    """Sizes of the structures that would grow with edits if rows were only masked."""
    return {
        "postings": matcher.expert_postings_.nnz,
        "experts": matcher.expert_postings_.shape[1],
        "expert rows": matcher.expert_district_.size,
        "keyword rows": matcher.expert_keywords_.shape[0],
        "keyword postings": matcher.expert_keywords_.nnz,
        "orders": matcher.order_matrix_.shape[0],
        "order postings": matcher.order_matrix_.nnz,
        "order rows": matcher.order_district_.size,
        "keywords": len(matcher.keyword_index_),
        "disciplines": len(matcher.discipline_index_),
    }


def test_memory_is_flat_over_ten_thousand_edits() -> None:
    matcher = Matcher().fit(EXPERTS, ORDERS)
    baseline = index_size(matcher)
    rng = random.Random(0)
    edits = 0
    while edits < 10_000:
        # a batch of changes (re-added with the same content), removals and re-additions
        experts = rng.sample(EXPERTS, 6)
        matcher.add_experts(experts[:3])
        matcher.remove_experts([e.id for e in experts[3:]])
        matcher.add_experts(experts[3:])
        orders = rng.sample(ORDERS, 4)
        matcher.remove_orders([o.id for o in orders])
        matcher.add_orders(orders)
        edits += 9 + 8
        if matcher.n_pending_changes > 500:
            matcher.compact()
    assert matcher.n_pending_changes > 0
    matcher.compact()
    assert matcher.n_pending_changes == 0
    assert index_size(matcher) == baseline
    assert matcher.n_experts == len(EXPERTS) and matcher.n_orders == len(ORDERS)


def test_pending_changes_count_delta_rows_and_tombstones() -> None:
    matcher = Matcher().fit(EXPERTS, ORDERS)
    assert matcher.n_pending_changes == 0
    matcher.remove_experts([CNC.id])  # a tombstone
    matcher.add_experts([GLASS])  # a delta row
    matcher.add_experts([dataclasses.replace(GLASS, bio="再改一次")])  # a second delta row
    matcher.add_orders([GLASS_ORDER])
    assert matcher.n_pending_changes == 4
    assert matcher.compact() is matcher
    assert matcher.n_pending_changes == 0


def test_keyword_idf_follows_additions_and_removals_exactly() -> None:
    # the keyword document frequencies are kept up to date, so they equal a recount over live experts
    matcher = changed(Matcher().fit(EXPERTS, ORDERS))
    compacted = matcher.fork().compact()
    live = compacted.expert_keywords_
    recount = np.asarray((live > 0).sum(axis=0)).ravel()
    n = compacted.n_experts
    expected = np.log((1.0 + n) / (1.0 + recount)).astype(np.float32)
    np.testing.assert_array_equal(matcher.keyword_idf_[: expected.size], expected)


# ------------------------------------------------------------------ a random sequence of edits

operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "change", "remove", "add_order", "remove_order", "compact"]),
        st.integers(min_value=0, max_value=len(EXPERTS) + 3),
    ),
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_any_sequence_of_edits_ranks_as_its_compacted_state(
    fitted: Matcher, ops: list[tuple[str, int]]
) -> None:
    matcher = fitted.fork()
    live_experts = {e.id for e in EXPERTS}
    live_orders = {o.id for o in ORDERS}
    for op, i in ops:
        expert = (*EXPERTS, GLASS)[i % (len(EXPERTS) + 1)]
        order = (*ORDERS, GLASS_ORDER)[i % (len(ORDERS) + 1)]
        if op == "add":
            matcher.add_experts([expert])
            live_experts.add(expert.id)
        elif op == "change":
            donor = EXPERTS[(i + 1) % len(EXPERTS)]
            matcher.add_experts([dataclasses.replace(donor, id=expert.id)])
            live_experts.add(expert.id)
        elif op == "remove":
            matcher.remove_experts([expert.id])
            live_experts.discard(expert.id)
        elif op == "add_order":
            matcher.add_orders([order])
            live_orders.add(order.id)
        elif op == "remove_order":
            matcher.remove_orders([order.id])
            live_orders.discard(order.id)
        else:
            matcher.compact()
    assert matcher.n_experts == len(live_experts) and matcher.n_orders == len(live_orders)
    compacted = matcher.fork().compact()
    for order in (ORDERS_BY_ID["o-cnc"], ORDERS_BY_ID["o-chef"], GLASS_ORDER):
        got = matcher.rank_experts(order, 50, today=TODAY)
        assert {c.id for c in got} == live_experts
        assert got == compacted.rank_experts(order, 50, today=TODAY)
    for expert in (CNC, GLASS):
        got_orders = matcher.rank_orders(expert, 50)
        assert {c.id for c in got_orders} == live_orders
        assert got_orders == compacted.rank_orders(expert, 50)
    assert fitted.n_experts == len(EXPERTS) and fitted.n_pending_changes == 0


def field_factors(matcher: Matcher) -> dict[tuple[object, object], float]:
    return {
        (order.id, c.id): c.factors["field"]
        for order in ORDERS
        for c in matcher.rank_experts(order, 20, today=TODAY)
    }


def test_centroids_follow_removals_and_additions() -> None:
    fitted = Matcher().fit(EXPERTS, ORDERS)
    matcher = fitted.fork()
    # every expert taken out of the centroids and put back: the fit's field factors again
    matcher.remove_experts([e.id for e in EXPERTS])
    assert matcher.n_experts == 0
    matcher.add_experts(EXPERTS)
    expected, got = field_factors(fitted), field_factors(matcher)
    assert got.keys() == expected.keys()
    assert all(got[key] == pytest.approx(expected[key], rel=1e-5, abs=1e-6) for key in expected)


def test_a_discipline_first_seen_in_an_update_gets_a_centroid() -> None:
    matcher = Matcher().fit(EXPERTS, ORDERS)
    unstated = dataclasses.replace(GLASS_ORDER, fields=())  # the order does not name its field
    matcher.add_experts([GLASS])
    top = matcher.rank_experts(unstated, 1, today=TODAY)[0]
    assert top.id == GLASS.id
    assert top.factors["field"] > 0.5
    assert top.matched_fields == ("玻璃工艺",)
    matcher.remove_experts([GLASS.id])
    assert all(c.factors["field"] < 0.5 for c in matcher.rank_experts(unstated, 20, today=TODAY))
