"""The expert's own pages over HTTP (no browser): 我的档案 (profile and achievements) and 评审任务 (review
scores), with Chinese errors next to the fields, role rules and CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.achievements.models import Achievement, Maturity
from app.agreements.models import AgreementStatus
from app.clock import utcnow
from app.experts.models import Expert
from app.projects import service as project_service
from app.projects.models import ProjectReview, ProjectReviewStatus
from tests.factories import make_achievement, make_agreement, make_expert, make_user
from tests.web.test_pages import logged_in

YEAR = 2026
PROFILE = {
    "title": "研究员",
    "department": "船舶与海洋工程学院",
    "disciplines": "船舶与海洋工程、焊接技术",
    "phone": "",  # a blank contact field clears it
    "email": "zhou@example.edu.cn",
    "capacity": "5",
    "bio": "长期从事船舶分段焊接变形预测与控制。",
}
SCORES = {
    "progress_score": "90",
    "technical_score": "80",
    "difficulty_score": "70",
    "benefit_score": "88",
    "comment": "进度符合计划，振纹已基本消除。",
}


async def expert_login(client: AsyncClient, session: AsyncSession, **overrides: object) -> tuple[int, str]:
    """An expert with a login, logged in; returns the expert's id and the page's CSRF token."""
    expert = await make_expert(session, **overrides)
    user = await make_user(session, UserRole.EXPERT, expert=expert)
    await session.commit()  # a rolled-back failing form must not take the test's own rows with it
    return expert.id, await logged_in(client, user)


def field_error(page: str, field_id: str) -> str:
    """The error shown under the field whose id is ``field_id``."""
    found = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    assert found, f"no error next to {field_id}"
    return found.group(1)


# ----------------------------------------------------------------------------------------------- profile


async def test_an_expert_edits_the_profile(client: AsyncClient, session: AsyncSession) -> None:
    expert_id, token = await expert_login(client, session, name="周海燕", title="副教授", capacity=3)
    page = await client.get("/my/profile")
    assert page.status_code == 200
    assert '<a href="/my/profile">我的档案</a>' in page.text and "周海燕" in page.text
    assert 'value="副教授"' in page.text

    saved = await client.post("/my/profile", data={"csrf_token": token, **PROFILE})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/my/profile?flash=profile_saved"

    stored = await session.get(Expert, expert_id, populate_existing=True)
    assert stored is not None
    assert stored.title == "研究员" and stored.capacity == 5
    assert stored.disciplines == ["船舶与海洋工程", "焊接技术"]
    assert stored.phone is None and stored.email == "zhou@example.edu.cn"
    again = await client.get(saved.headers["location"])
    assert '<p role="status" class="flash">档案已保存。</p>' in again.text
    assert 'value="研究员"' in again.text and "船舶与海洋工程、焊接技术" in again.text


async def test_bad_profile_fields_show_chinese_errors_next_to_them(
    client: AsyncClient, session: AsyncSession
) -> None:
    expert_id, token = await expert_login(client, session, capacity=3, email="old@example.edu.cn")
    page = await client.post(
        "/my/profile",
        data={"csrf_token": token, **PROFILE, "capacity": "-1", "email": "不是邮箱", "title": "教授级高工"},
    )
    assert page.status_code == 422
    assert field_error(page.text, "capacity") == "不能小于 0"
    assert re.search(r"[\u4e00-\u9fff]", field_error(page.text, "email"))  # Chinese, never pydantic's English
    assert 'id="capacity" name="capacity" type="number" value="-1"' in page.text  # what was typed is kept
    assert 'value="教授级高工"' in page.text
    assert await session.scalar(select(Expert.capacity).where(Expert.id == expert_id)) == 3
    assert await session.scalar(select(Expert.email).where(Expert.id == expert_id)) == "old@example.edu.cn"
    assert await session.scalar(select(Expert.title).where(Expert.id == expert_id)) == "教授"


# ------------------------------------------------------------------------------------------ achievements


async def test_an_added_achievement_appears_in_the_public_library(
    client: AsyncClient, session: AsyncSession
) -> None:
    expert_id, token = await expert_login(client, session)
    before = await client.get("/achievements", params={"q": "无液氦"})
    assert "无液氦超导磁体励磁方法" not in before.text

    added = await client.post(
        "/my/achievements",
        data={
            "csrf_token": token,
            "title": "无液氦超导磁体励磁方法",
            "kind": "patent",
            "maturity": "pilot",
            "year": "2024",
            "keywords": "超导磁体、MRI，无液氦",
            "abstract": "用于 1.5T 磁共振的无液氦超导磁体快速励磁。",
        },
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"] == "/my/profile?flash=achievement_added"

    library = await client.get("/achievements", params={"q": "无液氦"})
    assert "无液氦超导磁体励磁方法" in library.text and f'href="/experts/{expert_id}"' in library.text
    stored = await session.scalar(select(Achievement).where(Achievement.expert_id == expert_id))
    assert stored is not None and stored.keywords == ["超导磁体", "MRI", "无液氦"]
    mine = await client.get("/my/profile?flash=achievement_added")
    assert "成果已发布" in mine.text and "无液氦超导磁体励磁方法" in mine.text


async def test_a_bad_new_achievement_shows_errors_next_to_its_fields(
    client: AsyncClient, session: AsyncSession
) -> None:
    expert_id, token = await expert_login(client, session)
    page = await client.post(
        "/my/achievements",
        data={"csrf_token": token, "title": "", "kind": "patent", "maturity": "pilot", "year": "1800"},
    )
    assert page.status_code == 422
    assert field_error(page.text, "new-year") == "不能小于 1949"
    # an empty required field is asked for by name, not measured in characters
    assert field_error(page.text, "new-title").startswith("请填写")
    assert await session.scalar(select(Achievement.id).where(Achievement.expert_id == expert_id)) is None


async def test_an_expert_edits_an_achievement(client: AsyncClient, session: AsyncSession) -> None:
    expert = await make_expert(session)
    achievement = await make_achievement(session, expert, title="旧的成果名称", year=2020)
    user = await make_user(session, UserRole.EXPERT, expert=expert)
    await session.commit()
    achievement_id = achievement.id
    token = await logged_in(client, user)

    page = await client.get("/my/profile")
    assert f'action="/my/achievements/{achievement_id}"' in page.text

    bad = await client.post(
        f"/my/achievements/{achievement_id}",
        data={"csrf_token": token, "title": "新名称", "kind": "paper", "maturity": "lab", "year": "二〇二〇"},
    )
    assert bad.status_code == 422
    assert field_error(bad.text, f"a{achievement_id}-year") == "必须是整数"
    assert (
        await session.scalar(select(Achievement.title).where(Achievement.id == achievement_id))
        == "旧的成果名称"
    )

    done = await client.post(
        f"/my/achievements/{achievement_id}",
        data={
            "csrf_token": token,
            "title": "船舶分段焊接变形预测模型",
            "kind": "paper",
            "maturity": "production",
            "year": "",  # cleared
            "keywords": "焊接变形",
            "abstract": "",
        },
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/my/profile?flash=achievement_saved"
    stored = await session.get(Achievement, achievement_id, populate_existing=True)
    assert stored is not None
    assert (stored.title, stored.maturity, stored.year) == (
        "船舶分段焊接变形预测模型",
        Maturity.PRODUCTION,
        None,
    )
    library = await client.get("/achievements", params={"q": "焊接变形"})
    assert "船舶分段焊接变形预测模型" in library.text


async def test_an_expert_may_not_edit_another_experts_achievement(
    client: AsyncClient, session: AsyncSession
) -> None:
    other = await make_achievement(session, await make_expert(session), title="别人的成果")
    other_id = other.id
    _, token = await expert_login(client, session)
    page = await client.post(
        f"/my/achievements/{other_id}",
        data={"csrf_token": token, "title": "改掉", "kind": "patent", "maturity": "lab"},
    )
    assert page.status_code == 403
    assert "您只能修改自己的科技成果" in page.text
    assert await session.scalar(select(Achievement.title).where(Achievement.id == other_id)) == "别人的成果"


# --------------------------------------------------------------------------------------- roles and CSRF


async def test_other_roles_get_the_chinese_403_page(client: AsyncClient, session: AsyncSession) -> None:
    enterprise_user = await make_user(session, UserRole.ENTERPRISE)
    await session.commit()
    token = await logged_in(client, enterprise_user)
    for path in ("/my/profile", "/my/reviews"):
        page = await client.get(path)
        assert page.status_code == 403, path
        assert "您的账号角色不能访问此页面" in page.text and "text/html" in page.headers["content-type"]
    posted = await client.post("/my/profile", data={"csrf_token": token, **PROFILE})
    assert posted.status_code == 403 and "您的账号角色不能访问此页面" in posted.text

    admin = await make_user(session, UserRole.ADMIN)
    await session.commit()
    await logged_in(client, admin)
    page = await client.get("/my/reviews")
    assert page.status_code == 403 and "您的账号角色不能访问此页面" in page.text


async def test_visitors_are_sent_to_login(client: AsyncClient) -> None:
    page = await client.get("/my/reviews")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/my/reviews"


async def test_forms_without_the_token_are_refused(client: AsyncClient, session: AsyncSession) -> None:
    expert_id, _ = await expert_login(client, session, capacity=3)
    profile = await client.post("/my/profile", data={**PROFILE, "capacity": "7"})
    assert profile.status_code == 403 and "页面已过期" in profile.text
    assert await session.scalar(select(Expert.capacity).where(Expert.id == expert_id)) == 3

    achievement = await client.post(
        "/my/achievements", data={"title": "无令牌成果", "kind": "patent", "maturity": "lab"}
    )
    assert achievement.status_code == 403 and "页面已过期" in achievement.text
    assert await session.scalar(select(Achievement.id).where(Achievement.expert_id == expert_id)) is None

    wrong = await client.post("/my/reviews/1", data={**SCORES, "csrf_token": "forged-token"})
    assert wrong.status_code == 403 and "页面已过期" in wrong.text


# ---------------------------------------------------------------------------------------------- reviews


@dataclass
class Assignment:
    review_id: int
    agreement_id: int
    token: str


async def assigned_review(client: AsyncClient, session: AsyncSession) -> Assignment:
    """A catalogued project in an open round with the logged-in expert assigned as its reviewer."""
    agreement = await make_agreement(
        session,
        status=AgreementStatus.IN_PROGRESS,
        enterprise_signed_at=utcnow(),
        expert_signed_at=utcnow(),
    )
    admin = Actor.of(await make_user(session, UserRole.ADMIN))
    reviewer = await make_expert(session, name="王评审")
    user = await make_user(session, UserRole.EXPERT, expert=reviewer)
    await session.flush()
    await project_service.catalogue_agreement(session, admin, agreement.id)
    await project_service.open_round(session, admin, YEAR)
    review = await project_service.assign_reviewer(session, admin, YEAR, agreement.id, reviewer.id)
    ids = (review.id, agreement.id)
    return Assignment(*ids, await logged_in(client, user))


async def test_the_review_form_stores_the_scores(client: AsyncClient, session: AsyncSession) -> None:
    assignment = await assigned_review(client, session)
    page = await client.get("/my/reviews")
    assert page.status_code == 200
    assert '<a href="/my/reviews">评审任务</a>' in page.text
    assert f"协议 #{assignment.agreement_id}" in page.text and "待评审" in page.text
    assert f'action="/my/reviews/{assignment.review_id}"' in page.text

    done = await client.post(
        f"/my/reviews/{assignment.review_id}", data={"csrf_token": assignment.token, **SCORES}
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/my/reviews?flash=review_submitted")

    review = await session.get(ProjectReview, assignment.review_id, populate_existing=True)
    assert review is not None and review.status is ProjectReviewStatus.SUBMITTED
    scores = (review.progress_score, review.technical_score, review.difficulty_score, review.benefit_score)
    assert scores == (90, 80, 70, 88) and review.comment == "进度符合计划，振纹已基本消除。"
    shown = await client.get(done.headers["location"].split("#")[0])
    assert "评分已提交。" in shown.text and "已评审" in shown.text
    assert "<dt>技术含量</dt><dd>80 分</dd>" in shown.text and "修改评分" in shown.text


async def test_a_score_above_100_is_refused_next_to_the_field(
    client: AsyncClient, session: AsyncSession
) -> None:
    assignment = await assigned_review(client, session)
    page = await client.post(
        f"/my/reviews/{assignment.review_id}",
        data={"csrf_token": assignment.token, **SCORES, "progress_score": "101"},
    )
    assert page.status_code == 422
    prefix = f"r{assignment.review_id}-"
    assert field_error(page.text, prefix + "progress_score") == "不能大于 100"
    assert f'id="{prefix}progress_score" name="progress_score" type="number" value="101"' in page.text
    assert f'id="{prefix}technical_score-error"' not in page.text
    review = await session.get(ProjectReview, assignment.review_id, populate_existing=True)
    assert review is not None and review.status is ProjectReviewStatus.ASSIGNED
    assert review.progress_score is None


async def test_only_the_assigned_reviewer_may_score(client: AsyncClient, session: AsyncSession) -> None:
    assignment = await assigned_review(client, session)
    _, token = await expert_login(client, session)  # another expert takes over the browser
    page = await client.post(f"/my/reviews/{assignment.review_id}", data={"csrf_token": token, **SCORES})
    assert page.status_code == 404
    assert f"您没有编号为 {assignment.review_id} 的评审任务" in page.text
    review = await session.get(ProjectReview, assignment.review_id, populate_existing=True)
    assert review is not None and review.progress_score is None


async def test_the_notification_link_opens_the_assignment(client: AsyncClient, session: AsyncSession) -> None:
    assignment = await assigned_review(client, session)
    page = await client.get(f"/reviews/{assignment.review_id}")
    assert page.status_code == 303
    assert page.headers["location"] == f"/my/reviews#review-{assignment.review_id}"


async def test_a_closed_round_shows_the_project_but_no_form(
    client: AsyncClient, session: AsyncSession
) -> None:
    from sqlalchemy import update

    from app.projects.models import ReviewRound, ReviewRoundStatus

    assignment = await assigned_review(client, session)
    await session.execute(update(ReviewRound).values(status=ReviewRoundStatus.CLOSED))
    page = await client.get("/my/reviews")
    assert "本年度评审已结束" in page.text
    assert f'action="/my/reviews/{assignment.review_id}"' not in page.text
    assert "数控机床主轴振动诊断" in page.text  # the project is named by its order's title
