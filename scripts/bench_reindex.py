"""Benchmark building a matcher index version (``studio-match reindex``): wall time and peak memory.

    python scripts/bench_reindex.py [--experts 20000] [--orders 40000] [--code LABEL=PATH ...] [--keep]

Needs a PostgreSQL server (``--admin-url``, default ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``).

1. creates its own database ``studio_match_bench_reindex``, migrates it with ``studio-match migrate``
   and loads generated records (``bench_corpus.py``) with the loader of ``bench_http.py``: experts
   with 2–5 achievements each, orders (most published), a few signed agreements;
2. runs ``studio-match reindex`` in a child process once per ``--code`` (default: this checkout),
   each time with that checkout's code (``PYTHONPATH``), so two versions of the build are compared on
   the same records: for example the current code against ``main`` checked out in a temporary worktree
   (``git worktree add --detach /tmp/old main``, then ``--code old=/tmp/old --code new=.``);
3. reports each run's wall time and peak resident memory: ``VmHWM`` of ``/proc/<pid>/status``, read
   while the child runs, and the kernel's ``ru_maxrss`` of the finished child (the same figure,
   read once at its end), with the stored payload's size;
4. drops the database (unless ``--keep``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_http
from bench_http import load_records, recreate_database, run_cli

from app.db import create_engine

console = Console(stderr=True)
DATABASE = "studio_match_bench_reindex"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One ``studio-match reindex`` child: what it cost."""

    label: str
    code: Path
    wall_s: float
    hwm_mib: float  # the last VmHWM read while it ran
    maxrss_mib: float  # ru_maxrss of the finished child
    returncode: int
    payload_bytes: int = 0
    chunks: int = 0


def status_kib(pid: int, field: str) -> int | None:
    """A ``kB`` field of ``/proc/<pid>/status`` (``VmHWM``, ``VmRSS``); None once the process has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_reindex(label: str, code: Path, env: dict[str, str], progress: Progress) -> Run:
    """Run ``studio-match reindex`` with the code in ``code``; sample its memory until it exits."""
    task = progress.add_task(f"重建匹配索引（{label}）", total=None)
    child_env = {**env, "PYTHONPATH": str(code)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "reindex"],
        env=child_env,
        cwd=code,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    hwm = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        hwm = max(hwm, status_kib(process.pid, "VmHWM") or 0)
        rss = status_kib(process.pid, "VmRSS") or 0
        progress.update(
            task,
            description=f"重建匹配索引（{label}）：RSS {rss / 1024:,.0f} MiB，峰值 {hwm / 1024:,.0f} MiB",
        )
        time.sleep(0.1)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        console.print(f"[bold red]reindex ({label}) failed[/]:")
        console.print(errors[-3000:], markup=False, highlight=False)
    progress.update(task, total=1, completed=1)
    return Run(label, code, wall, hwm / 1024, usage.ru_maxrss / 1024, process.returncode)


async def stored_build(database_url: str) -> tuple[int, int]:
    """The newest build's payload size and chunk count."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT b.size_bytes, (SELECT count(*) FROM matcher_build_chunks c WHERE c.build_id = b.id)"
                        " FROM matcher_builds b ORDER BY b.id DESC LIMIT 1"
                    )
                )
            ).one_or_none()
    finally:
        await engine.dispose()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def parse_code(value: str) -> tuple[str, Path]:
    label, _, path = value.rpartition("=")
    code = Path(path).resolve()
    if not (code / "app" / "__main__.py").exists():
        raise argparse.ArgumentTypeError(f"{code} is not a studio-match checkout")
    return label or code.name, code


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--experts", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=40_000)
    parser.add_argument(
        "--code",
        type=parse_code,
        action="append",
        metavar="LABEL=PATH",
        help="a checkout whose code runs the build (repeat to compare; default: this checkout)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (and print its URL)")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "STUDIO_MATCH_BENCH_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    codes: list[tuple[str, Path]] = args.code or [("this", ROOT)]
    bench_http.DATABASE = DATABASE  # the loader's database helpers work on this benchmark's database
    database_url = make_url(args.admin_url).set(database=DATABASE).render_as_string(hide_password=False)
    env = {
        **os.environ,
        "STUDIO_MATCH_DATABASE_URL": database_url,
        "STUDIO_MATCH_SECRET_KEY": "bench-reindex-secret-key-not-for-production",
    }
    runs: list[Run] = []
    asyncio.run(recreate_database(args.admin_url))
    try:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("迁移数据库", total=None)
            run_cli(["migrate"], {**env, "PYTHONPATH": str(ROOT)})
            progress.update(task, total=1, completed=1)
            started = time.perf_counter()
            asyncio.run(load_records(database_url, args.experts, args.orders, progress))
            load_s = time.perf_counter() - started
            for label, code in codes:
                run = run_reindex(label, code, env, progress)
                run.payload_bytes, run.chunks = asyncio.run(stored_build(database_url))
                runs.append(run)
        counts = asyncio.run(bench_http.count_rows(database_url))
        table = Table(
            title=(
                f"studio-match reindex: {counts['experts']:,} experts, {counts['achievements']:,} achievements, "
                f"{counts['orders']:,} orders ({counts['published']:,} published); loaded in {load_s:.0f} s"
            )
        )
        for column in (
            "code",
            "wall s",
            "peak RSS MiB (VmHWM)",
            "ru_maxrss MiB",
            "payload MiB",
            "chunks",
            "exit",
        ):
            table.add_column(column, justify="left" if column == "code" else "right")
        for run in runs:
            table.add_row(
                f"{run.label} ({run.code})",
                f"{run.wall_s:.1f}",
                f"{run.hwm_mib:,.0f}",
                f"{run.maxrss_mib:,.0f}",
                f"{run.payload_bytes / 2**20:,.1f}",
                str(run.chunks),
                str(run.returncode),
            )
        Console(width=220).print(table)
        Console(width=220).print(
            f"command: python scripts/bench_reindex.py {' '.join(sys.argv[1:])}".rstrip()
            + f"\nmachine: {os.cpu_count()} cores, load average {counts['loadavg']}"
        )
    finally:
        if args.keep:
            console.print(f"database kept: {database_url}")
        else:
            asyncio.run(recreate_database(args.admin_url, drop_only=True))
    return 0 if all(run.returncode == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
