"""Benchmark the matcher against bm25s at 600, 10,000 and 100,000 experts, on one core.

    python scripts/bench_match.py --data ../shared/eval [--sizes 600 10000 100000] [--queries 1000] [--json]
    python scripts/bench_match.py --data ../shared/eval --incremental [--sizes 100000] [--edits 10000]

Each size runs in a fresh child process pinned to one CPU, so its memory figures start clean. The
experts are the evaluation set's, replicated with distinct ids; the orders are the set's orders.
The engines index the same documents and answer the same top-10 queries in the same process:
our matcher; ``bm25s`` over the tokens of the evaluation README's baseline (Python ``jieba``, +t2s);
and ``bm25s`` over our own tokenizer's words (``rjieba``, jieba's algorithm in Rust), so that the
cost of segmentation can be told apart from the cost of ranking.

- build: seconds to index (our ``Matcher.fit``: vocabulary, IDF, matrices, keyword and field
  indexes; bm25s: ``BM25.index``). Replicated documents repeat the same texts, so both sides
  tokenize each distinct text once; the cold tokenization rate is reported separately.
- resident: growth of the process's resident memory (VmRSS) while the index is built and held.
- latency: per-order wall time of one top-10 query (tokenizing the order included, with the
  tokenizer's and normaliser's memos cleared before every query), p50 and p99 over 1,000 queries
  (the set's 307 orders, cycled).

``--incremental`` measures updates instead, at each size (default 100,000 experts), in one child
process pinned to one CPU, the way the service applies them (on a ``fork``, then swapped in):
wall and CPU milliseconds per changed expert (``add_experts([one])`` of an indexed id with new
content, of a new id, ``remove_experts([one])``, ``add_orders([one])``), ``fork`` and ``compact``
times, query latency with a pending delta against compacted, and resident memory and index bytes
before and after ``--edits`` edits (compacted on a fork whenever 1,000 changes are pending).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from rich.console import Console
from rich.progress import Progress

from app.evaluation import BaselineTokenizer, load_evaluation_set
from matching import ExpertProfile, Matcher, OrderText, normalise
from matching.tokenizer import Tokenizer, clear_cache

console = Console(stderr=True)


def resident_bytes() -> int:
    """Resident set size of this process (Linux), after returning freed heap pages to the system."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_resident_bytes() -> int:
    """The process's high-water resident size so far (VmHWM)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def replicate(experts: list[ExpertProfile], size: int) -> list[ExpertProfile]:
    """``size`` experts cycling through ``experts``, each copy with its own id."""
    return [replace(experts[i % len(experts)], id=f"{experts[i % len(experts)].id}#{i}") for i in range(size)]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``values``."""
    return float(np.percentile(np.array(values), q))


ENGINES = ("matcher", "bm25s", "bm25s-rjieba")


def bm25_tokenizer(engine: str) -> Callable[[str], list[str]]:
    """The tokens bm25s indexes: the README baseline's (Python jieba) or our tokenizer's words."""
    if engine == "bm25s":
        return BaselineTokenizer()
    words = Tokenizer(char_ngrams="none")
    return lambda text: words.words(normalise(text))


def run_one(data: Path, size: int, queries: int, engine: str) -> dict[str, Any]:
    """Measure one engine at one size (runs in its own child process, pinned to one CPU)."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    dataset = load_evaluation_set(data)
    experts = replicate(dataset.experts, size)
    orders: list[OrderText] = [dataset.orders[i % len(dataset.orders)] for i in range(queries)]
    return (
        measure_matcher(dataset, experts, orders)
        if engine == "matcher"
        else measure_bm25s(experts, orders, bm25_tokenizer(engine))
    )


def tokenization_rate(data: Path) -> float:
    """Cold tokenization throughput on the distinct texts (what distinct experts would cost)."""
    dataset = load_evaluation_set(data)
    tokenizer = Tokenizer()
    clear_cache()
    texts = [f"{a.title} {a.abstract}" for e in dataset.experts for a in e.achievements]
    started = time.perf_counter()
    for text in texts:
        tokenizer(text)
    return sum(map(len, texts)) / (time.perf_counter() - started)


def measure_matcher(dataset: Any, experts: list[ExpertProfile], orders: list[OrderText]) -> dict[str, float]:
    """Build our index and time top-10 queries."""
    char_ngrams = os.environ.get("BENCH_CHAR_NGRAMS", "all")
    before = resident_bytes()
    started = time.perf_counter()
    matcher = Matcher(tokenizer=Tokenizer(char_ngrams=char_ngrams)).fit(experts, dataset.orders)  # type: ignore[arg-type]
    build = time.perf_counter() - started
    resident = resident_bytes() - before
    latencies = []
    for order in orders:
        clear_cache()  # every query pays its own normalisation and segmentation, as bm25s's does
        started = time.perf_counter()
        matcher.rank_experts(order, 10)
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "build_s": build,
        "resident_mb": resident / 2**20,
        "peak_mb": peak_resident_bytes() / 2**20,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


def measure_bm25s(
    experts: list[ExpertProfile], orders: list[OrderText], tokens: Callable[[str], list[str]]
) -> dict[str, float]:
    """Index the same documents with bm25s (each distinct text tokenized once) and time top-10 queries."""
    distinct: dict[str, list[str]] = {}
    corpus = []
    for expert in experts:
        text = " ".join(f"{a.title} {a.abstract} {' '.join(a.keywords)}" for a in expert.achievements)
        if text not in distinct:
            distinct[text] = tokens(text)
        corpus.append(distinct[text])
    before = resident_bytes()
    started = time.perf_counter()
    model = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    model.index(corpus, show_progress=False)
    build = time.perf_counter() - started
    resident = resident_bytes() - before
    del corpus, distinct
    latencies = []
    for order in orders:
        clear_cache()  # the same cold start as the matcher's queries: normalisation is not reused
        started = time.perf_counter()
        query = tokens(f"{order.title} {order.description}")
        model.retrieve([query], k=10, show_progress=False)
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "build_s": build,
        "resident_mb": resident / 2**20,
        "peak_mb": peak_resident_bytes() / 2**20,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


def index_bytes(matcher: Matcher) -> int:
    """Bytes held by the matcher's arrays and sparse matrices (both segments), shared ones once."""
    seen: set[int] = set()
    total = 0

    def add(value: Any) -> None:
        nonlocal total
        if isinstance(value, np.ndarray):
            if id(value) not in seen:
                seen.add(id(value))
                total += value.nbytes
        elif hasattr(value, "indptr"):
            for part in (value.data, value.indices, value.indptr):
                add(part)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                add(getattr(value, name))

    for value in vars(matcher).values():
        add(value)
    return total


def timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    """p50 / p99 of wall and CPU milliseconds."""
    wall, cpu = [s[0] for s in samples], [s[1] for s in samples]
    return {
        "wall_p50_ms": percentile(wall, 50),
        "wall_p99_ms": percentile(wall, 99),
        "cpu_p50_ms": percentile(cpu, 50),
        "cpu_p99_ms": percentile(cpu, 99),
        "n": len(samples),
    }


def measure_updates(
    matcher: Matcher,
    dataset: Any,
    experts: list[ExpertProfile],
    changed_expert: Callable[[int], ExpertProfile],
) -> dict[str, Any]:
    """Per-record update costs on a fork (the service's way: the original keeps answering)."""
    result: dict[str, Any] = {"fork": summary([timed(matcher.fork) for _ in range(200)])}
    fork = matcher.fork()
    donors, size, rng = dataset.experts, len(experts), np.random.default_rng(1)
    result["change_expert"] = summary(
        [timed(lambda i=i: fork.add_experts([changed_expert(i)])) for i in range(1000)]
    )
    new_ids = [replace(donors[i % len(donors)], id=f"new#{i}", bio=f"新专家{i}") for i in range(300)]
    result["new_expert"] = summary([timed(lambda e=e: fork.add_experts([e])) for e in new_ids])
    gone = [experts[int(i)].id for i in rng.choice(size, 300, replace=False)]
    result["remove_expert"] = summary([timed(lambda r=r: fork.remove_experts([r])) for r in gone])
    result["change_order"] = summary(
        [
            timed(lambda o=o: fork.add_orders([replace(o, description=o.description + "（已更新）")]))
            for o in dataset.orders[:300]
        ]
    )
    result["fork_with_delta"] = summary([timed(fork.fork) for _ in range(200)])
    result["pending"] = fork.n_pending_changes
    queries = [dataset.orders[i % len(dataset.orders)] for i in range(300)]
    result["query_with_delta"] = summary([timed(lambda o=o: fork.rank_experts(o, 10)) for o in queries])
    compacted = fork.fork()
    result["compact_s"] = timed(compacted.compact)[0] / 1000
    result["query_compacted"] = summary([timed(lambda o=o: compacted.rank_experts(o, 10)) for o in queries])
    same = sum(fork.rank_experts(o, 10) == compacted.rank_experts(o, 10) for o in dataset.orders)
    result["same_rankings_after_compact"] = f"{same} / {len(dataset.orders)}"
    return result


def run_incremental(data: Path, size: int, edits: int) -> dict[str, Any]:
    """Measure incremental updates at one size (in its own child process, pinned to one CPU)."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    dataset = load_evaluation_set(data)
    experts = replicate(dataset.experts, size)
    rng = np.random.default_rng(0)
    before = resident_bytes()
    started = time.perf_counter()
    matcher = Matcher().fit(experts, dataset.orders)
    result: dict[str, Any] = {"experts": size, "orders": len(dataset.orders)}
    result["build_s"] = time.perf_counter() - started
    result["resident_mb_after_fit"] = (resident_bytes() - before) / 2**20
    result["index_mb_after_fit"] = index_bytes(matcher) / 2**20
    donors = dataset.experts

    def changed_expert(serial: int) -> ExpertProfile:
        # an indexed id given another expert's achievements and a bio never seen before
        target = experts[int(rng.integers(size))]
        donor = donors[int(rng.integers(len(donors)))]
        return replace(donor, id=target.id, bio=f"第{serial}次更新：{donor.name}的研究方向调整")

    result.update(measure_updates(matcher, dataset, experts, changed_expert))

    # memory over many edits: changes, removals and re-additions, compacted whenever 1,000 are pending
    index_before = index_bytes(matcher)
    resident_before = resident_bytes()
    removed: dict[object, ExpertProfile] = {}
    compactions = 0
    started = time.perf_counter()
    for serial in range(edits):
        kind = serial % 3
        if kind == 0:
            matcher.add_experts([changed_expert(serial)])
        elif kind == 1:
            victim = experts[int(rng.integers(size))]
            if matcher.n_experts > size - 100:
                matcher.remove_experts([victim.id])
                removed[victim.id] = victim
        elif removed:
            matcher.add_experts([removed.popitem()[1]])
        if matcher.n_pending_changes >= 1000:
            staged = matcher.fork()
            staged.compact()
            matcher = staged  # swapped in by assignment, as the service does
            compactions += 1
    matcher.add_experts(list(removed.values()))
    staged = matcher.fork()
    staged.compact()
    matcher = staged
    result["edits"] = edits
    result["edits_s"] = time.perf_counter() - started
    result["compactions"] = compactions
    result["index_mb_before_edits"] = index_before / 2**20
    result["index_mb_after_edits"] = index_bytes(matcher) / 2**20
    result["resident_mb_before_edits"] = resident_before / 2**20
    result["resident_mb_after_edits"] = resident_bytes() / 2**20
    result["n_experts_after_edits"] = matcher.n_experts
    return result


def print_incremental(result: dict[str, Any]) -> None:
    """One table of the incremental figures."""
    print(f"{result['experts']:,} experts, {result['orders']} orders; build {result['build_s']:.1f} s")
    print(f"{'operation (one record)':34s} {'wall p50':>9s} {'wall p99':>9s} {'CPU p50':>8s} {'CPU p99':>8s}")
    for name in (
        "change_expert", "new_expert", "remove_expert", "change_order", "fork", "fork_with_delta",
        "query_with_delta", "query_compacted",
    ):  # fmt: skip
        m = result[name]
        print(
            f"{name:34s} {m['wall_p50_ms']:9.2f} {m['wall_p99_ms']:9.2f} {m['cpu_p50_ms']:8.2f} {m['cpu_p99_ms']:8.2f}"
        )
    print(
        f"compact with {result['pending']:,} pending changes: {result['compact_s']:.2f} s;"
        f" rankings identical after compacting: {result['same_rankings_after_compact']}"
    )
    print(
        f"{result['edits']:,} edits in {result['edits_s']:.1f} s ({result['compactions']} compactions on forks):"
        f" index {result['index_mb_before_edits']:.1f} → {result['index_mb_after_edits']:.1f} MB,"
        f" resident {result['resident_mb_before_edits']:.0f} → {result['resident_mb_after_edits']:.0f} MB,"
        f" {result['n_experts_after_edits']:,} experts"
    )


def main() -> int:
    """Run every size in its own child process and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[600, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--incremental", action="store_true", help="measure updates instead of fits")
    parser.add_argument("--edits", type=int, default=10_000, help="edits for the memory measurement")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one_size and args.incremental:
        print(json.dumps(run_incremental(args.data, args.one_size, args.edits)))
        return 0
    if args.one_size:
        print(json.dumps(run_one(args.data, args.one_size, args.queries, args.engine)))
        return 0
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if args.incremental:
        for size in args.sizes if args.sizes != [600, 10_000, 100_000] else [100_000]:
            command = [sys.executable, __file__, "--data", str(args.data), "--incremental"]
            command += ["--edits", str(args.edits), "--one-size", str(size)]
            child = subprocess.run(command, capture_output=True, text=True, env=env)
            if child.returncode != 0:
                console.print(child.stderr)
                return child.returncode
            result = json.loads(child.stdout.strip().splitlines()[-1])
            print(json.dumps(result) if args.json else "", end="\n" if args.json else "")
            if not args.json:
                print_incremental(result)
        return 0

    results = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("基准测试", total=len(ENGINES) * len(args.sizes))
        for size in args.sizes:
            row: dict[str, Any] = {"experts": size, "queries": args.queries}
            for engine in ENGINES:
                progress.update(task, description=f"{size:,} 位专家 · {engine}")
                command = [sys.executable, __file__, "--data", str(args.data), "--queries", str(args.queries)]
                command += ["--one-size", str(size), "--engine", engine]
                child = subprocess.run(command, capture_output=True, text=True, env=env)
                if child.returncode != 0:
                    console.print(child.stderr)
                    return child.returncode
                row[engine] = json.loads(child.stdout.strip().splitlines()[-1])
                progress.advance(task)
            results.append(row)
    rate = tokenization_rate(args.data)

    if args.json:
        print(json.dumps({"sizes": results, "tokenize_chars_per_s": rate}))
        return 0
    print(
        f"{'experts':>8} {'engine':>13} {'build s':>8} {'index MB':>9} {'peak MB':>8} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for row in results:
        for engine in ENGINES:
            m = row[engine]
            print(
                f"{row['experts']:>8,} {engine:>13} {m['build_s']:>8.1f} {m['resident_mb']:>9.0f}"
                f" {m['peak_mb']:>8.0f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f}"
            )
    print(f"cold tokenization: {rate:,.0f} characters/s on one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
