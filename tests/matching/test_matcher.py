"""Matcher: fitting, ranking in both directions, reasons, filters, incremental indexing, persistence."""

from __future__ import annotations

import dataclasses
import math
import pickle
from datetime import date
from pathlib import Path

import opencc
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from matching import (
    AchievementText,
    Candidate,
    EmptyQueryError,
    ExpertProfile,
    Matcher,
    OrderText,
    RankerWeights,
    Tokenizer,
    normalise,
)
from tests.matching.corpus import (
    BEST_EXPERT,
    CNC,
    CUISINE,
    EXPERTS,
    EXPERTS_BY_ID,
    LABOUR_LAW,
    ORDERS,
    ORDERS_BY_ID,
    SOLAR,
    TODAY,
    TOOTHBRUSH,
    expert_text,
    order_text,
)

CNC_ORDER = ORDERS_BY_ID["o-cnc"]


def ranking(candidates: list[Candidate]) -> list[tuple[object, float]]:
    return [(c.id, c.score) for c in candidates]


def to_traditional(order: OrderText) -> OrderText:
    converter = opencc.OpenCC("s2tw")
    return dataclasses.replace(
        order,
        title=converter.convert(order.title),
        description=converter.convert(order.description),
        fields=tuple(converter.convert(f) for f in order.fields),
        district=converter.convert(order.district) if order.district else None,
        town=converter.convert(order.town) if order.town else None,
    )


# ------------------------------------------------------------------ fitting


def test_fit_returns_self() -> None:
    matcher = Matcher()
    assert matcher.fit(EXPERTS, ORDERS) is matcher
    assert matcher.n_experts == len(EXPERTS)
    assert matcher.n_orders == len(ORDERS)


def test_fit_without_experts_raises_value_error() -> None:
    with pytest.raises(ValueError):
        Matcher().fit([])
    with pytest.raises(ValueError):
        Matcher().fit([], ORDERS)


def test_fit_with_duplicate_expert_ids_raises_value_error() -> None:
    with pytest.raises(ValueError):
        Matcher().fit([CNC, dataclasses.replace(SOLAR, id=CNC.id)])


def test_rank_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        Matcher().rank_experts(CNC_ORDER)
    with pytest.raises(NotFittedError):
        Matcher().rank_orders(CNC)


def test_refit_replaces_earlier_learning() -> None:
    matcher = Matcher().fit(EXPERTS, ORDERS)
    matcher.fit([CNC, SOLAR])
    assert matcher.n_experts == 2
    assert matcher.n_orders == 0
    assert {c.id for c in matcher.rank_experts(CNC_ORDER, 10, today=TODAY)} == {CNC.id, SOLAR.id}


# ------------------------------------------------------------------ ranking experts


def test_cnc_order_puts_the_cnc_expert_first(fitted: Matcher) -> None:
    candidates = fitted.rank_experts(CNC_ORDER, 5, today=TODAY)
    assert candidates[0].id == CNC.id


def test_cnc_order_without_field_or_district_still_finds_the_cnc_expert(fitted: Matcher) -> None:
    bare = OrderText(id="bare", title="数控机床主轴振动", description="主轴振动大，工件表面有振纹")
    assert fitted.rank_experts(bare, 3, today=TODAY)[0].id == CNC.id


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: str(o.id))
def test_every_order_finds_its_expert_first(fitted: Matcher, order: OrderText) -> None:
    assert fitted.rank_experts(order, 3, today=TODAY)[0].id == BEST_EXPERT[str(order.id)]


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: str(o.id))
def test_traditional_order_ranks_like_its_simplified_twin(fitted: Matcher, order: OrderText) -> None:
    traditional = to_traditional(order)
    assert traditional.title != order.title or traditional.description != order.description
    simplified_top = fitted.rank_experts(order, 5, today=TODAY)
    traditional_top = fitted.rank_experts(traditional, 5, today=TODAY)
    assert traditional_top[0].id == simplified_top[0].id
    assert [c.id for c in traditional_top] == [c.id for c in simplified_top]


def test_handwritten_traditional_cnc_order_ranks_like_simplified(fitted: Matcher) -> None:
    traditional = OrderText(
        id="t",
        title="數控機床主軸振動異常",
        description="我廠數控機床加工時主軸振動大，工件表面有振紋，希望專家診斷振動原因。",
        fields=("機械工程",),
        need_kind="process_improvement",
        district="邗江區",
    )
    assert [c.id for c in fitted.rank_experts(traditional, 5, today=TODAY)] == [
        c.id for c in fitted.rank_experts(CNC_ORDER, 5, today=TODAY)
    ]


def test_full_width_order_ranks_like_half_width(fitted: Matcher) -> None:
    order = OrderText(id="a", title="5G专网 CNC 1.5T 设备", description="Q235 PLC")
    wide = OrderText(id="a", title="５Ｇ专网 ＣＮＣ １．５Ｔ 设备", description="Ｑ２３５ ＰＬＣ")
    assert ranking(fitted.rank_experts(wide, 12, today=TODAY)) == ranking(
        fitted.rank_experts(order, 12, today=TODAY)
    )


# ------------------------------------------------------------------ reasons


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: str(o.id))
def test_shared_terms_occur_in_both_texts(fitted: Matcher, order: OrderText) -> None:
    wanted = normalise(order_text(order))
    for candidate in fitted.rank_experts(order, 3, today=TODAY):
        have = normalise(expert_text(EXPERTS_BY_ID[int(candidate.id)]))
        for term in candidate.shared_terms:
            assert term and not term.startswith("#")
            assert term in wanted, f"{term!r} is not in the order"
            assert term in have, f"{term!r} is not in expert {candidate.id}"


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: str(o.id))
def test_top_candidate_has_shared_terms(fitted: Matcher, order: OrderText) -> None:
    # each order repeats words of its expert's achievements: the reasons must name some of them
    top = fitted.rank_experts(order, 1, today=TODAY)[0]
    assert top.factors["text"] > 0
    assert len(top.shared_terms) >= 2, top.shared_terms


def test_cnc_reasons_name_the_shared_words(fitted: Matcher) -> None:
    top = fitted.rank_experts(CNC_ORDER, 1, today=TODAY)[0]
    assert {"数控机床", "主轴", "振动"} & set(top.shared_terms)
    assert {"数控机床", "主轴振动"} <= set(top.matched_keywords)
    assert "机械工程" in top.matched_fields


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: str(o.id))
def test_matched_keywords_are_the_experts_keywords_found_in_the_order(
    fitted: Matcher, order: OrderText
) -> None:
    wanted = normalise(order_text(order))
    for candidate in fitted.rank_experts(order, 5, today=TODAY):
        expert = EXPERTS_BY_ID[int(candidate.id)]
        own = {normalise(k) for a in expert.achievements for k in a.keywords}
        for keyword in candidate.matched_keywords:
            assert keyword in own, f"{keyword!r} is not a keyword of expert {candidate.id}"
            assert keyword in wanted, f"{keyword!r} is not in the order"


def test_matched_fields_are_the_experts_disciplines(fitted: Matcher) -> None:
    for order in ORDERS:
        for candidate in fitted.rank_experts(order, 5, today=TODAY):
            assert set(candidate.matched_fields) <= set(EXPERTS_BY_ID[int(candidate.id)].disciplines)


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: str(o.id))
def test_factors_and_contributions_are_in_unit_range_and_sum_to_score(
    fitted: Matcher, order: OrderText
) -> None:
    for candidate in fitted.rank_experts(order, 12, today=TODAY):
        assert candidate.factors
        assert set(candidate.contributions) == set(candidate.factors)
        for name, value in candidate.factors.items():
            assert 0.0 <= value <= 1.0, (name, value)
        for name, value in candidate.contributions.items():
            assert 0.0 <= value <= 1.0, (name, value)
            assert value <= candidate.factors[name] + 1e-6
        assert 0.0 <= candidate.score <= 1.0
        assert sum(candidate.contributions.values()) == pytest.approx(candidate.score, abs=1e-5)


def test_order_identical_to_an_expert_profile_keeps_factors_in_unit_range(fitted: Matcher) -> None:
    # a perfect text match: cosine 1 must not come out as 1.0000001
    for expert in EXPERTS:
        achievement = expert.achievements[0]
        order = OrderText(id="copy", title=achievement.title, description=achievement.abstract)
        for candidate in fitted.rank_experts(order, 12, today=TODAY):
            for name, value in candidate.factors.items():
                assert 0.0 <= value <= 1.0, (expert.id, candidate.id, name, value)


# ------------------------------------------------------------------ workload, term, filters

SOLAR_ORDER = ORDERS_BY_ID["o-solar"]


def twins() -> tuple[ExpertProfile, ExpertProfile]:
    free = dataclasses.replace(SOLAR, id=101, capacity=2, active_agreements=0)
    busy = dataclasses.replace(SOLAR, id=100, capacity=2, active_agreements=2)
    return free, busy


def test_expert_at_capacity_ranks_below_a_free_twin() -> None:
    free, busy = twins()
    matcher = Matcher().fit([*EXPERTS, busy, free], ORDERS)
    candidates = matcher.rank_experts(SOLAR_ORDER, 5, today=TODAY)
    ids = [c.id for c in candidates]
    # the busy twin has the smaller id, so a tie would put it first
    assert ids.index(free.id) < ids.index(busy.id)
    by_id = {c.id: c for c in candidates}
    assert by_id[free.id].score > by_id[busy.id].score
    assert by_id[busy.id].factors["availability"] == 0.0
    assert by_id[free.id].factors["availability"] == 1.0
    assert by_id[free.id].factors["text"] == pytest.approx(by_id[busy.id].factors["text"])


def test_only_available_drops_experts_at_capacity() -> None:
    free, busy = twins()
    matcher = Matcher().fit([*EXPERTS, busy, free], ORDERS)
    ids = [c.id for c in matcher.rank_experts(SOLAR_ORDER, 20, only_available=True, today=TODAY)]
    assert free.id in ids
    assert busy.id not in ids
    assert CUISINE.id not in ids  # capacity 2, two active agreements
    everyone = [c.id for c in matcher.rank_experts(SOLAR_ORDER, 20, today=TODAY)]
    assert busy.id in everyone and CUISINE.id in everyone


def test_only_available_drops_experts_whose_term_has_ended(fitted: Matcher) -> None:
    law_order = ORDERS_BY_ID["o-law"]
    assert fitted.rank_experts(law_order, 1, today=TODAY)[0].id == LABOUR_LAW.id
    ids = [c.id for c in fitted.rank_experts(law_order, 20, only_available=True, today=TODAY)]
    assert LABOUR_LAW.id not in ids
    # before the term ended the same expert is available
    before = fitted.rank_experts(law_order, 20, only_available=True, today=date(2024, 6, 1))
    assert before[0].id == LABOUR_LAW.id


def test_term_end_lowers_availability_without_the_filter(fitted: Matcher) -> None:
    law_order = ORDERS_BY_ID["o-law"]
    during = fitted.rank_experts(law_order, 1, today=date(2024, 6, 1))[0]
    after = fitted.rank_experts(law_order, 1, today=TODAY)[0]
    assert during.id == after.id == LABOUR_LAW.id
    assert after.factors["availability"] < during.factors["availability"]
    assert after.score < during.score


def test_only_available_with_availability_weight_zero_does_not_crash() -> None:
    matcher = Matcher(weights=RankerWeights(availability=0.0)).fit(EXPERTS, ORDERS)
    ids = [c.id for c in matcher.rank_experts(SOLAR_ORDER, 20, only_available=True, today=TODAY)]
    assert CUISINE.id not in ids
    assert LABOUR_LAW.id not in ids
    assert SOLAR.id in ids


@pytest.mark.parametrize("district", ["广陵区", "宝应县", "邗江区"])
def test_district_filter_returns_only_experts_of_that_district(fitted: Matcher, district: str) -> None:
    candidates = fitted.rank_experts(CNC_ORDER, 20, district=district, today=TODAY)
    expected = {e.id for e in EXPERTS if e.district == district}
    assert {c.id for c in candidates} == expected


def test_district_filter_accepts_traditional_spelling(fitted: Matcher) -> None:
    ids = {c.id for c in fitted.rank_experts(CNC_ORDER, 20, district="廣陵區", today=TODAY)}
    assert ids == {e.id for e in EXPERTS if e.district == "广陵区"}


def test_district_filter_with_unknown_district_returns_nothing(fitted: Matcher) -> None:
    assert fitted.rank_experts(CNC_ORDER, 20, district="南京市", today=TODAY) == []


def test_exclude_removes_ids(fitted: Matcher) -> None:
    candidates = fitted.rank_experts(CNC_ORDER, 20, exclude=[CNC.id, 9, 12345], today=TODAY)
    ids = [c.id for c in candidates]
    assert CNC.id not in ids and 9 not in ids
    assert len(ids) == len(EXPERTS) - 2


def test_k_limits_the_number_of_candidates(fitted: Matcher) -> None:
    assert len(fitted.rank_experts(CNC_ORDER, 1, today=TODAY)) == 1
    assert len(fitted.rank_experts(CNC_ORDER, 4, today=TODAY)) == 4
    assert len(fitted.rank_experts(CNC_ORDER, 100, today=TODAY)) == len(EXPERTS)
    top4 = fitted.rank_experts(CNC_ORDER, 4, today=TODAY)
    assert ranking(top4) == ranking(fitted.rank_experts(CNC_ORDER, 100, today=TODAY))[:4]


@pytest.mark.parametrize("k", [0, -1, -10])
def test_k_below_one_raises_value_error(fitted: Matcher, k: int) -> None:
    with pytest.raises(ValueError):
        fitted.rank_experts(CNC_ORDER, k)
    with pytest.raises(ValueError):
        fitted.rank_orders(CNC, k)


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("", ""),
        ("   ", "\n\t"),
        ("！！！", "……，。？"),
        ("...", "---"),
        ("研究", "需求"),
        ("本文研究", "提出企业需求"),
    ],
)
def test_empty_or_punctuation_only_order_raises_empty_query_error(
    fitted: Matcher, title: str, description: str
) -> None:
    order = OrderText(id="empty", title=title, description=description)
    with pytest.raises(EmptyQueryError):
        fitted.rank_experts(order)
    assert issubclass(EmptyQueryError, ValueError)


def test_expert_without_text_raises_empty_query_error_in_rank_orders(fitted: Matcher) -> None:
    with pytest.raises(EmptyQueryError):
        fitted.rank_orders(ExpertProfile(id="nobody", achievements=(AchievementText(title="，。"),)))


# ------------------------------------------------------------------ ranking orders


@pytest.mark.parametrize(("order_id", "expert_id"), sorted(BEST_EXPERT.items()))
def test_rank_orders_puts_the_relevant_order_first(fitted: Matcher, order_id: str, expert_id: int) -> None:
    candidates = fitted.rank_orders(EXPERTS_BY_ID[expert_id], 5)
    assert candidates[0].id == order_id
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)


def test_rank_orders_respects_remove_orders(fresh: Matcher) -> None:
    assert fresh.rank_orders(CNC, 3)[0].id == "o-cnc"
    fresh.remove_orders(["o-cnc", "no-such-order"])
    ids = [c.id for c in fresh.rank_orders(CNC, 20)]
    assert "o-cnc" not in ids
    assert len(ids) == len(ORDERS) - 1
    assert fresh.n_orders == len(ORDERS) - 1


@pytest.mark.parametrize(("order_id", "expert_id"), sorted(BEST_EXPERT.items()))
def test_rank_orders_reasons(fitted: Matcher, order_id: str, expert_id: int) -> None:
    expert = EXPERTS_BY_ID[expert_id]
    top = fitted.rank_orders(expert, 1)[0]
    assert top.id == order_id
    wanted = normalise(order_text(ORDERS_BY_ID[order_id]))
    have = normalise(expert_text(expert))
    assert len(top.shared_terms) >= 2, top.shared_terms
    for term in top.shared_terms:
        assert term in wanted and term in have
    own = {normalise(k) for a in expert.achievements for k in a.keywords}
    assert top.matched_keywords and set(top.matched_keywords) <= own
    assert all(k in wanted for k in top.matched_keywords)
    assert sum(top.contributions.values()) == pytest.approx(top.score, abs=1e-5)


def test_rank_orders_district_and_exclude(fitted: Matcher) -> None:
    in_district = {c.id for c in fitted.rank_orders(SOLAR, 20, district="宝应县")}
    assert in_district == {o.id for o in ORDERS if o.district == "宝应县"}
    ids = {c.id for c in fitted.rank_orders(SOLAR, 20, exclude=["o-solar"])}
    assert "o-solar" not in ids and len(ids) == len(ORDERS) - 1


def test_add_orders_indexes_a_new_order(fresh: Matcher) -> None:
    new = OrderText(id="o-new", title="光伏组件热斑与隐裂", description="双玻组件层压后出现气泡和热斑")
    fresh.add_orders([new])
    assert fresh.n_orders == len(ORDERS) + 1
    assert "o-new" in [c.id for c in fresh.rank_orders(SOLAR, 2)]


# ------------------------------------------------------------------ incremental indexing

NEW_BRUSH_EXPERT = ExpertProfile(
    id=200,
    name="新专家",
    disciplines=("注塑成型",),
    achievements=(
        AchievementText(
            title="牙刷刷柄双色注塑缩痕控制",
            abstract="刷柄缩痕和飞边的注塑温度与保压优化，刷丝脱落检测。",
            keywords=("牙刷", "缩痕", "双色注塑"),
            maturity="production",
        ),
    ),
    district="广陵区",
    town="杭集镇",
)


def test_add_experts_without_refit_keeps_vocabulary_and_version() -> None:
    others = [e for e in EXPERTS if e.id != TOOTHBRUSH.id]
    matcher = Matcher().fit(others, ORDERS)
    vocabulary = dict(matcher.vocabulary_)
    version = matcher.version_
    brush_order = ORDERS_BY_ID["o-brush"]
    assert NEW_BRUSH_EXPERT.id not in [c.id for c in matcher.rank_experts(brush_order, 20, today=TODAY)]

    assert matcher.add_experts([NEW_BRUSH_EXPERT]) is matcher
    assert matcher.vocabulary_ == vocabulary
    assert matcher.version_ == version
    assert matcher.n_experts == len(others) + 1
    top = matcher.rank_experts(brush_order, 3, today=TODAY)[0]
    assert top.id == NEW_BRUSH_EXPERT.id
    assert top.shared_terms


def test_add_experts_with_an_existing_id_replaces_it(fresh: Matcher) -> None:
    replacement = dataclasses.replace(CUISINE, id=CNC.id)  # the CNC expert's profile becomes a chef's
    fresh.add_experts([replacement])
    assert fresh.n_experts == len(EXPERTS)
    for order in ORDERS:
        ids = [c.id for c in fresh.rank_experts(order, 100, today=TODAY)]
        assert len(ids) == len(set(ids)) == len(EXPERTS)
    assert fresh.rank_experts(CNC_ORDER, 1, today=TODAY)[0].id != CNC.id
    chef = [c.id for c in fresh.rank_experts(ORDERS_BY_ID["o-chef"], 2, today=TODAY)]
    assert set(chef) == {CNC.id, CUISINE.id}


def test_add_experts_twice_does_not_duplicate(fresh: Matcher) -> None:
    fresh.add_experts([NEW_BRUSH_EXPERT])
    fresh.add_experts([NEW_BRUSH_EXPERT])
    ids = [c.id for c in fresh.rank_experts(ORDERS_BY_ID["o-brush"], 100, today=TODAY)]
    assert ids.count(NEW_BRUSH_EXPERT.id) == 1
    assert fresh.n_experts == len(EXPERTS) + 1


def test_add_experts_with_duplicate_ids_in_one_batch_raises(fresh: Matcher) -> None:
    with pytest.raises(ValueError):
        fresh.add_experts([NEW_BRUSH_EXPERT, NEW_BRUSH_EXPERT])


def test_remove_experts_stops_proposing_them(fresh: Matcher) -> None:
    fresh.remove_experts([CNC.id])
    ids = [c.id for c in fresh.rank_experts(CNC_ORDER, 100, today=TODAY)]
    assert CNC.id not in ids
    assert fresh.n_experts == len(EXPERTS) - 1


# ------------------------------------------------------------------ persistence and parameters


def test_save_and_load_give_identical_rankings(fitted: Matcher, tmp_path: Path) -> None:
    path = tmp_path / "matcher.joblib"
    fitted.save(str(path))
    loaded = Matcher.load(str(path))
    assert loaded.version_ == fitted.version_
    for order in ORDERS:
        assert ranking(loaded.rank_experts(order, 12, today=TODAY)) == ranking(
            fitted.rank_experts(order, 12, today=TODAY)
        )
        assert loaded.rank_experts(order, 5, today=TODAY) == fitted.rank_experts(order, 5, today=TODAY)
    for expert in EXPERTS:
        assert ranking(loaded.rank_orders(expert, 10)) == ranking(fitted.rank_orders(expert, 10))


def test_load_rejects_something_else(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"not": "a matcher"}, path)
    with pytest.raises(TypeError):
        Matcher.load(str(path))


def test_fitted_matcher_pickles(fitted: Matcher) -> None:
    restored = pickle.loads(pickle.dumps(fitted))
    assert ranking(restored.rank_experts(CNC_ORDER, 12, today=TODAY)) == ranking(
        fitted.rank_experts(CNC_ORDER, 12, today=TODAY)
    )


def test_clone_keeps_params_and_is_unfitted() -> None:
    tokenizer = Tokenizer(char_ngrams="unknown")
    weights = RankerWeights(text=2.0, field=1.0)
    matcher = Matcher(
        tokenizer=tokenizer, weights=weights, expert_model="documents", title_weight=3, keyword_saturation=4.0
    ).fit(EXPERTS, ORDERS)
    copy = clone(matcher)
    assert copy is not matcher
    assert copy.get_params() == matcher.get_params()
    assert copy.tokenizer == tokenizer
    assert copy.weights == weights
    assert copy.expert_model == "documents"
    assert copy.title_weight == 3
    assert copy.keyword_saturation == 4.0
    with pytest.raises(NotFittedError):
        copy.rank_experts(CNC_ORDER)
    assert ranking(copy.fit(EXPERTS, ORDERS).rank_experts(CNC_ORDER, 12, today=TODAY)) == ranking(
        matcher.rank_experts(CNC_ORDER, 12, today=TODAY)
    )


def test_set_params_then_fit_uses_them() -> None:
    matcher = Matcher().set_params(tokenizer=Tokenizer(char_ngrams="none"))
    matcher.fit(EXPERTS, ORDERS)
    assert not [t for t in matcher.get_feature_names() if t.startswith("#")]


def test_init_stores_params_unchanged_and_fit_validates() -> None:
    matcher = Matcher(expert_model="nonsense", title_weight=0)  # type: ignore[arg-type]
    assert matcher.get_params()["expert_model"] == "nonsense"
    assert matcher.get_params()["title_weight"] == 0
    with pytest.raises(ValueError):
        matcher.fit(EXPERTS)


def test_documents_model_finds_the_cnc_expert() -> None:
    matcher = Matcher(expert_model="documents").fit(EXPERTS, ORDERS)
    top = matcher.rank_experts(CNC_ORDER, 5, today=TODAY)
    assert top[0].id == CNC.id
    assert all(math.isfinite(c.score) and 0.0 <= c.score <= 1.0 for c in top)


def test_a_file_saved_by_another_matcher_version_is_refused(fresh: Matcher, tmp_path: Path) -> None:
    # an index written before an upgrade must be rebuilt, not half-read into new code
    fresh.state_format_ = -1
    path = tmp_path / "old.joblib"
    fresh.save(str(path))
    with pytest.raises(ValueError, match="another version"):
        Matcher.load(str(path))


def test_load_refuses_a_file_that_is_not_a_matcher(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"not": "a matcher"}, path)
    with pytest.raises(TypeError):
        Matcher.load(str(path))


def test_long_profiles_are_pruned_and_short_ones_kept_whole() -> None:
    # a long profile: 300 distinct made-up terms, a few of them repeated (the strong ones)
    words = [f"术语{chr(0x4E00 + i)}{chr(0x4E80 + i)}" for i in range(300)]
    long_text = " ".join(words) + " " + " ".join(words[:5] * 6)
    long_expert = ExpertProfile(id=1, name="甲", bio=long_text)
    short_expert = ExpertProfile(id=2, name="乙", bio="数控机床主轴振动诊断")
    pruned = Matcher().fit([long_expert, short_expert])
    whole = Matcher(min_relative_weight=0).fit([long_expert, short_expert])

    def terms_of(matcher: Matcher, row: int) -> int:
        return int((matcher.expert_postings_[:, row] != 0).sum())

    assert terms_of(pruned, 0) < terms_of(whole, 0)
    assert terms_of(pruned, 1) == terms_of(whole, 1)
    # the strong terms of the long profile survive
    assert pruned.rank_experts(OrderText(id="q", title=words[0], description=words[1]), 1)[0].id == 1
