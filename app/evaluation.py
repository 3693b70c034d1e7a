"""Match-quality evaluation on a labelled set (experts.jsonl, orders.jsonl, qrels.tsv), with a BM25 baseline.

Used by ``studio-match eval`` and ``scripts/eval_matcher.py``. The set is read at run time from the
directory given (the public one lives in ``../shared/eval``); nothing of it is copied into the repo.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import jieba
import numpy as np
from rich.progress import Progress

from matching import AchievementText, EmptyQueryError, ExpertProfile, Matcher, OrderText, normalise
from matching.evaluation import mean_metrics
from matching.types import RecordId


@dataclass(frozen=True, slots=True)
class EvaluationSet:
    """A labelled set: experts, orders, graded judgements and which orders are in traditional script."""

    experts: list[ExpertProfile]
    orders: list[OrderText]
    judgements: dict[RecordId, dict[RecordId, int]]
    traditional: frozenset[RecordId] = field(default_factory=frozenset)


def load_evaluation_set(directory: Path) -> EvaluationSet:
    """Read ``experts.jsonl``, ``orders.jsonl`` and ``qrels.tsv`` from ``directory``.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: a line is not in the documented format.
    """
    experts = [_expert(json.loads(line)) for line in _lines(directory / "experts.jsonl")]
    raw_orders = [json.loads(line) for line in _lines(directory / "orders.jsonl")]
    orders = [
        OrderText(id=o["id"], title=o["title"], description=o.get("description", "")) for o in raw_orders
    ]
    traditional = frozenset(o["id"] for o in raw_orders if o.get("script") == "traditional")
    judgements: dict[RecordId, dict[RecordId, int]] = {}
    with (directory / "qrels.tsv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0] == "order_id":
                continue
            order_id, expert_id, grade = row[0], row[1], int(row[2])
            judgements.setdefault(order_id, {})[expert_id] = grade
    return EvaluationSet(experts, orders, judgements, traditional)


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _expert(record: dict[str, Any]) -> ExpertProfile:
    disciplines = tuple(d for d in (record.get("discipline"),) if d)
    achievements = tuple(
        AchievementText(
            title=a.get("title", ""), abstract=a.get("abstract", ""), keywords=tuple(a.get("keywords", ()))
        )
        for a in record.get("achievements", ())
    )
    return ExpertProfile(
        id=record["id"], name=record.get("name", ""), disciplines=disciplines, achievements=achievements
    )


Ranker = Callable[[OrderText], list[RecordId]]


def run_rankings(
    orders: Sequence[OrderText], ranker: Ranker, *, label: str, progress: Progress
) -> dict[RecordId, list[RecordId]]:
    """Rank every order with ``ranker``, showing a progress bar."""
    task = progress.add_task(label, total=len(orders))
    runs: dict[RecordId, list[RecordId]] = {}
    for order in orders:
        runs[order.id] = ranker(order)
        progress.advance(task)
    return runs


class BaselineTokenizer:
    """The tokens of the set's README baseline: Python ``jieba`` precise mode on normalised text,
    keeping tokens with a letter or digit (a private jieba instance, HMM on as jieba's default)."""

    def __init__(self) -> None:
        self._segmenter = jieba.Tokenizer()

    def __call__(self, text: str) -> list[str]:
        """The baseline tokens of ``text``."""
        return [t for t in self._segmenter.lcut(normalise(text)) if any(c.isalnum() for c in t)]


class BM25Baseline:
    """The baseline of the set's README: ``bm25s`` (k1 1.5, b 0.75, lucene) over jieba tokens, +t2s."""

    def __init__(self, experts: Sequence[ExpertProfile]) -> None:
        self.tokens = BaselineTokenizer()
        self.ids = [e.id for e in experts]
        corpus = [
            self.tokens(" ".join(f"{a.title} {a.abstract} {' '.join(a.keywords)}" for a in e.achievements))
            for e in experts
        ]
        self.model = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        self.model.index(corpus, show_progress=False)

    def rank(self, order: OrderText, k: int = 100) -> list[RecordId]:
        """The ``k`` best expert ids for ``order``."""
        query = self.tokens(f"{order.title} {order.description}")
        if not query:
            return []
        documents, _ = self.model.retrieve([query], k=min(k, len(self.ids)), show_progress=False)
        return [self.ids[int(i)] for i in np.asarray(documents)[0]]


def evaluate(
    data: EvaluationSet, *, matcher: Matcher | None = None, progress: Progress | None = None, k: int = 100
) -> dict[str, Any]:
    """Fit the matcher on the set's experts and orders, rank every order, and score it next to BM25.

    Returns:
        ``{"matcher": {...}, "bm25": {...}, "traditional": {"matcher": {...}, "bm25": {...}}}``
        with nDCG@10, MRR, Recall@10 and P@5 in each.
    """
    matcher = matcher or Matcher()
    with progress or Progress(disable=True) as bar:
        fit_task = bar.add_task("建立索引", total=2)
        matcher.fit(data.experts, data.orders)
        bar.advance(fit_task)
        baseline = BM25Baseline(data.experts)
        bar.advance(fit_task)
        ours = run_rankings(
            data.orders,
            lambda o: _ranked_ids(matcher, o, k),
            label="匹配器排序",
            progress=bar,
        )
        theirs = run_rankings(data.orders, lambda o: baseline.rank(o, k), label="BM25 排序", progress=bar)
    return {
        "matcher": mean_metrics(ours, data.judgements),
        "bm25": mean_metrics(theirs, data.judgements),
        "traditional": {
            "matcher": mean_metrics(ours, data.judgements, data.traditional),
            "bm25": mean_metrics(theirs, data.judgements, data.traditional),
        },
    }


def _ranked_ids(matcher: Matcher, order: OrderText, k: int) -> list[RecordId]:
    # an order with no usable words is ranked as nothing (it scores 0), not a crash of the whole run
    try:
        return [c.id for c in matcher.rank_experts(order, k)]
    except EmptyQueryError:
        return []


def format_table(result: dict[str, Any], data: EvaluationSet) -> str:
    """A plain-text table of an ``evaluate`` result."""
    judged = set(data.judgements)
    lines = [f"{'':24s}{'nDCG@10':>9s}{'MRR':>8s}{'R@10':>8s}{'P@5':>8s}"]
    rows: Iterable[tuple[str, dict[str, float]]] = [
        (f"matcher (all {len(judged)})", result["matcher"]),
        ("bm25 (all)", result["bm25"]),
        (f"matcher (traditional {len(data.traditional & judged)})", result["traditional"]["matcher"]),
        ("bm25 (traditional)", result["traditional"]["bm25"]),
    ]
    for name, m in rows:
        lines.append(f"{name:24s}{m['ndcg@10']:9.3f}{m['mrr']:8.3f}{m['recall@10']:8.3f}{m['p@5']:8.3f}")
    return "\n".join(lines)
