"""``/api/v1/enterprises``: registration with credit-code checks, updates by owners, the list."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.audit.models import AuditEvent
from app.enterprises.models import Enterprise
from tests.factories import make_enterprise, make_user, valid_credit_code
from tests.problems import CJK, Auth, assert_problem

ENTERPRISES = "/api/v1/enterprises"

# 阿里巴巴（中国）有限公司: a published code whose check character is a letter (see test_uscc.py)
ALIBABA = "91330100716105852F"


def new_enterprise(**overrides: Any) -> dict[str, Any]:
    """The body of ``POST /enterprises`` for a company in 扬州市广陵区."""
    body: dict[str, Any] = {
        "name": "扬州华宇液压机械有限公司",
        "credit_code": valid_credit_code(division="321002"),
        "province": "江苏省",
        "city": "扬州市",
        "district": "广陵区",
        "town": "头桥镇",
        "industry": "液压件制造",
    }
    body.update(overrides)
    return body


async def count_enterprises(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Enterprise)) or 0)


def with_wrong_check_character(code: str) -> str:
    wrong = "0" if code[-1] != "0" else "1"
    return code[:-1] + wrong


# --- POST /enterprises -------------------------------------------------------------------------


async def test_admin_registers_an_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    body = new_enterprise()

    response = await client.post(ENTERPRISES, headers=auth(admin), json=body)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "扬州华宇液压机械有限公司"
    assert created["credit_code"] == body["credit_code"]
    assert created["district"] == "广陵区"
    stored = await session.get(Enterprise, created["id"])
    assert stored is not None
    assert stored.name == "扬州华宇液压机械有限公司"


async def test_registration_normalises_the_credit_code(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    response = await client.post(
        ENTERPRISES,
        headers=auth(admin),
        json=new_enterprise(
            name="阿里巴巴（中国）有限公司",
            credit_code=" 9133 0100 7161 0585 2f ",
            province="浙江省",
            city="杭州市",
            district="滨江区",
        ),
    )

    assert response.status_code == 201, response.text
    assert response.json()["credit_code"] == ALIBABA
    stored = await session.get(Enterprise, response.json()["id"])
    assert stored is not None
    assert stored.credit_code == ALIBABA


async def test_registration_writes_an_audit_event(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    response = await client.post(ENTERPRISES, headers=auth(admin), json=new_enterprise())
    assert response.status_code == 201, response.text

    event = await session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "enterprise.created", AuditEvent.entity_id == response.json()["id"]
        )
    )

    assert event is not None
    assert event.actor_user_id == admin.id
    assert event.after is not None
    assert event.after["name"] == "扬州华宇液压机械有限公司"


async def test_wrong_check_character_is_rejected_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    before = await count_enterprises(session)

    response = await client.post(
        ENTERPRISES,
        headers=auth(admin),
        json=new_enterprise(credit_code=with_wrong_check_character(valid_credit_code())),
    )

    body = assert_problem(response, 422, "uscc_invalid")
    assert body["errors"][0]["field"] == "credit_code"
    assert "校验位" in body["errors"][0]["message"]
    assert await count_enterprises(session) == before


@pytest.mark.parametrize(
    ("credit_code", "reason"),
    [
        ("91321003000000001", "应为 18 位"),
        ("9132100300000000I1", "不允许的字符：I"),
    ],
    ids=["17位", "含字母I"],
)
async def test_malformed_credit_code_is_rejected_with_a_chinese_reason(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, credit_code: str, reason: str
) -> None:
    before = await count_enterprises(session)

    response = await client.post(
        ENTERPRISES, headers=auth(admin), json=new_enterprise(credit_code=credit_code)
    )

    body = assert_problem(response, 422, "uscc_invalid")
    assert body["errors"][0]["field"] == "credit_code"
    assert reason in body["errors"][0]["message"]
    assert await count_enterprises(session) == before


async def test_duplicate_credit_code_is_a_conflict_and_no_second_row_is_written(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    existing = await make_enterprise(session, name="扬州万方机械有限公司")
    before = await count_enterprises(session)

    response = await client.post(
        ENTERPRISES,
        headers=auth(admin),
        json=new_enterprise(name="扬州万方机械有限公司（重复）", credit_code=existing.credit_code),
    )

    body = assert_problem(response, 409, "uscc_duplicate")
    assert body["errors"][0]["field"] == "credit_code"
    assert await count_enterprises(session) == before


async def test_duplicate_is_detected_after_normalising(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    await make_enterprise(session, name="阿里巴巴（中国）有限公司", credit_code=ALIBABA)
    before = await count_enterprises(session)

    response = await client.post(
        ENTERPRISES,
        headers=auth(admin),
        json=new_enterprise(credit_code=ALIBABA.lower()[:9] + " " + ALIBABA[9:]),
    )

    assert_problem(response, 409, "uscc_duplicate")
    assert await count_enterprises(session) == before


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_only_admins_register_enterprises(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    user = await make_user(session, role)
    before = await count_enterprises(session)

    response = await client.post(ENTERPRISES, headers=auth(user), json=new_enterprise())

    assert_problem(response, 403, "forbidden")
    assert await count_enterprises(session) == before


async def test_registration_requires_login(client: AsyncClient) -> None:
    response = await client.post(ENTERPRISES, json=new_enterprise())

    assert_problem(response, 401, "unauthenticated")


async def test_registration_without_a_name_names_the_field(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    body = new_enterprise()
    del body["name"]

    response = await client.post(ENTERPRISES, headers=auth(admin), json=body)

    problem = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in problem["errors"]] == ["name"]


# --- GET /enterprises/{id} ---------------------------------------------------------------------


async def test_any_logged_in_user_reads_an_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    enterprise = await make_enterprise(session, name="扬州通运重工有限公司")
    expert = await make_user(session, UserRole.EXPERT)

    response = await client.get(f"{ENTERPRISES}/{enterprise.id}", headers=auth(expert))

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "扬州通运重工有限公司"


async def test_unknown_enterprise_is_not_found(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.get(f"{ENTERPRISES}/987654", headers=auth(admin))

    assert_problem(response, 404, "enterprise_not_found")


# --- PATCH /enterprises/{id} -------------------------------------------------------------------


async def test_enterprise_user_updates_its_own_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    enterprise = await make_enterprise(session, industry="装备制造")
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)

    response = await client.patch(
        f"{ENTERPRISES}/{enterprise.id}", headers=auth(user), json={"industry": "高端数控装备制造"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["industry"] == "高端数控装备制造"
    assert response.json()["name"] == enterprise.name  # fields not sent stay as they were
    assert enterprise.industry == "高端数控装备制造"


async def test_enterprise_user_cannot_update_another_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    other = await make_enterprise(session, name="扬州别家机械有限公司")
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.patch(
        f"{ENTERPRISES}/{other.id}", headers=auth(user), json={"name": "被篡改的名称"}
    )

    assert_problem(response, 403, "forbidden")
    assert other.name == "扬州别家机械有限公司"


async def test_expert_cannot_update_an_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    enterprise = await make_enterprise(session)
    expert = await make_user(session, UserRole.EXPERT)

    response = await client.patch(
        f"{ENTERPRISES}/{enterprise.id}", headers=auth(expert), json={"town": "瓜洲镇"}
    )

    assert_problem(response, 403, "forbidden")


async def test_admin_updates_any_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session, town="杭集镇")

    response = await client.patch(
        f"{ENTERPRISES}/{enterprise.id}", headers=auth(admin), json={"town": "瓜洲镇"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["town"] == "瓜洲镇"


async def test_patching_a_required_field_to_null_is_rejected(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session, name="扬州保留名称有限公司")

    response = await client.patch(f"{ENTERPRISES}/{enterprise.id}", headers=auth(admin), json={"name": None})

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["name"]
    assert CJK.search(body["errors"][0]["message"])
    assert enterprise.name == "扬州保留名称有限公司"


async def test_patching_an_optional_field_to_null_clears_it(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session, town="杭集镇")

    response = await client.patch(f"{ENTERPRISES}/{enterprise.id}", headers=auth(admin), json={"town": None})

    assert response.status_code == 200, response.text
    assert response.json()["town"] is None


async def test_credit_code_cannot_be_patched(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session)
    original = enterprise.credit_code

    response = await client.patch(
        f"{ENTERPRISES}/{enterprise.id}", headers=auth(admin), json={"credit_code": valid_credit_code()}
    )

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["credit_code"]
    assert enterprise.credit_code == original


async def test_patching_an_unknown_enterprise_is_not_found(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.patch(f"{ENTERPRISES}/987654", headers=auth(admin), json={"town": "瓜洲镇"})

    assert_problem(response, 404, "enterprise_not_found")


async def test_update_audit_event_records_only_the_changed_fields(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session, name="扬州旧名机械有限公司", district="邗江区")

    response = await client.patch(
        f"{ENTERPRISES}/{enterprise.id}",
        headers=auth(admin),
        json={"name": "扬州新名智能装备有限公司", "district": "邗江区"},  # district sent but unchanged
    )

    assert response.status_code == 200, response.text
    event = await session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "enterprise.updated", AuditEvent.entity_id == enterprise.id
        )
    )
    assert event is not None
    assert event.actor_user_id == admin.id
    assert event.entity_type == "enterprises"
    assert event.before is not None
    assert event.after is not None
    assert event.before["name"] == "扬州旧名机械有限公司"
    assert event.after["name"] == "扬州新名智能装备有限公司"
    # the edit plus the ORM's own bookkeeping; nothing that stayed the same (district, credit code …)
    assert set(event.before) == set(event.after) == {"name", "updated_at"}


# --- GET /enterprises --------------------------------------------------------------------------


async def test_list_requires_login(client: AsyncClient) -> None:
    response = await client.get(ENTERPRISES)

    assert_problem(response, 401, "unauthenticated")


async def test_list_is_paginated(client: AsyncClient, session: AsyncSession, auth: Auth, admin: User) -> None:
    made = [await make_enterprise(session, name=f"扬州分页测试有限公司{i}") for i in range(5)]

    response = await client.get(ENTERPRISES, headers=auth(admin), params={"page": 2, "page_size": 2})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 5
    assert body["page"] == 2
    assert body["page_size"] == 2
    assert [e["id"] for e in body["items"]] == [made[2].id, made[3].id]


async def test_page_past_the_end_is_empty_but_keeps_the_total(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    for _ in range(3):
        await make_enterprise(session)

    response = await client.get(ENTERPRISES, headers=auth(admin), params={"page": 9, "page_size": 2})

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    assert response.json()["total"] == 3


@pytest.mark.parametrize("page_size", [0, 10000])
async def test_out_of_range_page_size_is_rejected(
    client: AsyncClient, auth: Auth, admin: User, page_size: int
) -> None:
    response = await client.get(ENTERPRISES, headers=auth(admin), params={"page_size": page_size})

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["page_size"]
    assert "每页条数" in body["detail"]


async def test_list_filters_by_keyword_in_name_or_industry(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    by_name = await make_enterprise(session, name="扬州液压件制造有限公司", industry="机械")
    by_industry = await make_enterprise(session, name="扬州通达有限公司", industry="液压系统集成")
    await make_enterprise(session, name="扬州纺织有限公司", industry="纺织")

    response = await client.get(ENTERPRISES, headers=auth(admin), params={"q": "液压"})

    assert response.status_code == 200, response.text
    assert response.json()["total"] == 2
    assert [e["id"] for e in response.json()["items"]] == [by_name.id, by_industry.id]


async def test_list_filters_by_district(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    guangling = await make_enterprise(session, district="广陵区")
    await make_enterprise(session, district="邗江区")

    response = await client.get(ENTERPRISES, headers=auth(admin), params={"district": "广陵区"})

    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1
    assert [e["id"] for e in response.json()["items"]] == [guangling.id]


async def test_sort_by_name_breaks_ties_by_id(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    third = await make_enterprise(session, name="扬州精工3号有限公司")
    first_a = await make_enterprise(session, name="扬州精工1号有限公司")
    second = await make_enterprise(session, name="扬州精工2号有限公司")
    first_b = await make_enterprise(session, name="扬州精工1号有限公司")

    response = await client.get(ENTERPRISES, headers=auth(admin), params={"sort": "name"})

    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()["items"]] == [first_a.id, first_b.id, second.id, third.id]


async def test_sort_by_descending_id(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    made = [await make_enterprise(session) for _ in range(3)]

    response = await client.get(ENTERPRISES, headers=auth(admin), params={"sort": "-id"})

    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()["items"]] == [e.id for e in reversed(made)]


async def test_unknown_sort_key_is_rejected(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.get(ENTERPRISES, headers=auth(admin), params={"sort": "credit_code"})

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["sort"]


async def test_keyword_wildcards_are_literal(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    await make_enterprise(session, name="扬州百分百机械有限公司")
    percent = await make_enterprise(session, name="扬州100%精度测量有限公司")

    wildcard = await client.get(ENTERPRISES, headers=auth(admin), params={"q": "%"})
    number = await client.get(ENTERPRISES, headers=auth(admin), params={"q": "100%"})

    # a wildcard alone is no word to search for: it finds nothing, not everything
    assert wildcard.status_code == 200, wildcard.text
    assert wildcard.json()["items"] == []
    assert [e["id"] for e in number.json()["items"]] == [percent.id]


async def test_sort_by_descending_name_breaks_ties_by_descending_id(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    first_a = await make_enterprise(session, name="扬州精工1号有限公司")
    second = await make_enterprise(session, name="扬州精工2号有限公司")
    first_b = await make_enterprise(session, name="扬州精工1号有限公司")

    response = await client.get(ENTERPRISES, headers=auth(admin), params={"sort": "-name"})

    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()["items"]] == [second.id, first_b.id, first_a.id]
