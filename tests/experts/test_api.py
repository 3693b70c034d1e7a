"""``/api/v1/experts``: the public expert directory (科技镇长团名录) and who may write to it."""

from __future__ import annotations

from datetime import date

from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.experts.models import Expert
from tests.factories import make_expert, make_user
from tests.problems import CJK, Auth, assert_problem

URL = "/api/v1/experts"


def error_fields(body: dict) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def new_expert_body(**overrides: object) -> dict:
    body: dict = {
        "name": "周海燕",
        "title": "研究员",
        "university": "江苏大学",
        "department": "材料科学与工程学院",
        "disciplines": ["材料成型", "焊接工艺"],
        "cohort_number": 14,
        "cohort_year": 2021,
        "seconded_district": "江都区",
        "seconded_town": "仙女镇",
        "seconded_role": "科技副镇长",
        "term_start": "2021-07-01",
        "term_end": "2023-06-30",
        "capacity": 2,
        "phone": "0511-88790001",
        "email": "zhouhy@example.edu.cn",
        "bio": "从事激光焊接与增材制造工艺研究。",
    }
    body.update(overrides)
    return body


# --- reading: public, contact details for logged-in users only ---------------------------------


async def test_directory_is_public_and_shows_chinese_names(
    client: AsyncClient, session: AsyncSession
) -> None:
    expert = await make_expert(session, name="张伟", university="南京理工大学")

    response = await client.get(URL)

    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["id"] == expert.id
    assert item["name"] == "张伟"
    assert item["university"] == "南京理工大学"


async def test_anonymous_callers_do_not_see_phone_or_email(
    client: AsyncClient, session: AsyncSession
) -> None:
    await make_expert(session, phone="0514-87970002", email="zhangwei@example.edu.cn")

    response = await client.get(URL)

    [item] = response.json()["items"]
    assert item["phone"] is None
    assert item["email"] is None


async def test_anonymous_detail_hides_phone_and_email(client: AsyncClient, session: AsyncSession) -> None:
    expert = await make_expert(session, phone="0514-87970002", email="zhangwei@example.edu.cn")

    response = await client.get(f"{URL}/{expert.id}")

    assert response.status_code == 200
    assert response.json()["name"] == expert.name
    assert response.json()["phone"] is None
    assert response.json()["email"] is None


async def test_logged_in_users_see_phone_and_email(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    expert = await make_expert(session, phone="0514-87970002", email="zhangwei@example.edu.cn")
    user = await make_user(session, UserRole.ENTERPRISE)

    listed = await client.get(URL, headers=auth(user))
    detail = await client.get(f"{URL}/{expert.id}", headers=auth(user))

    [item] = listed.json()["items"]
    assert (item["phone"], item["email"]) == ("0514-87970002", "zhangwei@example.edu.cn")
    assert (detail.json()["phone"], detail.json()["email"]) == ("0514-87970002", "zhangwei@example.edu.cn")


async def test_unknown_expert_is_404(client: AsyncClient) -> None:
    response = await client.get(f"{URL}/987654")

    body = assert_problem(response, 404, "expert_not_found")
    assert "987654" in body["detail"]


async def test_an_id_beyond_the_integer_range_is_422_not_500(client: AsyncClient) -> None:
    response = await client.get(f"{URL}/99999999999")

    body = assert_problem(response, 422, "request_invalid")
    assert "expert_id" in error_fields(body)


# --- registering: administrators only ---------------------------------------------------------


async def test_admin_registers_an_expert(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    response = await client.post(URL, json=new_expert_body(), headers=auth(admin))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "周海燕"
    assert body["disciplines"] == ["材料成型", "焊接工艺"]
    assert body["term_end"] == "2023-06-30"
    stored = await session.get(Expert, body["id"])
    assert stored is not None
    assert stored.university == "江苏大学"


async def test_enterprise_user_cannot_register_an_expert(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.ENTERPRISE)

    response = await client.post(URL, json=new_expert_body(), headers=auth(user))

    assert_problem(response, 403, "forbidden")
    assert (await session.scalars(select(Expert).where(Expert.name == "周海燕"))).all() == []


async def test_expert_cannot_register_an_expert(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    user = await make_user(session, UserRole.EXPERT)

    response = await client.post(URL, json=new_expert_body(), headers=auth(user))

    assert_problem(response, 403, "forbidden")


async def test_registering_requires_login(client: AsyncClient) -> None:
    response = await client.post(URL, json=new_expert_body())

    assert_problem(response, 401, "unauthenticated")


async def test_term_ending_before_it_starts_is_rejected_on_register(
    client: AsyncClient, auth: Auth, admin: User
) -> None:
    body = new_expert_body(term_start="2023-07-01", term_end="2021-06-30")

    response = await client.post(URL, json=body, headers=auth(admin))

    problem = assert_problem(response, 422, "expert_term_invalid")
    assert error_fields(problem) == {"term_end"}


async def test_invalid_email_is_rejected_naming_email(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.post(URL, json=new_expert_body(email="zhouhy-at-example"), headers=auth(admin))

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"email"}
    assert "电子邮箱" in body["detail"]
    # STYLE.md §5: per-field messages are Chinese too
    assert all(CJK.search(error["message"]) for error in body["errors"])


# --- updating the profile: the expert themself or an administrator ----------------------------


async def test_expert_updates_own_profile(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    expert = await make_expert(session)
    user = await make_user(session, UserRole.EXPERT, expert=expert)

    response = await client.patch(
        f"{URL}/{expert.id}", json={"bio": "转向工业机器人离线编程研究。", "capacity": 5}, headers=auth(user)
    )

    assert response.status_code == 200, response.text
    assert response.json()["bio"] == "转向工业机器人离线编程研究。"
    assert response.json()["capacity"] == 5


async def test_expert_cannot_update_another_experts_profile(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    other = await make_expert(session, bio="原有简介")
    user = await make_user(session, UserRole.EXPERT)

    response = await client.patch(f"{URL}/{other.id}", json={"bio": "被他人篡改的简介"}, headers=auth(user))

    assert_problem(response, 403, "forbidden")
    assert await session.scalar(select(Expert.bio).where(Expert.id == other.id)) == "原有简介"


async def test_term_ending_before_it_starts_is_rejected_on_update(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    expert = await make_expert(session, term_start=date(2020, 7, 1), term_end=date(2027, 6, 30))
    user = await make_user(session, UserRole.EXPERT, expert=expert)

    response = await client.patch(f"{URL}/{expert.id}", json={"term_end": "2019-12-31"}, headers=auth(user))

    problem = assert_problem(response, 422, "expert_term_invalid")
    assert error_fields(problem) == {"term_end"}


async def test_updating_an_unknown_expert_is_404(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.patch(f"{URL}/987654", json={"bio": "新的简介"}, headers=auth(admin))

    assert_problem(response, 404, "expert_not_found")


# --- filters ----------------------------------------------------------------------------------


async def test_filter_by_cohort(client: AsyncClient, session: AsyncSession) -> None:
    thirteenth = await make_expert(session, cohort_number=13)
    await make_expert(session, cohort_number=12)

    assert ids(await client.get(URL, params={"cohort": 13})) == [thirteenth.id]


async def test_filter_by_discipline_matches_a_whole_list_element(
    client: AsyncClient, session: AsyncSession
) -> None:
    mechanical = await make_expert(session, disciplines=["机械工程", "数控技术"])
    await make_expert(session, disciplines=["化学工程"])
    await make_expert(session, disciplines=["机械工程及自动化"])

    assert ids(await client.get(URL, params={"discipline": "机械工程"})) == [mechanical.id]


async def test_filter_by_discipline_does_not_match_part_of_an_element(
    client: AsyncClient, session: AsyncSession
) -> None:
    await make_expert(session, disciplines=["机械工程", "数控技术"])

    assert ids(await client.get(URL, params={"discipline": "机械"})) == []


async def test_filter_by_district(client: AsyncClient, session: AsyncSession) -> None:
    jiangdu = await make_expert(session, seconded_district="江都区")
    await make_expert(session, seconded_district="邗江区")

    assert ids(await client.get(URL, params={"district": "江都区"})) == [jiangdu.id]


async def test_q_matches_the_name(client: AsyncClient, session: AsyncSession) -> None:
    wang = await make_expert(session, name="王晓东")
    await make_expert(session, name="赵敏")

    assert ids(await client.get(URL, params={"q": "晓东"})) == [wang.id]


async def test_q_matches_the_university(client: AsyncClient, session: AsyncSession) -> None:
    southeast = await make_expert(session, university="东南大学")
    await make_expert(session, university="扬州大学")

    assert ids(await client.get(URL, params={"q": "东南"})) == [southeast.id]


async def test_q_matches_the_bio(client: AsyncClient, session: AsyncSession) -> None:
    grinding = await make_expert(session, bio="长期研究砂轮修整与精密磨削工艺。")
    await make_expert(session, bio="从事纺织机械研究。")

    assert ids(await client.get(URL, params={"q": "砂轮修整"})) == [grinding.id]


async def test_a_percent_sign_in_q_is_no_wildcard(client: AsyncClient, session: AsyncSession) -> None:
    # q is searched by its words (the search tokens), never by LIKE: punctuation alone finds nothing
    percent = await make_expert(session, bio="良品率提升 30% 的磨削工艺。")
    await make_expert(session, bio="从事纺织机械研究。")

    assert ids(await client.get(URL, params={"q": "%"})) == []
    assert ids(await client.get(URL, params={"q": "30%"})) == [percent.id]


async def test_an_underscore_in_q_is_no_wildcard(client: AsyncClient, session: AsyncSession) -> None:
    underscore = await make_expert(session, bio="开发了 spindle_monitor 振动监测软件。")
    await make_expert(session, bio="从事纺织机械研究。")

    assert ids(await client.get(URL, params={"q": "_"})) == []
    assert ids(await client.get(URL, params={"q": "spindle_monitor"})) == [underscore.id]


# --- pagination and sorting -------------------------------------------------------------------


async def test_pages_split_the_directory(client: AsyncClient, session: AsyncSession) -> None:
    experts = [await make_expert(session) for _ in range(5)]

    response = await client.get(URL, params={"page": 2, "page_size": 2})

    assert ids(response) == [experts[2].id, experts[3].id]
    assert response.json()["total"] == 5
    assert (response.json()["page"], response.json()["page_size"]) == (2, 2)


async def test_sort_by_descending_id(client: AsyncClient, session: AsyncSession) -> None:
    experts = [await make_expert(session) for _ in range(3)]

    response = await client.get(URL, params={"sort": "-id"})

    assert ids(response) == [e.id for e in reversed(experts)]


async def test_unknown_sort_key_is_422(client: AsyncClient) -> None:
    response = await client.get(URL, params={"sort": "phone"})

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"sort"}


async def test_page_size_above_100_is_422(client: AsyncClient) -> None:
    response = await client.get(URL, params={"page_size": 101})

    body = assert_problem(response, 422, "request_invalid")
    assert error_fields(body) == {"page_size"}
