"""Database trouble is a 503 with ``Retry-After``, never a 500, and never costs an acknowledged write.

Everything runs against a PostgreSQL cluster of this module's own (``initdb`` + ``pg_ctl`` from the
machine's PostgreSQL binaries, on a free port, as the ``postgres`` OS user when the tests run as root),
which the tests stop and start for real: the machine's shared server is never touched. A real uvicorn
serves the app where connections matter (load during a restart, keep-alive after an error).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from app import migrations
from app.accounts.models import User, UserRole
from app.agreements.models import Agreement, AgreementStatus
from app.clock import local_today
from app.config import DatabaseLimits, Settings
from app.db import create_engine
from app.errors import DatabaseTimeout, database_fault
from app.main import create_app
from app.orders.models import Order, OrderTaking, TakingSource, TakingStatus
from app.studios.models import Studio
from tests.factories import bearer, make_enterprise, make_expert, make_order, make_studio, make_user
from tests.problems import assert_problem
from tests.web.test_pages import logged_in

API = "/api/v1"
FAULT_CODES = {"database_unavailable", "database_busy", "database_timeout"}
PG_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateCluster:
    """A throw-away PostgreSQL cluster in a temporary directory, started and stopped with ``pg_ctl``."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="studio-match-pg-"))
        self.port = _free_port()
        self.data = self.root / "data"
        # PostgreSQL refuses to run as root: the cluster belongs to the postgres OS user then
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, user="postgres")

    def _run(self, program: str, *args: str, check: bool = True) -> int:
        command = [str(PG_BINARIES[-1] / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, timeout=60).returncode

    def running(self) -> bool:
        """Whether the server runs (``pg_ctl status`` exits 3 when it does not)."""
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def init(self) -> None:
        """Create the cluster (trust authentication, user ``postgres``)."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-o", options, "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate`` is a crash: recovery runs at the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def freeze(self, frozen: bool) -> None:
        """Stop (``SIGSTOP``) or resume (``SIGCONT``) every process of the server: a hung database."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout
        for pid in [postmaster, *map(int, children.split())]:
            os.kill(pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this cluster."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        """Stop the server if it runs, and delete the directory."""
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A running private cluster with a migrated database ``studio_match``."""
    if not PG_BINARIES:
        pytest.fail("PostgreSQL server binaries are missing under /usr/lib/postgresql/*/bin")
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()

        async def create() -> None:
            connection = await asyncpg.connect(host="127.0.0.1", port=cluster.port, user="postgres")
            await connection.execute("CREATE DATABASE studio_match ENCODING 'UTF8' TEMPLATE template0")
            await connection.close()

        asyncio.run(create())
        migrations.upgrade(cluster.url("studio_match"))
        yield cluster
    finally:
        cluster.remove()


def _settings(cluster: PrivateCluster, **limits: Any) -> Settings:
    return Settings(
        database_url=cluster.url("studio_match"),
        public_url="http://testserver",
        log_format="text",
        database=DatabaseLimits(**limits),
    )


@dataclass
class People:
    """Rows the tests act on, committed on the private cluster."""

    enterprise: User
    expert: User
    admin: User
    studio_id: int
    secret: str = Settings().secret_key.get_secret_value()

    def auth(self, user: User) -> dict[str, str]:
        return bearer(user, self.secret)


@pytest.fixture(scope="module")
async def setup_engine(cluster: PrivateCluster) -> AsyncIterator[AsyncEngine]:
    """An engine for set-up and checks (SQLAlchemy's defaults, no limits)."""
    engine = create_engine(cluster.url("studio_match"))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def people(setup_engine: AsyncEngine) -> People:
    async with AsyncSession(setup_engine, expire_on_commit=False) as session:
        company = await make_enterprise(session)
        studio = await make_studio(session, company)
        enterprise = await make_user(session, UserRole.ENTERPRISE, enterprise=company)
        expert = await make_user(session, UserRole.EXPERT, expert=await make_expert(session))
        admin = await make_user(session, UserRole.ADMIN)
        await session.commit()
        return People(enterprise=enterprise, expert=expert, admin=admin, studio_id=studio.id)


async def _published_order(engine: AsyncEngine, studio_id: int) -> int:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        order = await make_order(session, studio=await session.get_one(Studio, studio_id))
        await session.commit()
        return order.id


def _assert_fault(response: httpx.Response, *codes: str) -> str:
    body = assert_problem(response, 503, response.json().get("code", "?"))
    assert body["code"] in (codes or FAULT_CODES), body
    assert int(response.headers["retry-after"]) > 0
    return str(body["code"])


# ------------------------------------------------------------------------------------------ timeouts


async def test_every_connection_runs_under_the_configured_timeouts(cluster: PrivateCluster) -> None:
    engine = create_engine(
        cluster.url("studio_match"),
        limits=DatabaseLimits(statement_timeout_seconds=0.2, lock_timeout_seconds=0.1),
    )
    try:
        async with engine.connect() as connection:
            shown = [
                (await connection.execute(text(f"SHOW {name}"))).scalar_one()
                for name in ("statement_timeout", "lock_timeout", "application_name")
            ]
            assert shown == ["200ms", "100ms", "studio-match"]
            # a statement past the timeout is cancelled by the server, and that is a 503 database_timeout
            with pytest.raises(Exception) as raised:
                await connection.execute(text("SELECT pg_sleep(2)"))
            assert isinstance(database_fault(raised.value), DatabaseTimeout)
    finally:
        await engine.dispose()


@pytest.fixture
async def app_client(cluster: PrivateCluster, request: pytest.FixtureRequest) -> AsyncIterator[AsyncClient]:
    """A client of an app on the private cluster with the limits given by ``@pytest.mark.parametrize``."""
    app = create_app(_settings(cluster, **getattr(request, "param", {})))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(
            transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
        ) as client,
    ):
        yield client


class RowLock:
    """An order's row locked by another connection (``SELECT … FOR UPDATE``) until ``release``."""

    def __init__(self, cluster: PrivateCluster, order_id: int) -> None:
        self.cluster, self.order_id = cluster, order_id

    async def __aenter__(self) -> RowLock:
        self.connection = await asyncpg.connect(
            host="127.0.0.1", port=self.cluster.port, user="postgres", database="studio_match"
        )
        self.transaction = self.connection.transaction()
        await self.transaction.start()
        await self.connection.execute("SELECT id FROM orders WHERE id = $1 FOR UPDATE", self.order_id)
        return self

    async def release(self) -> None:
        if not self.connection.is_closed():
            await self.transaction.rollback()
            await self.connection.close()

    async def __aexit__(self, *exc: object) -> None:
        await self.release()


@pytest.mark.parametrize(
    "app_client", [{"lock_timeout_seconds": 0.5, "pool_size": 2, "max_overflow": 0}], indirect=True
)
async def test_a_held_row_lock_is_a_quick_503_and_other_reads_go_on(
    cluster: PrivateCluster, setup_engine: AsyncEngine, people: People, app_client: AsyncClient
) -> None:
    order_id = await _published_order(setup_engine, people.studio_id)
    async with RowLock(cluster, order_id) as lock:
        take = asyncio.create_task(
            app_client.post(f"{API}/orders/{order_id}/takings", json={}, headers=people.auth(people.expert))
        )
        reads = [await app_client.get(f"{API}/experts") for _ in range(6)]  # the pool is not exhausted
        await asyncio.wait({take}, timeout=4)
        answered_under_lock = take.done()
        await lock.release()  # only now: without a lock timeout the take would have waited for this
        taken = await take
        assert [r.status_code for r in reads] == [200] * 6
        assert answered_under_lock, "the request waited for the lock instead of timing out"
        assert _assert_fault(taken, "database_timeout") == "database_timeout"
    # once the lock is gone the same request goes through
    retried = await app_client.post(
        f"{API}/orders/{order_id}/takings", json={}, headers=people.auth(people.expert)
    )
    assert retried.status_code == 201, retried.text


@pytest.mark.parametrize(
    "app_client",
    [{"lock_timeout_seconds": 5, "pool_size": 1, "max_overflow": 0, "pool_timeout_seconds": 0.3}],
    indirect=True,
)
async def test_an_exhausted_pool_is_a_503_not_a_500(
    cluster: PrivateCluster, setup_engine: AsyncEngine, people: People, app_client: AsyncClient
) -> None:
    order_id = await _published_order(setup_engine, people.studio_id)
    async with RowLock(cluster, order_id) as lock:
        # the take waits for the lock and holds the pool's only connection meanwhile
        take = asyncio.create_task(
            app_client.post(f"{API}/orders/{order_id}/takings", json={}, headers=people.auth(people.expert))
        )
        await asyncio.sleep(0.3)
        read = await app_client.get(f"{API}/experts")
        assert _assert_fault(read, "database_busy") == "database_busy"
        ready = await app_client.get("/readyz")
        assert _assert_fault(ready, "database_busy") and ready.json()["database"] == "busy"
        await lock.release()
        assert (await take).status_code == 201


@pytest.mark.parametrize(
    "app_client", [{"command_timeout_seconds": 1, "connect_timeout_seconds": 1}], indirect=True
)
async def test_a_frozen_database_is_a_503_within_the_command_timeout_not_a_hang(
    cluster: PrivateCluster, app_client: AsyncClient
) -> None:
    assert (await app_client.get(f"{API}/experts")).status_code == 200  # a pooled connection exists
    cluster.freeze(True)
    try:
        started = time.monotonic()
        read = await asyncio.wait_for(app_client.get(f"{API}/experts"), timeout=15)
        waited = time.monotonic() - started
    finally:
        cluster.freeze(False)
    assert _assert_fault(read) in FAULT_CODES
    assert waited < 5, f"a frozen database should be given up on after about 1 s, took {waited:.1f} s"
    assert (await app_client.get(f"{API}/experts")).status_code == 200  # and it recovers by itself


# ------------------------------------------------------------------------- database out of reach


async def test_an_unreachable_database_is_a_503_for_the_api_the_pages_and_the_probe() -> None:
    closed = _free_port()  # nothing listens there
    app = create_app(
        Settings(
            database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/studio_match",
            public_url="http://testserver",
            log_format="text",
        )
    )
    async with (
        app.router.lifespan_context(app),
        AsyncClient(
            transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
        ) as client,
    ):
        ready = await client.get("/readyz")
        body = assert_problem(ready, 503, "database_unavailable")
        assert ready.headers["retry-after"] == "5"
        assert body["database"] == "unreachable"
        assert _assert_fault(await client.get(f"{API}/experts")) == "database_unavailable"
        page = await client.get("/experts")  # the directory page reads the database
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["retry-after"] == "5"
        assert "数据库暂时不可用" in page.text
        # the liveness probe never needs the database
        assert (await client.get("/healthz")).status_code == 200
        # every code resolves to its explanation
        for code in (*FAULT_CODES, "database_not_migrated", "internal"):
            assert (await client.get(f"/problems/{code}")).status_code == 200


# -------------------------------------------------------------------- no read after the commit


@pytest.fixture
def stop_after_commit(cluster: PrivateCluster) -> Iterator[list[bool]]:
    """Arm with ``armed[0] = True``: the next commit is followed by a crash of the database server.

    It restarts when the test ends. Whatever the request reads after its commit then fails for real.
    """
    armed = [False]

    def crash(session: Session) -> None:
        if armed[0]:
            armed[0] = False
            cluster.stop("immediate")

    event.listen(Session, "after_commit", crash)
    try:
        yield armed
    finally:
        event.remove(Session, "after_commit", crash)
        if not cluster.running():
            cluster.start()


async def test_a_committed_write_is_answered_even_if_the_database_goes_away_after_the_commit(
    cluster: PrivateCluster,
    setup_engine: AsyncEngine,
    people: People,
    app_client: AsyncClient,
    stop_after_commit: list[bool],
) -> None:
    order_id = await _published_order(setup_engine, people.studio_id)
    async with AsyncSession(setup_engine, expire_on_commit=False) as session:
        taking = OrderTaking(
            order_id=order_id,
            expert_id=people.expert.expert_id,
            source=TakingSource.TAKEN,
            status=TakingStatus.PENDING,
            taken_by_user_id=people.expert.id,
        )
        session.add(taking)
        await session.commit()

    stop_after_commit[0] = True
    confirmed = await app_client.post(
        f"{API}/takings/{taking.id}/confirm", headers=people.auth(people.enterprise)
    )
    assert confirmed.status_code == 201, confirmed.text
    agreement = confirmed.json()
    assert agreement["status"] == "draft"

    cluster.start()
    stop_after_commit[0] = True
    edited = await app_client.patch(
        f"{API}/agreements/{agreement['id']}",
        json={"goals": "解决主轴振动问题", "version": agreement["version"]},
        headers=people.auth(people.enterprise),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["goals"] == "解决主轴振动问题"

    cluster.start()
    async with AsyncSession(setup_engine) as session:
        saved = await session.get_one(Agreement, agreement["id"])
        assert (saved.goals, saved.version) == ("解决主轴振动问题", edited.json()["version"])
        saved.status = AgreementStatus.IN_PROGRESS  # signed by both, as far as the catalogue cares
        await session.commit()

    stop_after_commit[0] = True
    catalogued = await app_client.post(f"{API}/projects/{agreement['id']}", headers=people.auth(people.admin))
    assert catalogued.status_code == 201, catalogued.text
    assert catalogued.json()["catalogued_at"] is not None

    # a review round with one scored project: the funding decision answers with the ranking
    cluster.start()
    async with AsyncSession(setup_engine, expire_on_commit=False) as session:
        reviewer = await make_user(session, UserRole.EXPERT, expert=await make_expert(session))
        await session.commit()
    year = local_today().year
    admin = people.auth(people.admin)
    assert (
        await app_client.post(f"{API}/review-rounds", json={"year": year}, headers=admin)
    ).status_code == 201
    assigned = await app_client.post(
        f"{API}/review-rounds/{year}/reviewers",
        json={"agreement_id": agreement["id"], "expert_id": reviewer.expert_id},
        headers=admin,
    )
    scores = {"progress_score": 80, "technical_score": 85, "difficulty_score": 70, "benefit_score": 90}
    reviewed = await app_client.put(
        f"{API}/reviews/{assigned.json()['id']}", json=scores, headers=people.auth(reviewer)
    )
    assert reviewed.status_code == 200, reviewed.text
    stop_after_commit[0] = True
    funded = await app_client.post(
        f"{API}/review-rounds/{year}/funding",
        json={"decisions": [{"agreement_id": agreement["id"], "decision": "funded", "amount": 100_000}]},
        headers=admin,
    )
    assert funded.status_code == 200, funded.text
    assert [(r["agreement_id"], r["decision"]) for r in funded.json()] == [(agreement["id"], "funded")]


async def test_a_draft_posted_for_publishing_is_kept_when_the_database_goes_away_after_saving_it(
    cluster: PrivateCluster,
    setup_engine: AsyncEngine,
    people: People,
    app_client: AsyncClient,
    stop_after_commit: list[bool],
) -> None:
    token = await logged_in(app_client, people.enterprise)
    stop_after_commit[0] = True  # the draft's commit; publishing it then finds no database
    posted = await app_client.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "studio_id": people.studio_id,
            "title": "保存后数据库停机的需求",
            "description": "草稿已保存，发布时数据库不可用，页面应带用户回到草稿而不是报错。",
            "need_kind": "consulting",
            "action": "publish",
        },
    )
    # the answer is the saved draft's page, which says why it is not published: a retry publishes it
    assert posted.status_code == 303, posted.text
    location = posted.headers["location"]
    assert re.fullmatch(r"/orders/\d+\?problem=database_unavailable", location), location
    cluster.start()
    async with AsyncSession(setup_engine) as session:
        titles = (
            await session.scalars(select(Order.title).where(Order.title == "保存后数据库停机的需求"))
        ).all()
    assert len(titles) == 1


# ------------------------------------------------------------------ a real server, real connections


@pytest.fixture(scope="module")
def server(cluster: PrivateCluster) -> Iterator[str]:
    """uvicorn on a free port, serving the app on the private cluster (plus two routes with a bug)."""
    app: FastAPI = create_app(_settings(cluster, connect_timeout_seconds=2))

    @app.get(f"{API}/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/boom")
    async def boom_page() -> None:
        raise RuntimeError("a bug on a page")

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, ws="none", lifespan="on")
    )
    # a thread of this process: the app is imported already, so the server is up at once
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
        assert thread.is_alive(), "the server stopped"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class Load:
    """What the clients saw."""

    statuses: list[int] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    acknowledged: dict[int, str] = field(default_factory=dict)  # order id → title
    transport_errors: list[str] = field(default_factory=list)
    succeeded_after_restart: int = 0


async def test_the_database_stopped_and_started_under_load_gives_only_503s_and_loses_nothing(
    cluster: PrivateCluster, setup_engine: AsyncEngine, people: People, server: str
) -> None:
    base = server
    load = Load()
    restarted, recovered = asyncio.Event(), asyncio.Event()
    done = asyncio.Event()
    headers = people.auth(people.enterprise)

    async def client(n: int, http: AsyncClient) -> None:
        i = 0
        while not done.is_set():
            i += 1
            title = f"负载下的需求 {n}-{i}"
            try:
                if i % 3:
                    response = await http.post(
                        f"{API}/orders",
                        headers=headers,
                        json={
                            "studio_id": people.studio_id,
                            "title": title,
                            "description": "数据库重启期间提交的需求，用于检查已确认的写入不会丢失。",
                            "need_kind": "tech_breakthrough",
                        },
                    )
                else:
                    response = await http.get(f"{API}/orders?page_size=5", headers=headers)
            except httpx.HTTPError as error:
                load.transport_errors.append(repr(error))
                await asyncio.sleep(0.05)
                continue
            load.statuses.append(response.status_code)
            if response.status_code == 503:
                load.faults.append(_assert_fault(response))
                await asyncio.sleep(0.05)
            elif response.status_code in (200, 201):
                if response.status_code == 201:
                    load.acknowledged[response.json()["id"]] = title
                if restarted.is_set():
                    load.succeeded_after_restart += 1
                    if load.succeeded_after_restart >= 10:
                        recovered.set()

    async with AsyncClient(base_url=base, timeout=30) as http:
        clients = [asyncio.create_task(client(n, http)) for n in range(6)]
        await asyncio.sleep(1.5)
        await asyncio.to_thread(cluster.stop, "immediate")
        await asyncio.sleep(0.5)
        ready = await http.get("/readyz")
        body = assert_problem(ready, 503, "database_unavailable")
        assert body["database"] == "unreachable" and "retry-after" in ready.headers
        await asyncio.sleep(1.5)
        await asyncio.to_thread(cluster.start)
        restarted.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(recovered.wait(), timeout=20)
        done.set()
        await asyncio.gather(*clients)
        assert (await http.get("/readyz")).status_code == 200

    seen = (
        f"answers {sorted((c, load.statuses.count(c)) for c in set(load.statuses))}, faults {load.faults[:3]}"
    )
    unexpected = sorted({s for s in load.statuses if s not in (200, 201, 503)})
    assert not unexpected, f"answers other than 200/201/503: {unexpected}; {seen}"
    assert not load.transport_errors, load.transport_errors[:5]
    assert load.faults, f"the clients never saw the database down; {seen}"
    assert load.succeeded_after_restart >= 10, f"the service did not recover without a restart; {seen}"
    async with AsyncSession(setup_engine) as session:
        rows = dict(
            (
                await session.execute(select(Order.id, Order.title).where(Order.id.in_(load.acknowledged)))
            ).all()
        )
    assert rows == load.acknowledged, "an acknowledged write is missing"


def test_an_unexpected_error_keeps_the_keep_alive_connection_open(server: str) -> None:
    connection = http.client.HTTPConnection(*server.removeprefix("http://").split(":"), timeout=10)
    answers = []
    for path in (f"{API}/boom", "/boom", "/healthz"):
        connection.request("GET", path)
        sock = connection.sock
        response = connection.getresponse()
        answers.append((response.status, response.getheader("content-type"), response.read()))
        # the same TCP connection carries the next request: the server did not close it
        assert sock is not None and connection.sock is sock and not response.will_close
    connection.close()
    (api_status, api_type, api_body), (page_status, page_type, page_body), (ok_status, _, _) = answers
    assert (api_status, api_type) == (500, "application/problem+json")
    assert b'"code":"internal"' in api_body and b"Traceback" not in api_body
    assert page_status == 500 and page_type.startswith("text/html")
    assert "服务器内部错误" in page_body.decode()
    assert ok_status == 200
