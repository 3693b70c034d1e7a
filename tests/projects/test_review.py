"""The co-built project catalogue and the yearly review through the API: catalogue entry, review rounds,
reviewer assignment with conflict-of-interest checks, scores, ranking, funding decisions and closing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.agreements.models import Agreement, AgreementStatus
from app.audit.models import AuditEvent
from app.clock import local_today, utcnow
from app.config import Settings
from app.enterprises.models import Enterprise
from app.notifications.models import Notification, NotificationKind
from app.orders.models import OrderStatus
from app.projects.models import ProjectFunding, ProjectReview
from tests.conftest import app_on_session
from tests.factories import make_expert, make_order, make_studio, make_user
from tests.problems import Auth, assert_problem

API = "/api/v1"
YEAR = 2026
SCORES = {"progress_score": 90, "technical_score": 80, "difficulty_score": 70, "benefit_score": 88}  # mean 82


# ---------------------------------------------------------------------------------------------- helpers


@dataclass
class Project:
    """An agreement (the project), its enterprise and expert, and both logins' headers."""

    id: int
    enterprise_id: int
    expert_id: int
    title: str
    enterprise: dict[str, str]
    expert: dict[str, str]


@dataclass
class Reviewer:
    """An expert with a login, as ids and headers only (a rollback must not strand the test)."""

    expert_id: int
    user_id: int
    headers: dict[str, str]


async def project(
    session: AsyncSession,
    auth: Auth,
    status: AgreementStatus = AgreementStatus.IN_PROGRESS,
    *,
    catalogued: bool = True,
    title: str = "数控机床主轴振动诊断",
) -> Project:
    """An agreement in ``status`` (catalogued unless told otherwise), committed like a service would."""
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    expert_user = await make_user(session, UserRole.EXPERT)
    order = await make_order(session, studio, status=OrderStatus.TAKEN, title=title)
    agreement = await add_agreement(
        session, order.id, studio.id, studio.enterprise_id, expert_user.expert_id, status
    )
    if catalogued:
        agreement.catalogued_at = utcnow()
    await session.commit()
    return Project(
        agreement.id, studio.enterprise_id, expert_user.expert_id or 0, title, auth(owner), auth(expert_user)
    )


async def add_agreement(
    session: AsyncSession,
    order_id: int,
    studio_id: int,
    enterprise_id: int,
    expert_id: int | None,
    status: AgreementStatus,
) -> Agreement:
    assert expert_id is not None
    signed = {}
    if status in (AgreementStatus.IN_PROGRESS, AgreementStatus.DELIVERED):
        signed = {"enterprise_signed_at": utcnow(), "expert_signed_at": utcnow()}
    agreement = Agreement(
        order_id=order_id,
        expert_id=expert_id,
        studio_id=studio_id,
        enterprise_id=enterprise_id,
        status=status,
        goals="消除振纹",
        deliverables="诊断报告",
        duration_months=6,
        start_date=local_today(),
        **signed,
    )
    session.add(agreement)
    await session.flush()
    return agreement


async def reviewer(session: AsyncSession, auth: Auth) -> Reviewer:
    user = await make_user(session, UserRole.EXPERT, expert=await make_expert(session, name="王评审"))
    await session.commit()
    assert user.expert_id is not None
    return Reviewer(user.expert_id, user.id, auth(user))


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def open_round(client: AsyncClient, admin: dict[str, str], year: int = YEAR) -> None:
    ok(await client.post(f"{API}/review-rounds", json={"year": year}, headers=admin), 201)


async def assign(
    client: AsyncClient, admin: dict[str, str], p: Project, r: Reviewer, year: int = YEAR
) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        await client.post(
            f"{API}/review-rounds/{year}/reviewers",
            json={"agreement_id": p.id, "expert_id": r.expert_id},
            headers=admin,
        ),
        201,
    )
    return body


async def score(client: AsyncClient, review_id: int, r: Reviewer, **scores: int) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        await client.put(f"{API}/reviews/{review_id}", json={**SCORES, **scores}, headers=r.headers)
    )
    return body


async def reviewed(
    client: AsyncClient, admin: dict[str, str], p: Project, r: Reviewer, **scores: int
) -> dict[str, Any]:
    """Assign ``r`` to ``p`` and submit the scores."""
    review = await assign(client, admin, p, r)
    return await score(client, review["id"], r, **scores)


async def ranking(client: AsyncClient, admin: dict[str, str], year: int = YEAR) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = ok(await client.get(f"{API}/review-rounds/{year}/ranking", headers=admin))
    return body


async def request_over(session: AsyncSession) -> None:
    """What closing a request's session does in production: forget what a failed request staged."""
    await session.rollback()


@pytest.fixture
async def lenient(settings: Settings, session: AsyncSession) -> AsyncIterator[AsyncClient]:
    """A client that receives a 500 as a response instead of the server's exception."""
    app = app_on_session(settings, session)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


# ---------------------------------------------------------------------------------------------- catalogue


@pytest.mark.parametrize("status", [AgreementStatus.IN_PROGRESS, AgreementStatus.DELIVERED])
async def test_running_and_delivered_agreements_enter_the_catalogue_once(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth, status, catalogued=False)

    entered = ok(await client.post(f"{API}/projects/{p.id}", headers=admin_h), 201)

    assert entered["catalogued_at"] is not None and entered["status"] == status.value
    catalogue = ok(await client.get(f"{API}/projects", headers=admin_h))
    assert [(e["agreement_id"], e["order_title"], e["status"]) for e in catalogue] == [
        (p.id, p.title, status.value)
    ]
    assert catalogue[0]["enterprise_id"] == p.enterprise_id and catalogue[0]["expert_id"] == p.expert_id
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "project.catalogued"))
    assert event is not None and (event.entity_id, event.actor_user_id) == (p.id, admin.id)
    twice = await client.post(f"{API}/projects/{p.id}", headers=admin_h)
    assert_problem(twice, 409, "project_already_catalogued")


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (AgreementStatus.DRAFT, "草稿"),
        (AgreementStatus.PENDING_SIGNATURE, "待签署"),
        (AgreementStatus.TERMINATED, "已终止"),
    ],
)
async def test_other_agreements_do_not_enter_the_catalogue(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus, label: str
) -> None:
    p = await project(session, auth, status, catalogued=False)
    problem = assert_problem(
        await client.post(f"{API}/projects/{p.id}", headers=auth(admin)), 409, "project_not_eligible"
    )
    assert f"“{label}”" in problem["detail"]
    assert ok(await client.get(f"{API}/projects", headers=auth(admin))) == []


async def test_the_catalogue_lists_projects_in_the_order_they_entered(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    first = await project(session, auth, catalogued=False, title="砂轮修整精度提升")
    second = await project(session, auth, catalogued=False, title="焊接变形控制")
    await project(session, auth, catalogued=False)  # never entered
    ok(await client.post(f"{API}/projects/{second.id}", headers=admin_h), 201)
    ok(await client.post(f"{API}/projects/{first.id}", headers=admin_h), 201)
    catalogue = ok(await client.get(f"{API}/projects", headers=admin_h))
    assert [(e["agreement_id"], e["order_title"]) for e in catalogue] == [
        (second.id, "焊接变形控制"), (first.id, "砂轮修整精度提升"),
    ]  # fmt: skip
    assert_problem(
        await client.post(f"{API}/projects/2147483647", headers=admin_h), 404, "agreement_not_found"
    )
    assert_problem(await client.post(f"{API}/projects/0", headers=admin_h), 422, "request_invalid")


# ---------------------------------------------------------------------------------------------- only administrators


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/projects/{id}", None),
        ("GET", "/projects", None),
        ("POST", "/review-rounds", {"year": YEAR + 1}),
        ("GET", "/review-rounds", None),
        ("POST", f"/review-rounds/{YEAR}/reviewers", {"agreement_id": "{id}", "expert_id": "{reviewer}"}),
        ("GET", f"/review-rounds/{YEAR}/ranking", None),
        (
            "POST",
            f"/review-rounds/{YEAR}/funding",
            {"decisions": [{"agreement_id": "{id}", "decision": "not_funded"}]},
        ),
        ("POST", f"/review-rounds/{YEAR}/close", None),
    ],
)
async def test_non_administrators_are_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, method: str, path: str, body: Any
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth, catalogued=False)
    r = await reviewer(session, auth)
    await open_round(client, admin_h)
    if body is not None:
        body = {
            k: (
                [{**d, "agreement_id": p.id} for d in v]
                if isinstance(v, list)
                else {"{id}": p.id, "{reviewer}": r.expert_id}.get(v, v)
            )
            for k, v in body.items()
        }
    for headers in (p.enterprise, p.expert, r.headers):
        answer = await client.request(method, f"{API}{path.format(id=p.id)}", json=body, headers=headers)
        assert_problem(answer, 403, "forbidden")
    assert await session.scalar(select(func.count()).select_from(ProjectReview)) == 0
    assert await session.scalar(select(Agreement.catalogued_at).where(Agreement.id == p.id)) is None
    rounds = ok(await client.get(f"{API}/review-rounds", headers=admin_h))
    assert [(r["year"], r["status"]) for r in rounds] == [(YEAR, "open")]


async def test_a_login_is_needed(client: AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/projects"), 401, "unauthenticated")
    assert_problem(await client.put(f"{API}/reviews/1", json=SCORES), 401, "unauthenticated")


async def test_only_experts_have_review_tasks(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    p = await project(session, auth)
    assert_problem(await client.get(f"{API}/me/reviews", headers=p.enterprise), 403, "forbidden")
    assert_problem(await client.get(f"{API}/me/reviews", headers=auth(admin)), 403, "forbidden")
    assert ok(await client.get(f"{API}/me/reviews", headers=p.expert)) == []


# ---------------------------------------------------------------------------------------------- rounds


async def test_one_round_per_year(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    opened = ok(await client.post(f"{API}/review-rounds", json={"year": YEAR}, headers=admin_h), 201)
    assert (opened["year"], opened["status"], opened["closed_at"]) == (YEAR, "open", None)

    problem = assert_problem(
        await client.post(f"{API}/review-rounds", json={"year": YEAR}, headers=admin_h),
        409,
        "review_round_exists",
    )

    assert str(YEAR) in problem["detail"]
    await open_round(client, admin_h, YEAR - 1)
    await open_round(client, admin_h, YEAR + 1)
    years = [r["year"] for r in ok(await client.get(f"{API}/review-rounds", headers=admin_h))]
    assert years == [YEAR + 1, YEAR, YEAR - 1]
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "review_round.opened"))
    assert event is not None and event.actor_user_id == admin.id


@pytest.mark.parametrize(
    "body", [{}, {"year": 1999}, {"year": 2101}, {"year": "二〇二六"}, {"year": YEAR, "name": "年度评审"}]
)
async def test_a_round_needs_a_plausible_year(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, body: dict[str, Any]
) -> None:
    field = "name" if "name" in body else "year"
    answer = await client.post(f"{API}/review-rounds", json=body, headers=auth(admin))
    assert_problem(answer, 422, "request_invalid", field)
    assert ok(await client.get(f"{API}/review-rounds", headers=auth(admin))) == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/reviewers", {"agreement_id": 1, "expert_id": 1}),
        ("GET", "/ranking", None),
        ("POST", "/funding", {"decisions": [{"agreement_id": 1, "decision": "not_funded"}]}),
        ("POST", "/close", None),
    ],
)
async def test_an_unknown_year_is_404(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, method: str, path: str, body: Any
) -> None:
    admin_h = auth(admin)
    await open_round(client, admin_h)
    answer = await client.request(method, f"{API}/review-rounds/{YEAR + 3}{path}", json=body, headers=admin_h)
    problem = assert_problem(answer, 404, "review_round_not_found")
    assert str(YEAR + 3) in problem["detail"]
    out_of_range = await client.request(method, f"{API}/review-rounds/1999{path}", json=body, headers=admin_h)
    assert_problem(out_of_range, 422, "request_invalid")


# ---------------------------------------------------------------------------------------------- reviewers


async def test_assigning_a_reviewer_tells_the_reviewer(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth)
    r = await reviewer(session, auth)
    await open_round(client, admin_h)

    review = await assign(client, admin_h, p, r)

    assert (review["agreement_id"], review["round_year"], review["reviewer_expert_id"]) == (
        p.id,
        YEAR,
        r.expert_id,
    )
    assert (review["status"], review["progress_score"], review["submitted_at"]) == ("assigned", None, None)
    notes = (await session.scalars(select(Notification).where(Notification.user_id == r.user_id))).all()
    assert [(n.kind, n.link) for n in notes] == [
        (NotificationKind.REVIEW_ASSIGNED, f"/reviews/{review['id']}")
    ]
    assert str(YEAR) in notes[0].title and f"#{p.id}" in notes[0].body
    assert [t["id"] for t in ok(await client.get(f"{API}/me/reviews", headers=r.headers))] == [review["id"]]
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "review.assigned"))
    assert event is not None and (event.entity_id, event.actor_user_id) == (review["id"], admin.id)

    twice = await client.post(
        f"{API}/review-rounds/{YEAR}/reviewers",
        json={"agreement_id": p.id, "expert_id": r.expert_id},
        headers=admin_h,
    )
    assert_problem(twice, 409, "reviewer_already_assigned")
    assert await session.scalar(select(func.count()).select_from(ProjectReview)) == 1


async def test_a_project_outside_the_catalogue_gets_no_reviewers(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth, catalogued=False)
    r = await reviewer(session, auth)
    await open_round(client, admin_h)
    body = {"agreement_id": p.id, "expert_id": r.expert_id}
    answer = await client.post(f"{API}/review-rounds/{YEAR}/reviewers", json=body, headers=admin_h)
    assert_problem(answer, 409, "project_not_catalogued")
    assert await session.scalar(select(func.count()).select_from(Notification)) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"agreement_id": 2147483647, "expert_id": "{reviewer}"}, 404, "agreement_not_found"),
        ({"agreement_id": "{id}", "expert_id": 2147483647}, 404, "expert_not_found"),
        ({"agreement_id": "{id}"}, 422, "request_invalid"),
        ({"agreement_id": "{id}", "expert_id": 0}, 422, "request_invalid"),
        ({"agreement_id": "{id}", "expert_id": "{reviewer}", "weight": 2}, 422, "request_invalid"),
    ],
)
async def test_bad_assignments_are_refused(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth)
    r = await reviewer(session, auth)
    await open_round(client, admin_h)
    body = {k: {"{id}": p.id, "{reviewer}": r.expert_id}.get(v, v) for k, v in body.items()}
    assert_problem(
        await client.post(f"{API}/review-rounds/{YEAR}/reviewers", json=body, headers=admin_h), status, code
    )
    assert await session.scalar(select(func.count()).select_from(ProjectReview)) == 0


@pytest.mark.parametrize("link", ["own project", "another order", "another studio", "terminated", "draft"])
async def test_experts_with_ties_to_the_enterprise_must_abstain(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, link: str
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth)
    r = await reviewer(session, auth)
    await open_round(client, admin_h)
    expert_id = p.expert_id
    if link != "own project":
        expert_id = r.expert_id
        enterprise = await session.get(Enterprise, p.enterprise_id)
        studio = await make_studio(session, enterprise)  # another studio of the same enterprise
        if link == "another order":
            agreement = await session.get(Agreement, p.id)
            assert agreement is not None
            studio_id = agreement.studio_id
        else:
            studio_id = studio.id
        order = await make_order(session, status=OrderStatus.TAKEN, studio_id=studio_id)
        status = {"terminated": AgreementStatus.TERMINATED, "draft": AgreementStatus.DRAFT}.get(
            link, AgreementStatus.DELIVERED
        )
        await add_agreement(session, order.id, studio_id, p.enterprise_id, r.expert_id, status)
        await session.commit()

    answer = await client.post(
        f"{API}/review-rounds/{YEAR}/reviewers",
        json={"agreement_id": p.id, "expert_id": expert_id},
        headers=admin_h,
    )

    problem = assert_problem(answer, 409, "reviewer_conflict_of_interest")
    assert "回避" in problem["detail"]
    assert await session.scalar(select(func.count()).select_from(ProjectReview)) == 0


async def test_an_agreement_with_another_enterprise_is_no_conflict(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth)
    elsewhere = await project(session, auth)
    # the expert of another enterprise's project reviews this one
    r = Reviewer(elsewhere.expert_id, 0, elsewhere.expert)
    await open_round(client, admin_h)
    review = await assign(client, admin_h, p, r)
    assert review["reviewer_expert_id"] == elsewhere.expert_id
    # but not their own project
    answer = await client.post(
        f"{API}/review-rounds/{YEAR}/reviewers",
        json={"agreement_id": elsewhere.id, "expert_id": elsewhere.expert_id},
        headers=admin_h,
    )
    assert_problem(answer, 409, "reviewer_conflict_of_interest")


# ---------------------------------------------------------------------------------------------- scores


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"progress_score": 101}, "progress_score"),
        ({"technical_score": -1}, "technical_score"),
        ({"difficulty_score": 85.5}, "difficulty_score"),
        ({"benefit_score": "优"}, "benefit_score"),
        ({"benefit_score": None}, "benefit_score"),
        ({"comment": "长" * 2001}, "comment"),
        ({"total": 90}, "total"),
    ],
)
async def test_scores_out_of_range_are_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, change: dict[str, Any], field: str
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth)
    r = await reviewer(session, auth)
    await open_round(client, admin_h)
    review = await assign(client, admin_h, p, r)
    answer = await client.put(f"{API}/reviews/{review['id']}", json={**SCORES, **change}, headers=r.headers)
    assert_problem(answer, 422, "request_invalid", field)
    missing = {k: v for k, v in SCORES.items() if k != "progress_score"}
    assert_problem(
        await client.put(f"{API}/reviews/{review['id']}", json=missing, headers=r.headers),
        422,
        "request_invalid",
        "progress_score",
    )
    stored = await session.get(ProjectReview, review["id"], populate_existing=True)
    assert stored is not None and (stored.status.value, stored.progress_score) == ("assigned", None)


async def test_scores_at_the_limits_are_accepted_and_can_be_revised_while_open(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth)
    r = await reviewer(session, auth)
    await open_round(client, admin_h)
    review = await assign(client, admin_h, p, r)
    first = await score(client, review["id"], r, progress_score=0, benefit_score=100)
    assert (first["status"], first["progress_score"], first["benefit_score"]) == ("submitted", 0, 100)
    assert first["submitted_at"] is not None
    revised = await score(client, review["id"], r, progress_score=60)
    assert revised["progress_score"] == 60
    assert (await ranking(client, admin_h))[0]["mean_score"] == (60 + 80 + 70 + 88) / 4


async def test_a_reviewer_submits_only_their_own_review(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth)
    mine, theirs = await reviewer(session, auth), await reviewer(session, auth)
    await open_round(client, admin_h)
    review = await assign(client, admin_h, p, mine)
    url = f"{API}/reviews/{review['id']}"

    for headers in (theirs.headers, p.expert, p.enterprise, admin_h):
        problem = assert_problem(await client.put(url, json=SCORES, headers=headers), 404, "review_not_found")
        assert str(review["id"]) in problem["detail"]
    assert_problem(
        await client.put(f"{API}/reviews/2147483647", json=SCORES, headers=mine.headers),
        404,
        "review_not_found",
    )
    stored = await session.get(ProjectReview, review["id"], populate_existing=True)
    assert stored is not None and stored.submitted_at is None
    assert ok(await client.get(f"{API}/me/reviews", headers=theirs.headers)) == []


# ---------------------------------------------------------------------------------------------- ranking


async def test_the_ranking_averages_each_reviews_mean_and_breaks_ties_by_agreement_id(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    first = await project(session, auth, title="主轴振动诊断")
    second = await project(session, auth, title="砂轮修整")
    third = await project(session, auth, title="焊接变形")
    unscored = await project(session, auth, title="尚未评分")
    r1, r2, r3 = [await reviewer(session, auth) for _ in range(3)]
    await open_round(client, admin_h)

    # the third project: one reviewer, (80+80+77+77)/4 = 78.5
    await reviewed(
        client,
        admin_h,
        third,
        r1,
        progress_score=80,
        technical_score=80,
        difficulty_score=77,
        benefit_score=77,
    )
    # the second project: 82 and 75, averaged over reviewers = 78.5, a tie with the third
    await reviewed(client, admin_h, second, r1)
    await reviewed(
        client,
        admin_h,
        second,
        r2,
        progress_score=60,
        technical_score=70,
        difficulty_score=80,
        benefit_score=90,
    )
    await assign(client, admin_h, second, r3)  # assigned, not submitted: it does not count
    # the first project: 95 — best
    await reviewed(
        client,
        admin_h,
        first,
        r2,
        progress_score=95,
        technical_score=95,
        difficulty_score=95,
        benefit_score=95,
    )
    await assign(client, admin_h, unscored, r1)

    rows = await ranking(client, admin_h)

    assert [(r["rank"], r["agreement_id"], r["mean_score"]) for r in rows] == [
        (1, first.id, 95.0),
        (2, second.id, 78.5),  # tie: the lower agreement id first
        (3, third.id, 78.5),
    ]
    assert [(r["order_title"], r["submitted_reviews"], r["pending_reviews"]) for r in rows] == [
        ("主轴振动诊断", 1, 0), ("砂轮修整", 2, 1), ("焊接变形", 1, 0),
    ]  # fmt: skip
    assert all(r["decision"] is None and r["amount"] is None for r in rows)
    assert unscored.id not in [r["agreement_id"] for r in rows]


async def test_an_empty_round_ranks_nothing(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    await open_round(client, admin_h)
    assert await ranking(client, admin_h) == []
    closed = ok(await client.post(f"{API}/review-rounds/{YEAR}/close", headers=admin_h))
    assert closed["status"] == "closed"


# ---------------------------------------------------------------------------------------------- funding and closing


async def scored_round(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin_h: dict[str, str]
) -> tuple[Project, Project, Project, Reviewer]:
    """Two ranked projects and one with a reviewer who has not scored yet."""
    first, second, pending = [await project(session, auth) for _ in range(3)]
    r = await reviewer(session, auth)
    await open_round(client, admin_h)
    await reviewed(client, admin_h, first, r, progress_score=100)
    await reviewed(client, admin_h, second, r)
    await assign(client, admin_h, pending, r)
    return first, second, pending, r


@pytest.mark.parametrize("amount", [None, 0])
async def test_funding_needs_an_amount(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, amount: int | None
) -> None:
    admin_h = auth(admin)
    first, *_ = await scored_round(client, session, auth, admin_h)
    item: dict[str, Any] = {"agreement_id": first.id, "decision": "funded"}
    if amount is not None:
        item["amount"] = amount
    answer = await client.post(
        f"{API}/review-rounds/{YEAR}/funding", json={"decisions": [item]}, headers=admin_h
    )
    problem = assert_problem(answer, 422, "funding_amount_required", "amount")
    assert f"#{first.id}" in problem["detail"]
    await request_over(session)
    assert await session.scalar(select(func.count()).select_from(ProjectFunding)) == 0


@pytest.mark.parametrize(
    ("decisions", "field"),
    [
        ([], "decisions"),
        ([{"agreement_id": "{id}", "decision": "maybe"}], "decisions.0.decision"),
        ([{"agreement_id": "{id}", "decision": "funded", "amount": -5}], "decisions.0.amount"),
        ([{"agreement_id": "{id}"}], "decisions.0.decision"),
        ([{"agreement_id": "{id}", "decision": "not_funded", "rank": 1}], "decisions.0.rank"),
    ],
)
async def test_bad_funding_decisions_are_refused(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    decisions: list[dict[str, Any]],
    field: str,
) -> None:
    admin_h = auth(admin)
    first, *_ = await scored_round(client, session, auth, admin_h)
    decisions = [{**d, "agreement_id": first.id} for d in decisions]
    answer = await client.post(
        f"{API}/review-rounds/{YEAR}/funding", json={"decisions": decisions}, headers=admin_h
    )
    assert_problem(answer, 422, "request_invalid", field)
    assert await session.scalar(select(func.count()).select_from(ProjectFunding)) == 0


async def test_no_decision_for_a_project_without_a_submitted_review(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    first, _, pending, _ = await scored_round(client, session, auth, admin_h)
    outside = await project(session, auth, catalogued=False)
    for agreement_id in (pending.id, outside.id, 2147483647):
        decisions = [
            {"agreement_id": first.id, "decision": "funded", "amount": 200_000},
            {"agreement_id": agreement_id, "decision": "not_funded"},
        ]
        answer = await client.post(
            f"{API}/review-rounds/{YEAR}/funding", json={"decisions": decisions}, headers=admin_h
        )
        problem = assert_problem(answer, 409, "project_not_ranked")
        assert f"#{agreement_id}" in problem["detail"]
        await request_over(session)
        # all or nothing: the valid decision in the same request is not kept either
        assert await session.scalar(select(func.count()).select_from(ProjectFunding)) == 0


async def test_decisions_are_recorded_and_may_change_while_the_round_is_open(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    first, second, _, _ = await scored_round(client, session, auth, admin_h)
    decisions = [
        {"agreement_id": first.id, "decision": "funded", "amount": 200_000, "note": "优先资助"},
        {"agreement_id": second.id, "decision": "not_funded", "amount": 50_000},
    ]
    # an amount on a project not funded is a mistake to point out, not a value to drop in silence
    refused = await client.post(
        f"{API}/review-rounds/{YEAR}/funding", json={"decisions": decisions}, headers=admin_h
    )
    assert_problem(refused, 422, "request_invalid", "decisions.1.amount")
    del decisions[1]["amount"]
    decided = ok(
        await client.post(
            f"{API}/review-rounds/{YEAR}/funding", json={"decisions": decisions}, headers=admin_h
        )
    )
    assert [(r["agreement_id"], r["decision"], r["amount"]) for r in decided] == [
        (first.id, "funded", 200_000), (second.id, "not_funded", None),
    ]  # fmt: skip
    stored = (await session.scalars(select(ProjectFunding).order_by(ProjectFunding.rank))).all()
    assert [(f.agreement_id, f.rank, f.mean_score, f.note) for f in stored] == [
        (first.id, 1, 84.5, "优先资助"), (second.id, 2, 82.0, ""),
    ]  # fmt: skip
    assert all(f.decided_by_user_id == admin.id for f in stored)

    changed = ok(
        await client.post(
            f"{API}/review-rounds/{YEAR}/funding",
            json={"decisions": [{"agreement_id": second.id, "decision": "funded", "amount": 80_000}]},
            headers=admin_h,
        )
    )
    assert [(r["decision"], r["amount"]) for r in changed] == [("funded", 200_000), ("funded", 80_000)]
    assert await session.scalar(select(func.count()).select_from(ProjectFunding)) == 2
    events = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "project.funding_decided"))
    ).all()
    assert len(events) == 3
    assert events[-1].before is not None and events[-1].before["decision"] == "not_funded"


async def test_the_same_project_twice_in_one_request_is_a_problem_not_a_crash(
    lenient: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    first, *_ = await scored_round(lenient, session, auth, admin_h)
    decisions = [
        {"agreement_id": first.id, "decision": "funded", "amount": 200_000},
        {"agreement_id": first.id, "decision": "not_funded"},
    ]
    answer = await lenient.post(
        f"{API}/review-rounds/{YEAR}/funding", json={"decisions": decisions}, headers=admin_h
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_closing_needs_every_ranked_project_decided_and_then_nothing_changes(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    first, second, pending, r = await scored_round(client, session, auth, admin_h)
    funding = f"{API}/review-rounds/{YEAR}/funding"
    ok(
        await client.post(
            funding,
            json={"decisions": [{"agreement_id": first.id, "decision": "funded", "amount": 200_000}]},
            headers=admin_h,
        )
    )

    early = await client.post(f"{API}/review-rounds/{YEAR}/close", headers=admin_h)
    problem = assert_problem(early, 409, "funding_decisions_missing")
    assert f"#{second.id}" in problem["detail"] and f"#{first.id}" not in problem["detail"]
    assert f"#{pending.id}" not in problem["detail"]  # not ranked: nothing to decide

    ok(
        await client.post(
            funding,
            json={"decisions": [{"agreement_id": second.id, "decision": "not_funded"}]},
            headers=admin_h,
        )
    )
    closed = ok(await client.post(f"{API}/review-rounds/{YEAR}/close", headers=admin_h))
    assert (closed["status"], closed["closed_at"] is not None) == ("closed", True)
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "review_round.closed"))
    assert event is not None and event.actor_user_id == admin.id

    # after closing, nothing changes
    late_reviewer = await reviewer(session, auth)
    attempts = [
        ("POST", f"{API}/review-rounds/{YEAR}/reviewers", {"agreement_id": first.id, "expert_id": late_reviewer.expert_id}, admin_h),
        ("POST", funding, {"decisions": [{"agreement_id": second.id, "decision": "funded", "amount": 1}]}, admin_h),
        ("POST", f"{API}/review-rounds/{YEAR}/close", None, admin_h),
    ]  # fmt: skip
    for method, url, body, headers in attempts:
        problem = assert_problem(
            await client.request(method, url, json=body, headers=headers), 409, "review_round_closed"
        )
        assert str(YEAR) in problem["detail"]
    my_reviews = ok(await client.get(f"{API}/me/reviews", headers=r.headers))
    for review in my_reviews:
        answer = await client.put(
            f"{API}/reviews/{review['id']}", json={**SCORES, "progress_score": 1}, headers=r.headers
        )
        assert_problem(answer, 409, "review_round_closed")
    final = await ranking(client, admin_h)
    assert [(row["agreement_id"], row["decision"], row["amount"]) for row in final] == [
        (first.id, "funded", 200_000), (second.id, "not_funded", None),
    ]  # fmt: skip
    assert [row["mean_score"] for row in final] == [84.5, 82.0]
    assert await session.scalar(select(func.count()).select_from(ProjectReview)) == 3
    # another year can still be opened
    await open_round(client, admin_h, YEAR + 1)


async def test_a_project_terminated_after_cataloguing_is_neither_reviewed_nor_funded(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    admin_h = auth(admin)
    p = await project(session, auth)
    r = await reviewer(session, auth)
    await open_round(client, admin_h)
    await reviewed(client, admin_h, p, r)
    stored = await session.get(Agreement, p.id)
    assert stored is not None
    stored.status = AgreementStatus.TERMINATED
    await session.commit()
    other = await reviewer(session, auth)

    late = await client.post(
        f"{API}/review-rounds/{YEAR}/reviewers",
        json={"agreement_id": p.id, "expert_id": other.expert_id},
        headers=admin_h,
    )
    funded = await client.post(
        f"{API}/review-rounds/{YEAR}/funding",
        json={"decisions": [{"agreement_id": p.id, "decision": "funded", "amount": 100_000}]},
        headers=admin_h,
    )
    not_funded = await client.post(
        f"{API}/review-rounds/{YEAR}/funding",
        json={"decisions": [{"agreement_id": p.id, "decision": "not_funded"}]},
        headers=admin_h,
    )

    assert_problem(late, 409, "project_ended")
    assert_problem(funded, 409, "project_ended")
    assert not_funded.status_code == 200, not_funded.text  # the round can still be closed
