"""Ranking metrics on small hand-computed examples."""

from __future__ import annotations

import math

import pytest

from matching.evaluation import METRICS, mean_metrics, order_metrics
from matching.types import RecordId

Judgements = dict[RecordId, dict[RecordId, int]]
Runs = dict[RecordId, list[RecordId]]


def log2(x: float) -> float:
    return math.log2(x)


def test_graded_example() -> None:
    judged: dict[RecordId, int] = {"a": 2, "b": 1, "c": 2}
    ranked = ["b", "x", "a", "c", "y"]
    # grades 1, 0, 2, 2, 0 at ranks 1..5; gains 2^g - 1 = 1, 0, 3, 3, 0
    dcg = 1 / log2(2) + 0 + 3 / log2(4) + 3 / log2(5)
    # ideal order 2, 2, 1
    idcg = 3 / log2(2) + 3 / log2(3) + 1 / log2(4)
    metrics = order_metrics(ranked, judged)
    assert metrics["ndcg@10"] == pytest.approx(dcg / idcg)
    assert metrics["ndcg@10"] == pytest.approx(0.70316, abs=1e-5)
    assert metrics["mrr"] == pytest.approx(1 / 3)  # first grade-2 hit at rank 3
    assert metrics["recall@10"] == pytest.approx(1.0)  # both grade-2 experts in the top 10
    assert metrics["p@5"] == pytest.approx(3 / 5)  # b, a, c have grade >= 1


def test_perfect_ranking() -> None:
    judged: dict[RecordId, int] = {"a": 2, "b": 1}
    assert order_metrics(["a", "b"], judged) == pytest.approx(
        {"ndcg@10": 1.0, "mrr": 1.0, "recall@10": 1.0, "p@5": 2 / 5}
    )


def test_grade_one_only_counts_for_ndcg_and_precision() -> None:
    judged: dict[RecordId, int] = {"a": 2, "b": 1}
    metrics = order_metrics(["b"], judged)
    assert metrics["mrr"] == 0.0
    assert metrics["recall@10"] == 0.0
    assert metrics["p@5"] == pytest.approx(1 / 5)
    assert metrics["ndcg@10"] == pytest.approx(1 / (3 + 1 / log2(3)))


def test_precision_at_five_has_a_fixed_denominator() -> None:
    assert order_metrics(["a"], {"a": 2})["p@5"] == pytest.approx(0.2)
    assert order_metrics([], {"a": 2})["p@5"] == 0.0
    all_relevant: dict[RecordId, int] = dict.fromkeys("abcdef", 1)
    assert order_metrics(["a", "b", "c", "d", "e", "f"], all_relevant)["p@5"] == 1.0


def test_recall_counts_only_the_top_ten() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    judged: dict[RecordId, int] = {"a": 2, "x9": 2}
    metrics = order_metrics(ranked, judged)
    assert metrics["recall@10"] == pytest.approx(1 / 2)
    assert metrics["mrr"] == pytest.approx(1 / 10)
    # only x9 (rank 10) is inside the cut; the ideal list puts both grade-2 experts first
    assert metrics["ndcg@10"] == pytest.approx((3 / log2(11)) / (3 / log2(2) + 3 / log2(3)))


def test_unjudged_ids_count_as_grade_zero_and_nothing_judged_scores_zero() -> None:
    assert order_metrics(["x", "y"], {"a": 2}) == {"ndcg@10": 0.0, "mrr": 0.0, "recall@10": 0.0, "p@5": 0.0}
    assert order_metrics(["x"], {"x": 0}) == {"ndcg@10": 0.0, "mrr": 0.0, "recall@10": 0.0, "p@5": 0.0}


def test_mean_metrics_averages_and_scores_a_missing_order_zero() -> None:
    judgements: Judgements = {"o1": {"a": 2}, "o2": {"b": 2, "c": 1}}
    runs: Runs = {"o1": ["a"]}  # o2 has no run: it scores 0
    mean = mean_metrics(runs, judgements)
    assert set(mean) == set(METRICS)
    assert mean == pytest.approx({"ndcg@10": 0.5, "mrr": 0.5, "recall@10": 0.5, "p@5": 0.1})


def test_mean_metrics_hand_computed_two_orders() -> None:
    judgements: Judgements = {1: {"a": 2, "b": 1}, 2: {"c": 2}}
    runs: Runs = {1: ["b", "a"], 2: ["x", "c"]}
    first = order_metrics(["b", "a"], judgements[1])
    assert first["ndcg@10"] == pytest.approx((1 + 3 / log2(3)) / (3 + 1 / log2(3)))
    second_ndcg = (3 / log2(3)) / 3
    mean = mean_metrics(runs, judgements)
    assert mean["ndcg@10"] == pytest.approx((first["ndcg@10"] + second_ndcg) / 2)
    assert mean["mrr"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert mean["recall@10"] == pytest.approx(1.0)
    assert mean["p@5"] == pytest.approx((2 / 5 + 1 / 5) / 2)


def test_mean_metrics_order_ids_selects_judged_orders() -> None:
    judgements: Judgements = {"o1": {"a": 2}, "o2": {"b": 2}}
    runs: Runs = {"o1": ["a"], "o2": ["x"]}
    assert mean_metrics(runs, judgements, order_ids=["o1"])["mrr"] == 1.0
    assert mean_metrics(runs, judgements, order_ids=["o1", "unjudged"])["mrr"] == 1.0
    assert mean_metrics(runs, judgements, order_ids=["unjudged"]) == dict.fromkeys(METRICS, 0.0)
    assert mean_metrics({}, {}) == dict.fromkeys(METRICS, 0.0)
