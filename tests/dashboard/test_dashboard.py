"""``GET /api/v1/dashboard``: every figure of the scenario's year worked out by hand, the years around it,
an empty year, the year parameter and who may look."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.accounts.security import Actor
from app.clock import local_today
from app.config import YearlyTargets
from app.dashboard import service as dashboard_service
from tests.dashboard.scenario import YEAR, Scenario, build_scenario
from tests.factories import make_order, make_studio, make_user
from tests.problems import Auth, assert_problem

URL = "/api/v1/dashboard"


@pytest.fixture
async def scenario(session: AsyncSession) -> Scenario:
    return await build_scenario(session)


async def fetch(client: AsyncClient, headers: dict[str, str], year: int | None = YEAR) -> dict[str, Any]:
    params = {"year": year} if year is not None else {}
    response = await client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_key(rows: list[dict[str, Any]], key: str = "key") -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows}


def counts(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["label"],
        row["published_orders"],
        row["taken_orders"],
        row["agreements_signed"],
        row["agreements_delivered"],
    )


async def test_kpi_cards_measure_the_year_against_the_targets(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    body = await fetch(client, auth(admin))

    assert body["year"] == YEAR
    cards = by_key(body["kpis"])
    assert list(cards) == ["demonstration_cobuilds", "innovations", "conversion_rate", "worker_trainings"]
    # a1 (February) and a6 (July) entered the catalogue in 2025; a2 entered on 2026-01-01 China time
    assert cards["demonstration_cobuilds"] == {
        "key": "demonstration_cobuilds",
        "label": "示范共建",
        "value": 2,
        "target": 20,
        "unit": "项",
        "progress": 0.1,
        "progress_capped": 0.1,
        "met": False,
        "note": "当年列入共建项目目录的协议数",
    }
    # achieved 2025-03-01 (converted), undated but recorded 2025-06-01 (not converted), undated but
    # recorded 2025-01-01 00:30 China time (converted); the 2024 and 2026 achievements do not count
    innovations = cards["innovations"]
    assert (innovations["label"], innovations["value"], innovations["target"]) == (
        "技术革新/发明创造/成果",
        3,
        500,
    )
    assert innovations["progress"] == 0.006 and innovations["unit"] == "项"
    rate = cards["conversion_rate"]
    assert (rate["label"], rate["unit"], rate["target"]) == ("成果转化率", "%", 80.0)
    assert rate["value"] == 66.67
    assert rate["progress"] == round((2 / 3) / 0.8, 4) == 0.8333
    assert rate["progress_capped"] == 0.8333 and rate["met"] is False
    assert rate["note"] == "已转化 2 项 / 当年成果 3 项"
    # 300 (February) + 200 (31 December); not the 999 on 1 January 2026 nor the 50 of 2024
    trainings = cards["worker_trainings"]
    assert (trainings["label"], trainings["value"], trainings["unit"]) == ("培训职工人次", 500, "人次")
    assert (trainings["target"], trainings["progress"]) == (5000, 0.1)


async def test_the_funnel_follows_the_orders_published_in_the_year(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    funnel = (await fetch(client, auth(admin)))["funnel"]

    steps = [
        (s["key"], s["label"], s["orders"], s["conversion"], s["share_of_published"]) for s in funnel["steps"]
    ]
    assert steps == [
        ("published", "已发布", 5, None, 1.0),  # o1–o5 (o6 is 2024, o8 is 2026, o7 a draft)
        ("proposed", "有匹配建议", 4, 0.8, 0.8),  # all but o4
        ("taken", "已接单", 4, 1.0, 0.8),  # o1, o2, o3, o5 (o4 was taken without a proposal)
        ("signed", "已签约", 3, 0.75, 0.6),  # o1, o2, o5 (terminated after signing); o3 has one signature
        ("delivered", "已交付", 1, 0.3333, 0.2),  # o1
    ]
    assert funnel["taken_without_proposals"] == 1
    # first takings 2, 4, 1 and 3 days after publication; agreements effective after 10, 8 and 7 days
    assert funnel["median_days_to_first_taking"] == 2.5
    assert funnel["median_days_to_effective"] == 8.0
    medians = {s["key"]: s["median_days"] for s in funnel["steps"]}
    assert medians == {"published": None, "proposed": None, "taken": 2.5, "signed": 8.0, "delivered": None}


async def test_acceptance_by_rank_and_by_matcher_version(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    body = await fetch(client, auth(admin))

    ranks = body["acceptance_by_rank"]
    assert [r["key"] for r in ranks] == [str(n) for n in range(1, 11)]
    assert ranks[0]["label"] == "第 1 位"

    def figures(row: dict[str, Any]) -> tuple[Any, ...]:
        return (
            row["proposals"],
            row["accepted"],
            row["declined"],
            row["acceptance_rate"],
            row["led_to_taking"],
            row["taking_rate"],
        )

    assert figures(ranks[0]) == (4, 2, 2, 0.5, 2, 0.5)  # p11 ✓, p21 ✗, p31 ✗, p51 ✓
    assert figures(ranks[1]) == (3, 1, 2, 0.3333, 1, 0.3333)  # p12 ✗, p22 ✓, p52 ✗
    assert figures(ranks[2]) == (3, 0, 1, 0.0, 0, 0.0)  # p13 proposed, p23 expired, p53 ✗
    assert all(figures(r) == (0, 0, 0, None, 0, None) for r in ranks[3:])

    versions = body["acceptance_by_version"]
    assert [v["key"] for v in versions] == ["tfidf-ranker-1:aaaaaaaaaa", "tfidf-ranker-1:bbbbbbbbbb"]
    assert versions[0]["label"] == "tfidf-ranker-1:aaaaaaaaaa"
    assert figures(versions[0]) == (4, 1, 2, 0.3333, 1, 0.25)  # p11–p13, p21 (not p61 of 2024)
    assert figures(versions[1]) == (6, 2, 3, 0.4, 2, 0.3333)  # p22, p23, p31, p51–p53


async def test_decline_reasons_are_grouped_most_frequent_first(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    reasons = (await fetch(client, auth(admin)))["decline_reasons"]

    assert [(r["reason"], r["count"]) for r in reasons] == [
        ("方向不符", 3),
        ("时间冲突", 1),
        ("未填写原因", 1),
    ]
    p, o, x = scenario.proposals, scenario.orders, scenario.experts
    assert reasons[0]["examples"] == [
        {
            "proposal_id": p["p12"].id,
            "order_id": o["o1"].id,
            "order_title": "需求o1",
            "expert_id": x["x2"].id,
            "expert_name": "王芳",
        },
        {
            "proposal_id": p["p21"].id,
            "order_id": o["o2"].id,
            "order_title": "需求o2",
            "expert_id": x["x2"].id,
            "expert_name": "王芳",
        },
        {
            "proposal_id": p["p52"].id,
            "order_id": o["o5"].id,
            "order_title": "需求o5",
            "expert_id": x["x4"].id,
            "expert_name": "陈静",
        },
    ]
    assert [e["proposal_id"] for e in reasons[2]["examples"]] == [p["p53"].id]


async def test_ratings_of_the_agreements_delivered_in_the_year(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    ratings = by_key((await fetch(client, auth(admin)))["ratings"])

    # a1 (5 and 4) and a6 (2, and no rating from the expert)
    enterprise = ratings["enterprise_to_expert"]
    assert (enterprise["label"], enterprise["rated"], enterprise["mean"]) == ("企业评专家", 2, 3.5)
    assert [(b["stars"], b["count"]) for b in enterprise["distribution"]] == [
        (1, 0),
        (2, 1),
        (3, 0),
        (4, 0),
        (5, 1),
    ]
    expert = ratings["expert_to_enterprise"]
    assert (expert["label"], expert["rated"], expert["mean"]) == ("专家评企业", 1, 4.0)
    assert [b["count"] for b in expert["distribution"]] == [0, 0, 0, 1, 0]


async def test_ndcg_at_10_matches_a_hand_computation(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    relevance = (await fetch(client, auth(admin)))["relevance"]

    # o1: gains by rank 0, (unjudged) 0, 1; ideal 1, 0      → (1/log2 4) / 1
    # o2: gains 1, 1, (unjudged) 0; ideal 1, 1              → 1
    # o5: gains 0, 1, (unjudged) 0; ideal 1, 0              → (1/log2 3) / 1
    # o3 has no judgement; p61 (relevant) belongs to a 2024 order
    o1 = (1 / math.log2(4)) / 1
    o2 = (1 + 1 / math.log2(3)) / (1 + 1 / math.log2(3))
    o5 = (1 / math.log2(3)) / 1
    expected = (o1 + o2 + o5) / 3
    assert relevance["ndcg_at_10"] == round(expected, 4) == 0.7103
    assert relevance["judged_orders"] == 3
    assert relevance["judged_proposals"] == 6
    assert (relevance["relevant"], relevance["not_relevant"]) == (4, 2)


async def test_coverage_gaps_rank_fields_by_orders_without_a_strong_proposal(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    body = await fetch(client, auth(admin))

    assert body["strong_proposal_score"] == 0.35
    o = scenario.orders
    # best scores: o1 0.8, o2 0.7 (strong); o3 0.2, o5 0.3 (weak); o4 none
    assert body["coverage_gaps"] == [
        {
            "field": "海洋生物",
            "gap_orders": 2,
            "without_proposals": 1,
            "weak_proposals": 1,
            "published_orders": 2,
            "examples": [
                {"id": o["o4"].id, "title": "需求o4", "best_score": None},
                {"id": o["o5"].id, "title": "需求o5", "best_score": 0.3},
            ],
        },
        {
            "field": "数控加工",
            "gap_orders": 1,
            "without_proposals": 0,
            "weak_proposals": 1,
            "published_orders": 3,
            "examples": [{"id": o["o5"].id, "title": "需求o5", "best_score": 0.3}],
        },
        {
            "field": "未标注领域",
            "gap_orders": 1,
            "without_proposals": 0,
            "weak_proposals": 1,
            "published_orders": 1,
            "examples": [{"id": o["o3"].id, "title": "需求o3", "best_score": 0.2}],
        },
    ]


async def test_a_stricter_threshold_widens_the_gaps(
    session: AsyncSession, admin: User, scenario: Scenario
) -> None:
    dashboard = await dashboard_service.build_dashboard(
        session, Actor.of(admin), year=YEAR, targets=YearlyTargets(), strong_proposal_score=0.75
    )

    # now o2 (0.7) is weak too; only o1 (0.8) is strong
    gaps = {g.field: (g.gap_orders, g.without_proposals, g.weak_proposals) for g in dashboard.coverage_gaps}
    assert gaps == {"海洋生物": (2, 1, 1), "数控加工": (2, 0, 2), "未标注领域": (1, 0, 1)}
    # as many gaps as 数控加工, but one of them without any proposal
    assert [g.field for g in dashboard.coverage_gaps] == ["海洋生物", "数控加工", "未标注领域"]


async def test_breakdowns_count_the_events_of_the_year(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    body = await fetch(client, auth(admin))

    # published o1–o5; takings in 2025 on o1–o6 (o4 twice); effective a1, a2, a5, a6; delivered a1, a6
    assert [counts(r) for r in body["by_district"]] == [
        ("邗江区", 2, 3, 3, 2),  # o1, o2 | o1, o2, o6 | a1, a2, a6 | a1, a6
        ("江都区", 2, 2, 0, 0),  # o3, o4
        ("仪征市", 1, 1, 1, 0),  # o5 | a5
    ]
    assert [counts(r) for r in body["by_star"]] == [
        ("未评星级", 0, 0, 0, 0),
        ("一星级", 2, 2, 1, 0),
        ("二星级", 1, 1, 0, 0),
        ("三星级", 2, 3, 3, 2),
    ]
    assert [r["key"] for r in body["by_star"]] == ["0", "1", "2", "3"]
    assert [counts(r) for r in body["by_alliance"]] == [
        ("装备制造分联盟", 2, 3, 3, 2),
        ("海洋分联盟", 1, 1, 0, 0),
        ("未加入联盟", 2, 2, 1, 0),
    ]
    assert [counts(r) for r in body["by_cohort"]] == [
        ("第13批（2020年）", None, 4, 2, 2),  # 李明 and 王芳: o1, o3, o4, o6 | a1, a6 | a1, a6
        ("第14批（2021年）", None, 2, 2, 0),  # 赵强: o2, o5 | a2, a5
        ("未标注批次", None, 1, 0, 0),  # 陈静: o4
    ]


async def test_the_trend_counts_each_month_in_china_time(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    trend = (await fetch(client, auth(admin)))["trend"]

    assert [t["month"] for t in trend] == list(range(1, 13))
    assert trend[0]["label"] == "1月"
    table = {
        t["month"]: (t["published_orders"], t["takings"], t["agreements_signed"], t["agreements_delivered"])
        for t in trend
        if any((t["published_orders"], t["takings"], t["agreements_signed"], t["agreements_delivered"]))
    }
    assert table == {
        1: (1, 2, 2, 0),  # o1 (00:30 on 1 January in China) | o1, o6 | a1, a6
        2: (1, 1, 1, 0),  # o2 | o2 | a2
        3: (2, 2, 0, 1),  # o3, o4 | o3, o4 (released) | a1 delivered
        4: (0, 1, 0, 0),  # o4 taken again
        6: (0, 0, 0, 1),  # a6 delivered
        7: (1, 1, 1, 0),  # o5 | o5 | a5
    }


async def test_the_next_year_starts_at_midnight_china_time(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    body = await fetch(client, auth(admin), YEAR + 1)

    cards = {c["key"]: c for c in body["kpis"]}
    assert cards["demonstration_cobuilds"]["value"] == 1  # a2, catalogued 2026-01-01 00:30 China time
    assert cards["innovations"]["value"] == 1  # achieved 2026-01-01
    assert cards["conversion_rate"]["value"] == 100.0
    assert cards["conversion_rate"]["met"] is True and cards["conversion_rate"]["progress"] == 1.25
    assert cards["conversion_rate"]["progress_capped"] == 1.0
    assert cards["worker_trainings"]["value"] == 999
    assert [s["orders"] for s in body["funnel"]["steps"]] == [1, 0, 0, 0, 0]  # o8
    assert body["trend"][0]["published_orders"] == 1
    assert [(g["field"], g["gap_orders"]) for g in body["coverage_gaps"]] == [("海洋生物", 1)]


async def test_progress_beyond_the_target_is_kept_and_capped_for_display(
    session: AsyncSession, admin: User, scenario: Scenario
) -> None:
    targets = YearlyTargets(
        demonstration_cobuilds=1, innovations=0, conversion_rate=0.5, worker_trainings=400
    )
    dashboard = await dashboard_service.build_dashboard(
        session, Actor.of(admin), year=YEAR, targets=targets, strong_proposal_score=0.35
    )

    cards = {c.key: c for c in dashboard.kpis}
    assert (cards["demonstration_cobuilds"].progress, cards["demonstration_cobuilds"].progress_capped) == (
        2.0,
        1.0,
    )
    assert cards["demonstration_cobuilds"].met is True
    # a target of 0 is met by any value, and has no meaningful progress ratio
    assert (cards["innovations"].progress, cards["innovations"].met) == (None, True)
    assert cards["conversion_rate"].target == 50.0
    assert (cards["conversion_rate"].progress, cards["conversion_rate"].progress_capped) == (1.3333, 1.0)
    assert (cards["worker_trainings"].progress, cards["worker_trainings"].met) == (1.25, True)


async def test_a_year_without_data_gives_zeros_and_nones(
    client: AsyncClient, auth: Auth, admin: User, scenario: Scenario
) -> None:
    body = await fetch(client, auth(admin), 2030)

    assert body["year"] == 2030
    cards = {c["key"]: (c["value"], c["progress"], c["progress_capped"], c["met"]) for c in body["kpis"]}
    assert cards == {
        "demonstration_cobuilds": (0, 0.0, 0.0, False),
        "innovations": (0, 0.0, 0.0, False),
        "conversion_rate": (None, None, None, False),
        "worker_trainings": (0, 0.0, 0.0, False),
    }
    funnel = body["funnel"]
    assert [
        (s["orders"], s["conversion"], s["share_of_published"], s["median_days"]) for s in funnel["steps"]
    ] == [(0, None, None, None)] * 5
    assert funnel["median_days_to_first_taking"] is None and funnel["median_days_to_effective"] is None
    assert funnel["taken_without_proposals"] == 0
    assert len(body["acceptance_by_rank"]) == 10
    assert all(r["proposals"] == 0 and r["acceptance_rate"] is None for r in body["acceptance_by_rank"])
    assert body["acceptance_by_version"] == [] and body["decline_reasons"] == []
    assert [(r["rated"], r["mean"]) for r in body["ratings"]] == [(0, None), (0, None)]
    assert body["relevance"] == {
        "ndcg_at_10": None,
        "judged_orders": 0,
        "judged_proposals": 0,
        "relevant": 0,
        "not_relevant": 0,
    }
    assert body["coverage_gaps"] == [] and body["by_district"] == []
    assert body["by_cohort"] == [] and body["by_alliance"] == []
    assert [counts(r) for r in body["by_star"]] == [
        (label, 0, 0, 0, 0) for label in ("未评星级", "一星级", "二星级", "三星级")
    ]
    assert [(t["published_orders"], t["takings"]) for t in body["trend"]] == [(0, 0)] * 12


async def test_the_year_defaults_to_this_year_in_china(client: AsyncClient, auth: Auth, admin: User) -> None:
    body = await fetch(client, auth(admin), None)

    assert body["year"] == local_today().year


@pytest.mark.parametrize("year", ["1999", "2101", "-1", "二〇二五", "2025.5"])
async def test_a_year_out_of_range_is_refused(
    client: AsyncClient, auth: Auth, admin: User, year: str
) -> None:
    response = await client.get(URL, params={"year": year}, headers=auth(admin))

    assert_problem(response, 422, "request_invalid", "year")


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_only_administrators_see_the_dashboard(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    user = await make_user(session, role)

    response = await client.get(URL, params={"year": YEAR}, headers=auth(user))

    assert_problem(response, 403, "forbidden")


async def test_anonymous_callers_must_log_in(client: AsyncClient) -> None:
    assert_problem(await client.get(URL), 401, "unauthenticated")


async def test_an_alliance_is_one_row_whatever_script_its_name_is_written_in(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, scenario: Scenario
) -> None:
    traditional = await make_studio(session, alliance="裝備製造分聯盟")
    await make_order(session, traditional, published_at=datetime(YEAR, 6, 1, 2, tzinfo=UTC))

    body = await fetch(client, auth(admin))

    rows = [counts(r) for r in body["by_alliance"]]
    assert rows[0] == ("装备制造分联盟", 3, 3, 3, 2), rows  # s1's two orders and this one
    assert not any("裝備" in r[0] for r in rows)
