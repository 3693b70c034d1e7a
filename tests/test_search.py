"""Search on the matcher's own tokens (app/search.py): what a query finds, the field filters, paging,
the capped count, and filling the tokens of rows written before the column existed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app import migrations, repository
from app.accounts.models import User
from app.achievements.repository import AchievementFilters, AchievementRepository
from app.db import create_engine
from app.experts.repository import ExpertFilters, ExpertRepository
from app.orders.repository import OrderFilters, OrderRepository
from app.pagination import PageParams
from app.search import backfill_search_tokens, query_tokens
from tests.conftest import TEST_DATABASE, create_database, drop_database, recorded_statements
from tests.factories import make_expert, make_order, make_studio
from tests.problems import Auth, assert_problem

ORDERS = "/api/v1/orders"


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# --- the query's tokens -------------------------------------------------------------------------


def test_a_traditional_query_has_the_tokens_of_its_simplified_twin() -> None:
    assert query_tokens("數控機床 主軸振動") == query_tokens("数控机床 主轴振动")


def test_a_query_of_stopwords_and_punctuation_has_no_tokens() -> None:
    assert query_tokens("%") == []
    assert query_tokens("，。、") == []


# --- orders ---------------------------------------------------------------------------------


async def test_a_traditional_query_finds_simplified_text(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    spindle = await make_order(session, title="数控机床主轴振动诊断", description="工件表面出现振纹。")
    await make_order(session, title="船体分段焊接变形控制", description="薄板焊后变形大。")

    for query in ("數控機床", "機床主軸", "振紋", "数控机床", "機床"):
        assert ids(await client.get(ORDERS, params={"q": query}, headers=auth(admin))) == [spindle.id], query


async def test_every_word_of_the_query_must_appear(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    both = await make_order(session, title="注塑模具冷却水路优化", description="PLC 控制的模温机。")
    await make_order(session, title="注塑件翘曲", description="模具温度不均。")

    response = await client.get(ORDERS, params={"q": "注塑 plc"}, headers=auth(admin))

    assert ids(response) == [both.id]


async def test_an_edited_description_is_found_by_its_new_words_only(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    order = await make_order(session, title="磨床改造", description="主轴振动明显增大。")

    edited = await client.patch(
        f"{ORDERS}/{order.id}", json={"description": "砂轮修整精度不足。"}, headers=auth(admin)
    )

    assert edited.status_code == 200, edited.text
    assert ids(await client.get(ORDERS, params={"q": "砂轮修整"}, headers=auth(admin))) == [order.id]
    assert ids(await client.get(ORDERS, params={"q": "主轴振动"}, headers=auth(admin))) == []


async def test_the_field_filter_matches_a_whole_field_in_either_script(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    machining = await make_order(session, fields=["数控加工", "精密磨削"])
    await make_order(session, fields=["数控加工设备"])
    await make_order(session, title="数控加工工艺", fields=["焊接"])  # in the text, not a field

    for field in ("数控加工", "數控加工"):
        response = await client.get(ORDERS, params={"field": field}, headers=auth(admin))
        assert ids(response) == [machining.id], field


async def test_search_pages_are_stable_across_ties(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    tied = [await make_order(session, title="激光熔覆修复", created_at=moment) for _ in range(5)]
    await make_order(session, title="船体焊接", created_at=moment)

    pages = [
        (
            await client.get(ORDERS, params={"q": "激光熔覆", "page_size": 2, "page": n}, headers=auth(admin))
        ).json()
        for n in (1, 2, 3)
    ]

    assert [item["id"] for p in pages for item in p["items"]] == [o.id for o in reversed(tied)]
    assert [(p["total"], p["total_exact"], p["has_more"]) for p in pages] == [(5, True, True)] * 2 + [
        (5, True, False)
    ]


async def test_a_long_list_is_counted_up_to_the_limit(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "COUNT_LIMIT", 3)
    for _ in range(5):
        await make_order(session, title="超声波焊接参数优化")

    first = (await client.get(ORDERS, params={"q": "超声波", "page_size": 2}, headers=auth(admin))).json()
    last = (
        await client.get(ORDERS, params={"q": "超声波", "page_size": 2, "page": 3}, headers=auth(admin))
    ).json()

    assert (first["total"], first["total_exact"], first["has_more"]) == (3, False, True)
    assert (len(last["items"]), last["total"], last["total_exact"], last["has_more"]) == (1, 5, True, False)


async def test_a_page_and_its_count_are_one_statement(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "COUNT_LIMIT", 3)
    studio = await make_studio(session)
    for _ in range(5):
        await make_order(session, studio, title="超声波焊接参数优化")
    headers = auth(admin)

    response, statements = await recorded_statements(
        session,
        lambda: client.get(ORDERS, params={"studio_id": studio.id, "page_size": 2}, headers=headers),
    )

    assert response.json()["total"] == 3
    orders = [s for s in statements if "FROM orders" in s]
    assert len(orders) == 1, "\n".join(orders)


@pytest.mark.parametrize("matches", [3, 5])
async def test_a_search_reads_few_matches_by_id_and_many_along_the_sort_index(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    monkeypatch: pytest.MonkeyPatch,
    matches: int,
) -> None:
    monkeypatch.setattr(repository, "COUNT_LIMIT", 3)
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    found = [
        await make_order(session, title="超声波焊接参数优化", created_at=moment.replace(day=n + 1))
        for n in range(matches)
    ]
    await make_order(session, title="船体焊接")
    headers = auth(admin)

    async def three_pages() -> list[Response]:
        return [
            await client.get(ORDERS, params={"q": "超声波", "page_size": 2, "page": n}, headers=headers)
            for n in (1, 2, 3)
        ]

    pages, statements = await recorded_statements(session, three_pages)

    newest_first = [o.id for o in reversed(found)]
    assert [item["id"] for p in pages for item in p.json()["items"]] == newest_first
    counts = [(p.json()["total"], p.json()["total_exact"], p.json()["has_more"]) for p in pages]
    if matches == 3:  # counted in full: read by id
        assert counts == [(3, True, True), (3, True, False), (3, True, False)]
    else:  # more than the count limit: the pages walk the sort's index, the last one knows the total
        assert counts == [(3, False, True), (4, False, True), (5, True, False)]
    if session.bind.dialect.name == "postgresql":
        walks = [s for s in statements if "enable_bitmapscan', 'off'" in s]
        assert len(walks) == (0 if matches == 3 else 3), statements
        # the planner is left as it was for whatever the transaction runs next
        assert (await session.execute(text("SHOW enable_bitmapscan"))).scalar_one() == "on"


async def test_a_page_deeper_than_the_offset_limit_is_refused(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.get(ORDERS, params={"page": 102, "page_size": 100}, headers=auth(admin))

    assert_problem(response, 422, "request_invalid", "page")


async def test_the_hall_page_finds_traditional_queries(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    await make_order(session, title="数控机床主轴振动诊断")

    page = await client.get("/orders", params={"q": "數控機床"}, headers=auth(admin))

    assert page.status_code == 200
    assert "数控机床主轴振动诊断" in page.text
    assert "共 1 条已发布的需求" in page.text


# --- experts and achievements --------------------------------------------------------------------


async def test_experts_by_discipline_and_text(session: AsyncSession) -> None:
    grinding = await make_expert(session, disciplines=["机械工程"], bio="砂轮修整与精密磨削。")
    await make_expert(session, disciplines=["机械工程及自动化"], bio="纺织机械。")
    repository_ = ExpertRepository(session)
    first = PageParams(page=1, page_size=20)

    by_discipline = await repository_.list(ExpertFilters(discipline="機械工程"), first, "id")
    by_text = await repository_.list(ExpertFilters(q="精密磨削", discipline="机械工程"), first, "id")

    assert [e.id for e in by_discipline.items] == [grinding.id]
    assert [e.id for e in by_text.items] == [grinding.id]


# --- rows written before the tokens existed ------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def database_before_tokens(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind at the revision before the search tokens."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'backfill.db'}"
        migrations.upgrade(url, "20261122_0002")
        yield url
        return
    name = f"{TEST_DATABASE}_backfill"
    url = create_database(name)
    migrations.upgrade(url, "20261122_0002")
    yield url
    drop_database(name)


OLD_ROWS = [
    "INSERT INTO enterprises (id, name, credit_code, province, city, district, created_at, updated_at)"
    " VALUES (1, '扬州测试企业', '913210030000000011', '江苏省', '扬州市', '邗江区', :now, :now)",
    "INSERT INTO studios (id, enterprise_id, name, kind, status, leader_name, leader_honours, fields,"
    " members_count, star_rating, description, created_at, updated_at) VALUES (1, 1, '王工工作室',"
    " 'craftsman', 'active', '王工', '[]', '[]', 3, 0, '', :now, :now)",
    "INSERT INTO orders (id, studio_id, title, description, need_kind, fields, province, city, district,"
    " slots, status, version, created_at, updated_at) VALUES (1, 1, '數控機床主軸振動診斷', '振紋明顯。',"
    " 'tech_breakthrough', '[\"數控加工\"]', '江苏省', '扬州市', '邗江区', 1, 'published', 1, :now, :now)",
    "INSERT INTO experts (id, name, title, university, disciplines, capacity, bio, created_at, updated_at)"
    " VALUES (1, '周砚清', '教授', '江苏大学', '[\"机械工程\"]', 3, '伺服系统振动诊断。', :now, :now)",
    "INSERT INTO achievements (id, expert_id, kind, title, abstract, keywords, maturity, created_at,"
    " updated_at) VALUES (1, 1, 'patent', '一种颤振在线辨识方法', '', '[\"颤振辨识\"]', 'pilot', :now, :now)",
]


async def _write_old_rows(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in OLD_ROWS:
                await connection.execute(text(statement), {"now": datetime(2026, 1, 5, tzinfo=UTC)})
    finally:
        await engine.dispose()


async def _search_after_backfill(url: str) -> dict[str, object]:
    engine = create_engine(url)
    first = PageParams(page=1, page_size=20)
    try:
        async with AsyncSession(engine) as session:
            before = await OrderRepository(session).list(
                OrderFilters(q="数控机床"), first, "-created_at", private_visible_to=None, all_visible=True
            )
            filled = await backfill_search_tokens(session)
            again = await backfill_search_tokens(session)
            orders = await OrderRepository(session).list(
                OrderFilters(q="数控机床", field="数控加工"),
                first,
                "-created_at",
                private_visible_to=None,
                all_visible=True,
            )
            experts = await ExpertRepository(session).list(ExpertFilters(q="振動診斷"), first, "id")
            achievements = await AchievementRepository(session).list(
                AchievementFilters(keyword="颤振辨识"), first, "id"
            )
            updated_at = (await session.execute(text("SELECT updated_at FROM orders"))).scalar_one()
            statistics = (
                []
                if url.startswith("sqlite")
                else (
                    await session.execute(
                        text(
                            "SELECT tablename, null_frac FROM pg_stats WHERE attname = 'search_tokens'"
                            " ORDER BY tablename"
                        )
                    )
                ).all()
            )
        return {
            "before": len(before.items),
            "filled": filled,
            "again": again,
            "found": (
                [o.id for o in orders.items],
                [e.id for e in experts.items],
                [a.id for a in achievements.items],
            ),
            "updated_at_kept": str(updated_at).startswith("2026-01-05"),
            "statistics": [tuple(row) for row in statistics],
        }
    finally:
        await engine.dispose()


def test_the_migration_and_the_backfill_make_old_rows_searchable(database_before_tokens: str) -> None:
    asyncio.run(_write_old_rows(database_before_tokens))
    migrations.upgrade(database_before_tokens)

    result = asyncio.run(_search_after_backfill(database_before_tokens))

    assert result["before"] == 0  # no tokens yet: not found
    # the order's studio and enterprise are searchable records too
    tables = ("orders", "experts", "achievements", "studios", "enterprises")
    assert result["filled"] == dict.fromkeys(tables, 1)
    assert result["again"] == dict.fromkeys(tables, 0)
    assert result["found"] == ([1], [1], [1])
    assert result["updated_at_kept"]
    # the planner learns the tokens exist (it picks the sort's index for common words only then)
    if not database_before_tokens.startswith("sqlite"):
        assert result["statistics"] == [
            ("achievements", 0.0), ("enterprises", 0.0), ("experts", 0.0), ("orders", 0.0), ("studios", 0.0)
        ]  # fmt: skip
    migrations.downgrade(database_before_tokens, "20261122_0002")  # and the way back works with data in it
