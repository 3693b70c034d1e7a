"""The issue's bad-input list, one test each: a clear 4xx problem+json naming the field, and nothing written."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient, Response
from pydantic import BaseModel, BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.accounts.schemas import PasswordChange, UserCreate
from app.accounts.security import Actor
from app.achievements.schemas import AchievementCreate, AchievementUpdate
from app.agreements.models import AgreementStatus
from app.agreements.schemas import (
    AgreementTermsUpdate,
    ConsultationCreate,
    DeliveryConfirmation,
    OutcomeCreate,
    Termination,
    TrainingCreate,
)
from app.audit.models import AuditEvent
from app.clock import local_today
from app.config import Settings
from app.enterprises.models import Enterprise
from app.experts.schemas import ExpertUpdate
from app.main import create_app
from app.notifications.models import Notification, NotificationKind
from app.orders.models import Order, OrderStatus, OrderTaking, TakingSource
from app.orders.schemas import OrderCreate, OrderUpdate
from app.projects import service as project_service
from app.projects.schemas import FundingItem, ReviewerAssignment, ReviewScores
from app.proposals.models import Proposal, ProposalStatus
from app.schemas import TEXT_RULES, InputModel
from app.studios.models import Studio
from app.studios.schemas import AssessmentCreate, DelistingCreate
from tests.factories import (
    PASSWORD,
    make_achievement,
    make_agreement,
    make_enterprise,
    make_expert,
    make_order,
    make_studio,
    make_user,
    valid_credit_code,
)
from tests.problems import CJK, Auth, assert_problem, count
from tests.web.test_pages import token_of


def enterprise_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "扬州新材料科技有限公司",
        "credit_code": valid_credit_code(),
        "province": "江苏省",
        "city": "扬州市",
        "district": "邗江区",
    }
    body.update(overrides)
    return body


async def test_malformed_json_is_a_400_and_writes_nothing(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    before = await count(session, Enterprise)
    response = await client.post(
        "/api/v1/enterprises",
        content='{"name": "扬州", "credit_code": '.encode(),
        headers={**auth(admin), "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed_json")
    assert await count(session, Enterprise) == before


async def test_wrong_type_names_the_field(client: AsyncClient, session: AsyncSession, auth: Auth) -> None:
    enterprise = await make_enterprise(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)
    before = await count(session, Studio)
    response = await client.post(
        "/api/v1/studios",
        json={"name": "测试工作室", "kind": "craftsman", "leader_name": "张三", "members_count": "很多"},
        headers=auth(user),
    )
    body = assert_problem(response, 422, "request_invalid", "members_count")
    assert "整数" in body["detail"]
    assert await count(session, Studio) == before


async def test_over_long_string_names_the_field_and_its_limit(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    before = await count(session, Enterprise)
    response = await client.post(
        "/api/v1/enterprises", json=enterprise_body(name="厂" * 201), headers=auth(admin)
    )
    body = assert_problem(response, 422, "request_invalid", "name")
    assert "200" in body["errors"][0]["message"]
    assert await count(session, Enterprise) == before


async def test_unknown_enum_value_lists_the_allowed_ones(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    before = await count(session, Order)
    response = await client.post(
        "/api/v1/orders",
        json={"studio_id": studio.id, "title": "焊接变形", "description": "焊后变形大", "need_kind": "跑腿"},
        headers=auth(user),
    )
    body = assert_problem(response, 422, "request_invalid", "need_kind")
    assert "tech_breakthrough" in body["errors"][0]["message"]
    assert await count(session, Order) == before


async def test_invalid_credit_code_check_character(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    code = valid_credit_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    before = await count(session, Enterprise)
    response = await client.post(
        "/api/v1/enterprises", json=enterprise_body(credit_code=wrong), headers=auth(admin)
    )
    body = assert_problem(response, 422, "uscc_invalid", "credit_code")
    assert "校验位" in body["detail"]
    assert await count(session, Enterprise) == before


async def test_duplicate_credit_code(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    existing = await make_enterprise(session)
    before = await count(session, Enterprise)
    events_before = await count(session, AuditEvent)
    # the same code typed in lower case with spaces is still the same code
    typed = " ".join([existing.credit_code[:9], existing.credit_code[9:]]).lower()
    response = await client.post(
        "/api/v1/enterprises", json=enterprise_body(credit_code=typed), headers=auth(admin)
    )
    assert_problem(response, 409, "uscc_duplicate", "credit_code")
    assert await count(session, Enterprise) == before
    assert await count(session, AuditEvent) == events_before


async def test_order_with_a_deadline_in_the_past(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    before = await count(session, Order)
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    response = await client.post(
        "/api/v1/orders",
        json={
            "studio_id": studio.id,
            "title": "电缆挤出偏心",
            "description": "绝缘层偏心度超标，希望改进挤出工艺。",
            "need_kind": "process_improvement",
            "deadline": yesterday,
        },
        headers=auth(user),
    )
    assert_problem(response, 422, "order_deadline_past", "deadline")
    assert await count(session, Order) == before


async def test_missing_required_field(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    body = enterprise_body()
    del body["district"]
    before = await count(session, Enterprise)
    response = await client.post("/api/v1/enterprises", json=body, headers=auth(admin))
    problem = assert_problem(response, 422, "request_invalid", "district")
    assert "区县" in problem["detail"]
    assert await count(session, Enterprise) == before


@pytest.mark.parametrize("page_size", [0, 10_000])
async def test_page_size_out_of_range(client: AsyncClient, page_size: int) -> None:
    response = await client.get("/api/v1/experts", params={"page_size": page_size})
    assert_problem(response, 422, "request_invalid", "page_size")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/enterprises/987654", "enterprise_not_found"),
        ("/api/v1/studios/987654", "studio_not_found"),
        ("/api/v1/experts/987654", "expert_not_found"),
        ("/api/v1/achievements/987654", "achievement_not_found"),
        ("/api/v1/orders/987654", "order_not_found"),
    ],
)
async def test_an_id_that_does_not_exist(
    client: AsyncClient, admin: User, auth: Auth, path: str, code: str
) -> None:
    assert_problem(await client.get(path, headers=auth(admin)), 404, code)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/orders"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/enterprises"),
        ("POST", "/api/v1/enterprises"),
        ("PATCH", "/api/v1/experts/1"),
        ("GET", "/api/v1/auth/me"),
    ],
)
async def test_a_request_without_login(client: AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_enterprise_user_editing_another_enterprises_order(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    order = await make_order(session, status=OrderStatus.PUBLISHED)
    intruder = await make_user(session, UserRole.ENTERPRISE)
    response = await client.patch(
        f"/api/v1/orders/{order.id}", json={"title": "改掉别人的需求"}, headers=auth(intruder)
    )
    assert_problem(response, 403, "forbidden")
    await session.refresh(order)
    assert order.title == "数控机床主轴振动诊断"


async def test_unknown_field_is_refused_not_ignored(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session)
    order = await make_order(session, studio, status=OrderStatus.DRAFT)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    response = await client.patch(
        f"/api/v1/orders/{order.id}", json={"status": "closed"}, headers=auth(owner)
    )
    assert_problem(response, 422, "request_invalid", "status")
    await session.refresh(order)
    assert order.status is OrderStatus.DRAFT


async def test_unknown_route_and_method_are_problems_too(client: AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_problem(await client.delete("/api/v1/experts"), 405, "method_not_allowed")


async def test_problem_type_opens_a_chinese_explanation(client: AsyncClient) -> None:
    page = await client.get("/problems/uscc_invalid")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text and "统一社会信用代码无效" in page.text
    assert (await client.get("/problems/no_such_code")).status_code == 404


# --- pages: hostile query and form values -------------------------------------------------------------
# Every page route, logged in as the role it serves, gets hostile values in each of its query
# parameters, form fields and path parameters, one at a time (the others plausible): it answers a
# Chinese message (the form again with the message, or the error page), never a 5xx.

HOSTILE: tuple[str, ...] = (
    "a\x00b",
    "²",  # str.isdigit() says yes, int() says no
    str(2**31),  # one past PostgreSQL's integer
    str(2**63),  # one past bigint
    "NaN",
    "\u202eevil.exe\u202c",  # right-to-left override
    "\u200b",  # nothing visible at all
    "\x1b[2J",  # a terminal escape
)
# sent as they are (already %-encoded): bytes that are not UTF-8 at all
RAW_HOSTILE: tuple[str, ...] = ("%FF", "%ED%A0%80")
FEW_HOSTILE = ("a\x00b", "²", str(2**63), "\u202e", "%FF")
YEAR = 2026


@dataclass
class World:
    """Ids (never ORM objects: a refused form rolls the shared session back) of one of everything."""

    enterprise: str
    expert: str
    admin: str
    expert_id: int
    other_expert_id: int
    studio_id: int
    draft_order: int
    published_order: int
    invited_order: int
    agreement_id: int
    catalogued_agreement: int
    taking_id: int
    proposal_id: int
    achievement_id: int
    review_id: int
    spare_user_id: int  # an account the admin pages may reset, disable and enable
    notification_id: int  # a message to the enterprise's user


async def build_world(session: AsyncSession) -> World:
    owner_enterprise = await make_enterprise(session)
    studio = await make_studio(session, owner_enterprise)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise=owner_enterprise)
    expert = await make_expert(session)
    other = await make_expert(session)
    expert_user = await make_user(session, UserRole.EXPERT, expert=expert)
    admin = await make_user(session, UserRole.ADMIN)
    spare = await make_user(session, UserRole.ENTERPRISE, enterprise=owner_enterprise)
    draft = await make_order(session, studio, status=OrderStatus.DRAFT)
    published = await make_order(session, studio)
    invited = await make_order(session, studio)
    taken = await make_order(session, studio, status=OrderStatus.TAKEN)
    agreement = await make_agreement(session, taken, expert, status=AgreementStatus.DRAFT)
    taking = OrderTaking(order_id=published.id, expert_id=expert.id, source=TakingSource.TAKEN)
    proposals = [
        Proposal(order_id=invited.id, expert_id=expert.id, rank=1, score=0.9, matcher_version="t",
                 status=ProposalStatus.INVITED),
        Proposal(order_id=published.id, expert_id=other.id, rank=1, score=0.8, matcher_version="t"),
    ]  # fmt: skip
    notification = Notification(
        user_id=owner.id,
        kind=NotificationKind.ORDER_TAKEN,
        title="专家承接了需求",
        link=f"/orders/{published.id}",
    )
    session.add_all([taking, *proposals, notification])
    achievement = await make_achievement(session, expert)
    # a catalogued project of another expert, in an open round, with our expert as its reviewer
    project = await make_agreement(session, expert=other, status=AgreementStatus.IN_PROGRESS)
    admin_actor = Actor.of(admin)
    await project_service.catalogue_agreement(session, admin_actor, project.id)
    await project_service.open_round(session, admin_actor, YEAR)
    review = await project_service.assign_reviewer(session, admin_actor, YEAR, project.id, expert.id)
    await session.commit()
    return World(
        enterprise=owner.username, expert=expert_user.username, admin=admin.username,
        expert_id=expert.id, other_expert_id=other.id, studio_id=studio.id,
        draft_order=draft.id, published_order=published.id, invited_order=invited.id,
        agreement_id=agreement.id, catalogued_agreement=project.id, taking_id=taking.id,
        proposal_id=proposals[1].id, achievement_id=achievement.id, review_id=review.id,
        spare_user_id=spare.id, notification_id=notification.id,
    )  # fmt: skip


def plausible(w: World) -> dict[str, str]:
    """A value each form field or query parameter accepts, so that the hostile one is the only problem."""
    today = local_today()
    return {
        "username": w.enterprise, "password": PASSWORD, "next": "/my/orders",
        "studio_id": str(w.studio_id), "title": "焊接变形控制", "description": "焊后变形大。\n希望改进。",
        "need_kind": "consulting", "fields": "焊接", "budget_min": "1000", "budget_max": "2000",
        "deadline": (today + timedelta(days=30)).isoformat(), "slots": "1", "action": "save",
        "note": "可以投入", "reason": "时间冲突", "expert_id": str(w.other_expert_id),
        "order_id": str(w.published_order), "version": "1", "goals": "消除振纹", "deliverables": "报告",
        "duration_months": "6", "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=180)).isoformat(), "consultation_cadence": "monthly",
        "funding_amount": "1000", "funding_source": "自筹", "content_hash": "0" * 64,
        "held_on": today.isoformat(), "participants": "张三", "minutes": "纪要", "trainee_count": "3",
        "hours": "2", "value_yuan": "100", "patent_number": "ZL2020", "achieved_on": today.isoformat(),
        "rating": "5", "comment": "好", "name": "周", "university": "扬州大学", "department": "机械",
        "disciplines": "机械", "cohort_number": "13", "cohort_year": "2020", "seconded_district": "邗江区",
        "seconded_town": "杭集镇", "seconded_role": "副镇长", "term_start": "2020-07-01",
        "term_end": "2027-06-30", "capacity": "3", "phone": "0514-87970001", "email": "a@example.cn",
        "bio": "简介", "abstract": "摘要", "keywords": "焊接", "year": str(YEAR), "maturity": "lab",
        "progress_score": "80", "technical_score": "80", "difficulty_score": "80", "benefit_score": "80",
        "relevant": "yes", "agreement_id": str(w.catalogued_agreement), "decision": "funded",
        "amount": "1000", "expert_review_score": "90", "site_visit_score": "90",
        "demonstration_score": "90", "assessed_on": today.isoformat(), "q": "焊接", "district": "邗江区",
        "discipline": "机械", "cohort": "13", "field": "焊接", "status": "draft", "page": "1",
        "unread": "true", "created": "1", "skipped": "false", "problem": "order_withdrawn",
        "flash": "saved", "current_password": PASSWORD, "new_password": "Zq8-vLm-2pRt-Kw-neu",
        "display_name": "新账号", "role": "enterprise",
    }  # fmt: skip


@dataclass(frozen=True)
class PageCase:
    method: str
    path: str
    role: str  # "visitor", "enterprise", "expert" or "admin"
    fields: tuple[str, ...] = ()
    ids: tuple[tuple[str, str], ...] = ()  # path parameter → World attribute
    overrides: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def names(model: type[Any], *extra: str) -> tuple[str, ...]:
    return (*model.model_fields, *extra)


ORDER = (("order_id", "published_order"),)
AGREEMENT = (("agreement_id", "agreement_id"),)
ROUND: tuple[tuple[str, str], ...] = ()  # the round of YEAR
STUDIO = (("studio_id", "studio_id"),)
SPARE_USER = (("user_id", "spare_user_id"),)
PAGE_CASES = (
    PageCase("GET", "/", "visitor"),
    PageCase("GET", "/login", "visitor", ("next",)),
    PageCase("GET", "/docs", "visitor"),
    PageCase("GET", "/experts", "visitor", ("q", "district", "discipline", "cohort")),
    PageCase("GET", "/experts/{expert_id}", "visitor", ids=(("expert_id", "expert_id"),)),
    PageCase("GET", "/achievements", "visitor", ("q", "kind", "maturity")),
    PageCase("GET", "/orders/new", "enterprise"),
    PageCase("GET", "/my/orders", "enterprise", ("status",)),
    PageCase("GET", "/orders", "expert", ("q", "field", "district")),
    PageCase("GET", "/orders/{order_id}", "enterprise", ("problem",), ORDER),
    PageCase("GET", "/my/agreements", "enterprise"),
    PageCase("GET", "/agreements/{agreement_id}", "enterprise", ids=AGREEMENT),
    PageCase("GET", "/my/recommended", "expert"),
    PageCase("GET", "/my/profile", "expert"),
    PageCase("GET", "/my/reviews", "expert"),
    PageCase("GET", "/reviews/{review_id}", "expert", ids=(("review_id", "review_id"),)),
    PageCase("GET", "/inbox", "expert", ("unread",)),
    PageCase("GET", "/inbox/{notification_id}", "enterprise", ids=(("notification_id", "notification_id"),)),
    PageCase("GET", "/admin", "admin", ("year",)),
    PageCase("GET", "/admin/quality", "admin"),
    PageCase("GET", "/admin/projects", "admin"),
    PageCase("GET", "/admin/projects/rounds/{year}", "admin", ids=ROUND),
    PageCase("GET", "/admin/studios", "admin", ("q", "page")),
    PageCase("GET", "/admin/studios/{studio_id}", "admin", ids=STUDIO),
    PageCase("GET", "/admin/transfer", "admin", ("kind", "created", "skipped")),
    PageCase("GET", "/problems/{code}", "visitor"),
    PageCase("POST", "/login", "visitor", ("username", "password", "next")),
    PageCase("POST", "/logout", "enterprise"),
    PageCase("GET", "/account/password", "enterprise"),
    PageCase("POST", "/account/password", "enterprise", names(PasswordChange)),
    PageCase("GET", "/admin/users", "admin"),
    PageCase("POST", "/admin/users", "admin", names(UserCreate)),
    PageCase("POST", "/admin/users/{user_id}/password-reset", "admin", ids=SPARE_USER),
    PageCase("POST", "/admin/users/{user_id}/disable", "admin", ids=SPARE_USER),
    PageCase("POST", "/admin/users/{user_id}/enable", "admin", ids=SPARE_USER),
    PageCase("POST", "/orders/new", "enterprise", names(OrderCreate, "action")),
    PageCase("POST", "/orders/preview", "enterprise", ("title", "description", "fields", "need_kind")),
    PageCase("POST", "/orders/{order_id}/publish", "enterprise", ids=(("order_id", "draft_order"),)),
    PageCase("POST", "/orders/{order_id}/proposals", "enterprise", ids=ORDER),
    PageCase("GET", "/orders/{order_id}/edit", "enterprise", ids=ORDER),
    PageCase("POST", "/orders/{order_id}/edit", "enterprise", names(OrderUpdate), ORDER),
    PageCase("POST", "/orders/{order_id}/withdraw", "enterprise", ids=ORDER),
    PageCase("POST", "/orders/{order_id}/close", "enterprise", ids=ORDER),
    PageCase("POST", "/orders/{order_id}/take", "expert", ("note",), ORDER),
    PageCase("POST", "/orders/{order_id}/invite", "enterprise", ("expert_id",), ORDER),
    PageCase("POST", "/orders/{order_id}/accept", "expert", ("note",), (("order_id", "invited_order"),)),
    PageCase("POST", "/orders/{order_id}/decline", "expert", ("reason",), (("order_id", "invited_order"),)),
    PageCase("POST", "/takings/{taking_id}/confirm", "enterprise", ("order_id",), (("taking_id", "taking_id"),)),
    PageCase("POST", "/takings/{taking_id}/release", "enterprise", ("order_id", "reason"),
             (("taking_id", "taking_id"),)),
    PageCase("POST", "/agreements/{agreement_id}/terms", "enterprise", names(AgreementTermsUpdate), AGREEMENT),
    PageCase("POST", "/agreements/{agreement_id}/submit", "enterprise", ("version",), AGREEMENT),
    PageCase("POST", "/agreements/{agreement_id}/revise", "enterprise", ("version", "reason"), AGREEMENT),
    PageCase("POST", "/agreements/{agreement_id}/sign", "enterprise", ("content_hash",), AGREEMENT),
    PageCase("POST", "/agreements/{agreement_id}/consultations", "enterprise", names(ConsultationCreate),
             AGREEMENT, (("kind", "guidance"),)),
    PageCase("POST", "/agreements/{agreement_id}/trainings", "enterprise", names(TrainingCreate), AGREEMENT,
             (("kind", "apprenticeship"),)),
    PageCase("POST", "/agreements/{agreement_id}/outcomes", "enterprise", names(OutcomeCreate), AGREEMENT,
             (("kind", "innovation"),)),
    PageCase("POST", "/agreements/{agreement_id}/delivery", "enterprise", names(DeliveryConfirmation), AGREEMENT),
    PageCase("POST", "/agreements/{agreement_id}/termination", "enterprise", names(Termination), AGREEMENT),
    PageCase("POST", "/my/profile", "expert", names(ExpertUpdate)),
    PageCase("POST", "/my/achievements", "expert", names(AchievementCreate), overrides=(("kind", "patent"),)),
    PageCase("POST", "/my/achievements/{achievement_id}", "expert", names(AchievementUpdate),
             (("achievement_id", "achievement_id"),), (("kind", "patent"),)),
    PageCase("POST", "/my/reviews/{review_id}", "expert", names(ReviewScores), (("review_id", "review_id"),)),
    PageCase("POST", "/inbox/read-all", "expert"),
    PageCase("POST", "/admin/quality/{proposal_id}", "admin", ("relevant",), (("proposal_id", "proposal_id"),)),
    PageCase("POST", "/admin/projects/catalogue", "admin", ("agreement_id",)),
    PageCase("POST", "/admin/projects/rounds", "admin", ("year",), overrides=(("year", str(YEAR + 1)),)),
    PageCase("POST", "/admin/projects/rounds/{year}/reviewers", "admin", names(ReviewerAssignment), ROUND),
    PageCase("POST", "/admin/projects/rounds/{year}/funding", "admin", names(FundingItem), ROUND),
    PageCase("POST", "/admin/projects/rounds/{year}/close", "admin", ids=ROUND),
    PageCase("POST", "/admin/studios/{studio_id}/assessments", "admin", names(AssessmentCreate), STUDIO),
    PageCase("POST", "/admin/studios/{studio_id}/delisting", "admin", names(DelistingCreate), STUDIO),
    PageCase("POST", "/admin/transfer/imports/{kind}", "admin", ("file",)),
)  # fmt: skip


def page_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every page route: routes left out of the API schema, except static files."""
    found: set[tuple[str, str]] = set()

    def walk(routes: Sequence[Any]) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI ≥ 0.160 includes lazily
            if included is not None:
                walk(included.routes)
            elif (
                isinstance(route, APIRoute)
                and not route.include_in_schema
                and not route.path.startswith("/static/")
            ):
                found.update((method, route.path) for method in route.methods)

    walk(app.routes)
    return found


def test_the_hostile_walk_covers_every_page_route(settings: Settings) -> None:
    assert page_routes(create_app(settings)) == {(c.method, c.path) for c in PAGE_CASES}


def encoded(pairs: Sequence[tuple[str, str]]) -> str:
    """A query string or form body; RAW_HOSTILE values go out as they are (not UTF-8 at all)."""
    return "&".join(f"{quote(k)}={v if v in RAW_HOSTILE else quote(v, safe='')}" for k, v in pairs)


# the message of a refused page: next to a field, or the error page's title and sentence
CJK_MESSAGE = re.compile(
    r'class="field-error[^"]*"[^>]*>(.*?)</(?:p|div)>|<h1>([^<]*)</h1>\s*<p>([^<]*)<', re.S
)


def assert_chinese_answer(response: Response, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:2000])
    assert "Traceback" not in response.text
    if response.status_code >= 400:
        messages = re.sub("<[^>]*>", "", " ".join("".join(m) for m in CJK_MESSAGE.findall(response.text)))
        assert CJK.search(messages), (what, response.status_code, response.text[:2000])


@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
async def test_pages_answer_hostile_input_in_chinese_never_5xx(
    client: AsyncClient, session: AsyncSession, case: PageCase
) -> None:
    world = await build_world(session)
    token = token_of(await client.get("/login"))
    if case.role != "visitor":
        token = await logged_in_as(client, getattr(world, case.role), token)
    base = plausible(world) | dict(case.overrides)
    ids = {"year": str(YEAR), "kind": "enterprises", "code": "uscc_invalid"} | {
        p: str(getattr(world, a)) for p, a in case.ids
    }
    path_params = re.findall(r"{(\w+)}", case.path)

    async def send(path_values: dict[str, str], fields: dict[str, str], what: str) -> None:
        path = case.path
        for name, value in path_values.items():
            path = path.replace(f"{{{name}}}", value if value in RAW_HOSTILE else quote(value, safe=""))
        if case.method == "GET":
            response = await client.get(f"{path}?{encoded(list(fields.items()))}")
        else:
            body = encoded([("csrf_token", token), *fields.items()] if "csrf_token" not in fields else
                           list(fields.items()))  # fmt: skip
            response = await client.post(
                path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        assert_chinese_answer(response, what)

    plausible_fields = {f: base[f] for f in case.fields if f in base}
    for value in HOSTILE + RAW_HOSTILE:
        for name in case.fields:
            await send(ids, plausible_fields | {name: value}, f"{case} {name}={value!r}")
    # the path, the status line's code and the CSRF field: a few values are enough (they end in 404/422/403)
    extra = "flash" if case.method == "GET" else "csrf_token"
    for value in FEW_HOSTILE:
        await send(ids, plausible_fields | {extra: value}, f"{case} {extra}={value!r}")
        for name in path_params:
            await send(ids | {name: value}, plausible_fields, f"{case} /{name}={value!r}")


async def logged_in_as(client: AsyncClient, username: str, token: str) -> str:
    done = await client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 303, done.text
    return token


# --- the character rule (app.schemas.clean_text) on the API -----------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code_point"),
    [("扬州\u202e司公限有", "U+202E"), ("扬州\u2066厂\u2069", "U+2066"), ("扬州\x1b[31m", "U+001B"),
     ("扬州\x00", "U+0000"), ("扬州\x85", "U+0085"), ("扬州\n新材料", "U+000A")],
)  # fmt: skip
async def test_control_and_bidi_characters_are_refused_naming_the_character(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth, typed: str, code_point: str
) -> None:
    before = await count(session, Enterprise)
    response = await client.post("/api/v1/enterprises", json=enterprise_body(name=typed), headers=auth(admin))
    body = assert_problem(response, 422, "request_invalid", "name")
    assert code_point in body["errors"][0]["message"] and "第 3 个字符" in body["errors"][0]["message"]
    assert await count(session, Enterprise) == before


async def test_invisible_characters_are_stripped(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    response = await client.post(
        "/api/v1/enterprises",
        json=enterprise_body(name="\ufeff扬州\u200b新材料\u200d有限公司\u00ad"),
        headers=auth(admin),
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "扬州新材料有限公司"


async def test_multi_line_text_keeps_its_lines_and_tabs_but_not_controls(
    client: AsyncClient, session: AsyncSession, auth: Auth
) -> None:
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    body = {"studio_id": studio.id, "title": "焊接变形", "need_kind": "consulting"}
    kept = await client.post(
        "/api/v1/orders",
        json=body | {"description": "焊后变形大。\r\n\t已试过预变形。\u2028希望改进"},
        headers=auth(owner),
    )
    assert kept.status_code == 201, kept.text
    assert kept.json()["description"] == "焊后变形大。\n\t已试过预变形。\n希望改进"
    refused = await client.post(
        "/api/v1/orders", json=body | {"description": "焊后变形大\u202e"}, headers=auth(owner)
    )
    assert_problem(refused, 422, "request_invalid", "description")


async def test_a_lone_surrogate_in_json_is_a_422_not_a_500(
    client: AsyncClient, session: AsyncSession, admin: User, auth: Auth
) -> None:
    raw = '{"name": "\\ud800扬州", "credit_code": "%s", "province": "江苏省", "city": "扬州市", "district": "邗江区"}'
    response = await client.post(
        "/api/v1/enterprises",
        content=(raw % valid_credit_code()).encode(),
        headers={**auth(admin), "Content-Type": "application/json"},
    )
    assert_problem(response, 422, "request_invalid", "name")


@pytest.mark.parametrize("q", ["\x00", "焊接\u202e", "\x1b", "\u200b"])
async def test_search_parameters_follow_the_rule(client: AsyncClient, q: str) -> None:
    assert_problem(await client.get("/api/v1/experts", params={"q": q}), 422, "request_invalid", "q")


# not text a person reads: secrets (compared, never shown or stored as typed), and path keys looked up
# in a fixed table and echoed escaped
NOT_TEXT_FIELDS = {"password", "current_password", "new_password"}
NOT_TEXT_PATHS = {"/problems/{code} code", "/static/vendor/{name} name"}


def _text_leaves(annotation: Any, metadata: Sequence[Any], path: str) -> list[tuple[str, bool]]:
    """(path, has the rule) for every ``str`` inside a field's type, through unions, lists and models."""
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return _text_leaves(inner, [*metadata, *extra], path)
    if get_origin(annotation) in (Union, UnionType, list, tuple, set, frozenset):
        nested = metadata if get_origin(annotation) in (Union, UnionType) else []
        return [leaf for arg in get_args(annotation) for leaf in _text_leaves(arg, nested, path)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [
            leaf
            for name, f in annotation.model_fields.items()
            for leaf in _text_leaves(f.annotation, f.metadata, f"{path}.{name}")
        ]
    if annotation is not str:
        return []
    ruled = any(
        (isinstance(m, BeforeValidator) and m.func in TEXT_RULES) or type(m).__name__ == "_TextType"
        for m in metadata
    )
    flat = [*metadata, *(n for m in metadata for n in getattr(m, "metadata", ()))]  # a Field()'s own
    patterns = [p for m in flat if (p := getattr(m, "pattern", None))]
    # a field with an allow-list pattern that refuses every refused character is fine as it is
    safe = bool(patterns) and all(
        re.search(p, f"a{c}b") is None for p in patterns for c in "\x00\u202e\x1b\n"
    )
    return [(path, ruled or safe)]


def test_every_text_field_of_the_api_and_the_pages_follows_the_character_rule(settings: Settings) -> None:
    app = create_app(settings)
    models: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = [InputModel]
    while pending:
        cls = pending.pop()
        models.add(cls)
        pending.extend(cls.__subclasses__())
    leaves: list[tuple[str, bool]] = []
    for model in models:
        leaves += _text_leaves(model, [], model.__name__)

    def walk(routes: Sequence[Any]) -> None:
        for route in routes:
            if (included := getattr(route, "original_router", None)) is not None:
                walk(included.routes)
            elif isinstance(route, APIRoute):
                params = [
                    *route.dependant.query_params,
                    *route.dependant.body_params,
                    *route.dependant.path_params,
                ]
                for dep in route.dependant.dependencies:
                    params += [*dep.query_params, *dep.body_params]
                for param in params:
                    info = param.field_info
                    leaves.extend(_text_leaves(info.annotation, info.metadata, f"{route.path} {param.name}"))

    walk(app.routes)
    missing = sorted(
        {
            path
            for path, ok in leaves
            if not ok
            and path not in NOT_TEXT_PATHS
            and path.replace(" ", ".").rpartition(".")[2] not in NOT_TEXT_FIELDS
        }
    )
    assert leaves and not missing, missing
