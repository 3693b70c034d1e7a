"""The load benchmark's own loader keeps up with the schema: it writes rows the service accepts.

``scripts/bench_http.py`` bulk-inserts through SQLAlchemy Core, past the services' defaults, so a new
NOT NULL column (``users.username_key`` once) breaks it silently until someone runs the benchmark.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from rich.progress import Progress
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.security import username_key
from app.agreements.models import Agreement, AgreementStatus
from app.db import create_engine
from app.orders.models import Order
from tests.conftest import own_migrated_database

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture(scope="module")
def bench_database_url() -> Iterator[str]:
    yield from own_migrated_database("bench")


def _bench_http() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_http", SCRIPTS / "bench_http.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_http"] = module
    spec.loader.exec_module(module)
    return module


async def test_the_http_benchmark_loads_records_the_service_accepts(bench_database_url: str) -> None:
    bench = _bench_http()
    with Progress(disable=True) as progress:
        fixture = await bench.load_records(bench_database_url, experts=120, orders=300, progress=progress)

    assert len(fixture.agreements) == bench.AGREEMENTS
    engine = create_engine(bench_database_url)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(select(func.count()).select_from(Order)) == 300
            users = (await connection.execute(select(User.username, User.username_key))).all()
            signed = await connection.scalar(
                select(func.count()).where(Agreement.status == AgreementStatus.IN_PROGRESS)
            )
    finally:
        await engine.dispose()
    assert len(users) == 1 + bench.BENCH_ENTERPRISES + bench.BENCH_EXPERTS
    assert all(key == username_key(name) for name, key in users)
    assert signed == bench.AGREEMENTS
