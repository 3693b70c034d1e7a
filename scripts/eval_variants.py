"""Compare matcher variants on a labelled set: ``python scripts/eval_variants.py --data ../shared/eval``.

Prints nDCG@10, MRR, Recall@10 and P@5 (all orders, and the traditional-script subset) for:
the expert profile as one document against the document model (best + ½·second + ⅓·third
achievement), jieba's HMM on and off, the character-bigram channel (all / unknown words / none),
and the ranker without its field and keyword factors. The BM25 baseline runs in the same process.

``--incremental`` instead compares a matcher fitted on all experts and orders with one fitted on a
random 80 % of each, then given the other 20 % one at a time by ``add_experts`` / ``add_orders``
(what the service does between two fits), over five random splits.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import opencc
from rich.console import Console
from rich.progress import Progress

from app.evaluation import evaluate, load_evaluation_set
from matching import EmptyQueryError, Matcher, OrderText, RankerWeights, Tokenizer
from matching.evaluation import mean_metrics
from matching.types import RecordId

VARIANTS: dict[str, dict[str, Any]] = {
    "default (profile, HMM off, bigrams all)": {},
    "documents: best + ½·2nd + ⅓·3rd": {"expert_model": "documents"},
    "jieba HMM on": {"tokenizer": Tokenizer(hmm=True)},
    "bigrams only for unknown words": {"tokenizer": Tokenizer(char_ngrams="unknown")},
    "no character bigrams": {"tokenizer": Tokenizer(char_ngrams="none")},
    "text only (no field, no keyword factor)": {"weights": RankerWeights(field=0.0, keyword=0.0)},
    "text + keyword (no field factor)": {"weights": RankerWeights(field=0.0)},
    "all query terms (no cap)": {"max_query_terms": None},
    "no static index pruning": {"min_relative_weight": 0.0},
    "stronger pruning (terms ≥ mean square)": {"min_relative_weight": 1.0},
}


def traditional_twins(dataset: Any) -> int:
    """Convert every simplified order to traditional script (OpenCC s2tw and s2hk) and compare top-10s."""
    matcher = Matcher().fit(dataset.experts, dataset.orders)
    simplified = [o for o in dataset.orders if o.id not in dataset.traditional]
    same = total = 0
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("繁体孪生需求", total=2 * len(simplified))
        for variant in ("s2tw", "s2hk"):
            converter = opencc.OpenCC(variant)
            for order in simplified:
                twin = replace(
                    order,
                    title=converter.convert(order.title),
                    description=converter.convert(order.description),
                )
                same += [c.id for c in matcher.rank_experts(order, 10)] == [
                    c.id for c in matcher.rank_experts(twin, 10)
                ]
                total += 1
                progress.advance(task)
    print(f"traditional twins with the same top-10 as their simplified original: {same} / {total}")
    return 0


def _ranked(matcher: Matcher, order: OrderText) -> list[RecordId]:
    try:
        return [c.id for c in matcher.rank_experts(order, 100)]
    except EmptyQueryError:
        return []


def incremental(dataset: Any, seeds: int = 5) -> int:
    """nDCG@10 etc. of a full fit against a fit on 80 % plus the other 20 % added one by one."""
    rows: dict[str, list[dict[str, float]]] = {
        "fit on 100 %": [],
        "fit on 80 %, +20 % added": [],
        "fit on 80 % only": [],
    }
    full = Matcher().fit(dataset.experts, dataset.orders)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("增量评测", total=seeds)
        for seed in range(seeds):
            rng = random.Random(seed)
            experts, orders = list(dataset.experts), list(dataset.orders)
            rng.shuffle(experts)
            rng.shuffle(orders)
            cut, order_cut = len(experts) * 4 // 5, len(orders) * 4 // 5
            partial = Matcher().fit(experts[:cut], orders[:order_cut])
            rows["fit on 80 % only"].append(
                mean_metrics({o.id: _ranked(partial, o) for o in dataset.orders}, dataset.judgements)
            )
            for expert in experts[cut:]:
                partial.add_experts([expert])
            for order in orders[order_cut:]:
                partial.add_orders([order])
            rows["fit on 80 %, +20 % added"].append(
                mean_metrics({o.id: _ranked(partial, o) for o in dataset.orders}, dataset.judgements)
            )
            rows["fit on 100 %"].append(
                mean_metrics({o.id: _ranked(full, o) for o in dataset.orders}, dataset.judgements)
            )
            progress.advance(task)
    print(
        f"{'matcher (mean of ' + str(seeds) + ' random 80/20 splits)':44s} {'nDCG@10':>8s} {'MRR':>6s} {'R@10':>6s} {'P@5':>6s}"
    )
    for name, results in rows.items():
        mean = {key: sum(r[key] for r in results) / len(results) for key in results[0]}
        low = min(r["ndcg@10"] for r in results)
        high = max(r["ndcg@10"] for r in results)
        print(
            f"{name:44s} {mean['ndcg@10']:8.3f} {mean['mrr']:6.3f} {mean['recall@10']:6.3f} {mean['p@5']:6.3f}"
            f"   nDCG@10 {low:.3f}–{high:.3f}"
        )
    return 0


def main() -> int:
    """Run every variant and print one table (or JSON)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--twins", action="store_true", help="only check traditional twins of simplified orders"
    )
    parser.add_argument(
        "--incremental", action="store_true", help="compare a full fit with a fit on 80 %% plus 20 %% added"
    )
    args = parser.parse_args()
    dataset = load_evaluation_set(args.data)
    if args.twins:
        return traditional_twins(dataset)
    if args.incremental:
        return incremental(dataset)
    results: dict[str, Any] = {}
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("变体评测", total=len(VARIANTS))
        for name, params in VARIANTS.items():
            results[name] = evaluate(dataset, matcher=Matcher(**params))
            progress.advance(task)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    baseline = next(iter(results.values()))["bm25"]
    print(f"{'variant':44s} {'nDCG@10':>8s} {'MRR':>6s} {'R@10':>6s} {'P@5':>6s} {'trad nDCG':>10s}")
    for name, result in results.items():
        m, t = result["matcher"], result["traditional"]["matcher"]
        print(
            f"{name:44s} {m['ndcg@10']:8.3f} {m['mrr']:6.3f} {m['recall@10']:6.3f} {m['p@5']:6.3f}"
            f" {t['ndcg@10']:10.3f}"
        )
    print(
        f"{'BM25 baseline (bm25s, jieba, +t2s)':44s} {baseline['ndcg@10']:8.3f} {baseline['mrr']:6.3f}"
        f" {baseline['recall@10']:6.3f} {baseline['p@5']:6.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
