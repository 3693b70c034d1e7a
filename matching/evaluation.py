"""Ranking metrics for graded relevance: nDCG@10, MRR, Recall@10 and P@5.

Definitions follow the public evaluation set's README: gain 2^grade − 1 with a log2(rank + 1)
discount and an ideal ranking over every judged expert; MRR and Recall@10 count only grade-2
("the right expert") hits; P@5 counts grade ≥ 1 in the top five with a fixed denominator of 5.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from matching.types import RecordId

METRICS = ("ndcg@10", "mrr", "recall@10", "p@5")


def order_metrics(ranked: Sequence[RecordId], judged: Mapping[RecordId, int]) -> dict[str, float]:
    """Metrics of one ranked list against its judgements (unjudged ids count as grade 0)."""
    grades = [judged.get(r, 0) for r in ranked]
    dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:10]))
    ideal = sorted(judged.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    relevant = sum(1 for g in judged.values() if g == 2)
    first = next((i for i, g in enumerate(grades) if g == 2), None)
    return {
        "ndcg@10": dcg / idcg if idcg > 0 else 0.0,
        "mrr": 1.0 / (first + 1) if first is not None else 0.0,
        "recall@10": sum(1 for g in grades[:10] if g == 2) / relevant if relevant else 0.0,
        "p@5": sum(1 for g in grades[:5] if g >= 1) / 5,
    }


def mean_metrics(
    runs: Mapping[RecordId, Sequence[RecordId]],
    judgements: Mapping[RecordId, Mapping[RecordId, int]],
    order_ids: Iterable[RecordId] | None = None,
) -> dict[str, float]:
    """Average the metrics over the judged orders (an order missing from ``runs`` scores 0)."""
    ids = sorted(judgements if order_ids is None else (o for o in order_ids if o in judgements), key=str)
    if not ids:
        return dict.fromkeys(METRICS, 0.0)
    per_order = [order_metrics(runs.get(o, ()), judgements[o]) for o in ids]
    return {m: sum(p[m] for p in per_order) / len(per_order) for m in METRICS}
