"""Benchmark the HTTP service under load: 2 workers on PostgreSQL, 10,000 experts, 20,000 orders.

    python scripts/bench_http.py [--experts 10000] [--orders 20000] [--duration 20] [--soak MINUTES] [--keep]

Needs ``wrk`` (Debian: ``sudo apt-get install wrk``) and a PostgreSQL server (``--admin-url``, default
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``). Everything runs on the loopback interface.

1. creates its own database ``studio_match_bench_http`` (dropped at the end unless ``--keep``),
   migrates it with ``studio-match migrate`` and loads generated records (``bench_corpus.py``) with
   bulk inserts through SQLAlchemy Core: enterprises, studios, experts with 2–5 achievements each,
   orders (most published), logins; then a few agreements signed by both sides through the services,
   so that consultations can be logged on them;
2. builds the matcher index with ``studio-match reindex`` (the version every worker loads from the
   database) and serves with ``studio-match serve --workers 2``: start-up is timed from spawn to the first ``/readyz`` 200
   and to each worker's "Application startup complete"; each worker's resident memory is read from
   ``/proc`` once the workers are up and again after the load;
3. logs the benchmark's users in (bearer tokens) and drives load with ``wrk`` (one Lua script per
   endpoint, generated with its requests):
   - ``/healthz`` alone at 50 connections: the ceiling;
   - the mix: 50 users at once, split over the endpoints (one ``wrk`` per endpoint, all at the same
     time, so each endpoint's latency in the mix is its own): list orders, search orders, read one
     order, rank an order's experts, recommended orders for an expert, take an order, log a
     consultation;
   - each endpoint alone at 50 connections (its throughput, as a share of ``/healthz``'s);
   - each endpoint alone on one connection (service time);
   - the floor: the same read script on one connection against ``bench_floor_app.py`` (the same two
     reads on bare FastAPI + SQLAlchemy Core, one worker): what any service on this stack and machine pays;
4. prints one table (req/s, p50, p95, p99, errors) and the issue's targets, met or not.

``--soak MINUTES`` then runs the mix for that long, sampling each worker's resident memory every few
seconds, and says whether it stayed flat (within ±10 % of its level after the first minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_corpus import Corpus, utc_now

from app.accounts.models import User
from app.accounts.security import Actor, hash_password, username_key
from app.agreements import service as agreement_service
from app.agreements.schemas import AgreementTermsUpdate
from app.clock import local_today
from app.db import Base, create_engine, create_sessionmaker
from app.enterprises.uscc import check_character
from app.marketplace import service as marketplace_service

console = Console(stderr=True)
DATABASE = "studio_match_bench_http"
PASSWORD = "bench-2026"
ROOT = Path(__file__).resolve().parent.parent
BENCH_ENTERPRISES = 20  # enterprises with a login: they rank their orders
BENCH_EXPERTS = 100  # experts with a login: they read, search, take, get recommendations
AGREEMENTS = 40  # signed agreements, in progress: consultations are logged on them
ENDPOINTS = ("list", "search", "read", "rank", "recommended", "take", "consult")
LABELS = {
    "healthz": "GET /healthz",
    "list": "list orders: GET /api/v1/orders?page=",
    "search": "search orders: GET /api/v1/orders?q=",
    "read": "read an order: GET /api/v1/orders/{id}",
    "rank": "rank experts: POST /api/v1/orders/{id}/proposals",
    "recommended": "recommended: GET /api/v1/experts/{id}/recommended-orders",
    "take": "take: POST /api/v1/orders/{id}/takings",
    "consult": "consultation: POST /api/v1/agreements/{id}/consultations",
    "floor": "floor: the same two reads, bare FastAPI + SQLAlchemy Core (bench_floor_app.py)",
}
# how the mix's 50 users are spread over the endpoints (closed loop: each waits for its answer)
MIX = {"list": 12, "search": 10, "read": 12, "rank": 6, "recommended": 5, "take": 3, "consult": 2}
# the targets: share of /healthz's throughput (alone, 50 connections) and p95 on one connection
SHARE_TARGETS = {"rank": 0.10, "list": 0.25, "search": 0.25, "read": 0.25}
P95_TARGETS_MS = {"rank": 20.0, "list": 15.0, "search": 15.0, "read": 5.0}
STARTUP_TARGET_S, RSS_TARGET_MB = 10.0, 500.0


# ------------------------------------------------------------------------------------------ database


def admin_connect_args(admin_url: str) -> dict[str, Any]:
    """asyncpg keyword arguments for the admin URL."""
    url = make_url(admin_url)
    return {
        "user": url.username,
        "password": url.password,
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "database": url.database,
    }


async def recreate_database(admin_url: str, *, drop_only: bool = False, name: str = DATABASE) -> None:
    """(Re)create the benchmark's database, or only drop it."""
    connection = await asyncpg.connect(**admin_connect_args(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await connection.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    finally:
        await connection.close()


@dataclass
class Fixture:
    """What the load needs to know about the loaded records."""

    orders_to_rank: list[tuple[int, int]] = field(default_factory=list)  # (enterprise login index, order)
    orders_to_take: list[int] = field(default_factory=list)  # published orders nobody else touches
    orders_to_read: list[int] = field(default_factory=list)
    agreements: list[tuple[int, int]] = field(default_factory=list)  # (expert login index, agreement)
    expert_ids: list[int] = field(default_factory=list)  # the expert of each expert login
    search_words: list[str] = field(default_factory=list)


async def load_records(database_url: str, experts: int, orders: int, progress: Progress) -> Fixture:
    """Insert the generated records in bulk, then sign a few agreements through the services."""
    corpus = Corpus(seed=10)
    tables = Base.metadata.tables
    now = utc_now()
    enterprises = max(BENCH_ENTERPRISES * 2, orders // 50)
    studios = enterprises * 2
    task = progress.add_task("载入数据", total=5 + AGREEMENTS)
    engine = create_engine(database_url)
    fixture = Fixture(search_words=corpus.search_words())
    try:
        async with engine.begin() as connection:
            rows = [corpus.enterprise(i, check_character) for i in range(1, enterprises + 1)]
            await connection.execute(insert(tables["enterprises"]), rows)
            studio_rows = [corpus.studio(i, (i - 1) % enterprises + 1) for i in range(1, studios + 1)]
            await connection.execute(insert(tables["studios"]), studio_rows)
            progress.advance(task)

            expert_rows, achievement_rows = [], []
            for expert_id in range(1, experts + 1):
                row, discipline = corpus.expert(expert_id)
                expert_rows.append(row)
                for _ in range(corpus.random.randint(2, 5)):
                    achievement_rows.append(corpus.achievement(expert_id, discipline))
            for start in range(0, len(expert_rows), 5000):
                await connection.execute(insert(tables["experts"]), expert_rows[start : start + 5000])
            for start in range(0, len(achievement_rows), 5000):
                await connection.execute(
                    insert(tables["achievements"]), achievement_rows[start : start + 5000]
                )
            progress.advance(task)

            order_rows = []
            for order_id in range(1, orders + 1):
                draw = corpus.random.random()
                status = (
                    "published"
                    if draw < 0.85
                    else "draft"
                    if draw < 0.90
                    else "closed"
                    if draw < 0.95
                    else "withdrawn"
                )
                order_rows.append(corpus.order(order_id, corpus.random.randint(1, studios), status, now))
            for start in range(0, len(order_rows), 5000):
                await connection.execute(insert(tables["orders"]), order_rows[start : start + 5000])
            progress.advance(task)

            password_hash = hash_password(PASSWORD)
            users: list[dict[str, Any]] = [
                {"username": "bench-admin", "display_name": "基准管理员", "role": "admin"}
            ]
            users += [
                {
                    "username": f"bench-enterprise-{i}",
                    "display_name": "企业联系人",
                    "role": "enterprise",
                    "enterprise_id": i,
                }
                for i in range(1, BENCH_ENTERPRISES + 1)
            ]
            users += [
                {"username": f"bench-expert-{i}", "display_name": "专家", "role": "expert", "expert_id": i}
                for i in range(1, BENCH_EXPERTS + 1)
            ]
            for user in users:
                user.setdefault("enterprise_id", None)
                user.setdefault("expert_id", None)
                user["password_hash"] = password_hash
                user["username_key"] = username_key(user["username"])
            await connection.execute(insert(tables["users"]), users)
            # rows came with explicit ids: move each sequence past them
            for table in ("enterprises", "studios", "experts", "orders"):
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
                )
            await connection.execute(text("ANALYZE"))
            progress.advance(task)

        enterprise_of_studio = {s["id"]: s["enterprise_id"] for s in studio_rows}
        published = [o for o in order_rows if o["status"] == "published"]
        own = [o for o in published if enterprise_of_studio[o["studio_id"]] <= BENCH_ENTERPRISES]
        for_agreements, to_rank = own[:AGREEMENTS], own[AGREEMENTS:]
        fixture.orders_to_rank = [(enterprise_of_studio[o["studio_id"]], o["id"]) for o in to_rank]
        fixture.orders_to_take = [
            o["id"] for o in published if enterprise_of_studio[o["studio_id"]] > BENCH_ENTERPRISES
        ]
        fixture.orders_to_read = [o["id"] for o in order_rows if o["status"] in ("published", "closed")]
        fixture.expert_ids = list(range(1, BENCH_EXPERTS + 1))
        fixture.agreements = await sign_agreements(
            engine, for_agreements, enterprise_of_studio, progress, task
        )
        progress.update(task, completed=5 + AGREEMENTS)
    finally:
        await engine.dispose()
    return fixture


async def sign_agreements(
    engine: Any,
    orders: list[dict[str, Any]],
    enterprise_of_studio: dict[int, int],
    progress: Progress,
    task: Any,
) -> list[tuple[int, int]]:
    """Take, confirm, agree and sign through the services: agreements in progress, as the API makes them."""
    made = []
    async with create_sessionmaker(engine)() as session:
        users = (await session.execute(select(User))).scalars().all()
        logins = {u.username: Actor.of(u) for u in users}
        for n, order in enumerate(orders):
            expert_index = n % BENCH_EXPERTS + 1
            expert = logins[f"bench-expert-{expert_index}"]
            owner = logins[f"bench-enterprise-{enterprise_of_studio[order['studio_id']]}"]
            taking = await marketplace_service.take_order(
                session, expert, order["id"], "可安排时间到企业现场"
            )
            agreement = await marketplace_service.confirm_taking(session, owner, taking.id)
            agreement = await agreement_service.update_terms(
                session,
                owner,
                agreement.id,
                AgreementTermsUpdate(
                    goals=f"解决“{order['title']}”中的关键技术问题",
                    deliverables="技术方案、现场验证报告和工艺文件各一份",
                    duration_months=6,
                    start_date=local_today() - timedelta(days=30),
                    funding_amount=order["budget_max"],
                    funding_source="企业自筹与市总工会补助",
                    version=agreement.version,
                ),
            )
            agreement = await agreement_service.submit_for_signature(
                session, owner, agreement.id, agreement.version
            )
            await agreement_service.sign(session, owner, agreement.id)
            await agreement_service.sign(session, expert, agreement.id)
            made.append((expert_index, agreement.id))
            progress.advance(task)
    return made


# ------------------------------------------------------------------------------------------ the service


def run_cli(args: list[str], env: dict[str, str], *, check: bool = True) -> float | None:
    """Run a ``studio-match`` command to completion; returns its wall time in seconds (None: it failed)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if done.returncode != 0:
        if check:
            raise RuntimeError(f"studio-match {' '.join(args)} failed:\n{done.stderr.decode()[-3000:]}")
        console.print(
            f"[bold red]studio-match {' '.join(args)} failed[/] (the workers will build the index themselves):"
        )
        console.print(done.stderr.decode()[-1500:], markup=False, highlight=False)
        return None
    return time.perf_counter() - started


@dataclass
class Server:
    """The served app: its process, log file and start-up figures."""

    process: subprocess.Popen[bytes]
    log_path: Path
    spawned_at: float
    first_ready_s: float | None = None
    workers_started_s: list[float] = field(default_factory=list)

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the supervisor that run the app)."""
        pids = []
        for child in _children(self.process.pid):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"resource_tracker" not in cmdline:
                pids.append(child)
        return sorted(pids)

    def worker_rss_mb(self) -> dict[int, float]:
        """Resident memory of each worker (VmRSS from /proc), in MiB."""
        return {pid: rss for pid in self.worker_pids() if (rss := resident_mb(pid)) is not None}


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def resident_mb(pid: int) -> float | None:
    """VmRSS of a process in MiB (None once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def start_server(env: dict[str, str], port: int, workers: int, log_dir: Path, timeout: float) -> Server:
    """Spawn ``studio-match serve`` and wait until every worker has started and /readyz answers 200."""
    log_path = log_dir / "serve.log"
    log = log_path.open("wb")
    spawned_at = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process, log_path, spawned_at)
    deadline = spawned_at + timeout
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"studio-match serve exited with {process.returncode}; see {log_path}")
            started = log_path.read_bytes().count(b"Application startup complete")
            while len(server.workers_started_s) < started:
                server.workers_started_s.append(time.perf_counter() - spawned_at)
            if server.first_ready_s is None:
                try:
                    if client.get("/readyz").status_code == 200:
                        server.first_ready_s = time.perf_counter() - spawned_at
                except httpx.HTTPError:
                    pass
            if server.first_ready_s is not None and len(server.workers_started_s) >= workers:
                return server
            time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"the service did not start within {timeout:.0f} s; see {log_path}")


def start_floor(env: dict[str, str], port: int, workers: int, log_dir: Path) -> subprocess.Popen[bytes]:
    """Serve ``bench_floor_app.py`` (as many uvicorn workers as the service) and wait until it answers."""
    log = (log_dir / "floor.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench_floor_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--app-dir", str(ROOT / "scripts")],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.perf_counter() + 60
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        while time.perf_counter() < deadline:
            try:
                if client.get("/healthz").status_code == 200:
                    return process
            except httpx.HTTPError:
                time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the floor app did not start; see {log_dir / 'floor.log'}")


def stop_server(server: Server) -> None:
    """SIGTERM the supervisor (it drains and stops its workers), SIGKILL if it lingers."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


async def log_in(base_url: str, usernames: list[str]) -> dict[str, str]:
    """Bearer tokens for the benchmark's users, through ``POST /api/v1/auth/login``."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        semaphore = asyncio.Semaphore(8)

        async def one(username: str) -> tuple[str, str]:
            async with semaphore:
                response = await client.post(
                    "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
                )
                response.raise_for_status()
                return username, response.json()["access_token"]

        return dict(await asyncio.gather(*(one(u) for u in usernames)))


# ------------------------------------------------------------------------------------------ wrk


@dataclass(frozen=True)
class Request:
    """One request a wrk script sends: method, path, bearer token index (0: none), JSON body."""

    method: str
    path: str
    token: int = 0
    body: str = ""


def lua_string(value: str) -> str:
    """A Lua string literal (LuaJIT knows no \\u escapes: the text goes in as UTF-8)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


LUA_TEMPLATE = """
local tokens = {%(tokens)s}
local defs = {%(defs)s}
local reqs, i, n = {}, 0, 0
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for k, d in ipairs(defs) do
    local headers = {}
    if d[3] > 0 then headers["Authorization"] = "Bearer " .. tokens[d[3]] end
    local body = nil
    if d[4] ~= "" then
      headers["Content-Type"] = "application/json"
      body = d[4]
    end
    reqs[k] = wrk.format(d[1], d[2], headers, body)
  end
  n = #reqs
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local parts = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for key, value in pairs(counts) do
      table.insert(parts, string.format('"%%s": %%d', key, value))
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, '
    .. '"timeout": %%d, "p50": %%d, "p95": %%d, "p99": %%d, "statuses": {%%s}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), table.concat(parts, ", ")))
end
"""


def write_lua(path: Path, requests: list[Request], tokens: list[str]) -> Path:
    """A wrk script that cycles through ``requests`` (one thread: each request once before any repeats)."""
    defs = ",\n".join(
        f"{{{lua_string(r.method)}, {lua_string(r.path)}, {r.token}, {lua_string(r.body)}}}" for r in requests
    )
    path.write_text(LUA_TEMPLATE % {"tokens": ", ".join(map(lua_string, tokens)), "defs": defs})
    return path


@dataclass
class Result:
    """One wrk run's figures."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    socket_errors: int
    statuses: dict[str, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Socket errors, timeouts and every answer that is not 2xx; a run with no answer at all counts as one.

        wrk counts only the requests answered within the run: a service that answers nothing (a worker
        stuck building its index, say) would otherwise show zero errors.
        """
        failed = self.socket_errors + sum(v for k, v in self.statuses.items() if not k.startswith("2"))
        return failed if self.requests else max(1, failed)

    def describe_errors(self) -> str:
        bad = {k: v for k, v in sorted(self.statuses.items()) if not k.startswith("2")}
        parts = [f"{v}×{k}" for k, v in bad.items()]
        if not self.requests:
            parts.append("no answer within the run")
        if self.socket_errors:
            parts.append(f"{self.socket_errors}× socket/timeout")
        return ", ".join(parts) if parts else "0"


def start_wrk(url: str, script: Path, connections: int, seconds: float) -> subprocess.Popen[str]:
    """Start one wrk process (one thread; the service, not wrk, is what is measured)."""
    return subprocess.Popen(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish_wrk(process: subprocess.Popen[str]) -> Result:
    """Wait for a wrk process and parse the line its ``done`` hook printed."""
    output, _ = process.communicate()
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            return Result(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50"] / 1000,
                p95_ms=data["p95"] / 1000,
                p99_ms=data["p99"] / 1000,
                socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
                statuses=data["statuses"],
            )
    raise RuntimeError(f"wrk printed no result:\n{output}")


def run_wrk_group(
    url: str, scripts: dict[str, tuple[Path, int]], seconds: float, progress: Progress, description: str
) -> dict[str, Result]:
    """Run several wrk processes at once (name → script, connections) with a progress bar."""
    task = progress.add_task(description, total=seconds)
    processes = {name: start_wrk(url, script, c, seconds) for name, (script, c) in scripts.items()}
    started = time.perf_counter()
    while any(p.poll() is None for p in processes.values()):
        progress.update(task, completed=min(seconds, time.perf_counter() - started))
        time.sleep(0.25)
    progress.update(task, completed=seconds)
    return {name: finish_wrk(p) for name, p in processes.items()}


class Workload:
    """The requests of each endpoint, prepared from the fixture and the logins."""

    def __init__(self, fixture: Fixture, tokens: dict[str, str], seed: int = 7) -> None:
        import random

        self.random = random.Random(seed)
        self.fixture = fixture
        self.token_list = list(tokens.values())
        self.token_index = {name: n + 1 for n, name in enumerate(tokens)}
        # the take pool is shared out between runs so that no order is taken twice by one expert
        self._take_pool = list(fixture.orders_to_take)
        self.random.shuffle(self._take_pool)
        self._rank_pool = list(fixture.orders_to_rank)
        self.random.shuffle(self._rank_pool)

    def _expert(self) -> tuple[int, int]:
        index = self.random.randint(1, BENCH_EXPERTS)
        return index, self.token_index[f"bench-expert-{index}"]

    def requests(self, endpoint: str, count: int = 2000) -> list[Request]:
        """``count`` requests of an endpoint (for ``take``, as many distinct orders as are left, up to count)."""
        make = getattr(self, f"_{endpoint}")
        return [make(n) for n in range(count)] if endpoint != "take" else self._take(count)

    def _healthz(self, _n: int) -> Request:
        return Request("GET", "/healthz")

    def _list(self, _n: int) -> Request:
        page = self.random.choice((1, 1, 1, 2, 3, 5, 10, 25, 50))
        sort = self.random.choice(("-created_at", "-created_at", "deadline", "-published_at"))
        status = self.random.choice(("&status=published", "&status=published", ""))
        return Request(
            "GET", f"/api/v1/orders?page={page}&page_size=20&sort={sort}{status}", self._expert()[1]
        )

    def _search(self, _n: int) -> Request:
        word = urllib.parse.quote(self.random.choice(self.fixture.search_words))
        return Request("GET", f"/api/v1/orders?q={word}&page=1&page_size=20", self._expert()[1])

    def _read(self, _n: int) -> Request:
        order = self.random.choice(self.fixture.orders_to_read)
        return Request("GET", f"/api/v1/orders/{order}", self._expert()[1])

    def _rank(self, n: int) -> Request:
        enterprise, order = self._rank_pool[n % len(self._rank_pool)]
        return Request(
            "POST",
            f"/api/v1/orders/{order}/proposals?k=10",
            self.token_index[f"bench-enterprise-{enterprise}"],
        )

    def _recommended(self, _n: int) -> Request:
        index, token = self._expert()
        expert = self.fixture.expert_ids[index - 1]
        return Request("GET", f"/api/v1/experts/{expert}/recommended-orders?k=10", token)

    def _take(self, count: int) -> list[Request]:
        orders, self._take_pool = self._take_pool[:count], self._take_pool[count:]
        if not orders:
            # the pool is used up (a long soak): orders may be taken again until full, then 409 order_full
            orders = self.random.sample(
                self.fixture.orders_to_take, min(count, len(self.fixture.orders_to_take))
            )
        body = json.dumps({"note": "可安排时间到企业现场，先电话沟通"}, ensure_ascii=False)
        return [Request("POST", f"/api/v1/orders/{o}/takings", self._expert()[1], body) for o in orders]

    def _consult(self, n: int) -> Request:
        expert_index, agreement = self.fixture.agreements[n % len(self.fixture.agreements)]
        body = json.dumps(
            {
                "kind": "guidance",
                "held_on": (local_today() - timedelta(days=1)).isoformat(),
                "participants": "专家；企业技术骨干",
                "minutes": "现场查看设备运行情况，确定下一步工艺试验方案。",
            },
            ensure_ascii=False,
        )
        return Request(
            "POST",
            f"/api/v1/agreements/{agreement}/consultations",
            self.token_index[f"bench-expert-{expert_index}"],
            body,
        )

    def script(self, directory: Path, name: str, endpoint: str, count: int = 2000) -> Path:
        """Write the wrk script of one endpoint for one run."""
        return write_lua(
            directory / f"{name}-{endpoint}.lua", self.requests(endpoint, count), self.token_list
        )


# ------------------------------------------------------------------------------------------ report

TAKE_RATE_CEILING = {"alone": 250, "one": 200, "mix": 40}  # takes per second to prepare for, per run


def print_report(
    args: argparse.Namespace,
    sizes: dict[str, Any],
    server: Server,
    rss_idle: dict[int, float],
    rss_after: dict[int, float],
    results: dict[str, dict[str, Result]],
) -> bool:
    """Print the table and the targets (as a rich table and as Markdown); returns whether all were met."""
    out = Console(width=220)
    ceiling = results["healthz"]["healthz"].rate
    header = [
        "scenario",
        "endpoint",
        "conns",
        "req/s",
        "% of /healthz",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
    ]
    rows: list[list[str]] = []

    def row(scenario: str, name: str, conns: int, result: Result, share: bool = False) -> None:
        rows.append(
            [
                scenario,
                LABELS[name],
                str(conns),
                f"{result.rate:,.1f}",
                f"{100 * result.rate / ceiling:.1f} %" if share else "",
                f"{result.p50_ms:.1f}",
                f"{result.p95_ms:.1f}",
                f"{result.p99_ms:.1f}",
                result.describe_errors(),
            ]
        )

    row("ceiling", "healthz", args.connections, results["healthz"]["healthz"], share=True)
    mix = results["mix"]
    for name in ENDPOINTS:
        row("mix", name, MIX[name], mix[name])
    rows.append(
        ["mix", "all of the mix", str(sum(MIX.values())), f"{sum(r.rate for r in mix.values()):,.1f}"]
        + [""] * 4
        + [str(sum(r.errors for r in mix.values()))]
    )
    for name in ENDPOINTS:
        row("alone", name, args.connections, results["alone"][name], share=True)
    if "floor" in results["alone"]:
        row("alone", "floor", args.connections, results["alone"]["floor"], share=True)
    for name in ENDPOINTS:
        row("one connection", name, 1, results["one"][name])
    if "floor" in results["one"]:
        row("one connection", "floor", 1, results["one"]["floor"])

    checks: list[tuple[str, str, bool]] = []
    for name, target in SHARE_TARGETS.items():
        share = results["alone"][name].rate / ceiling
        checks.append(
            (
                f"{name}: throughput ≥ {target:.0%} of /healthz (alone, {args.connections} connections)",
                f"{share:.1%}",
                share >= target,
            )
        )
    for name, target in P95_TARGETS_MS.items():
        p95 = results["one"][name].p95_ms
        checks.append(
            (
                f"{name}: p95 on one connection ≤ {target:g} ms",
                f"{p95:.1f} ms" if results["one"][name].requests else "no answer",
                results["one"][name].requests > 0 and p95 <= target,
            )
        )
    errors = sum(r.errors for group in results.values() for r in group.values())
    checks.append(("zero errors in the whole run", str(errors), errors == 0))
    slowest = max(server.workers_started_s)
    checks.append(
        (
            f"worker start-up ≤ {STARTUP_TARGET_S:g} s (spawn → every worker started)",
            f"{slowest:.1f} s",
            slowest <= STARTUP_TARGET_S,
        )
    )
    biggest = max(list(rss_idle.values()) + list(rss_after.values()))
    checks.append(
        (f"resident memory per worker ≤ {RSS_TARGET_MB:g} MB", f"{biggest:.0f} MiB", biggest <= RSS_TARGET_MB)
    )

    table = Table(
        title=f"HTTP under load: {sizes['experts']:,} experts, {sizes['orders']:,} orders, {args.workers} workers"
    )
    for column in header:
        table.add_column(column, justify="left" if column in ("scenario", "endpoint", "errors") else "right")
    for cells in rows:
        table.add_row(*cells)
    out.print(table)
    targets = Table(title="Targets (issue 10)")
    for column in ("target", "measured", "met"):
        targets.add_column(column)
    for label, measured, met in checks:
        targets.add_row(label, measured, "yes" if met else "[bold red]no[/]")
    out.print(targets)

    first_ready = f"{server.first_ready_s:.1f}" if server.first_ready_s is not None else "?"
    summary = (
        f"data: {sizes['experts']:,} experts, {sizes['achievements']:,} achievements, {sizes['orders']:,} orders "
        f"({sizes['published']:,} published), loaded in {sizes['load_s']:.1f} s; "
        f"index build (studio-match reindex): {'failed' if sizes['reindex_s'] is None else format(sizes['reindex_s'], '.1f') + ' s'}\n"
        f"start-up: first /readyz 200 after {first_ready} s; workers started after "
        + ", ".join(f"{s:.1f} s" for s in server.workers_started_s)
        + "\nresident memory per worker (MiB): idle "
        + ", ".join(f"{v:.0f}" for v in rss_idle.values())
        + "; after the load "
        + ", ".join(f"{v:.0f}" for v in rss_after.values())
    )
    out.print(summary)
    # the same in Markdown, for BENCHMARKS.md
    right = {"conns", "req/s", "% of /healthz", "p50 ms", "p95 ms", "p99 ms"}
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if h in right else "---" for h in header) + "|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in rows]
    lines += ["", "| target | measured | met |", "|---|---:|---|"]
    lines += [f"| {label} | {measured} | {'yes' if met else '**no**'} |" for label, measured, met in checks]
    out.print(
        "\n--- Markdown ---\n" + "\n".join(lines) + "\n\n" + summary,
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return all(met for _, _, met in checks)


def soak(
    url: str, server: Server, workload: Workload, directory: Path, minutes: float, progress: Progress
) -> None:
    """Run the mix for ``minutes``, sampling each worker's RSS; say whether memory stayed flat (±10 %)."""
    seconds = minutes * 60
    scripts = {
        name: (
            workload.script(
                directory, "soak", name, count=len(workload._take_pool) if name == "take" else 4000
            ),
            c,
        )
        for name, c in MIX.items()
    }
    samples: dict[int, list[tuple[float, float]]] = {}
    task = progress.add_task(f"浸泡测试 {minutes:g} 分钟（混合负载）", total=seconds)
    processes = {name: start_wrk(url, script, c, seconds) for name, (script, c) in scripts.items()}
    started = last = time.perf_counter()
    while any(p.poll() is None for p in processes.values()):
        now = time.perf_counter()
        if now - last >= 5:
            for pid, rss in server.worker_rss_mb().items():
                samples.setdefault(pid, []).append((now - started, rss))
            last = now
        progress.update(task, completed=min(seconds, now - started))
        time.sleep(0.5)
    results = {name: finish_wrk(p) for name, p in processes.items()}
    console_out = Console(width=220)
    total = sum(r.requests for r in results.values())
    errors = {name: r.describe_errors() for name, r in results.items() if r.errors}
    console_out.print(f"soak: {total:,} requests in {minutes:g} min; errors: {errors or 0}")
    for pid, points in samples.items():
        settled = [rss for t, rss in points if t >= 60] or [rss for _, rss in points]
        level = statistics.median(settled[: max(1, len(settled) // 10)])
        low, high = min(settled), max(settled)
        flat = low >= 0.9 * level and high <= 1.1 * level
        console_out.print(
            f"worker {pid}: RSS after 1 min {level:.0f} MiB, then min {low:.0f} / max {high:.0f} / "
            f"last {settled[-1]:.0f} MiB over {len(points)} samples → {'flat (±10 %)' if flat else 'NOT flat'}"
        )


# ------------------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--experts", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=20, help="seconds per scenario (default 20)")
    parser.add_argument(
        "--connections", type=int, default=50, help="connections for /healthz, the mix and 'alone'"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18200)
    parser.add_argument("--soak", type=float, default=0, metavar="MINUTES", help="then run the mix this long")
    parser.add_argument("--keep", action="store_true", help="keep the database (and print its URL)")
    parser.add_argument(
        "--database", default=DATABASE, help="the database to (re)create (a kept one is dropped first)"
    )
    parser.add_argument("--startup-timeout", type=float, default=900)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "STUDIO_MATCH_BENCH_ADMIN_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        console.print(
            "wrk is not installed: on Debian or Ubuntu run `sudo apt-get install wrk` (https://github.com/wg/wrk)"
        )
        return 2
    if sum(MIX.values()) != args.connections:
        scale = args.connections / sum(MIX.values())
        for name in MIX:
            MIX[name] = max(1, round(MIX[name] * scale))

    database_url = make_url(args.admin_url).set(database=args.database).render_as_string(hide_password=False)
    work = Path(tempfile.mkdtemp(prefix="bench-http-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STUDIO_MATCH_DATABASE_URL": database_url,
        "STUDIO_MATCH_SECRET_KEY": "bench-http-secret-key-not-for-production",
    }
    server: Server | None = None
    asyncio.run(recreate_database(args.admin_url, name=args.database))
    try:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("迁移数据库", total=None)
            run_cli(["migrate"], env)
            progress.update(task, total=1, completed=1)
            started = time.perf_counter()
            fixture = asyncio.run(load_records(database_url, args.experts, args.orders, progress))
            # the bulk inserts bypass the ORM hooks: fill the search tokens the lists search on
            task = progress.add_task("填充检索词（studio-match backfill-search）", total=None)
            run_cli(["backfill-search"], env)
            progress.update(task, total=1, completed=1)
            load_s = time.perf_counter() - started
            task = progress.add_task("重建匹配索引（studio-match reindex）", total=None)
            reindex_s = run_cli(["reindex"], env, check=False)
            progress.update(task, total=1, completed=1)
            task = progress.add_task(f"启动服务（{args.workers} 个工作进程）", total=None)
            server = start_server(env, args.port, args.workers, work, args.startup_timeout)
            progress.update(task, total=1, completed=1)
            rss_idle = server.worker_rss_mb()
            base_url = f"http://127.0.0.1:{args.port}"
            usernames = [f"bench-enterprise-{i}" for i in range(1, BENCH_ENTERPRISES + 1)]
            usernames += [f"bench-expert-{i}" for i in range(1, BENCH_EXPERTS + 1)]
            task = progress.add_task("登录基准用户", total=None)
            tokens = asyncio.run(log_in(base_url, usernames))
            progress.update(task, total=1, completed=1)

            workload = Workload(fixture, tokens)
            d = args.duration
            results: dict[str, dict[str, Result]] = {}
            results["healthz"] = run_wrk_group(
                base_url,
                {"healthz": (workload.script(work, "ceiling", "healthz", 1), args.connections)},
                d,
                progress,
                "/healthz（上限）",
            )

            def scripts(run: str, connections: dict[str, int]) -> dict[str, tuple[Path, int]]:
                takes = int(TAKE_RATE_CEILING[run] * d)
                return {
                    name: (workload.script(work, run, name, takes if name == "take" else 2000), c)
                    for name, c in connections.items()
                }

            results["mix"] = run_wrk_group(
                base_url, scripts("mix", MIX), d, progress, f"混合负载（{args.connections} 个用户）"
            )
            results["alone"] = {}
            for name in ENDPOINTS:
                results["alone"] |= run_wrk_group(
                    base_url, scripts("alone", {name: args.connections}), d, progress, f"单独：{LABELS[name]}"
                )
            results["one"] = {}
            for name in ENDPOINTS:
                results["one"] |= run_wrk_group(
                    base_url, scripts("one", {name: 1}), d, progress, f"单连接：{LABELS[name]}"
                )
            rss_after = server.worker_rss_mb()
            # the stack's floor on this machine: the same read script against the bare app
            task = progress.add_task("对照：裸 FastAPI + SQLAlchemy Core", total=None)
            floor = start_floor(env, args.port + 1, args.workers, work)
            try:
                for run, connections in (("alone", args.connections), ("one", 1)):
                    results[run] |= {
                        "floor": run_wrk_group(
                            f"http://127.0.0.1:{args.port + 1}",
                            {"read": (workload.script(work, f"floor-{run}", "read"), connections)},
                            d,
                            progress,
                            f"{'单独' if run == 'alone' else '单连接'}：{LABELS['floor']}",
                        )["read"]
                    }
            finally:
                floor.terminate()
                floor.wait(timeout=30)
            progress.update(task, total=1, completed=1)
            if args.soak:
                soak(base_url, server, workload, work, args.soak, progress)
        sizes = asyncio.run(count_rows(database_url)) | {"load_s": load_s, "reindex_s": reindex_s}
        print_report(args, sizes, server, rss_idle, rss_after, results)
        Console(width=220).print(
            f"command: python scripts/bench_http.py {' '.join(sys.argv[1:])}".rstrip()
            + f"\nmachine: {os.cpu_count()} cores, load average before the run {sizes['loadavg']}"
        )
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            console.print(f"database kept: {database_url}; work files: {work}")
        else:
            asyncio.run(recreate_database(args.admin_url, drop_only=True, name=args.database))
            shutil.rmtree(work, ignore_errors=True)
    return 0


async def count_rows(database_url: str) -> dict[str, Any]:
    """How many records the run measured against (read back from the database)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            counts = {
                name: (await connection.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one()
                for name in ("experts", "achievements", "orders")
            }
            counts["published"] = (
                await connection.execute(text("SELECT count(*) FROM orders WHERE status = 'published'"))
            ).scalar_one()
    finally:
        await engine.dispose()
    return counts | {"loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg())}


if __name__ == "__main__":
    sys.exit(main())
