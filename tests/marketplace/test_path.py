"""The whole path on PostgreSQL, through the API: publish → proposals → invite/take → confirm → sign ×2 →
consultation, training, outcome → delivered with ratings (the catalogue and review follow in tests/projects)."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.audit.models import AuditEvent
from app.clock import local_today
from app.notifications.models import Notification
from app.orders.models import OrderStatus
from tests.factories import make_achievement, make_expert, make_order, make_studio, make_user
from tests.problems import Auth, assert_problem

API = "/api/v1"


async def cast(session: AsyncSession) -> dict[str, object]:
    """An enterprise with a studio, a matching expert, an unrelated expert, and their logins."""
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    expert = await make_expert(session, name="李振华", disciplines=["机械工程"], bio="数控机床主轴振动诊断")
    await make_achievement(
        session,
        expert,
        title="数控机床主轴振动诊断方法",
        abstract="主轴振动信号分析与振纹抑制。",
        keywords=["主轴振动"],
    )
    other = await make_expert(session, name="孙大厨", disciplines=["烹饪"], bio="淮扬菜烹饪培训")
    await make_achievement(
        session, other, title="淮扬菜刀工培训", abstract="刀工火候教学。", keywords=["淮扬菜"]
    )
    expert_user = await make_user(session, UserRole.EXPERT, expert=expert)
    other_user = await make_user(session, UserRole.EXPERT, expert=other)
    order = await make_order(session, studio, status=OrderStatus.DRAFT)
    return {"studio": studio, "owner": owner, "expert": expert, "expert_user": expert_user,
            "other_user": other_user, "order": order}  # fmt: skip


async def test_the_whole_path(client: AsyncClient, session: AsyncSession, auth: Auth, admin: User) -> None:
    c = await cast(session)
    owner, expert_user = auth(c["owner"]), auth(c["expert_user"])  # type: ignore[arg-type]
    order_id, expert_id = c["order"].id, c["expert"].id  # type: ignore[attr-defined]

    published = await client.post(f"{API}/orders/{order_id}/publish", headers=owner)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    proposals = (await client.get(f"{API}/orders/{order_id}/proposals", headers=owner)).json()
    assert proposals[0]["expert_id"] == expert_id

    invited = await client.post(
        f"{API}/orders/{order_id}/invitations", json={"expert_id": expert_id}, headers=owner
    )
    assert invited.status_code == 201, invited.text
    inbox = (await client.get(f"{API}/me/invitations", headers=expert_user)).json()
    assert [i["order_id"] for i in inbox] == [order_id]
    assert (await client.get(f"{API}/notifications/unread-count", headers=expert_user)).json()["unread"] == 1

    taken = await client.post(
        f"{API}/orders/{order_id}/invitations/accept", json={"note": "下周可到现场"}, headers=expert_user
    )
    assert taken.status_code == 201, taken.text
    order = (await client.get(f"{API}/orders/{order_id}", headers=owner)).json()
    assert order["status"] == "taken"

    confirmed = await client.post(f"{API}/takings/{taken.json()['id']}/confirm", headers=owner)
    assert confirmed.status_code == 201, confirmed.text
    agreement = confirmed.json()
    assert agreement["status"] == "draft"
    url = f"{API}/agreements/{agreement['id']}"

    incomplete = await client.post(f"{url}/submit", json={"version": agreement["version"]}, headers=owner)
    assert_problem(incomplete, 422, "agreement_terms_incomplete", "deliverables")

    terms = {
        "goals": "消除主轴 8000 转以上的振纹",
        "deliverables": "诊断报告一份；工艺参数优化方案",
        "duration_months": 6,
        "start_date": local_today().isoformat(),
        "consultation_cadence": "monthly",
        "funding_amount": 80_000,
        "funding_source": "企业自筹",
        "version": agreement["version"],
    }
    edited = await client.patch(url, json=terms, headers=expert_user)
    assert edited.status_code == 200, edited.text
    stale = await client.patch(
        url, json={"goals": "旧页面上的修改", "version": agreement["version"]}, headers=owner
    )
    assert_problem(stale, 409, "agreement_version_conflict")

    submitted = await client.post(f"{url}/submit", json={"version": edited.json()["version"]}, headers=owner)
    assert submitted.status_code == 200, submitted.text
    content_hash = submitted.json()["content_hash"]
    assert len(content_hash) == 64

    first = await client.post(f"{url}/sign", json={"content_hash": content_hash}, headers=owner)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending_signature"
    again = await client.post(f"{url}/sign", json={}, headers=owner)
    assert_problem(again, 409, "agreement_already_signed")
    second = await client.post(f"{url}/sign", json={"content_hash": content_hash}, headers=expert_user)
    assert second.json()["status"] == "in_progress"
    frozen = await client.patch(url, json={"goals": "改", "version": second.json()["version"]}, headers=owner)
    assert_problem(frozen, 409, "agreement_transition_invalid")

    consultation = await client.post(
        f"{url}/consultations",
        json={
            "kind": "guidance",
            "held_on": local_today().isoformat(),
            "participants": "李振华；车间主任",
            "minutes": "现场测振",
        },
        headers=expert_user,
    )
    assert consultation.status_code == 201, consultation.text
    training = await client.post(
        f"{url}/trainings",
        json={"kind": "mentoring", "held_on": local_today().isoformat(), "trainee_count": 12, "hours": 4},
        headers=expert_user,
    )
    assert training.status_code == 201, training.text
    outcome = await client.post(
        f"{url}/outcomes",
        json={"kind": "innovation", "title": "主轴动平衡工艺改进", "value_yuan": 300_000, "converted": True},
        headers=owner,
    )
    assert outcome.status_code == 201, outcome.text
    assert (await client.get(url, headers=owner)).json()["consultation_overdue"] is False

    ent_done = await client.post(
        f"{url}/delivery", json={"rating": 5, "comment": "解决了振纹"}, headers=owner
    )
    assert ent_done.json()["status"] == "in_progress"
    exp_done = await client.post(
        f"{url}/delivery", json={"rating": 4, "comment": "企业配合好"}, headers=expert_user
    )
    delivered = exp_done.json()
    assert delivered["status"] == "delivered"
    assert (delivered["enterprise_rating"], delivered["expert_rating"]) == (5, 4)

    # the catalogue, the yearly review and the funding decision
    admin_h = auth(admin)
    catalogued = await client.post(f"{API}/projects/{agreement['id']}", headers=admin_h)
    assert catalogued.status_code == 201, catalogued.text
    year = local_today().year
    assert (
        await client.post(f"{API}/review-rounds", json={"year": year}, headers=admin_h)
    ).status_code == 201
    conflicted = await client.post(
        f"{API}/review-rounds/{year}/reviewers",
        json={"agreement_id": agreement["id"], "expert_id": expert_id},
        headers=admin_h,
    )
    assert_problem(conflicted, 409, "reviewer_conflict_of_interest")
    reviewer = c["other_user"]
    assigned = await client.post(
        f"{API}/review-rounds/{year}/reviewers",
        json={"agreement_id": agreement["id"], "expert_id": reviewer.expert_id},  # type: ignore[attr-defined]
        headers=admin_h,
    )
    assert assigned.status_code == 201, assigned.text
    reviewer_h = auth(reviewer)  # type: ignore[arg-type]
    assert [r["id"] for r in (await client.get(f"{API}/me/reviews", headers=reviewer_h)).json()] == [
        assigned.json()["id"]
    ]
    scored = await client.put(
        f"{API}/reviews/{assigned.json()['id']}",
        json={"progress_score": 90, "technical_score": 80, "difficulty_score": 70, "benefit_score": 88},
        headers=reviewer_h,
    )
    assert scored.status_code == 200, scored.text
    ranking = (await client.get(f"{API}/review-rounds/{year}/ranking", headers=admin_h)).json()
    assert [(r["rank"], r["agreement_id"], r["mean_score"]) for r in ranking] == [(1, agreement["id"], 82.0)]
    early = await client.post(f"{API}/review-rounds/{year}/close", headers=admin_h)
    assert_problem(early, 409, "funding_decisions_missing")
    funded = await client.post(
        f"{API}/review-rounds/{year}/funding",
        json={"decisions": [{"agreement_id": agreement["id"], "decision": "funded", "amount": 200_000}]},
        headers=admin_h,
    )
    assert funded.status_code == 200, funded.text
    assert funded.json()[0]["decision"] == "funded"
    closed = await client.post(f"{API}/review-rounds/{year}/close", headers=admin_h)
    assert closed.json()["status"] == "closed"

    # the reviewer reads what it scored; an expert with nothing to do with it finds nothing
    assert (await client.get(url, headers=reviewer_h)).status_code == 200
    stranger = auth(await make_user(session, UserRole.EXPERT))
    assert_problem(await client.get(url, headers=stranger), 404, "agreement_not_found")
    assert (await client.get(url, headers=auth(admin))).status_code == 200

    actions = set(
        await session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "agreements"))
    )
    assert {"agreement.drafted", "agreement.terms_updated", "agreement.submitted", "agreement.signed",
            "agreement.delivery_confirmed"} <= actions  # fmt: skip
    assert await session.scalar(select(func.count()).select_from(Notification)) >= 5


async def test_an_order_due_yesterday_cannot_be_published(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    c = await cast(session)
    order = c["order"]
    order.deadline = local_today() - timedelta(days=1)  # type: ignore[attr-defined]
    await session.flush()
    answer = await client.post(f"{API}/orders/{order.id}/publish", headers=auth(c["owner"]))  # type: ignore[attr-defined,arg-type]
    assert_problem(answer, 422, "order_deadline_past")
