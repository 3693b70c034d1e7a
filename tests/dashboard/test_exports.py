"""``GET /api/v1/dashboard/export/{table}.xlsx``: every table opens in openpyxl with Chinese headers."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.dashboard.schemas import DashboardTable
from tests.dashboard.scenario import YEAR, Scenario, build_scenario
from tests.factories import make_user
from tests.problems import Auth, assert_problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACCEPTANCE = ["建议数", "已接受", "已婉拒", "接受率", "促成接单", "促成接单比例"]
BREAKDOWN = ["发布需求", "已接单需求", "生效协议", "交付协议"]

# table → (sheet title, headers)
TABLES: dict[str, tuple[str, list[str]]] = {
    "kpis": ("核心指标", ["指标", "当年值", "年度目标", "单位", "完成进度", "是否达标", "口径说明"]),
    "funnel": ("匹配漏斗", ["环节", "需求数", "环节转化率", "占已发布比例", "自发布起中位天数"]),
    "acceptance_by_rank": ("按排名的接受率", ["排名", *ACCEPTANCE]),
    "acceptance_by_version": ("按版本的接受率", ["匹配器版本", *ACCEPTANCE]),
    "decline_reasons": ("婉拒原因", ["婉拒原因", "次数", "示例"]),
    "ratings": ("交付评价", ["评价方向", "评价数", "平均分", "1分", "2分", "3分", "4分", "5分"]),
    "relevance": ("相关性判定", ["指标", "nDCG@10", "有判定的需求数", "已判定建议数", "相关", "不相关"]),
    "coverage_gaps": (
        "覆盖缺口",
        ["领域", "缺口需求数", "无匹配建议", "最佳建议低于阈值", "当年发布需求数", "示例需求"],
    ),
    "by_district": ("按区县", ["区县", *BREAKDOWN]),
    "by_cohort": ("按专家批次", ["专家批次", "已接单需求", "生效协议", "交付协议"]),
    "by_star": ("按工作室星级", ["工作室星级", *BREAKDOWN]),
    "by_alliance": ("按创新联盟", ["创新联盟", *BREAKDOWN]),
    "trend": ("月度趋势", ["月份", "发布需求", "接单", "生效协议", "交付协议"]),
}


@pytest.fixture
async def scenario(session: AsyncSession) -> Scenario:
    return await build_scenario(session)


async def export(client: AsyncClient, headers: dict[str, str], table: str, year: int = YEAR) -> Worksheet:
    response = await client.get(
        f"/api/v1/dashboard/export/{table}.xlsx", params={"year": year}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    title = TABLES[table][0]
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="dashboard-{year}-{table}.xlsx"' in disposition
    assert f"filename*=UTF-8''{quote(f'管理驾驶舱-{year}-{title}.xlsx')}" in disposition
    assert response.headers["cache-control"] == "no-store"
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.worksheets) == 1
    sheet = workbook.worksheets[0]
    assert sheet.title == title
    assert sheet.freeze_panes == "A2"
    return sheet


def rows(sheet: Worksheet) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_every_table_of_the_dashboard_is_exportable() -> None:
    assert set(TABLES) == {t.value for t in DashboardTable}


@pytest.mark.parametrize("table", list(TABLES))
async def test_each_table_exports_with_chinese_headers(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario, table: str
) -> None:
    sheet = await export(client, auth(admin), table)

    assert [c.value for c in sheet[1]] == TABLES[table][1]
    assert sheet.max_row >= 2


async def test_exported_figures_match_the_dashboard(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    headers = auth(admin)

    assert rows(await export(client, headers, "kpis")) == [
        ("示范共建", 2, 20, "项", 0.1, "否", "当年列入共建项目目录的协议数"),
        (
            "技术革新/发明创造/成果",
            3,
            500,
            "项",
            0.006,
            "否",
            "当年取得的成果数（按取得日期，未填日期的按登记时间）",
        ),
        ("成果转化率", 66.67, 80, "%", 0.8333, "否", "已转化 2 项 / 当年成果 3 项"),
        ("培训职工人次", 500, 5000, "人次", 0.1, "否", "当年举办的培训的受训人次之和"),
    ]
    assert rows(await export(client, headers, "funnel")) == [
        ("已发布", 5, None, 1, None),
        ("有匹配建议", 4, 0.8, 0.8, None),
        ("已接单", 4, 1, 0.8, 2.5),
        ("已签约", 3, 0.75, 0.6, 8),
        ("已交付", 1, 0.3333, 0.2, None),
    ]
    by_rank = rows(await export(client, headers, "acceptance_by_rank"))
    assert len(by_rank) == 10
    assert by_rank[0] == ("第 1 位", 4, 2, 2, 0.5, 2, 0.5)
    assert by_rank[9] == ("第 10 位", 0, 0, 0, None, 0, None)
    assert rows(await export(client, headers, "acceptance_by_version")) == [
        ("tfidf-ranker-1:aaaaaaaaaa", 4, 1, 2, 0.3333, 1, 0.25),
        ("tfidf-ranker-1:bbbbbbbbbb", 6, 2, 3, 0.4, 2, 0.3333),
    ]
    o = scenario.orders
    reasons = rows(await export(client, headers, "decline_reasons"))
    assert [r[:2] for r in reasons] == [("方向不符", 3), ("时间冲突", 1), ("未填写原因", 1)]
    assert reasons[0][2] == "\n".join(
        [
            f"需求 #{o['o1'].id} 需求o1（专家 王芳）",
            f"需求 #{o['o2'].id} 需求o2（专家 王芳）",
            f"需求 #{o['o5'].id} 需求o5（专家 陈静）",
        ]
    )
    assert rows(await export(client, headers, "ratings")) == [
        ("企业评专家", 2, 3.5, 0, 1, 0, 0, 1),
        ("专家评企业", 1, 4, 0, 0, 0, 1, 0),
    ]
    assert rows(await export(client, headers, "relevance")) == [("在线匹配器", 0.7103, 3, 6, 4, 2)]
    assert rows(await export(client, headers, "coverage_gaps")) == [
        ("海洋生物", 2, 1, 1, 2, f"#{o['o4'].id} 需求o4\n#{o['o5'].id} 需求o5"),
        ("数控加工", 1, 0, 1, 3, f"#{o['o5'].id} 需求o5"),
        ("未标注领域", 1, 0, 1, 1, f"#{o['o3'].id} 需求o3"),
    ]
    assert rows(await export(client, headers, "by_district")) == [
        ("邗江区", 2, 3, 3, 2),
        ("江都区", 2, 2, 0, 0),
        ("仪征市", 1, 1, 1, 0),
    ]
    assert rows(await export(client, headers, "by_cohort")) == [
        ("第13批（2020年）", 4, 2, 2),
        ("第14批（2021年）", 2, 2, 0),
        ("未标注批次", 1, 0, 0),
    ]
    assert rows(await export(client, headers, "by_star"))[3] == ("三星级", 2, 3, 3, 2)
    assert rows(await export(client, headers, "by_alliance"))[-1] == ("未加入联盟", 2, 2, 1, 0)
    trend = rows(await export(client, headers, "trend"))
    assert len(trend) == 12
    assert trend[0] == ("1月", 1, 2, 2, 0)
    assert trend[11] == ("12月", 0, 0, 0, 0)


async def test_an_empty_year_exports_headers_and_empty_figures(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    headers = auth(admin)

    assert rows(await export(client, headers, "decline_reasons", 2030)) == []
    assert rows(await export(client, headers, "relevance", 2030)) == [("在线匹配器", None, 0, 0, 0, 0)]
    assert rows(await export(client, headers, "kpis", 2030))[2][:3] == ("成果转化率", None, 80)


async def test_an_unknown_table_or_year_is_a_422(client: AsyncClient, auth: Auth, admin: User) -> None:
    headers = auth(admin)

    response = await client.get("/api/v1/dashboard/export/secrets.xlsx", headers=headers)
    assert_problem(response, 422, "request_invalid", "table")
    response = await client.get("/api/v1/dashboard/export/kpis.xlsx", params={"year": 1999}, headers=headers)
    assert_problem(response, 422, "request_invalid", "year")


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_only_administrators_export(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    user = await make_user(session, role)

    response = await client.get("/api/v1/dashboard/export/kpis.xlsx", headers=auth(user))

    assert_problem(response, 403, "forbidden")
