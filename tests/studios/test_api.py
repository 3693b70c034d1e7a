"""``/api/v1/studios``: registration by enterprises, star-rating rules, updates by owners, the list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.studios.models import Studio, StudioKind
from tests.factories import make_enterprise, make_studio, make_user
from tests.problems import CJK, Auth, assert_problem

STUDIOS = "/api/v1/studios"


def new_studio(**overrides: Any) -> dict[str, Any]:
    """The body of ``POST /studios`` for a model worker's welding studio."""
    body: dict[str, Any] = {
        "name": "李华劳模创新工作室",
        "kind": "model_worker",
        "leader_name": "李华",
        "leader_honours": ["全国劳动模范", "江苏大工匠"],
        "fields": ["焊接工艺", "机器人焊接"],
        "members_count": 15,
        "description": "聚焦船用钢板机器人焊接变形控制。",
    }
    body.update(overrides)
    return body


async def count_studios(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Studio)) or 0)


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["items"]]


# --- POST /studios -----------------------------------------------------------------------------


async def test_enterprise_user_registers_a_studio_for_its_own_enterprise_by_default(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.post(STUDIOS, headers=auth(user), json=new_studio())

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["enterprise_id"] == user.enterprise_id
    assert body["name"] == "李华劳模创新工作室"
    assert body["kind"] == "model_worker"
    assert body["fields"] == ["焊接工艺", "机器人焊接"]
    assert body["star_rating"] == 0
    assert body["status"] == "active"


async def test_enterprise_user_may_name_its_own_enterprise_explicitly(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.post(
        STUDIOS, headers=auth(user), json=new_studio(enterprise_id=user.enterprise_id)
    )

    assert response.status_code == 201, response.text
    assert response.json()["enterprise_id"] == user.enterprise_id


async def test_enterprise_user_cannot_register_a_studio_for_another_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    other = await make_enterprise(session, name="扬州别家船舶配件有限公司")
    user = await make_user(session, UserRole.ENTERPRISE)
    before = await count_studios(session)

    response = await client.post(STUDIOS, headers=auth(user), json=new_studio(enterprise_id=other.id))

    assert_problem(response, 403, "forbidden")
    assert await count_studios(session) == before


async def test_expert_cannot_register_a_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    enterprise = await make_enterprise(session)
    expert = await make_user(session, UserRole.EXPERT)
    before = await count_studios(session)

    response = await client.post(STUDIOS, headers=auth(expert), json=new_studio(enterprise_id=enterprise.id))

    assert_problem(response, 403, "forbidden")
    assert await count_studios(session) == before


async def test_enterprise_user_cannot_set_the_star_rating(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    before = await count_studios(session)

    response = await client.post(
        STUDIOS,
        headers=auth(user),
        json=new_studio(star_rating=3, star_assessed_on="2023-06-30", star_score="92.50"),
    )

    assert_problem(response, 403, "forbidden")
    assert await count_studios(session) == before


async def test_admin_registers_a_rated_studio_with_date_and_score(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session)

    response = await client.post(
        STUDIOS,
        headers=auth(admin),
        json=new_studio(
            enterprise_id=enterprise.id, star_rating=2, star_assessed_on="2023-06-30", star_score="86.50"
        ),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["star_rating"] == 2
    assert body["star_assessed_on"] == "2023-06-30"
    assert Decimal(body["star_score"]) == Decimal("86.50")


async def test_admin_star_rating_without_date_and_score_is_inconsistent(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session)
    before = await count_studios(session)

    response = await client.post(
        STUDIOS, headers=auth(admin), json=new_studio(enterprise_id=enterprise.id, star_rating=2)
    )

    assert_problem(response, 422, "studio_star_invalid")
    assert await count_studios(session) == before


async def test_admin_must_name_the_enterprise(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.post(STUDIOS, headers=auth(admin), json=new_studio())

    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["field"] == "enterprise_id"


async def test_studio_for_an_unknown_enterprise_is_not_found(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.post(STUDIOS, headers=auth(admin), json=new_studio(enterprise_id=987654))

    assert_problem(response, 404, "enterprise_not_found")


async def test_unknown_kind_names_the_field_and_the_allowed_values(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.post(STUDIOS, headers=auth(user), json=new_studio(kind="大师工作室"))

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["kind"]
    message = body["errors"][0]["message"]
    assert CJK.search(message)
    for allowed in StudioKind:
        assert allowed.value in message


async def test_members_count_must_be_a_number(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.post(STUDIOS, headers=auth(user), json=new_studio(members_count="很多"))

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["members_count"]
    assert "成员人数" in body["detail"]


async def test_overlong_leader_honour_is_rejected(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)
    honour = "全" * 60

    response = await client.post(
        STUDIOS, headers=auth(user), json=new_studio(leader_honours=["扬州工匠", honour])
    )

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["leader_honours.1"]
    assert "50" in body["errors"][0]["message"]


async def test_registration_requires_login(client: AsyncClient) -> None:
    response = await client.post(STUDIOS, json=new_studio())

    assert_problem(response, 401, "unauthenticated")


# --- GET /studios/{id} -------------------------------------------------------------------------


async def test_any_logged_in_user_reads_a_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session, name="王建国工匠人才创新工作室")
    expert = await make_user(session, UserRole.EXPERT)

    response = await client.get(f"{STUDIOS}/{studio.id}", headers=auth(expert))

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "王建国工匠人才创新工作室"


async def test_unknown_studio_is_not_found(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.get(f"{STUDIOS}/987654", headers=auth(admin))

    assert_problem(response, 404, "studio_not_found")


# --- PATCH /studios/{id} -----------------------------------------------------------------------


async def test_enterprise_user_updates_its_own_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    enterprise = await make_enterprise(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)
    studio = await make_studio(session, enterprise, members_count=12)

    response = await client.patch(
        f"{STUDIOS}/{studio.id}",
        headers=auth(user),
        json={"members_count": 20, "fields": ["数控加工", "五轴加工"]},
    )

    assert response.status_code == 200, response.text
    assert response.json()["members_count"] == 20
    assert response.json()["fields"] == ["数控加工", "五轴加工"]
    assert studio.members_count == 20


async def test_enterprise_user_cannot_update_another_enterprises_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session, members_count=12)
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.patch(f"{STUDIOS}/{studio.id}", headers=auth(user), json={"members_count": 99})

    assert_problem(response, 403, "forbidden")
    assert studio.members_count == 12


async def test_enterprise_user_cannot_patch_the_star_rating(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    enterprise = await make_enterprise(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)
    studio = await make_studio(session, enterprise)

    response = await client.patch(
        f"{STUDIOS}/{studio.id}",
        headers=auth(user),
        json={"star_rating": 3, "star_assessed_on": "2024-01-15", "star_score": "95.00"},
    )

    assert_problem(response, 403, "forbidden")
    assert studio.star_rating == 0


async def test_patching_an_unknown_studio_is_not_found(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.patch(f"{STUDIOS}/987654", headers=auth(admin), json={"members_count": 3})

    assert_problem(response, 404, "studio_not_found")


async def test_patching_name_to_null_is_rejected(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    response = await client.patch(f"{STUDIOS}/{studio.id}", headers=auth(admin), json={"name": None})

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["name"]


# --- GET /studios ------------------------------------------------------------------------------


async def test_list_requires_login(client: AsyncClient) -> None:
    response = await client.get(STUDIOS)

    assert_problem(response, 401, "unauthenticated")


async def test_field_filter_matches_a_whole_list_element(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    cnc = await make_studio(session, fields=["数控加工", "精密磨削"])
    await make_studio(session, fields=["船舶焊接"])

    response = await client.get(STUDIOS, headers=auth(admin), params={"field": "数控加工"})

    assert ids(response) == [cnc.id]
    assert response.json()["total"] == 1


async def test_field_filter_does_not_match_part_of_an_element(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    await make_studio(session, fields=["数控加工", "精密磨削"])

    response = await client.get(STUDIOS, headers=auth(admin), params={"field": "数控"})

    assert ids(response) == []
    assert response.json()["total"] == 0


async def test_field_filter_does_not_match_across_elements(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    await make_studio(session, fields=["数控加工", "精密磨削"])

    response = await client.get(STUDIOS, headers=auth(admin), params={"field": '数控加工", "精密磨削'})

    assert ids(response) == []


async def test_district_filter_goes_through_the_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    guangling = await make_enterprise(session, district="广陵区")
    hanjiang = await make_enterprise(session, district="邗江区")
    in_guangling = await make_studio(session, guangling)
    await make_studio(session, hanjiang)

    response = await client.get(STUDIOS, headers=auth(admin), params={"district": "广陵区"})

    assert ids(response) == [in_guangling.id]
    assert response.json()["total"] == 1


async def test_kind_filter(client: AsyncClient, session: AsyncSession, auth: Auth, admin: User) -> None:
    worker = await make_studio(session, kind=StudioKind.WORKER, name="职工创新工作室")
    await make_studio(session, kind=StudioKind.CRAFTSMAN)
    await make_studio(session, kind=StudioKind.MODEL_WORKER)

    response = await client.get(STUDIOS, headers=auth(admin), params={"kind": "worker"})

    assert ids(response) == [worker.id]


async def test_unknown_kind_filter_is_rejected(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.get(STUDIOS, headers=auth(admin), params={"kind": "劳模"})

    body = assert_problem(response, 422, "request_invalid")
    assert [e["field"] for e in body["errors"]] == ["kind"]


@pytest.mark.parametrize("stars", [0, 2])
async def test_star_rating_filter(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, stars: int
) -> None:
    unrated = await make_studio(session)
    two_star = await make_studio(
        session, star_rating=2, star_assessed_on=date(2023, 6, 30), star_score=Decimal("86.50")
    )
    await make_studio(session, star_rating=3, star_assessed_on=date(2022, 12, 1), star_score=Decimal("93.00"))

    response = await client.get(STUDIOS, headers=auth(admin), params={"star_rating": stars})

    assert ids(response) == [{0: unrated, 2: two_star}[stars].id]


async def test_filters_combine(client: AsyncClient, session: AsyncSession, auth: Auth, admin: User) -> None:
    guangling = await make_enterprise(session, district="广陵区")
    wanted = await make_studio(session, guangling, kind=StudioKind.CRAFTSMAN, fields=["数控加工"])
    await make_studio(session, guangling, kind=StudioKind.WORKER, fields=["数控加工"])
    await make_studio(session, kind=StudioKind.CRAFTSMAN, fields=["数控加工"])  # 邗江区

    response = await client.get(
        STUDIOS, headers=auth(admin), params={"district": "广陵区", "kind": "craftsman", "field": "数控加工"}
    )

    assert ids(response) == [wanted.id]


async def test_list_is_paginated_and_sorted_by_id(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    made = [await make_studio(session) for _ in range(3)]

    response = await client.get(
        STUDIOS, headers=auth(admin), params={"page": 1, "page_size": 2, "sort": "-id"}
    )

    assert ids(response) == [made[2].id, made[1].id]
    assert response.json()["total"] == 3
