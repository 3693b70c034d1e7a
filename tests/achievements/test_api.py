"""``/api/v1/achievements``: the public achievement library (成果库) and who may publish to it."""

from __future__ import annotations

from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.achievements.models import Achievement, AchievementKind
from tests.factories import make_achievement, make_expert, make_user
from tests.problems import Auth, assert_problem

URL = "/api/v1/achievements"


def error_fields(body: dict) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def new_achievement_body(**overrides: object) -> dict:
    body: dict = {
        "kind": "process",
        "title": "高精度砂轮在线修整工艺",
        "abstract": "通过声发射监测修整过程，使砂轮修整精度提高一倍。",
        "keywords": ["砂轮修整", "精密磨削"],
        "year": 2022,
        "maturity": "production",
    }
    body.update(overrides)
    return body


async def count_achievements(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Achievement)) or 0)


# --- reading: public --------------------------------------------------------------------------


async def test_library_is_public(client: AsyncClient, session: AsyncSession) -> None:
    achievement = await make_achievement(session, title="一种数控机床主轴振动在线诊断方法")

    response = await client.get(URL)

    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["id"] == achievement.id
    assert item["title"] == "一种数控机床主轴振动在线诊断方法"
    assert response.json()["total"] == 1


async def test_detail_is_public(client: AsyncClient, session: AsyncSession) -> None:
    achievement = await make_achievement(session, keywords=["数控机床", "振动诊断"])

    response = await client.get(f"{URL}/{achievement.id}")

    assert response.status_code == 200
    assert response.json()["expert_id"] == achievement.expert_id
    assert response.json()["keywords"] == ["数控机床", "振动诊断"]
    assert response.json()["maturity"] == "pilot"


async def test_unknown_achievement_is_404(client: AsyncClient) -> None:
    response = await client.get(f"{URL}/987654")

    body = assert_problem(response, 404, "achievement_not_found")
    assert "987654" in body["detail"]


async def test_an_id_beyond_the_integer_range_is_422_not_500(client: AsyncClient) -> None:
    response = await client.get(f"{URL}/99999999999")

    assert_problem(response, 422, "request_invalid")


# --- publishing: the expert themself or an administrator --------------------------------------


async def test_expert_publishes_for_itself_by_default(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    expert = await make_expert(session)
    user = await make_user(session, UserRole.EXPERT, expert=expert)

    response = await client.post(URL, json=new_achievement_body(), headers=auth(user))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["expert_id"] == expert.id
    assert body["title"] == "高精度砂轮在线修整工艺"
    stored = await session.get(Achievement, body["id"])
    assert stored is not None
    assert stored.expert_id == expert.id


async def test_expert_may_name_itself_explicitly(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    expert = await make_expert(session)
    user = await make_user(session, UserRole.EXPERT, expert=expert)

    response = await client.post(URL, json=new_achievement_body(expert_id=expert.id), headers=auth(user))

    assert response.status_code == 201, response.text
    assert response.json()["expert_id"] == expert.id


async def test_expert_cannot_publish_for_another_expert(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    other = await make_expert(session, name="陈静")
    user = await make_user(session, UserRole.EXPERT)

    response = await client.post(URL, json=new_achievement_body(expert_id=other.id), headers=auth(user))

    assert_problem(response, 403, "forbidden")
    assert await count_achievements(session) == 0


async def test_enterprise_user_cannot_publish(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    expert = await make_expert(session)
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.post(URL, json=new_achievement_body(expert_id=expert.id), headers=auth(user))

    assert_problem(response, 403, "forbidden")
    assert await count_achievements(session) == 0


async def test_publishing_requires_login(client: AsyncClient, session: AsyncSession) -> None:
    expert = await make_expert(session)

    response = await client.post(URL, json=new_achievement_body(expert_id=expert.id))

    assert_problem(response, 401, "unauthenticated")


async def test_admin_publishes_for_a_named_expert(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    expert = await make_expert(session)

    response = await client.post(URL, json=new_achievement_body(expert_id=expert.id), headers=auth(admin))

    assert response.status_code == 201, response.text
    assert response.json()["expert_id"] == expert.id


async def test_admin_must_name_the_expert(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    response = await client.post(URL, json=new_achievement_body(), headers=auth(admin))

    body = assert_problem(response, 422, "validation_failed")
    assert error_fields(body) == {"expert_id"}
    assert await count_achievements(session) == 0


async def test_admin_publishing_for_an_unknown_expert_is_404(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    response = await client.post(URL, json=new_achievement_body(expert_id=987654), headers=auth(admin))

    assert_problem(response, 404, "expert_not_found")


async def test_unknown_maturity_is_422(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    user = await make_user(session, UserRole.EXPERT)

    response = await client.post(URL, json=new_achievement_body(maturity="概念验证"), headers=auth(user))

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"maturity"}
    assert "成熟度" in body["detail"]


# --- filters ----------------------------------------------------------------------------------


async def test_filter_by_keyword_matches_a_whole_keyword(client: AsyncClient, session: AsyncSession) -> None:
    grinding = await make_achievement(session, keywords=["砂轮修整", "精密磨削"])
    await make_achievement(session, keywords=["激光焊接"])
    await make_achievement(session, keywords=["砂轮修整器设计"])

    assert ids(await client.get(URL, params={"keyword": "砂轮修整"})) == [grinding.id]


async def test_filter_by_kind(client: AsyncClient, session: AsyncSession) -> None:
    software = await make_achievement(session, kind=AchievementKind.SOFTWARE, title="主轴振动监测软件 V1.0")
    await make_achievement(session, kind=AchievementKind.PATENT)

    assert ids(await client.get(URL, params={"kind": "software"})) == [software.id]


async def test_unknown_kind_filter_is_422(client: AsyncClient) -> None:
    response = await client.get(URL, params={"kind": "专著"})

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"kind"}


async def test_q_matches_the_title(client: AsyncClient, session: AsyncSession) -> None:
    welding = await make_achievement(session, title="薄板激光焊接变形控制方法")
    await make_achievement(session, title="一种数控机床主轴振动在线诊断方法")

    assert ids(await client.get(URL, params={"q": "激光焊接"})) == [welding.id]


async def test_q_matches_the_abstract(client: AsyncClient, session: AsyncSession) -> None:
    acoustic = await make_achievement(session, abstract="利用声发射信号判断砂轮钝化程度。")
    await make_achievement(session, abstract="基于振动信号频谱分析识别主轴轴承早期故障。")

    assert ids(await client.get(URL, params={"q": "声发射"})) == [acoustic.id]


async def test_q_matches_a_keyword(client: AsyncClient, session: AsyncSession) -> None:
    tagged = await make_achievement(
        session, title="一种新型夹具", abstract="", keywords=["工装夹具", "快速换型"]
    )
    await make_achievement(session, keywords=["数控机床"])

    assert ids(await client.get(URL, params={"q": "快速换型"})) == [tagged.id]


async def test_a_percent_sign_in_q_is_no_wildcard(client: AsyncClient, session: AsyncSession) -> None:
    # q is searched by its words (the search tokens), never by LIKE: punctuation alone finds nothing
    percent = await make_achievement(session, abstract="废品率降低 40% 的热处理工艺。")
    await make_achievement(session, abstract="基于振动信号频谱分析识别主轴轴承早期故障。")

    assert ids(await client.get(URL, params={"q": "%"})) == []
    assert ids(await client.get(URL, params={"q": "40%"})) == [percent.id]


# --- updating: the expert themself or an administrator ----------------------------------------


async def test_expert_updates_own_achievement(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    expert = await make_expert(session)
    user = await make_user(session, UserRole.EXPERT, expert=expert)
    achievement = await make_achievement(session, expert)

    response = await client.patch(
        f"{URL}/{achievement.id}",
        json={"maturity": "production", "keywords": ["主轴", "量产应用"]},
        headers=auth(user),
    )

    assert response.status_code == 200, response.text
    assert response.json()["maturity"] == "production"
    assert response.json()["keywords"] == ["主轴", "量产应用"]


async def test_expert_cannot_update_someone_elses_achievement(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    achievement = await make_achievement(session, title="原有标题")
    user = await make_user(session, UserRole.EXPERT)

    response = await client.patch(
        f"{URL}/{achievement.id}", json={"title": "被他人修改的标题"}, headers=auth(user)
    )

    assert_problem(response, 403, "forbidden")
    assert (
        await session.scalar(select(Achievement.title).where(Achievement.id == achievement.id)) == "原有标题"
    )


async def test_enterprise_user_cannot_update_an_achievement(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    achievement = await make_achievement(session)
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.patch(
        f"{URL}/{achievement.id}", json={"title": "企业改写的标题"}, headers=auth(user)
    )

    assert_problem(response, 403, "forbidden")


async def test_updating_an_unknown_achievement_is_404(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.patch(f"{URL}/987654", json={"title": "新标题"}, headers=auth(admin))

    assert_problem(response, 404, "achievement_not_found")
