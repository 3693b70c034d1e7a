"""Every search box finds either script (issue 12, bug 4): the studio and enterprise lists search the
matcher's normalised tokens as orders, experts and achievements do, the field and alliance filters too,
and the order hall finds a traditional order from a simplified query."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from tests.factories import make_enterprise, make_order, make_studio
from tests.problems import Auth


def names(response: object) -> list[str]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return [item["name"] for item in response.json()["items"]]  # type: ignore[attr-defined]


async def test_the_studio_list_finds_either_script(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    simplified = await make_studio(
        session, name="扬州创新工作室甲", leader_name="张德勝", alliance="扬州市职工创新联盟"
    )
    traditional = await make_studio(
        session,
        name="揚州創新工作室乙",
        leader_name="李國強",
        fields=["數控加工"],
        alliance="揚州市職工創新聯盟",
    )
    headers = auth(admin)

    for query in ("创新工作室", "創新工作室"):
        found = names(await client.get("/api/v1/studios", params={"q": query}, headers=headers))
        assert {simplified.name, traditional.name} <= set(found), query
    assert names(await client.get("/api/v1/studios", params={"q": "张德胜"}, headers=headers)) == [
        simplified.name
    ]
    by_field = names(await client.get("/api/v1/studios", params={"field": "数控加工"}, headers=headers))
    assert traditional.name in by_field
    for alliance in ("扬州市职工创新联盟", "揚州市職工創新聯盟"):
        found = names(await client.get("/api/v1/studios", params={"alliance": alliance}, headers=headers))
        assert sorted(found) == sorted([simplified.name, traditional.name]), alliance


async def test_the_enterprise_list_finds_either_script(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    enterprise = await make_enterprise(session, name="揚州精密機械有限公司")

    found = names(await client.get("/api/v1/enterprises", params={"q": "精密机械"}, headers=auth(admin)))

    assert found == [enterprise.name]


async def test_the_hall_finds_a_traditional_order_from_a_simplified_query(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    order = await make_order(session, title="CBN砂輪修整工藝", description="砂輪磨損後的修整參數優化。")

    page = await client.get("/orders", params={"q": "砂轮"}, headers=auth(admin))

    assert page.status_code == 200
    assert f'href="/orders/{order.id}"' in page.text
