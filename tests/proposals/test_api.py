"""``/api/v1/orders/{id}/proposals`` and ``/api/v1/experts/{id}/recommended-orders``: the matcher at work.

Every test builds a small Chinese catalogue of experts in clearly distinct fields (数控机床振动诊断,
船舶焊接变形, 集成电路封装, 淮扬菜烹饪培训, 水稻病虫害防控) and orders whose text points at one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.achievements.models import AchievementKind, Maturity
from app.experts.models import Expert
from app.orders.models import NeedKind, Order, OrderStatus
from app.proposals.models import Proposal, ProposalStatus
from app.studios.models import Studio
from matching import normalise
from tests.factories import make_achievement, make_enterprise, make_expert, make_order, make_studio, make_user
from tests.problems import CJK, Auth, assert_problem

API = "/api/v1"


async def make_neighbours(session: AsyncSession, term: str, count: int) -> list[Expert]:
    """Experts in other fields whose work shares one word with an order, so that several are proposed."""
    neighbours = []
    for n in range(count):
        expert = await make_expert(
            session,
            name=f"邻近专家{n}",
            disciplines=[f"交叉学科{n}"],
            bio=f"兼顾{term}相关的第{n}类应用研究。",
        )
        await make_achievement(
            session,
            expert,
            title=f"{term}质量检测方法研究{n}",
            abstract=f"面向{term}环节的检测与评价。",
            keywords=[f"{term}检测{n}"],
        )
        neighbours.append(expert)
    return neighbours


# --- a small catalogue of experts, one field each ------------------------------------------------

EXPERTS: dict[str, dict[str, Any]] = {
    "cnc": {
        "name": "李振华",
        "university": "扬州大学",
        "department": "机械工程学院",
        "disciplines": ["机械工程", "数控技术"],
        "bio": "长期从事数控机床主轴振动诊断与伺服进给系统动态特性研究。",
    },
    "welding": {
        "name": "周海燕",
        "university": "江苏科技大学",
        "department": "船舶与海洋工程学院",
        "disciplines": ["船舶与海洋工程", "焊接技术"],
        "bio": "研究大型船舶分段焊接变形预测、焊接顺序优化与火工矫正工艺。",
    },
    "chips": {
        "name": "陈晓芯",
        "university": "东南大学",
        "department": "微电子学院",
        "disciplines": ["微电子学", "电子封装"],
        "bio": "从事集成电路先进封装、倒装芯片互连与封装可靠性研究。",
    },
    "cooking": {
        "name": "孙大厨",
        "university": "扬州大学",
        "department": "旅游烹饪学院",
        "disciplines": ["烹饪与营养教育", "餐饮管理"],
        "bio": "淮扬菜烹饪技艺传承人，长期开展厨师刀工、火候与淮扬名菜制作培训。",
    },
    "rice": {
        "name": "王稻丰",
        "university": "扬州大学",
        "department": "植物保护学院",
        "disciplines": ["植物保护", "农学"],
        "bio": "研究水稻稻飞虱、纹枯病等病虫害的绿色防控与精准施药技术。",
    },
}

ACHIEVEMENTS: dict[str, list[dict[str, Any]]] = {
    "cnc": [
        {
            "title": "一种数控机床主轴振动在线诊断方法",
            "abstract": "基于振动信号频谱分析识别主轴轴承早期故障，抑制高速切削颤振。",
            "keywords": ["数控机床", "主轴", "振动诊断"],
            "maturity": Maturity.PILOT,
        },
    ],
    "welding": [
        {
            "title": "船体分段焊接变形数值预测与控制技术",
            "abstract": "采用热弹塑性有限元预测船体薄板焊接变形，优化焊接顺序与反变形量，减少火工矫正。",
            "keywords": ["船舶焊接", "焊接变形", "反变形"],
            "maturity": Maturity.PRODUCTION,
        },
        {
            "title": "船用高强钢埋弧焊工艺",
            "abstract": "船用高强钢厚板埋弧焊的焊接工艺评定与焊缝韧性控制。",
            "keywords": ["埋弧焊", "高强钢"],
            "maturity": Maturity.PILOT,
        },
    ],
    "chips": [
        {
            "title": "倒装芯片封装焊点热疲劳可靠性评估方法",
            "abstract": "通过温度循环试验与有限元仿真评估集成电路封装凸点的热疲劳寿命和开裂失效。",
            "keywords": ["集成电路封装", "倒装芯片", "热疲劳"],
            "maturity": Maturity.LAB,
        },
    ],
    "cooking": [
        {
            "title": "淮扬菜标准化烹饪工艺与厨师培训体系",
            "abstract": "整理狮子头、大煮干丝等淮扬名菜的标准化配方与火候参数，编写厨师刀工培训教材。",
            "keywords": ["淮扬菜", "烹饪工艺", "厨师培训"],
            "maturity": Maturity.PRODUCTION,
        },
    ],
    "rice": [
        {
            "title": "水稻稻飞虱绿色防控技术",
            "abstract": "利用天敌保护与生物农药组合防控稻飞虱，减少化学农药用量。",
            "keywords": ["稻飞虱", "水稻病虫害", "绿色防控"],
            "maturity": Maturity.PRODUCTION,
        },
    ],
}

ORDERS: dict[str, dict[str, Any]] = {
    "welding": {
        "title": "船体分段焊接变形超差",
        "description": "我厂建造的散货船分段在焊接后出现明显变形，火工矫正工作量大，希望专家优化焊接顺序和反变形工艺。",
        "fields": ["焊接技术"],
        "need_kind": NeedKind.PROCESS_IMPROVEMENT,
    },
    "cooking": {
        "title": "淮扬菜厨师刀工与火候培训",
        "description": "酒店新招聘的厨师对狮子头、大煮干丝等淮扬名菜的火候和刀工掌握不足，希望专家开展烹饪培训。",
        "fields": ["烹饪"],
        "need_kind": NeedKind.TRAINING,
    },
    "chips": {
        "title": "倒装芯片封装焊点开裂失效分析",
        "description": "倒装芯片封装在温度循环试验后凸点出现开裂，需要专家分析集成电路封装的失效原因并提出改进方案。",
        "fields": ["电子封装"],
        "need_kind": NeedKind.TECH_BREAKTHROUGH,
    },
    "rice": {
        "title": "水稻稻飞虱绿色防控",
        "description": "合作社的千亩水稻今年稻飞虱暴发，希望专家指导绿色防控和科学施药，减少农药用量。",
        "fields": ["植物保护"],
        "need_kind": NeedKind.CONSULTING,
    },
}


async def make_catalogue(session: AsyncSession, skip: Iterable[str] = ()) -> dict[str, Expert]:
    """The catalogue's experts (with their achievements), keyed by field."""
    experts: dict[str, Expert] = {}
    for key, values in EXPERTS.items():
        if key in skip:
            continue
        expert = await make_expert(session, **values)
        for achievement in ACHIEVEMENTS[key]:
            await make_achievement(session, expert, kind=AchievementKind.PATENT, year=2022, **achievement)
        experts[key] = expert
    return experts


async def make_field_order(
    session: AsyncSession, key: str, studio: Studio | None = None, **overrides: Any
) -> Order:
    """An order of the catalogue's field ``key`` (published unless ``status`` is given)."""
    return await make_order(session, studio, **{**ORDERS[key], **overrides})


async def enterprise_owner(session: AsyncSession) -> tuple[User, Studio]:
    """An enterprise user and a studio of that enterprise."""
    enterprise = await make_enterprise(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)
    return user, await make_studio(session, enterprise)


def proposals_url(order_id: int) -> str:
    return f"{API}/orders/{order_id}/proposals"


def recommended_url(expert_id: int) -> str:
    return f"{API}/experts/{expert_id}/recommended-orders"


def expert_ids(response: Response) -> list[int]:
    assert response.status_code in (200, 201), response.text
    return [item["expert_id"] for item in response.json()]


def order_ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["order"]["id"] for item in response.json()]


def order_words(order: Order) -> str:
    return normalise(" ".join([order.title, order.description, *order.fields]))


async def stored(session: AsyncSession, order: Order) -> dict[int, Proposal]:
    """The order's proposal rows as the database holds them, keyed by expert id."""
    rows = await session.scalars(
        # populate_existing: what the database holds, not what the identity map remembers
        select(Proposal).where(Proposal.order_id == order.id).execution_options(populate_existing=True)
    )
    return {p.expert_id: p for p in rows.all()}


# --- POST /orders/{id}/proposals --------------------------------------------------------------------


async def test_the_matching_expert_is_proposed_first(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio)

    response = await client.post(proposals_url(order.id), headers=auth(user))

    assert response.status_code == 201, response.text
    proposals = response.json()
    assert proposals[0]["expert_id"] == experts["welding"].id
    assert proposals[0]["expert_name"] == "周海燕"
    assert proposals[0]["expert_university"] == "江苏科技大学"
    assert [p["rank"] for p in proposals] == list(range(1, len(proposals) + 1))
    assert len({p["expert_id"] for p in proposals}) == len(proposals)
    scores = [p["score"] for p in proposals]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]
    assert {p["order_id"] for p in proposals} == {order.id}
    assert {p["status"] for p in proposals} == {"proposed"}
    versions = {p["matcher_version"] for p in proposals}
    assert len(versions) == 1 and versions.pop()


async def test_proposals_carry_chinese_reasons_with_real_shared_terms(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "chips", studio)

    response = await client.post(proposals_url(order.id), headers=auth(user))

    assert expert_ids(response)[0] == experts["chips"].id
    for proposal in response.json():
        reasons = proposal["reasons"]
        assert reasons["sentence"] and CJK.search(reasons["sentence"])
        assert "text" in reasons["factors"]
        assert all(0.0 <= v <= 1.0 for v in reasons["factors"].values())
        assert set(reasons["contributions"]) <= set(reasons["factors"])
    best = response.json()[0]["reasons"]
    assert best["shared_terms"], best
    text = order_words(order)
    assert all(term and term in text for term in best["shared_terms"]), (best["shared_terms"], text)
    assert best["factors"]["text"] > 0
    # the sentence names the evidence a person can check
    assert best["shared_terms"][0] in best["sentence"]


# experts whose disciplines have nothing to do with an order of the field
UNRELATED = {
    "welding": ("cooking", "rice"),
    "cooking": ("cnc", "welding", "chips", "rice"),
    "chips": ("cooking", "rice"),
    "rice": ("cnc", "welding", "chips", "cooking"),
}


@pytest.mark.parametrize("field", list(UNRELATED))
async def test_an_unrelated_expert_is_not_called_a_field_match(
    client: AsyncClient, session: AsyncSession, auth: Auth, field: str
) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, field, studio)

    response = await client.post(proposals_url(order.id), params={"k": 50}, headers=auth(user))

    assert response.status_code == 201, response.text
    reasons = {p["expert_id"]: p["reasons"] for p in response.json()}
    assert reasons[experts[field].id]["matched_fields"]
    for key in UNRELATED[field]:
        unrelated = reasons.get(experts[key].id)
        if unrelated is None:
            continue  # not proposed at all: nothing in common with the order
        assert unrelated["matched_fields"] == [], (key, unrelated)
        assert "学科对口" not in unrelated["sentence"], (key, unrelated)


async def test_proposals_are_stored_with_score_reasons_and_version(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "cooking", studio)

    response = await client.post(proposals_url(order.id), headers=auth(user))

    assert response.status_code == 201, response.text
    rows = await stored(session, order)
    assert len(rows) == len(response.json()) >= 1
    # an expert with no word, keyword or stated field in common is not proposed at all
    assert experts["cnc"].id not in rows
    for proposal in response.json():
        row = rows[proposal["expert_id"]]
        assert row.id == proposal["id"]
        assert row.rank == proposal["rank"]
        assert row.score == pytest.approx(proposal["score"])
        assert row.status is ProposalStatus.PROPOSED
        assert row.matcher_version == proposal["matcher_version"] != ""
        assert row.reasons["sentence"] == proposal["reasons"]["sentence"]
        assert row.reasons["shared_terms"] == proposal["reasons"]["shared_terms"]
        assert "text" in row.reasons["factors"]


async def test_k_limits_the_number_of_proposals(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "rice", studio)

    response = await client.post(proposals_url(order.id), params={"k": 2}, headers=auth(user))

    assert response.status_code == 201, response.text
    assert len(response.json()) == 2
    assert expert_ids(response)[0] == experts["rice"].id
    assert len(await stored(session, order)) == 2


@pytest.mark.parametrize("k", [0, 51, -1])
async def test_k_out_of_range_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, k: int
) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "rice", studio)

    response = await client.post(proposals_url(order.id), params={"k": k}, headers=auth(user))

    assert_problem(response, 422, "request_invalid", "k")
    assert await stored(session, order) == {}


async def test_k_of_fifty_is_allowed(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "rice", studio)

    response = await client.post(proposals_url(order.id), params={"k": 50}, headers=auth(user))

    assert response.status_code == 201, response.text
    assert 1 <= len(response.json()) <= len(EXPERTS)
    assert all(
        p["reasons"]["factors"]["text"] > 0 or p["reasons"]["matched_keywords"] for p in response.json()
    )


async def test_recomputing_does_not_duplicate_rows(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio)

    first = await client.post(proposals_url(order.id), headers=auth(user))
    second = await client.post(proposals_url(order.id), headers=auth(user))

    assert first.status_code == second.status_code == 201, second.text
    assert [p["id"] for p in second.json()] == [p["id"] for p in first.json()]
    assert [p["expert_id"] for p in second.json()] == [p["expert_id"] for p in first.json()]
    assert len(await stored(session, order)) == len(first.json())


async def test_a_declined_expert_is_not_proposed_again(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    await make_neighbours(session, "焊接", 3)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio)
    first = await client.post(proposals_url(order.id), params={"k": 3}, headers=auth(user))
    declined = experts["welding"].id
    assert expert_ids(first)[0] == declined
    await session.execute(
        update(Proposal)
        .where(Proposal.order_id == order.id, Proposal.expert_id == declined)
        .values(status=ProposalStatus.DECLINED, decline_reason="档期已满")
    )
    await session.commit()

    again = await client.post(proposals_url(order.id), params={"k": 3}, headers=auth(user))

    assert again.status_code == 201, again.text
    assert declined not in expert_ids(again)
    assert len(again.json()) == 3
    assert [p["rank"] for p in again.json()] == [1, 2, 3]
    assert {p["status"] for p in again.json()} == {"proposed"}
    rows = await stored(session, order)
    assert rows[declined].status is ProposalStatus.DECLINED
    assert rows[declined].decline_reason == "档期已满"
    assert len(rows) == 4  # the declined row is kept, three are proposed
    listed = await client.get(proposals_url(order.id), headers=auth(user))
    assert {p["expert_id"]: p["status"] for p in listed.json()}[declined] == "declined"


async def test_an_invited_proposal_keeps_its_status_when_recomputed(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "cooking", studio)
    await client.post(proposals_url(order.id), params={"k": 2}, headers=auth(user))
    invited = experts["cooking"].id
    await session.execute(
        update(Proposal)
        .where(Proposal.order_id == order.id, Proposal.expert_id == invited)
        .values(status=ProposalStatus.INVITED)
    )
    await session.commit()

    again = await client.post(proposals_url(order.id), params={"k": 2}, headers=auth(user))

    assert expert_ids(again)[0] == invited
    assert again.json()[0]["status"] == "invited"
    assert (await stored(session, order))[invited].status is ProposalStatus.INVITED


async def test_experts_who_drop_out_expire_and_come_back(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    await make_neighbours(session, "封装", 3)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "chips", studio)
    three = expert_ids(await client.post(proposals_url(order.id), params={"k": 3}, headers=auth(user)))

    one = await client.post(proposals_url(order.id), params={"k": 1}, headers=auth(user))

    assert expert_ids(one) == [experts["chips"].id] == three[:1]
    rows = await stored(session, order)
    assert len(rows) == 3
    assert rows[three[0]].status is ProposalStatus.PROPOSED
    assert rows[three[1]].status is ProposalStatus.EXPIRED
    assert rows[three[2]].status is ProposalStatus.EXPIRED
    listed = await client.get(proposals_url(order.id), headers=auth(user))
    assert [p["status"] for p in listed.json()] == ["proposed", "expired", "expired"]

    back = await client.post(proposals_url(order.id), params={"k": 3}, headers=auth(user))

    assert expert_ids(back) == three
    assert {p["status"] for p in back.json()} == {"proposed"}
    assert len(await stored(session, order)) == 3


async def test_the_owner_may_propose_for_a_draft(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "rice", studio, status=OrderStatus.DRAFT)

    response = await client.post(proposals_url(order.id), headers=auth(user))

    assert response.status_code == 201, response.text
    assert expert_ids(response)[0] == experts["rice"].id


async def test_an_admin_may_propose(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    experts = await make_catalogue(session)
    order = await make_field_order(session, "cooking")

    response = await client.post(proposals_url(order.id), headers=auth(admin))

    assert response.status_code == 201, response.text
    assert expert_ids(response)[0] == experts["cooking"].id


async def test_an_order_without_usable_words_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_order(session, studio, title="。。。", description="！！！", fields=[])

    response = await client.post(proposals_url(order.id), headers=auth(user))

    assert_problem(response, 422, "order_text_empty", "description")
    assert await stored(session, order) == {}


@pytest.mark.parametrize("status", [OrderStatus.TAKEN, OrderStatus.CLOSED, OrderStatus.WITHDRAWN])
async def test_an_order_no_longer_open_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio, status=status)

    response = await client.post(proposals_url(order.id), headers=auth(user))

    assert_problem(response, 409, "order_not_open")
    assert await stored(session, order) == {}


async def test_another_enterprise_may_not_propose(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    await make_catalogue(session)
    order = await make_field_order(session, "welding")
    stranger, _ = await enterprise_owner(session)

    response = await client.post(proposals_url(order.id), headers=auth(stranger))

    assert_problem(response, 403, "forbidden")
    assert await stored(session, order) == {}


async def test_an_expert_may_not_propose(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    experts = await make_catalogue(session)
    order = await make_field_order(session, "welding")
    expert_user = await make_user(session, UserRole.EXPERT, expert=experts["welding"])

    response = await client.post(proposals_url(order.id), headers=auth(expert_user))

    assert_problem(response, 403, "forbidden")
    assert await stored(session, order) == {}


async def test_proposing_requires_login(client: AsyncClient, session: AsyncSession) -> None:
    await make_catalogue(session)
    order = await make_field_order(session, "welding")

    response = await client.post(proposals_url(order.id))

    assert_problem(response, 401, "unauthenticated")
    assert await stored(session, order) == {}


async def test_proposing_for_an_unknown_order(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user, _ = await enterprise_owner(session)

    response = await client.post(proposals_url(987_654), headers=auth(user))

    assert_problem(response, 404, "order_not_found")


# --- GET /orders/{id}/proposals ---------------------------------------------------------------------


async def test_listing_returns_the_stored_proposals(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio)
    empty = await client.get(proposals_url(order.id), headers=auth(user))
    created = await client.post(proposals_url(order.id), params={"k": 3}, headers=auth(user))

    listed = await client.get(proposals_url(order.id), headers=auth(user))

    assert empty.status_code == 200 and empty.json() == []
    assert listed.status_code == 200, listed.text
    assert listed.json() == created.json()


async def test_an_admin_may_list(client: AsyncClient, session: AsyncSession, auth: Auth, admin: User) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio, status=OrderStatus.DRAFT)
    created = await client.post(proposals_url(order.id), params={"k": 2}, headers=auth(user))

    listed = await client.get(proposals_url(order.id), headers=auth(admin))

    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()] == [p["id"] for p in created.json()]


async def test_another_enterprise_may_not_list_a_published_order(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio)
    await client.post(proposals_url(order.id), headers=auth(user))
    stranger, _ = await enterprise_owner(session)

    response = await client.get(proposals_url(order.id), headers=auth(stranger))

    assert_problem(response, 403, "forbidden")


async def test_another_enterprise_does_not_learn_of_a_draft(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio, status=OrderStatus.DRAFT)
    await client.post(proposals_url(order.id), headers=auth(user))
    stranger, _ = await enterprise_owner(session)

    response = await client.get(proposals_url(order.id), headers=auth(stranger))

    assert_problem(response, 404, "order_not_found")


async def test_an_expert_may_not_list(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio)
    await client.post(proposals_url(order.id), headers=auth(user))
    expert_user = await make_user(session, UserRole.EXPERT, expert=experts["welding"])

    response = await client.get(proposals_url(order.id), headers=auth(expert_user))

    assert_problem(response, 403, "forbidden")


async def test_listing_requires_login(client: AsyncClient, session: AsyncSession) -> None:
    order = await make_field_order(session, "welding")

    response = await client.get(proposals_url(order.id))

    assert_problem(response, 401, "unauthenticated")


async def test_listing_an_unknown_order(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    response = await client.get(proposals_url(987_654), headers=auth(admin))

    assert_problem(response, 404, "order_not_found")


# --- GET /experts/{id}/recommended-orders -----------------------------------------------------------


async def test_an_expert_sees_the_matching_order_first(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    orders = {key: await make_field_order(session, key) for key in ORDERS}
    expert_user = await make_user(session, UserRole.EXPERT, expert=experts["cooking"])

    response = await client.get(recommended_url(experts["cooking"].id), headers=auth(expert_user))

    assert response.status_code == 200, response.text
    recommended = response.json()
    assert order_ids(response)[0] == orders["cooking"].id
    assert set(order_ids(response)) <= {o.id for o in orders.values()}
    best = recommended[0]
    assert best["order"]["title"] == ORDERS["cooking"]["title"]
    assert best["order"]["status"] == "published"
    assert best["reasons"]["sentence"] and CJK.search(best["reasons"]["sentence"])
    assert "text" in best["reasons"]["factors"]
    assert all(term in order_words(orders["cooking"]) for term in best["reasons"]["shared_terms"])
    assert best["matcher_version"]
    scores = [r["score"] for r in recommended]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("field", list(UNRELATED))
async def test_an_unrelated_order_is_not_called_a_field_match(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, field: str
) -> None:
    experts = await make_catalogue(session)
    orders = {key: await make_field_order(session, key) for key in ORDERS}

    response = await client.get(recommended_url(experts[field].id), headers=auth(admin))

    reasons = {r["order"]["id"]: r["reasons"] for r in response.json()}
    assert reasons[orders[field].id]["matched_fields"]
    for key in UNRELATED[field]:
        if key in orders:
            unrelated = reasons[orders[key].id]
            assert unrelated["matched_fields"] == [], (key, unrelated)
            assert "学科对口" not in unrelated["sentence"], (key, unrelated)


async def test_k_limits_recommended_orders(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    experts = await make_catalogue(session)
    orders = {key: await make_field_order(session, key) for key in ORDERS}
    expert_user = await make_user(session, UserRole.EXPERT, expert=experts["rice"])

    response = await client.get(
        recommended_url(experts["rice"].id), params={"k": 1}, headers=auth(expert_user)
    )

    assert order_ids(response) == [orders["rice"].id]


@pytest.mark.parametrize(
    "status", [OrderStatus.CLOSED, OrderStatus.WITHDRAWN, OrderStatus.DRAFT, OrderStatus.TAKEN]
)
async def test_orders_not_published_are_never_recommended(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    experts = await make_catalogue(session)
    hidden = await make_field_order(session, "welding", status=status)
    published = await make_field_order(session, "welding", title="船舶分段焊接变形控制咨询")
    others = [await make_field_order(session, key) for key in ("cooking", "chips")]
    expert_user = await make_user(session, UserRole.EXPERT, expert=experts["welding"])

    response = await client.get(recommended_url(experts["welding"].id), headers=auth(expert_user))

    assert hidden.id not in order_ids(response)
    assert order_ids(response)[0] == published.id
    assert set(order_ids(response)) <= {published.id, *(o.id for o in others)}


async def test_no_published_orders_means_no_recommendations(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    await make_field_order(session, "rice", status=OrderStatus.CLOSED)
    expert_user = await make_user(session, UserRole.EXPERT, expert=experts["rice"])

    response = await client.get(recommended_url(experts["rice"].id), headers=auth(expert_user))

    assert response.status_code == 200, response.text
    assert response.json() == []


async def test_an_admin_may_see_an_experts_recommendations(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    experts = await make_catalogue(session)
    orders = {key: await make_field_order(session, key) for key in ORDERS}

    response = await client.get(recommended_url(experts["chips"].id), headers=auth(admin))

    assert order_ids(response)[0] == orders["chips"].id


async def test_another_expert_may_not_see_recommendations(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    await make_field_order(session, "chips")
    other = await make_user(session, UserRole.EXPERT, expert=experts["cooking"])

    response = await client.get(recommended_url(experts["chips"].id), headers=auth(other))

    assert_problem(response, 403, "forbidden")


async def test_an_enterprise_user_may_not_see_recommendations(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    experts = await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    await make_field_order(session, "chips", studio)

    response = await client.get(recommended_url(experts["chips"].id), headers=auth(user))

    assert_problem(response, 403, "forbidden")


async def test_recommendations_require_login(client: AsyncClient, session: AsyncSession) -> None:
    experts = await make_catalogue(session)

    response = await client.get(recommended_url(experts["chips"].id))

    assert_problem(response, 401, "unauthenticated")


async def test_recommendations_for_an_unknown_expert(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    await make_catalogue(session)
    await make_field_order(session, "chips")

    response = await client.get(recommended_url(987_654), headers=auth(admin))

    assert_problem(response, 404, "expert_not_found")


async def test_an_expert_without_a_profile_is_told_to_complete_it(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    await make_catalogue(session)
    await make_field_order(session, "chips")
    blank = await make_expert(session, name="赵空白", disciplines=[], bio="")
    expert_user = await make_user(session, UserRole.EXPERT, expert=blank)

    response = await client.get(recommended_url(blank.id), headers=auth(expert_user))

    assert_problem(response, 422, "expert_text_empty")


@pytest.mark.parametrize("k", [0, 51])
async def test_recommended_k_out_of_range_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, k: int
) -> None:
    experts = await make_catalogue(session)

    response = await client.get(recommended_url(experts["chips"].id), params={"k": k}, headers=auth(admin))

    assert_problem(response, 422, "request_invalid", "k")


async def test_computing_proposals_is_audited(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    from app.audit.models import AuditEvent

    await make_catalogue(session)
    user, studio = await enterprise_owner(session)
    order = await make_field_order(session, "welding", studio)
    response = await client.post(proposals_url(order.id), params={"k": 2}, headers=auth(user))
    assert response.status_code == 201, response.text

    event = (
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "order.proposals_computed", AuditEvent.entity_id == order.id
            )
        )
    ).one()
    assert event.actor_user_id == user.id
    assert event.after is not None
    assert event.after["experts"] == expert_ids(response)
    assert event.after["matcher_version"] == response.json()[0]["matcher_version"]
