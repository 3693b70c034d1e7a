"""``/api/v1/orders``: posting technical needs (发单), who may see them and who may change them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.audit.models import AuditEvent
from app.clock import local_today
from app.enterprises.models import Enterprise
from app.orders.models import NeedKind, Order, OrderStatus
from app.studios.models import Studio
from tests.factories import make_enterprise, make_order, make_studio, make_user
from tests.problems import Auth, assert_problem

URL = "/api/v1/orders"


def error_fields(body: dict) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def new_order_body(studio: Studio, **overrides: object) -> dict:
    body: dict = {
        "studio_id": studio.id,
        "title": "精密磨床砂轮修整精度提升",
        "description": "现有砂轮修整器精度不足，磨削后工件圆度超差，希望专家协助改进修整工艺。",
        "need_kind": "process_improvement",
        "fields": ["精密磨削", "砂轮修整"],
        "budget_min": 80_000,
        "budget_max": 200_000,
        "deadline": (local_today() + timedelta(days=60)).isoformat(),
        "slots": 1,
    }
    body.update(overrides)
    return body


async def enterprise_user(session: AsyncSession, enterprise: Enterprise | None = None) -> User:
    return await make_user(
        session, UserRole.ENTERPRISE, enterprise=enterprise or await make_enterprise(session)
    )


async def studio_of(session: AsyncSession, user: User) -> Studio:
    enterprise = await session.get(Enterprise, user.enterprise_id)
    return await make_studio(session, enterprise)


async def count_orders(session: AsyncSession, studio: Studio) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(Order).where(Order.studio_id == studio.id)) or 0
    )


# --- login ------------------------------------------------------------------------------------


async def test_listing_requires_login(client: AsyncClient) -> None:
    response = await client.get(URL)

    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_detail_requires_login(client: AsyncClient, session: AsyncSession) -> None:
    order = await make_order(session)

    response = await client.get(f"{URL}/{order.id}")

    assert_problem(response, 401, "unauthenticated")


async def test_posting_requires_login(client: AsyncClient, session: AsyncSession) -> None:
    studio = await make_studio(session)

    response = await client.post(URL, json=new_order_body(studio))

    assert_problem(response, 401, "unauthenticated")
    assert await count_orders(session, studio) == 0


# --- posting ----------------------------------------------------------------------------------


async def test_enterprise_user_posts_a_draft_for_its_own_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)

    response = await client.post(URL, json=new_order_body(studio), headers=auth(user))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "draft"
    assert body["studio_id"] == studio.id
    assert body["title"] == "精密磨床砂轮修整精度提升"
    assert body["version"] == 1
    assert body["published_at"] is None
    assert await count_orders(session, studio) == 1


async def test_posted_order_takes_the_region_of_the_studios_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    enterprise = await make_enterprise(
        session, province="江苏省", city="扬州市", district="江都区", town="仙女镇"
    )
    user = await enterprise_user(session, enterprise)
    studio = await make_studio(session, enterprise)

    response = await client.post(URL, json=new_order_body(studio), headers=auth(user))

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["province"], body["city"], body["district"], body["town"]) == (
        "江苏省",
        "扬州市",
        "江都区",
        "仙女镇",
    )


async def test_the_region_cannot_be_supplied_by_the_caller(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)

    response = await client.post(URL, json=new_order_body(studio, district="高邮市"), headers=auth(user))

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"district"}


async def test_enterprise_user_cannot_post_for_another_enterprises_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    foreign_studio = await make_studio(session)

    response = await client.post(URL, json=new_order_body(foreign_studio), headers=auth(user))

    assert_problem(response, 403, "forbidden")
    assert await count_orders(session, foreign_studio) == 0


async def test_expert_cannot_post_an_order(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await make_user(session, UserRole.EXPERT)
    studio = await make_studio(session)

    response = await client.post(URL, json=new_order_body(studio), headers=auth(user))

    assert_problem(response, 403, "forbidden")
    assert await count_orders(session, studio) == 0


async def test_admin_posts_for_any_studio(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    studio = await make_studio(session)

    response = await client.post(URL, json=new_order_body(studio), headers=auth(admin))

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "draft"


async def test_deadline_yesterday_is_rejected_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)
    yesterday = (local_today() - timedelta(days=1)).isoformat()

    response = await client.post(URL, json=new_order_body(studio, deadline=yesterday), headers=auth(user))

    body = assert_problem(response, 422, "order_deadline_past")
    assert error_fields(body) == {"deadline"}
    assert yesterday in body["detail"]
    assert await count_orders(session, studio) == 0


async def test_deadline_today_is_accepted(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)

    response = await client.post(
        URL, json=new_order_body(studio, deadline=local_today().isoformat()), headers=auth(user)
    )

    assert response.status_code == 201, response.text


async def test_budget_max_below_budget_min_is_rejected(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)

    response = await client.post(
        URL, json=new_order_body(studio, budget_min=100_000, budget_max=50_000), headers=auth(user)
    )

    body = assert_problem(response, 422, "order_budget_invalid")
    assert error_fields(body) == {"budget_max"}
    assert await count_orders(session, studio) == 0


async def test_title_of_201_characters_is_rejected(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)

    response = await client.post(URL, json=new_order_body(studio, title="磨" * 201), headers=auth(user))

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"title"}
    assert "标题" in body["detail"]


async def test_title_of_200_characters_is_accepted(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)

    response = await client.post(URL, json=new_order_body(studio, title="磨" * 200), headers=auth(user))

    assert response.status_code == 201, response.text


async def test_unknown_need_kind_is_rejected(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)

    response = await client.post(URL, json=new_order_body(studio, need_kind="设备采购"), headers=auth(user))

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"need_kind"}


async def test_missing_description_is_rejected(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)
    body = new_order_body(studio)
    del body["description"]

    response = await client.post(URL, json=body, headers=auth(user))

    problem = assert_problem(response, 422, "request_invalid")
    assert error_fields(problem) == {"description"}
    assert "描述" in problem["detail"]


async def test_posting_records_an_audit_event(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await enterprise_user(session)
    studio = await studio_of(session, user)

    response = await client.post(URL, json=new_order_body(studio), headers=auth(user))

    assert response.status_code == 201, response.text
    [event] = (
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "order.created", AuditEvent.entity_id == response.json()["id"]
            )
        )
    ).all()
    assert event.entity_type == "orders"
    assert event.actor_user_id == user.id
    assert event.after is not None
    assert event.after["title"] == "精密磨床砂轮修整精度提升"


# --- visibility -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [OrderStatus.DRAFT, OrderStatus.WITHDRAWN])
async def test_another_enterprises_private_order_is_not_found(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    order = await make_order(session, status=status)
    user = await enterprise_user(session)

    response = await client.get(f"{URL}/{order.id}", headers=auth(user))

    assert_problem(response, 404, "order_not_found")


@pytest.mark.parametrize("status", [OrderStatus.DRAFT, OrderStatus.WITHDRAWN])
async def test_another_enterprises_private_order_is_absent_from_the_list(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    await make_order(session, status=status)
    published = await make_order(session, status=OrderStatus.PUBLISHED)
    user = await enterprise_user(session)

    response = await client.get(URL, headers=auth(user))

    assert ids(response) == [published.id]
    assert response.json()["total"] == 1


async def test_a_private_order_is_not_found_for_an_expert(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    order = await make_order(session, status=OrderStatus.DRAFT)
    user = await make_user(session, UserRole.EXPERT)

    response = await client.get(f"{URL}/{order.id}", headers=auth(user))

    assert_problem(response, 404, "order_not_found")


@pytest.mark.parametrize("status", [OrderStatus.DRAFT, OrderStatus.WITHDRAWN])
async def test_own_private_orders_are_visible_to_the_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus
) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user), status=status)

    detail = await client.get(f"{URL}/{order.id}", headers=auth(user))
    listed = await client.get(URL, headers=auth(user))

    assert detail.status_code == 200
    assert detail.json()["status"] == status.value
    assert ids(listed) == [order.id]


@pytest.mark.parametrize("status", [OrderStatus.PUBLISHED, OrderStatus.TAKEN, OrderStatus.CLOSED])
@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_public_orders_are_visible_to_every_logged_in_user(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus, role: UserRole
) -> None:
    order = await make_order(session, status=status)
    user = await make_user(session, role)

    detail = await client.get(f"{URL}/{order.id}", headers=auth(user))
    listed = await client.get(URL, headers=auth(user))

    assert detail.status_code == 200
    assert detail.json()["status"] == status.value
    assert ids(listed) == [order.id]


async def test_admin_sees_every_order(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    orders = [await make_order(session, status=status) for status in OrderStatus]

    listed = await client.get(URL, params={"sort": "id"}, headers=auth(admin))
    draft = await client.get(f"{URL}/{orders[0].id}", headers=auth(admin))

    assert ids(listed) == [o.id for o in orders]
    assert draft.status_code == 200


async def test_unknown_order_is_404(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.get(f"{URL}/987654", headers=auth(admin))

    body = assert_problem(response, 404, "order_not_found")
    assert "987654" in body["detail"]


async def test_an_id_beyond_the_integer_range_is_422_not_500(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.get(f"{URL}/99999999999", headers=auth(admin))

    assert_problem(response, 422, "request_invalid")


# --- updating ---------------------------------------------------------------------------------


async def test_enterprise_user_updates_own_order_and_the_version_increments(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user), status=OrderStatus.DRAFT)

    response = await client.patch(
        f"{URL}/{order.id}", json={"title": "主轴高速振动抑制", "version": 1}, headers=auth(user)
    )

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "主轴高速振动抑制"
    assert response.json()["version"] == 2
    assert await session.scalar(select(Order.version).where(Order.id == order.id)) == 2


async def test_update_without_version_also_increments_it(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user), status=OrderStatus.PUBLISHED)

    response = await client.patch(f"{URL}/{order.id}", json={"slots": 2}, headers=auth(user))

    assert response.status_code == 200, response.text
    assert response.json()["slots"] == 2
    assert response.json()["version"] == 2


async def test_update_records_an_audit_event_with_the_change(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user), title="原标题")

    response = await client.patch(f"{URL}/{order.id}", json={"title": "新标题"}, headers=auth(user))

    assert response.status_code == 200, response.text
    [event] = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "order.updated", AuditEvent.entity_id == order.id)
        )
    ).all()
    assert event.before is not None and event.after is not None
    assert (event.before["title"], event.after["title"]) == ("原标题", "新标题")


async def test_stale_version_is_a_conflict_and_changes_nothing(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user), title="原标题")
    first = await client.patch(
        f"{URL}/{order.id}", json={"budget_max": 120_000, "version": 1}, headers=auth(user)
    )
    assert first.json()["version"] == 2

    stale = await client.patch(
        f"{URL}/{order.id}", json={"title": "过期页面上的修改", "version": 1}, headers=auth(user)
    )

    assert_problem(stale, 409, "order_version_conflict")
    row = (await session.execute(select(Order.title, Order.version).where(Order.id == order.id))).one()
    assert tuple(row) == ("原标题", 2)


async def test_another_enterprises_published_order_is_forbidden_to_edit(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    order = await make_order(session, status=OrderStatus.PUBLISHED, title="原标题")
    user = await enterprise_user(session)

    response = await client.patch(f"{URL}/{order.id}", json={"title": "他人修改的标题"}, headers=auth(user))

    assert_problem(response, 403, "forbidden")
    assert await session.scalar(select(Order.title).where(Order.id == order.id)) == "原标题"


async def test_another_enterprises_draft_is_not_found_when_editing(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    order = await make_order(session, status=OrderStatus.DRAFT, title="原标题")
    user = await enterprise_user(session)

    response = await client.patch(f"{URL}/{order.id}", json={"title": "他人修改的标题"}, headers=auth(user))

    assert_problem(response, 404, "order_not_found")
    assert await session.scalar(select(Order.title).where(Order.id == order.id)) == "原标题"


async def test_expert_cannot_edit_a_published_order(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    order = await make_order(session, status=OrderStatus.PUBLISHED)
    user = await make_user(session, UserRole.EXPERT)

    response = await client.patch(f"{URL}/{order.id}", json={"title": "专家修改的标题"}, headers=auth(user))

    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize(("status", "label"), [(OrderStatus.TAKEN, "已接单"), (OrderStatus.CLOSED, "已关闭")])
async def test_taken_or_closed_order_is_not_editable(
    client: AsyncClient, session: AsyncSession, auth: Auth, status: OrderStatus, label: str
) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user), status=status, title="原标题")

    response = await client.patch(f"{URL}/{order.id}", json={"title": "接单后的修改"}, headers=auth(user))

    body = assert_problem(response, 409, "order_not_editable")
    assert f"“{label}”" in body["detail"]
    assert await session.scalar(select(Order.title).where(Order.id == order.id)) == "原标题"


async def test_deadline_cannot_be_moved_into_the_past(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user))
    original = order.deadline
    yesterday = (local_today() - timedelta(days=1)).isoformat()

    response = await client.patch(f"{URL}/{order.id}", json={"deadline": yesterday}, headers=auth(user))

    body = assert_problem(response, 422, "order_deadline_past")
    assert error_fields(body) == {"deadline"}
    assert await session.scalar(select(Order.deadline).where(Order.id == order.id)) == original


async def test_budget_max_cannot_drop_below_the_stored_budget_min(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user), budget_min=50_000, budget_max=100_000)

    response = await client.patch(f"{URL}/{order.id}", json={"budget_max": 30_000}, headers=auth(user))

    assert_problem(response, 422, "order_budget_invalid")


async def test_title_cannot_be_set_to_null(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await enterprise_user(session)
    order = await make_order(session, await studio_of(session, user))

    response = await client.patch(f"{URL}/{order.id}", json={"title": None}, headers=auth(user))

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"title"}


# --- list filters -----------------------------------------------------------------------------


async def test_filter_by_status(client: AsyncClient, session: AsyncSession, auth: Auth, admin: User) -> None:
    taken = await make_order(session, status=OrderStatus.TAKEN)
    await make_order(session, status=OrderStatus.PUBLISHED)

    assert ids(await client.get(URL, params={"status": "taken"}, headers=auth(admin))) == [taken.id]


async def test_filter_by_need_kind(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    training = await make_order(session, need_kind=NeedKind.TRAINING, title="数控操作工新型学徒制培训")
    await make_order(session, need_kind=NeedKind.TECH_BREAKTHROUGH)

    assert ids(await client.get(URL, params={"need_kind": "training"}, headers=auth(admin))) == [training.id]


async def test_filter_by_field_matches_a_whole_field(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    welding = await make_order(session, fields=["激光焊接", "钣金"])
    await make_order(session, fields=["数控加工"])
    await make_order(session, fields=["激光焊接机器人"])

    assert ids(await client.get(URL, params={"field": "激光焊接"}, headers=auth(admin))) == [welding.id]


async def test_filter_by_district(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    gaoyou = await make_order(session, district="高邮市", town="城南经济新区")
    await make_order(session, district="邗江区")

    assert ids(await client.get(URL, params={"district": "高邮市"}, headers=auth(admin))) == [gaoyou.id]


async def test_filter_by_enterprise(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session, name="扬州恒远数控设备有限公司")
    first = await make_order(session, await make_studio(session, enterprise))
    second = await make_order(session, await make_studio(session, enterprise))
    await make_order(session)

    response = await client.get(
        URL, params={"enterprise_id": enterprise.id, "sort": "id"}, headers=auth(admin)
    )

    assert ids(response) == [first.id, second.id]


async def test_q_matches_title_or_description(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    by_title = await make_order(session, title="注塑模具冷却水路优化")
    by_description = await make_order(
        session, title="产品质量提升", description="注塑件翘曲严重，需要优化模具。"
    )
    await make_order(session, title="数控机床主轴振动诊断")

    response = await client.get(URL, params={"q": "注塑", "sort": "id"}, headers=auth(admin))

    assert ids(response) == [by_title.id, by_description.id]


async def test_a_percent_sign_in_q_is_no_wildcard(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    # q is searched by its words (the search tokens), never by LIKE: punctuation alone finds nothing
    percent = await make_order(session, description="希望将良品率提升 20% 以上。")
    await make_order(session, description="主轴振动明显增大。")

    assert ids(await client.get(URL, params={"q": "%"}, headers=auth(admin))) == []
    assert ids(await client.get(URL, params={"q": "20%"}, headers=auth(admin))) == [percent.id]


async def test_filters_do_not_reveal_another_enterprises_drafts(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    draft = await make_order(session, status=OrderStatus.DRAFT)
    user = await enterprise_user(session)

    response = await client.get(URL, params={"status": "draft"}, headers=auth(user))

    assert draft.id not in ids(response)
    assert response.json()["total"] == 0


# --- sorting and paging -----------------------------------------------------------------------


async def test_default_sort_is_newest_first_with_id_breaking_ties(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    oldest = await make_order(session, created_at=moment - timedelta(days=1))
    tied = [await make_order(session, created_at=moment) for _ in range(3)]
    newest = await make_order(session, created_at=moment + timedelta(days=1))

    response = await client.get(URL, headers=auth(admin))

    assert ids(response) == [newest.id, *(o.id for o in reversed(tied)), oldest.id]


async def test_pages_are_stable_across_tied_timestamps(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    tied = [await make_order(session, created_at=moment) for _ in range(5)]

    first = ids(await client.get(URL, params={"page_size": 2, "page": 1}, headers=auth(admin)))
    second = ids(await client.get(URL, params={"page_size": 2, "page": 2}, headers=auth(admin)))
    third = ids(await client.get(URL, params={"page_size": 2, "page": 3}, headers=auth(admin)))

    assert first + second + third == [o.id for o in reversed(tied)]


async def test_page_size_101_is_rejected(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.get(URL, params={"page_size": 101}, headers=auth(admin))

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"page_size"}
    assert "每页条数" in body["detail"]
