"""Pages over HTTP (no browser): login with CSRF, role rules, forms with Chinese errors next to fields,
the live proposals fragment, an order's page for its enterprise and for an expert."""

from __future__ import annotations

import re

from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.orders.models import OrderStatus
from app.web.csrf import CSRF_COOKIE
from tests.factories import (
    PASSWORD,
    make_achievement,
    make_enterprise,
    make_expert,
    make_order,
    make_studio,
    make_user,
)
from tests.problems import Auth


def token_of(page: Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def logged_in(client: AsyncClient, user: User) -> str:
    """Log ``user`` in through the login form; return the page's CSRF token."""
    form = await client.get("/login")
    token = token_of(form)
    done = await client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert done.status_code == 303, done.text
    return token


async def test_login_page_is_chinese_and_labelled(client: AsyncClient) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert '<label for="username">用户名</label>' in page.text
    assert CSRF_COOKIE in page.headers.get("set-cookie", "")


async def test_wrong_password_shows_a_chinese_error(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, UserRole.ADMIN)
    token = token_of(await client.get("/login"))
    page = await client.post(
        "/login", data={"username": user.username, "password": "错", "csrf_token": token}
    )
    assert page.status_code == 401
    assert "用户名或密码不正确" in page.text
    assert "Traceback" not in page.text


async def test_a_form_without_the_token_is_refused_in_chinese(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ADMIN)
    page = await client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert page.status_code == 403
    assert "页面已过期" in page.text and "text/html" in page.headers["content-type"]


async def test_pages_send_visitors_to_login_and_back(client: AsyncClient) -> None:
    page = await client.get("/my/orders?status=draft")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/my/orders?status=draft"


async def test_an_expert_may_not_open_the_order_form(client: AsyncClient, session: AsyncSession) -> None:
    await logged_in(client, await make_user(session, UserRole.EXPERT))
    page = await client.get("/orders/new")
    assert page.status_code == 403
    assert "您的账号角色不能访问此页面" in page.text


async def test_a_bad_order_form_shows_errors_next_to_the_fields(
    client: AsyncClient, session: AsyncSession
) -> None:
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    token = await logged_in(client, owner)
    page = await client.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "studio_id": studio.id,
            "title": "",
            "description": "振动",
            "need_kind": "consulting",
            "budget_min": "abc",
            "action": "draft",
        },
    )
    assert page.status_code == 422
    assert 'id="title-error">请填写标题<' in page.text, page.text
    assert 'id="budget_min-error">必须是整数' in page.text
    assert ">振动</textarea>" in page.text  # what was typed is kept


async def test_the_live_proposals_fragment_names_the_matching_expert(
    client: AsyncClient, session: AsyncSession
) -> None:
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    expert = await make_expert(
        session, name="周海燕", disciplines=["船舶与海洋工程"], bio="船舶分段焊接变形预测"
    )
    await make_achievement(
        session, expert, title="船舶焊接变形控制", abstract="分段焊接顺序优化。", keywords=["焊接变形"]
    )
    token = await logged_in(client, owner)
    fragment = await client.post(
        "/orders/preview",
        data={"csrf_token": token, "title": "船體焊接變形", "description": "分段焊接後變形超差"},
    )
    assert fragment.status_code == 200
    assert "周海燕" in fragment.text and "焊接" in fragment.text


async def test_an_expert_takes_an_order_from_its_page(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    order = await make_order(session, await make_studio(session), status=OrderStatus.PUBLISHED)
    expert_user = await make_user(session, UserRole.EXPERT)
    token = await logged_in(client, expert_user)
    page = await client.get(f"/orders/{order.id}")
    assert '<button type="submit">接单</button>' in page.text
    taken = await client.post(f"/orders/{order.id}/take", data={"csrf_token": token, "note": "下周可到现场"})
    assert taken.status_code == 303 and taken.headers["location"].endswith("flash=taken")
    again = await client.get(taken.headers["location"])
    assert 'role="status"' in again.text and "接单成功" in again.text
    twice = await client.post(f"/orders/{order.id}/take", data={"csrf_token": token})
    assert twice.status_code == 409 and "您已经接过该需求" in twice.text


async def test_a_traditional_search_finds_simplified_content(
    client: AsyncClient, session: AsyncSession
) -> None:
    expert = await make_expert(session, name="李振华", disciplines=["机械工程"], bio="数控机床主轴振动诊断")
    await make_achievement(
        session, expert, title="数控机床主轴振动诊断方法", abstract="振纹抑制。", keywords=["主轴振动"]
    )
    other = await make_expert(session, name="孙大厨", disciplines=["烹饪"], bio="淮扬菜烹饪培训")
    await make_achievement(session, other, title="淮扬菜刀工培训", abstract="刀工火候。", keywords=["淮扬菜"])

    experts = await client.get("/experts", params={"q": "數控機床振動"})
    assert experts.status_code == 200
    assert "李振华" in experts.text and "孙大厨" not in experts.text
    library = await client.get("/achievements", params={"q": "數控機床"})
    assert "数控机床主轴振动诊断方法" in library.text and "淮扬菜刀工培训" not in library.text


async def test_the_recommended_orders_page_gives_reasons(client: AsyncClient, session: AsyncSession) -> None:
    expert = await make_expert(session, name="李振华", disciplines=["机械工程"], bio="数控机床主轴振动诊断")
    await make_achievement(
        session, expert, title="数控机床主轴振动诊断方法", abstract="振纹抑制。", keywords=["主轴振动"]
    )
    order = await make_order(session, await make_studio(session), status=OrderStatus.PUBLISHED)
    await logged_in(client, await make_user(session, UserRole.EXPERT, expert=expert))
    page = await client.get("/my/recommended")
    assert page.status_code == 200
    assert order.title in page.text and "推荐理由" in page.text


async def test_the_inbox_shows_the_unread_count(client: AsyncClient, session: AsyncSession) -> None:
    from app.notifications import service as notification_service
    from app.notifications.models import NotificationKind

    user = await make_user(session, UserRole.ADMIN)
    await notification_service.notify(session, [user.id], NotificationKind.REVIEW_ASSIGNED, "年度评审任务")
    token = await logged_in(client, user)
    page = await client.get("/inbox")
    assert "年度评审任务" in page.text and 'aria-label="1 条未读"' in page.text
    done = await client.post("/inbox/read-all", data={"csrf_token": token})
    assert done.status_code == 303
    assert 'aria-label="1 条未读"' not in (await client.get("/inbox")).text


async def test_a_forged_non_ascii_token_is_refused_not_a_crash(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, UserRole.ADMIN)
    await client.get("/login")  # the browser has a real token cookie
    page = await client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": "伪造"}
    )
    assert page.status_code == 403
    assert "页面已过期" in page.text


async def test_directory_and_library_filters(client: AsyncClient, session: AsyncSession) -> None:
    near = await make_expert(
        session, name="李振华", disciplines=["机械工程"], seconded_district="邗江区", cohort_number=12
    )
    far = await make_expert(
        session, name="王宏", disciplines=["机械工程"], seconded_district="仪征市", cohort_number=13
    )
    await make_achievement(session, near, title="主轴振动诊断", abstract="振动。", keywords=["振动"])

    by_district = await client.get("/experts", params={"district": "邗江区", "discipline": "", "cohort": ""})
    assert by_district.status_code == 200
    assert near.name in by_district.text and far.name not in by_district.text
    by_cohort = await client.get("/experts", params={"q": "", "cohort": "13"})
    assert far.name in by_cohort.text and near.name not in by_cohort.text
    everything = await client.get("/achievements", params={"q": "", "kind": "", "maturity": ""})
    assert everything.status_code == 200 and "主轴振动诊断" in everything.text
    patents = await client.get("/achievements", params={"kind": "standard"})
    assert "主轴振动诊断" not in patents.text


async def test_the_live_proposals_are_the_head_of_the_published_ranking(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    # issue 12, bug 11: the preview ignored the order's place, so a local expert ranked lower there
    enterprise = await make_enterprise(session, district="江都区", town="仙女镇")
    studio = await make_studio(session, enterprise)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)
    for name, district, town in (("远方专家", "邗江区", "杭集镇"), ("本地专家", "江都区", "仙女镇")):
        expert = await make_expert(
            session, name=name, disciplines=["焊接技术"], bio="薄板焊接变形控制",
            seconded_district=district, seconded_town=town,
        )  # fmt: skip
        await make_achievement(
            session,
            expert,
            title="薄板焊接变形控制方法",
            abstract="焊接顺序与夹具优化。",
            keywords=["焊接变形"],
        )
    token = await logged_in(client, owner)
    typed = {
        "title": "薄板焊接变形控制",
        "description": "薄板焊接后变形超差，希望优化焊接顺序和夹具。",
        "need_kind": "process_improvement",
    }

    fragment = await client.post(
        "/orders/preview", data={"csrf_token": token, "studio_id": str(studio.id), **typed}
    )
    previewed = re.findall(r"<strong>([^<]+)</strong>", fragment.text)
    saved = await client.post("/api/v1/orders", json={"studio_id": studio.id, **typed}, headers=auth(owner))
    order_id = saved.json()["id"]
    await client.post(f"/api/v1/orders/{order_id}/publish", headers=auth(owner))
    proposed = (await client.get(f"/api/v1/orders/{order_id}/proposals", headers=auth(owner))).json()

    assert previewed[0] == "本地专家"
    assert previewed == [p["expert_name"] for p in proposed][: len(previewed)]
