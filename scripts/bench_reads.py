"""Measure listing and searching at scale: orders, experts and achievements on PostgreSQL.

    python scripts/bench_reads.py [--database studio_match_fastreads_bench] [--orders 20000]
        [--experts 10000] [--repeat 30] [--plans plans.txt] [--data ../shared/eval] [--keep]

Creates the database (dropped first if it exists, dropped again at the end unless ``--keep``),
migrates it to head, fills it by bulk insert: 40 enterprises, 200 studios, ``--experts`` experts with
2–5 achievements each, ``--orders`` orders in every status over two years, their texts drawn from the
demo data (``app/demo/data.json``) and the evaluation set (``--data``), with their search tokens
(computed by the same functions as the models' save events, where the code has them). Then it calls the list services
the API and the pages call (``order_service.list_orders`` as an enterprise user, ``list_experts``,
``list_achievements``), times each (wall time of the service call: SQL, driver and ORM), and runs
``EXPLAIN (ANALYZE, BUFFERS)`` on every statement each call issued. Prints a Markdown table; the plans
go to ``--plans``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app import migrations
from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.achievements import service as achievement_service
from app.achievements.models import Achievement
from app.achievements.repository import AchievementFilters
from app.db import create_engine
from app.enterprises.models import Enterprise
from app.experts import service as expert_service
from app.experts.models import Expert
from app.experts.repository import ExpertFilters
from app.orders import service as order_service
from app.orders.models import Order, OrderStatus
from app.orders.repository import OrderFilters
from app.pagination import PageParams
from app.studios.models import Studio

ROOT = Path(__file__).resolve().parent.parent
DISTRICTS = ["邗江区", "广陵区", "江都区", "仪征市", "高邮市", "宝应县", "扬州经济技术开发区", "生态科技新城"]
STATUSES = (
    [OrderStatus.PUBLISHED] * 12
    + [OrderStatus.TAKEN] * 3
    + [OrderStatus.CLOSED] * 2
    + [
        OrderStatus.DRAFT,
        OrderStatus.DRAFT,
        OrderStatus.WITHDRAWN,
    ]
)


def _texts(eval_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    demo = json.loads((ROOT / "app/demo/data.json").read_text(encoding="utf-8"))
    orders = [
        {"title": o["title"], "description": o["description"], "fields": o["fields"]} for o in demo["orders"]
    ]
    experts = list(demo["experts"])
    if (eval_dir / "orders.jsonl").exists():
        fields = sorted({f for o in orders for f in o["fields"]})
        for line in (eval_dir / "orders.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            orders.append(
                {"title": record["title"], "description": record.get("description", ""), "fields": []}
            )
        for line in (eval_dir / "experts.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            experts.append(
                {
                    "name": record["name"],
                    "disciplines": [record["discipline"]] if record.get("discipline") else [],
                    "bio": "",
                    "achievements": [
                        {
                            "title": a["title"],
                            "abstract": a.get("abstract", ""),
                            "keywords": a.get("keywords", []),
                        }
                        for a in record.get("achievements", [])
                    ],
                }
            )
        rng = random.Random(7)
        for order in orders:
            if not order["fields"]:
                order["fields"] = rng.sample(fields, 2)
    return orders, experts


async def fill(engine: AsyncEngine, n_orders: int, n_experts: int, eval_dir: Path) -> None:
    """Bulk-insert the data set (``executemany`` in chunks), then ANALYZE."""
    rng = random.Random(2026)
    order_texts, expert_texts = _texts(eval_dir)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            insert(Enterprise),
            [
                {
                    "name": f"扬州测试企业{i:03d}有限公司",
                    "credit_code": f"91321000{i:09d}X",
                    "province": "江苏省",
                    "city": "扬州市",
                    "district": DISTRICTS[i % len(DISTRICTS)],
                    "town": None,
                    "industry": "制造业",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(40)
            ],
        )
        await conn.execute(
            insert(Studio),
            [
                {
                    "enterprise_id": 1 + i % 40,
                    "name": f"测试创新工作室{i:03d}",
                    "kind": "model_worker",
                    "status": "active",
                    "leader_name": "王工",
                    "leader_honours": [],
                    "fields": [],
                    "members_count": 10,
                    "star_rating": 0,
                    "description": "",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(200)
            ],
        )
        experts, achievements = [], []
        for i in range(n_experts):
            source = expert_texts[i % len(expert_texts)]
            experts.append(
                {
                    "name": source["name"],
                    "title": "教授",
                    "university": rng.choice(
                        ["江苏大学", "扬州大学", "东南大学", "南京理工大学", "河海大学"]
                    ),
                    "department": None,
                    "disciplines": source["disciplines"],
                    "cohort_number": rng.randint(10, 16),
                    "seconded_district": rng.choice(DISTRICTS),
                    "capacity": 3,
                    "bio": source.get("bio", ""),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            pool = source["achievements"] or [{"title": "成果", "abstract": "", "keywords": []}]
            for k in range(rng.randint(2, 5)):
                a = pool[k % len(pool)]
                achievements.append(
                    {
                        "expert_id": i + 1,
                        "kind": "paper",
                        "title": a["title"][:200],
                        "abstract": a["abstract"],
                        "keywords": a["keywords"],
                        "year": rng.randint(2010, 2025),
                        "maturity": "lab",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        for start in range(0, len(experts), 2000):
            await conn.execute(insert(Expert), _with_tokens(Expert, experts[start : start + 2000]))
        for start in range(0, len(achievements), 2000):
            await conn.execute(
                insert(Achievement), _with_tokens(Achievement, achievements[start : start + 2000])
            )
        orders = []
        for _ in range(n_orders):
            head, body = rng.choice(order_texts), rng.choice(order_texts)
            created = now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
            status = rng.choice(STATUSES)
            orders.append(
                {
                    "studio_id": rng.randint(1, 200),
                    "title": head["title"][:200],
                    "description": body["description"],
                    "need_kind": "tech_breakthrough",
                    "fields": head["fields"],
                    "province": "江苏省",
                    "city": "扬州市",
                    "district": rng.choice(DISTRICTS),
                    "slots": 1,
                    "status": status,
                    "deadline": date.today() + timedelta(days=rng.randint(-100, 300)),
                    # many orders share a moment: paging must stay stable under ties
                    "published_at": None
                    if status is OrderStatus.DRAFT
                    else created.replace(second=0, microsecond=0),
                    "version": 1,
                    "created_at": created.replace(microsecond=0),
                    "updated_at": created,
                }
            )
        for start in range(0, len(orders), 2000):
            await conn.execute(insert(Order), _with_tokens(Order, orders[start : start + 2000]))
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))


def _with_tokens(model: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their search tokens, where this version of the code has them (computed as the
    mapper events and ``studio-match backfill-search`` do; repeated texts are tokenized once)."""
    try:
        from app.achievements.models import achievement_tokens
        from app.experts.models import expert_tokens
        from app.orders.models import order_tokens
    except ImportError:
        return rows
    tokens_of = {Order: order_tokens, Expert: expert_tokens, Achievement: achievement_tokens}[model]
    return [
        {**row, "search_tokens": tokens_of(SimpleNamespace(**{"department": None, **row}))} for row in rows
    ]


Case = tuple[str, Callable[[AsyncSession], Awaitable[Any]]]


def cases(enterprise: Actor) -> list[Case]:
    """The list and search calls measured, as the API and the pages make them."""
    first = PageParams(page=1, page_size=20)

    def orders(filters: OrderFilters, sort: str = "-created_at", params: PageParams = first) -> Any:
        return lambda s: order_service.list_orders(s, enterprise, filters, params, sort)

    return [
        ("orders: default sort (-created_at), page 1", orders(OrderFilters())),
        ("orders: default sort, page 50", orders(OrderFilters(), params=PageParams(page=50, page_size=20))),
        (
            "orders: status=published, -published_at (需求大厅)",
            orders(OrderFilters(status=OrderStatus.PUBLISHED), "-published_at"),
        ),
        ("orders: district=江都区", orders(OrderFilters(district="江都区"))),
        ("orders: field=模流分析", orders(OrderFilters(field="模流分析"))),
        ("orders: q=压铸", orders(OrderFilters(q="压铸"))),
        ("orders: q=数控机床 (no row)", orders(OrderFilters(q="数控机床"))),
        (
            "orders: q=園林綠化 (traditional), published",
            orders(OrderFilters(q="園林綠化", status=OrderStatus.PUBLISHED), "-published_at"),
        ),
        (
            "experts: default sort (id)",
            lambda s: expert_service.list_experts(s, ExpertFilters(), first, "id"),
        ),
        (
            "experts: discipline=机械工程, by name",
            lambda s: expert_service.list_experts(s, ExpertFilters(discipline="机械工程"), first, "name"),
        ),
        (
            "experts: q=江苏大学",
            lambda s: expert_service.list_experts(s, ExpertFilters(q="江苏大学"), first, "id"),
        ),
        (
            "achievements: q=颤振",
            lambda s: achievement_service.list_achievements(s, AchievementFilters(q="颤振"), first, "-year"),
        ),
    ]


async def measure(engine: AsyncEngine, repeat: int, plans_path: Path | None) -> list[dict[str, Any]]:
    """Time each case and EXPLAIN ANALYZE its statements."""
    captured: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        captured.append((statement, parameters))

    enterprise = Actor(user_id=1, role=UserRole.ENTERPRISE, enterprise_id=1)
    rows, plans = [], []
    for name, call in cases(enterprise):
        async with AsyncSession(engine) as session:
            result = await call(session)  # warm: statement cache, tokenizer dictionary
        # the matches: a Window now, (items, total) before the search tokens
        total = f"{result.total_label}" if hasattr(result, "total_label") else str(result[1])
        timings = []
        for _ in range(repeat):
            async with AsyncSession(engine) as session:
                started = time.perf_counter()
                await call(session)
                timings.append((time.perf_counter() - started) * 1000)
        captured.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        async with AsyncSession(engine) as session:
            await call(session)
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
        sql_ms = 0.0
        async with engine.connect() as conn:
            for statement, parameters in list(captured):
                result = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = [r[0] for r in result]
                sql_ms += next(float(p.split()[2]) for p in plan if p.startswith("Execution Time"))
                plans.append(f"### {name}\n{statement}\n{parameters}\n" + "\n".join(plan) + "\n")
        timings.sort()
        rows.append(
            {
                "case": name,
                "matches": total,
                "statements": len(captured),
                "sql_ms": round(sql_ms, 2),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
            }
        )
    if plans_path is not None:
        await asyncio.to_thread(plans_path.write_text, "\n".join(plans), encoding="utf-8")
    return rows


async def run(args: argparse.Namespace) -> None:
    admin = create_engine(args.admin_url)
    name = args.database
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(migrations.upgrade, url)
        engine = create_engine(url)
        started = time.perf_counter()
        await fill(engine, args.orders, args.experts, args.data)
        print(
            f"filled {args.orders} orders, {args.experts} experts in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        rows = await measure(engine, args.repeat, args.plans)
        await engine.dispose()
        print(
            "| query | matches | statements | SQL execution (ms, EXPLAIN ANALYZE) | service p50 / p95 (ms) |"
        )
        print("| --- | ---: | ---: | ---: | ---: |")
        for row in rows:
            print(
                f"| {row['case']} | {row['matches']} | {row['statements']} | {row['sql_ms']} "
                f"| {row['p50_ms']} / {row['p95_ms']} |"
            )
    finally:
        if not args.keep:
            async with admin.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="studio_match_fastreads_bench")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--experts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--plans", type=Path, default=None)
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared/eval", help="the evaluation set's texts"
    )
    parser.add_argument("--keep", action="store_true", help="leave the database in place")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
