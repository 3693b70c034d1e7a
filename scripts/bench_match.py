"""Benchmark the matcher against bm25s at 600, 10,000 and 100,000 experts, on one core.

    python scripts/bench_match.py --data ../shared/eval [--sizes 600 10000 100000] [--queries 1000] [--json]

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


def main() -> int:
    """Run every size in its own child process and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[600, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one_size:
        print(json.dumps(run_one(args.data, args.one_size, args.queries, args.engine)))
        return 0

    results = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
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
