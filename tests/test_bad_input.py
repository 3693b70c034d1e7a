"""The issue's bad-input list, one test each: a clear 4xx problem+json naming the field, and nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.audit.models import AuditEvent
from app.clock import local_today
from app.enterprises.models import Enterprise
from app.orders.models import Order, OrderStatus
from app.studios.models import Studio
from tests.factories import make_enterprise, make_order, make_studio, make_user, valid_credit_code
from tests.problems import Auth, assert_problem, count


def enterprise_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "扬州新材料科技有限公司",
        "credit_code": valid_credit_code(),
        "province": "江苏省",
        "city": "扬州市",
        "district": "邗江区",
    }
    body.update(overrides)
    return body


async def test_malformed_json_is_a_400_and_writes_nothing(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    before = await count(session, Enterprise)
    response = await client.post(
        "/api/v1/enterprises",
        content='{"name": "扬州", "credit_code": '.encode(),
        headers={**auth(admin), "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed_json")
    assert await count(session, Enterprise) == before


async def test_wrong_type_names_the_field(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    enterprise = await make_enterprise(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)
    before = await count(session, Studio)
    response = await client.post(
        "/api/v1/studios",
        json={"name": "测试工作室", "kind": "craftsman", "leader_name": "张三", "members_count": "很多"},
        headers=auth(user),
    )
    body = assert_problem(response, 422, "request_invalid", "members_count")
    assert "整数" in body["detail"]
    assert await count(session, Studio) == before


async def test_over_long_string_names_the_field_and_its_limit(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    before = await count(session, Enterprise)
    response = await client.post(
        "/api/v1/enterprises", json=enterprise_body(name="厂" * 201), headers=auth(admin)
    )
    body = assert_problem(response, 422, "request_invalid", "name")
    assert "200" in body["errors"][0]["message"]
    assert await count(session, Enterprise) == before


async def test_unknown_enum_value_lists_the_allowed_ones(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    before = await count(session, Order)
    response = await client.post(
        "/api/v1/orders",
        json={"studio_id": studio.id, "title": "焊接变形", "description": "焊后变形大", "need_kind": "跑腿"},
        headers=auth(user),
    )
    body = assert_problem(response, 422, "request_invalid", "need_kind")
    assert "tech_breakthrough" in body["errors"][0]["message"]
    assert await count(session, Order) == before


async def test_invalid_credit_code_check_character(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    code = valid_credit_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    before = await count(session, Enterprise)
    response = await client.post(
        "/api/v1/enterprises", json=enterprise_body(credit_code=wrong), headers=auth(admin)
    )
    body = assert_problem(response, 422, "uscc_invalid", "credit_code")
    assert "校验位" in body["detail"]
    assert await count(session, Enterprise) == before


async def test_duplicate_credit_code(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    existing = await make_enterprise(session)
    before = await count(session, Enterprise)
    events_before = await count(session, AuditEvent)
    # the same code typed in lower case with spaces is still the same code
    typed = " ".join([existing.credit_code[:9], existing.credit_code[9:]]).lower()
    response = await client.post(
        "/api/v1/enterprises", json=enterprise_body(credit_code=typed), headers=auth(admin)
    )
    assert_problem(response, 409, "uscc_duplicate", "credit_code")
    assert await count(session, Enterprise) == before
    assert await count(session, AuditEvent) == events_before


async def test_order_with_a_deadline_in_the_past(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    before = await count(session, Order)
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    response = await client.post(
        "/api/v1/orders",
        json={
            "studio_id": studio.id,
            "title": "电缆挤出偏心",
            "description": "绝缘层偏心度超标，希望改进挤出工艺。",
            "need_kind": "process_improvement",
            "deadline": yesterday,
        },
        headers=auth(user),
    )
    assert_problem(response, 422, "order_deadline_past", "deadline")
    assert await count(session, Order) == before


async def test_missing_required_field(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    body = enterprise_body()
    del body["district"]
    before = await count(session, Enterprise)
    response = await client.post("/api/v1/enterprises", json=body, headers=auth(admin))
    problem = assert_problem(response, 422, "request_invalid", "district")
    assert "区县" in problem["detail"]
    assert await count(session, Enterprise) == before


@pytest.mark.parametrize("page_size", [0, 10_000])
async def test_page_size_out_of_range(client: AsyncClient, page_size: int) -> None:
    response = await client.get("/api/v1/experts", params={"page_size": page_size})
    assert_problem(response, 422, "request_invalid", "page_size")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/enterprises/987654", "enterprise_not_found"),
        ("/api/v1/studios/987654", "studio_not_found"),
        ("/api/v1/experts/987654", "expert_not_found"),
        ("/api/v1/achievements/987654", "achievement_not_found"),
        ("/api/v1/orders/987654", "order_not_found"),
    ],
)
async def test_an_id_that_does_not_exist(
    client: AsyncClient, admin: User, auth: Auth, path: str, code: str
) -> None:
    assert_problem(await client.get(path, headers=auth(admin)), 404, code)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/orders"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/enterprises"),
        ("POST", "/api/v1/enterprises"),
        ("PATCH", "/api/v1/experts/1"),
        ("GET", "/api/v1/auth/me"),
    ],
)
async def test_a_request_without_login(client: AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_enterprise_user_editing_another_enterprises_order(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    order = await make_order(session, status=OrderStatus.PUBLISHED)
    intruder = await make_user(session, UserRole.ENTERPRISE)
    response = await client.patch(
        f"/api/v1/orders/{order.id}", json={"title": "改掉别人的需求"}, headers=auth(intruder)
    )
    assert_problem(response, 403, "forbidden")
    await session.refresh(order)
    assert order.title == "数控机床主轴振动诊断"


async def test_unknown_field_is_refused_not_ignored(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session)
    order = await make_order(session, studio, status=OrderStatus.DRAFT)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    response = await client.patch(
        f"/api/v1/orders/{order.id}", json={"status": "closed"}, headers=auth(owner)
    )
    assert_problem(response, 422, "request_invalid", "status")
    await session.refresh(order)
    assert order.status is OrderStatus.DRAFT


async def test_unknown_route_and_method_are_problems_too(client: AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_problem(await client.delete("/api/v1/experts"), 405, "method_not_allowed")


async def test_problem_type_opens_a_chinese_explanation(client: AsyncClient) -> None:
    page = await client.get("/problems/uscc_invalid")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text and "统一社会信用代码无效" in page.text
    assert (await client.get("/problems/no_such_code")).status_code == 404
