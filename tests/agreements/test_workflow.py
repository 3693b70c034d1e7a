"""Agreements through the API: terms, submission, signatures (content hash, Idempotency-Key), amendments,
delivery with ratings, termination, work logs, the consultation schedule and its reminders, and who
sees which agreement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.agreements.models import (
    Agreement,
    AgreementAmendment,
    AgreementStatus,
    AmendmentStatus,
    Consultation,
    ConsultationCadence,
)
from app.agreements.service import remind_overdue_consultations, terms_hash, terms_of
from app.audit.models import AuditEvent
from app.clock import CHINA_TZ, local_today, utcnow
from app.enterprises.models import Enterprise
from app.idempotency.models import IdempotencyRecord
from app.notifications.models import Notification, NotificationKind
from app.orders.models import OrderStatus
from tests.factories import make_expert, make_order, make_studio, make_user
from tests.problems import Auth, assert_problem

API = "/api/v1"
TODAY = local_today()
STATUS_LABELS = {
    AgreementStatus.DRAFT: "草稿",
    AgreementStatus.PENDING_SIGNATURE: "待签署",
    AgreementStatus.IN_PROGRESS: "已签署/执行中",
    AgreementStatus.DELIVERED: "已交付",
    AgreementStatus.TERMINATED: "已终止",
}
NOT_RUNNING = [
    AgreementStatus.DRAFT,
    AgreementStatus.PENDING_SIGNATURE,
    AgreementStatus.DELIVERED,
    AgreementStatus.TERMINATED,
]


# ---------------------------------------------------------------------------------------------- helpers


@dataclass
class Deal:
    """An agreement between an enterprise and an expert, with both logins and a stranger of each kind.

    Only ids and ready-made headers are kept: after a failed request the test rolls back (as closing the
    request's session does in production), which expires every loaded object.
    """

    id: int
    order_id: int
    enterprise_id: int
    expert_id: int
    enterprise_user_id: int
    expert_user_id: int
    enterprise: dict[str, str]
    expert: dict[str, str]
    other_enterprise: dict[str, str]
    other_expert: dict[str, str]
    admin: dict[str, str]

    @property
    def url(self) -> str:
        return f"{API}/agreements/{self.id}"


async def deal(
    session: AsyncSession,
    auth: Auth,
    admin: User,
    status: AgreementStatus = AgreementStatus.DRAFT,
    **terms: Any,
) -> Deal:
    """An agreement in ``status``, built directly in the database, then committed like a service would."""
    studio = await make_studio(session)
    owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id)
    expert = await make_expert(session)
    expert_user = await make_user(session, UserRole.EXPERT, expert=expert)
    order = await make_order(session, studio, status=OrderStatus.TAKEN)
    values: dict[str, Any] = {"goals": order.title, "deliverables": "", "funding_amount": order.budget_max}
    if status is not AgreementStatus.DRAFT:
        values.update(
            goals="消除主轴 8000 转以上的振纹",
            deliverables="诊断报告一份；工艺参数优化方案",
            duration_months=6,
            start_date=TODAY - timedelta(days=10),
        )
    if status in (AgreementStatus.IN_PROGRESS, AgreementStatus.DELIVERED):
        # signed on the start day (or today, for a later start): work can be logged since
        start = min(terms.get("start_date") or TODAY - timedelta(days=10), TODAY)
        signed = datetime.combine(start, time(9), tzinfo=CHINA_TZ)
        values.update(
            enterprise_signed_by_user_id=owner.id,
            enterprise_signed_at=signed,
            expert_signed_by_user_id=expert_user.id,
            expert_signed_at=signed,
        )
    if status is AgreementStatus.DELIVERED:
        values.update(
            enterprise_delivery_confirmed_at=utcnow(),
            expert_delivery_confirmed_at=utcnow(),
            delivered_at=utcnow(),
            enterprise_rating=5,
            expert_rating=4,
        )
    if status is AgreementStatus.TERMINATED:
        values.update(terminated_at=utcnow(), termination_reason="企业转产")
    values.update(terms)
    agreement = Agreement(
        order_id=order.id,
        expert_id=expert.id,
        studio_id=studio.id,
        enterprise_id=studio.enterprise_id,
        status=status,
        **values,
    )
    session.add(agreement)
    await session.flush()
    if status is not AgreementStatus.DRAFT:
        agreement.content_hash = terms_hash(agreement, terms_of(agreement))
    other_enterprise = await make_user(session, UserRole.ENTERPRISE)
    other_expert = await make_user(session, UserRole.EXPERT)
    await session.commit()
    return Deal(
        id=agreement.id,
        order_id=order.id,
        enterprise_id=studio.enterprise_id,
        expert_id=expert.id,
        enterprise_user_id=owner.id,
        expert_user_id=expert_user.id,
        enterprise=auth(owner),
        expert=auth(expert_user),
        other_enterprise=auth(other_enterprise),
        other_expert=auth(other_expert),
        admin=auth(admin),
    )


async def request_over(session: AsyncSession) -> None:
    """What closing a request's session does in production: forget what a failed request staged."""
    await session.rollback()


async def row(session: AsyncSession, agreement_id: int) -> Agreement:
    agreement = await session.get(Agreement, agreement_id, populate_existing=True)
    assert agreement is not None
    return agreement


async def version(session: AsyncSession, d: Deal) -> int:
    return (await row(session, d.id)).version


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def kinds(session: AsyncSession, user_id: int) -> list[NotificationKind]:
    statement = select(Notification.kind).where(Notification.user_id == user_id).order_by(Notification.id)
    return list((await session.scalars(statement)).all())


async def actions(session: AsyncSession, entity_type: str, entity_id: int) -> list[str]:
    statement = (
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return list((await session.scalars(statement)).all())


def complete_terms(**overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "goals": "消除主轴 8000 转以上的振纹",
        "deliverables": "诊断报告一份；工艺参数优化方案",
        "duration_months": 6,
        "start_date": TODAY.isoformat(),
        "consultation_cadence": "monthly",
    }
    terms.update(overrides)
    return terms


async def submitted(client: AsyncClient, session: AsyncSession, d: Deal) -> dict[str, Any]:
    """Fill a draft's terms and submit it for signature."""
    edited = ok(
        await client.patch(
            d.url, json=complete_terms(version=await version(session, d)), headers=d.enterprise
        )
    )
    body: dict[str, Any] = ok(
        await client.post(f"{d.url}/submit", json={"version": edited["version"]}, headers=d.enterprise)
    )
    return body


# ---------------------------------------------------------------------------------------------- terms


async def test_both_parties_edit_a_draft(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin)

    by_enterprise = ok(
        await client.patch(d.url, json={"goals": "降低主轴振动", "version": 1}, headers=d.enterprise)
    )
    by_expert = ok(
        await client.patch(
            d.url, json={"deliverables": "诊断报告", "version": by_enterprise["version"]}, headers=d.expert
        )
    )

    assert (by_expert["goals"], by_expert["deliverables"]) == ("降低主轴振动", "诊断报告")
    assert by_expert["version"] == by_enterprise["version"] + 1 == 3
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == "agreements", AuditEvent.entity_id == d.id)
        )
    ).all()
    assert [(e.action, e.actor_user_id) for e in events] == [
        ("agreement.terms_updated", d.enterprise_user_id),
        ("agreement.terms_updated", d.expert_user_id),
    ]
    assert events[1].after is not None and events[1].after["deliverables"] == "诊断报告"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"goals": "改", "version": 1}),
        ("POST", "/submit", {"version": 1}),
        ("POST", "/revise", {"version": 1, "reason": "补充条款"}),
        ("POST", "/sign", {}),
        ("POST", "/termination", {"reason": "不相干"}),
        ("POST", "/delivery", {"rating": 5}),
        ("GET", "/amendments", None),
        ("POST", "/amendments", {"changes": {"goals": "改"}, "reason": "调整"}),
        ("GET", "/consultations", None),
        (
            "POST",
            "/consultations",
            {"kind": "guidance", "held_on": TODAY.isoformat(), "participants": "张三"},
        ),
        ("GET", "/trainings", None),
        ("GET", "/outcomes", None),
        ("POST", "/outcomes", {"kind": "innovation", "title": "工艺改进"}),
    ],
)
async def test_a_stranger_learns_nothing_about_an_agreement(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, method: str, path: str, body: Any
) -> None:
    d = await deal(session, auth, admin)
    for stranger in (d.other_enterprise, d.other_expert):
        answer = await client.request(method, f"{d.url}{path}", json=body, headers=stranger)
        problem = assert_problem(answer, 404, "agreement_not_found")
        assert str(d.id) in problem["detail"]
    assert_problem(
        await client.request(method, f"{API}/agreements/2147483647{path}", json=body, headers=d.enterprise),
        404,
        "agreement_not_found",
    )
    assert (await row(session, d.id)).version == 1


async def test_a_missing_login_is_401(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin)
    assert_problem(await client.patch(d.url, json={"goals": "改", "version": 1}), 401, "unauthenticated")
    assert_problem(await client.get(f"{API}/agreements"), 401, "unauthenticated")


async def test_an_administrator_reads_but_cannot_act_for_a_party(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    draft = await deal(session, auth, admin)
    pending = await deal(session, auth, admin, AgreementStatus.PENDING_SIGNATURE)
    running = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    attempts = [
        ("PATCH", draft.url, {"goals": "管理员改", "version": 1}),
        ("POST", f"{draft.url}/submit", {"version": 1}),
        ("POST", f"{pending.url}/sign", {}),
        ("POST", f"{pending.url}/revise", {"version": 1, "reason": "补充条款"}),
        ("POST", f"{running.url}/amendments", {"changes": {"goals": "改"}, "reason": "调整"}),
        ("POST", f"{running.url}/delivery", {"rating": 5}),
        ("POST", f"{running.url}/consultations", {"kind": "guidance", "held_on": TODAY.isoformat(), "participants": "张三"}),
        ("POST", f"{running.url}/trainings", {"kind": "mentoring", "held_on": TODAY.isoformat(), "trainee_count": 3, "hours": 2}),
        ("POST", f"{running.url}/outcomes", {"kind": "innovation", "title": "工艺改进"}),
    ]  # fmt: skip
    for method, url, body in attempts:
        problem = assert_problem(
            await client.request(method, url, json=body, headers=draft.admin), 403, "agreement_party_required"
        )
        assert "协议双方" in problem["detail"]
    for d in (draft, pending, running):
        assert ok(await client.get(d.url, headers=d.admin))["id"] == d.id
    assert (await row(session, pending.id)).enterprise_signed_at is None
    assert (await row(session, draft.id)).goals != "管理员改"


@pytest.mark.parametrize("status", [*NOT_RUNNING[1:], AgreementStatus.IN_PROGRESS])
async def test_terms_change_only_in_a_draft(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus
) -> None:
    d = await deal(session, auth, admin, status)
    current = await version(session, d)
    answer = await client.patch(d.url, json={"goals": "改", "version": current}, headers=d.enterprise)
    problem = assert_problem(answer, 409, "agreement_transition_invalid")
    assert f"“{STATUS_LABELS[status]}”" in problem["detail"]
    assert (await row(session, d.id)).goals != "改"


async def test_a_stale_version_is_refused_for_every_versioned_step(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin)
    ok(await client.patch(d.url, json=complete_terms(version=1), headers=d.expert))
    for path, body in (("", {"goals": "旧页面", "version": 1}), ("/submit", {"version": 1})):
        answer = await client.request(
            "PATCH" if not path else "POST", f"{d.url}{path}", json=body, headers=d.enterprise
        )
        assert_problem(answer, 409, "agreement_version_conflict")
    pending = await deal(session, auth, admin, AgreementStatus.PENDING_SIGNATURE)
    assert_problem(
        await client.post(
            f"{pending.url}/revise", json={"version": 1, "reason": "补充条款"}, headers=pending.enterprise
        ),
        409,
        "agreement_version_conflict",
    )
    assert (await row(session, d.id)).status is AgreementStatus.DRAFT


async def test_end_before_start_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin)

    answer = await client.patch(
        d.url, json={"start_date": "2026-03-01", "end_date": "2026-02-28", "version": 1}, headers=d.enterprise
    )
    assert_problem(answer, 422, "agreement_dates_invalid", "end_date")
    await request_over(session)
    assert ((await row(session, d.id)).start_date, (await row(session, d.id)).end_date) == (None, None)

    # the check holds against the stored start date too
    ok(await client.patch(d.url, json={"start_date": "2026-03-01", "version": 1}, headers=d.enterprise))
    answer = await client.patch(d.url, json={"end_date": "2026-02-01", "version": 2}, headers=d.expert)
    assert_problem(answer, 422, "agreement_dates_invalid", "end_date")
    await request_over(session)
    assert (await row(session, d.id)).end_date is None
    # and against the stored end date when the start moves
    ok(await client.patch(d.url, json={"end_date": "2026-03-01", "version": 2}, headers=d.expert))
    answer = await client.patch(d.url, json={"start_date": "2026-03-02", "version": 3}, headers=d.expert)
    assert_problem(answer, 422, "agreement_dates_invalid", "end_date")
    await request_over(session)
    stored = await row(session, d.id)
    assert (stored.start_date, stored.end_date, stored.version) == (date(2026, 3, 1), date(2026, 3, 1), 3)


@pytest.mark.parametrize("months", [0, -1, 121, 1.5, "六个月", [6]])
async def test_duration_out_of_range_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, months: Any
) -> None:
    d = await deal(session, auth, admin)
    answer = await client.patch(d.url, json={"duration_months": months, "version": 1}, headers=d.enterprise)
    assert_problem(answer, 422, "request_invalid", "duration_months")
    assert (await row(session, d.id)).duration_months is None


@pytest.mark.parametrize("months", [1, 120])
async def test_duration_at_the_limits_is_accepted(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, months: int
) -> None:
    d = await deal(session, auth, admin)
    answer = await client.patch(d.url, json={"duration_months": months, "version": 1}, headers=d.enterprise)
    assert ok(answer)["duration_months"] == months


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "in_progress", "version": 1}, "status"),
        ({"content_hash": "0" * 64, "version": 1}, "content_hash"),
        ({"enterprise_rating": 5, "version": 1}, "enterprise_rating"),
        ({"goals": None, "version": 1}, "goals"),
        ({"consultation_cadence": "daily", "version": 1}, "consultation_cadence"),
        ({"funding_amount": -1, "version": 1}, "funding_amount"),
        ({"start_date": "2026-02-30", "version": 1}, "start_date"),
        ({"goals": "改"}, "version"),
        ({"goals": "改", "version": 0}, "version"),
        ({"goals": "长" * 5001, "version": 1}, "goals"),
    ],
)
async def test_bad_term_edits_are_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, body: dict[str, Any], field: str
) -> None:
    d = await deal(session, auth, admin)
    assert_problem(await client.patch(d.url, json=body, headers=d.enterprise), 422, "request_invalid", field)
    agreement = await row(session, d.id)
    assert (agreement.status, agreement.version, agreement.goals) == (
        AgreementStatus.DRAFT,
        1,
        "数控机床主轴振动诊断",
    )


# ---------------------------------------------------------------------------------------------- submit and revise


@pytest.mark.parametrize(
    ("terms", "missing"),
    [
        ({}, {"deliverables", "duration_months", "start_date"}),
        ({"goals": "   ", "deliverables": "报告", "duration_months": 3}, {"goals", "start_date"}),
        ({"deliverables": "报告", "start_date": "2026-01-01"}, {"duration_months"}),
    ],
)
async def test_an_incomplete_draft_cannot_be_submitted(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    terms: dict[str, Any],
    missing: set[str],
) -> None:
    d = await deal(session, auth, admin)
    current = ok(await client.patch(d.url, json={**terms, "version": 1}, headers=d.enterprise))["version"]

    answer = await client.post(f"{d.url}/submit", json={"version": current}, headers=d.expert)

    problem = assert_problem(answer, 422, "agreement_terms_incomplete")
    assert {e["field"] for e in problem["errors"]} == missing
    labels = {
        "goals": "合作目标",
        "deliverables": "交付成果",
        "duration_months": "合作期限（月）",
        "start_date": "开始日期",
    }
    for field in missing:
        assert labels[field] in problem["detail"]
    agreement = await row(session, d.id)
    assert (agreement.status, agreement.content_hash) == (AgreementStatus.DRAFT, None)
    assert await kinds(session, d.enterprise_user_id) == []


async def test_submitting_freezes_the_terms_and_asks_both_sides_to_sign(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin)
    body = await submitted(client, session, d)

    assert body["status"] == "pending_signature"
    agreement = await row(session, d.id)
    assert body["content_hash"] == terms_hash(agreement, terms_of(agreement))
    assert await kinds(session, d.enterprise_user_id) == [NotificationKind.SIGNATURE_REQUESTED]
    assert await kinds(session, d.expert_user_id) == [NotificationKind.SIGNATURE_REQUESTED]
    assert (await actions(session, "agreements", d.id))[-1] == "agreement.submitted"
    again = await client.post(f"{d.url}/submit", json={"version": body["version"]}, headers=d.enterprise)
    assert_problem(again, 409, "agreement_transition_invalid")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "version"),
        ({"version": "一"}, "version"),
        ({"version": 0}, "version"),
        ({"version": 1, "force": True}, "force"),
    ],
)
async def test_submit_needs_exactly_a_version(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, body: dict[str, Any], field: str
) -> None:
    d = await deal(session, auth, admin)
    ok(await client.patch(d.url, json=complete_terms(version=1), headers=d.enterprise))
    answer = await client.post(f"{d.url}/submit", json=body, headers=d.enterprise)
    assert_problem(answer, 422, "request_invalid", field)
    assert (await row(session, d.id)).status is AgreementStatus.DRAFT


async def test_revising_clears_the_signatures_and_the_hash(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin)
    first = await submitted(client, session, d)
    signed = ok(
        await client.post(f"{d.url}/sign", json={"content_hash": first["content_hash"]}, headers=d.enterprise)
    )
    assert signed["enterprise_signed_at"] is not None
    # a reason is required: the other party is told why its signature lapsed
    assert_problem(
        await client.post(f"{d.url}/revise", json={"version": signed["version"]}, headers=d.expert),
        422,
        "request_invalid",
        "reason",
    )

    revised = ok(
        await client.post(
            f"{d.url}/revise",
            json={"version": signed["version"], "reason": "交付成果需补充测试报告"},
            headers=d.expert,
        )
    )

    assert revised["status"] == "draft"
    assert revised["content_hash"] is None
    assert (revised["enterprise_signed_at"], revised["enterprise_signed_by_user_id"]) == (None, None)
    assert (revised["expert_signed_at"], revised["expert_signed_by_user_id"]) == (None, None)
    assert (revised["revision_reason"], revised["revised_by_side"]) == ("交付成果需补充测试报告", "expert")
    assert (await actions(session, "agreements", d.id))[-1] == "agreement.revised"
    told = (
        await session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.AGREEMENT_REVISED)
        )
    ).all()
    assert {n.user_id for n in told} == {d.enterprise_user_id}  # the other party, not the one revising
    assert told[0].body is not None and "交付成果需补充测试报告" in told[0].body
    assert_problem(
        await client.post(f"{d.url}/sign", json={}, headers=d.expert), 409, "agreement_transition_invalid"
    )
    assert_problem(
        await client.post(
            f"{d.url}/revise", json={"version": revised["version"], "reason": "再次退回"}, headers=d.expert
        ),
        409,
        "agreement_transition_invalid",
    )

    edited = ok(
        await client.patch(
            d.url, json={"funding_amount": 60_000, "version": revised["version"]}, headers=d.expert
        )
    )
    second = ok(await client.post(f"{d.url}/submit", json={"version": edited["version"]}, headers=d.expert))
    assert second["content_hash"] != first["content_hash"]
    stale = await client.post(f"{d.url}/sign", json={"content_hash": first["content_hash"]}, headers=d.expert)
    assert_problem(stale, 409, "agreement_terms_changed")
    # the enterprise's earlier signature lapsed: the expert's alone does not make it effective
    after_expert = ok(
        await client.post(f"{d.url}/sign", json={"content_hash": second["content_hash"]}, headers=d.expert)
    )
    assert after_expert["status"] == "pending_signature"
    effective = ok(await client.post(f"{d.url}/sign", json={}, headers=d.enterprise))
    assert effective["status"] == "in_progress"


# ---------------------------------------------------------------------------------------------- signing


async def test_signing_with_the_wrong_hash_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.PENDING_SIGNATURE)
    answer = await client.post(f"{d.url}/sign", json={"content_hash": "f" * 64}, headers=d.expert)
    assert_problem(answer, 409, "agreement_terms_changed")
    agreement = await row(session, d.id)
    assert (agreement.expert_signed_at, agreement.status) == (None, AgreementStatus.PENDING_SIGNATURE)
    assert await actions(session, "agreements", d.id) == []


@pytest.mark.parametrize("content_hash", ["abc", "F" * 64, "g" * 64, "0" * 65, 42])
async def test_a_malformed_hash_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, content_hash: Any
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.PENDING_SIGNATURE)
    answer = await client.post(f"{d.url}/sign", json={"content_hash": content_hash}, headers=d.expert)
    assert_problem(answer, 422, "request_invalid", "content_hash")
    assert (await row(session, d.id)).expert_signed_at is None


@pytest.mark.parametrize("status", [AgreementStatus.DRAFT, *NOT_RUNNING[2:], AgreementStatus.IN_PROGRESS])
async def test_only_an_agreement_waiting_for_signatures_is_signed(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus
) -> None:
    d = await deal(session, auth, admin, status)
    problem = assert_problem(
        await client.post(f"{d.url}/sign", json={}, headers=d.enterprise), 409, "agreement_transition_invalid"
    )
    assert f"“{STATUS_LABELS[status]}”" in problem["detail"]


async def test_both_signatures_make_it_effective_and_each_tells_the_other_side(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.PENDING_SIGNATURE, start_date=None)
    content_hash = (await row(session, d.id)).content_hash

    first = ok(await client.post(f"{d.url}/sign", json={"content_hash": content_hash}, headers=d.expert))
    assert (first["status"], first["expert_signed_by_user_id"]) == ("pending_signature", d.expert_user_id)
    assert await kinds(session, d.enterprise_user_id) == [NotificationKind.AGREEMENT_SIGNED]
    assert await kinds(session, d.expert_user_id) == []
    second = ok(await client.post(f"{d.url}/sign", json={"content_hash": content_hash}, headers=d.enterprise))

    assert second["status"] == "in_progress"
    assert second["start_date"] == TODAY.isoformat()  # no start date: it starts on the day it takes effect
    assert second["enterprise_signed_by_user_id"] == d.enterprise_user_id
    assert await kinds(session, d.expert_user_id) == [NotificationKind.AGREEMENT_SIGNED]
    assert await actions(session, "agreements", d.id) == ["agreement.signed", "agreement.signed"]


@pytest.mark.parametrize("key", ["", "has space", "x" * 101, "tab\tkey"])
async def test_a_malformed_idempotency_key_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, key: str
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.PENDING_SIGNATURE)
    answer = await client.post(f"{d.url}/sign", json={}, headers={**d.expert, "Idempotency-Key": key})
    assert_problem(answer, 400, "idempotency_key_invalid")
    assert (await row(session, d.id)).expert_signed_at is None
    assert await session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


async def test_a_retry_with_the_same_key_gets_the_first_answer(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.PENDING_SIGNATURE)
    key = {"Idempotency-Key": "3f1c7a52-2b1e-4d0c-9a55-0c9a4c1f1e01"}
    first = ok(await client.post(f"{d.url}/sign", json={}, headers={**d.enterprise, **key}))

    retry = await client.post(f"{d.url}/sign", json={}, headers={**d.enterprise, **key})

    assert ok(retry) == first  # not agreement_already_signed
    assert await actions(session, "agreements", d.id) == ["agreement.signed"]
    assert await kinds(session, d.expert_user_id) == [NotificationKind.AGREEMENT_SIGNED]
    # the key belongs to its user: the other party may send the same value for its own request
    other = ok(await client.post(f"{d.url}/sign", json={}, headers={**d.expert, **key}))
    assert other["status"] == "in_progress"
    assert await session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2


async def test_the_same_key_on_another_request_is_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.PENDING_SIGNATURE)
    key = {"Idempotency-Key": "sign-once"}
    ok(await client.post(f"{d.url}/sign", json={}, headers={**d.expert, **key}))

    # another agreement of the same expert, signed with the same key
    order = await make_order(session, status=OrderStatus.TAKEN)
    other = Agreement(
        order_id=order.id,
        expert_id=d.expert_id,
        studio_id=order.studio_id,
        enterprise_id=d.enterprise_id,
        status=AgreementStatus.PENDING_SIGNATURE,
        goals="另一个协议",
        deliverables="报告",
        duration_months=3,
        start_date=TODAY,
        content_hash="0" * 64,
    )
    session.add(other)
    await session.commit()
    reused = await client.post(f"{API}/agreements/{other.id}/sign", json={}, headers={**d.expert, **key})

    assert_problem(reused, 422, "idempotency_key_reused")
    assert (await row(session, other.id)).expert_signed_at is None
    assert_problem(
        await client.post(
            f"{API}/agreements/{other.id}/amendments/1/sign", json={}, headers={**d.expert, **key}
        ),
        422,
        "idempotency_key_reused",
    )


# ---------------------------------------------------------------------------------------------- amendments


AMEND = {
    "changes": {"duration_months": 9, "deliverables": "诊断报告；优化方案；培训一次"},
    "reason": "增加培训内容",
}


@pytest.mark.parametrize("status", NOT_RUNNING)
async def test_amendments_only_while_the_agreement_is_carried_out(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus
) -> None:
    d = await deal(session, auth, admin, status)
    problem = assert_problem(
        await client.post(f"{d.url}/amendments", json=AMEND, headers=d.enterprise),
        409,
        "agreement_transition_invalid",
    )
    assert f"“{STATUS_LABELS[status]}”" in problem["detail"]
    assert await session.scalar(select(func.count()).select_from(AgreementAmendment)) == 0


@pytest.mark.parametrize(
    "changes", [{}, {"duration_months": 6}, {"duration_months": 6, "consultation_cadence": "monthly"}]
)
async def test_an_amendment_must_change_something(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, changes: dict[str, Any]
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    answer = await client.post(
        f"{d.url}/amendments", json={"changes": changes, "reason": "调整"}, headers=d.expert
    )
    assert_problem(answer, 422, "amendment_empty", "changes")
    assert await session.scalar(select(func.count()).select_from(AgreementAmendment)) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"changes": {"goals": "改"}}, "reason"),
        ({"changes": {"goals": "改"}, "reason": "  "}, "reason"),
        ({"reason": "调整"}, "changes"),
        ({"changes": {"status": "delivered"}, "reason": "调整"}, "changes.status"),
        ({"changes": {"goals": None}, "reason": "调整"}, "changes.goals"),
        ({"changes": {"duration_months": 200}, "reason": "调整"}, "changes.duration_months"),
        ({"changes": {"goals": "改"}, "reason": "调整", "version": 1}, "version"),
    ],
)
async def test_bad_amendments_are_refused(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, body: dict[str, Any], field: str
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    assert_problem(
        await client.post(f"{d.url}/amendments", json=body, headers=d.expert), 422, "request_invalid", field
    )


async def test_an_amendment_cannot_end_before_the_start(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    start = (await row(session, d.id)).start_date
    assert start is not None
    body = {"changes": {"end_date": (start - timedelta(days=1)).isoformat()}, "reason": "提前结束"}
    assert_problem(
        await client.post(f"{d.url}/amendments", json=body, headers=d.expert),
        422,
        "agreement_dates_invalid",
        "end_date",
    )
    assert await session.scalar(select(func.count()).select_from(AgreementAmendment)) == 0


async def test_an_amendment_applies_only_once_both_sides_have_signed(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    old_hash = (await row(session, d.id)).content_hash

    proposed = ok(await client.post(f"{d.url}/amendments", json=AMEND, headers=d.enterprise), 201)

    assert (proposed["number"], proposed["status"], proposed["reason"]) == (
        1,
        "pending_signature",
        "增加培训内容",
    )
    assert proposed["changes"] == AMEND["changes"]
    assert proposed["content_hash"] != old_hash
    for user_id in (d.enterprise_user_id, d.expert_user_id):
        assert await kinds(session, user_id) == [NotificationKind.AMENDMENT_PROPOSED]
    agreement = await row(session, d.id)
    assert (agreement.duration_months, agreement.content_hash) == (6, old_hash)

    by_enterprise = ok(await client.post(f"{d.url}/amendments/1/sign", headers=d.enterprise))
    assert (
        by_enterprise["status"] == "pending_signature" and by_enterprise["enterprise_signed_at"] is not None
    )
    assert (await row(session, d.id)).duration_months == 6
    assert_problem(
        await client.post(f"{d.url}/amendments/1/sign", headers=d.enterprise), 409, "agreement_already_signed"
    )

    by_expert = ok(await client.post(f"{d.url}/amendments/1/sign", headers=d.expert))

    assert by_expert["status"] == "signed" and by_expert["applied_at"] is not None
    agreement = await row(session, d.id)
    assert (agreement.duration_months, agreement.deliverables) == (9, "诊断报告；优化方案；培训一次")
    assert agreement.content_hash == proposed["content_hash"] == terms_hash(agreement, terms_of(agreement))
    assert agreement.status is AgreementStatus.IN_PROGRESS
    assert await actions(session, "agreement_amendments", proposed["id"]) == [
        "amendment.proposed", "amendment.signed", "amendment.signed",
    ]  # fmt: skip
    assert (await actions(session, "agreements", d.id))[-1] == "agreement.amended"
    listed = ok(await client.get(f"{d.url}/amendments", headers=d.admin))
    assert [(a["number"], a["status"]) for a in listed] == [(1, "signed")]
    assert_problem(
        await client.post(f"{d.url}/amendments/1/sign", headers=d.expert), 409, "agreement_transition_invalid"
    )
    assert_problem(
        await client.post(f"{d.url}/amendments/1/withdraw", headers=d.expert),
        409,
        "agreement_transition_invalid",
    )


async def test_an_amendment_changing_dates_and_cadence_applies_them(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    end = TODAY + timedelta(days=200)
    body = {"changes": {"end_date": end.isoformat(), "consultation_cadence": "weekly"}, "reason": "加密会商"}
    ok(await client.post(f"{d.url}/amendments", json=body, headers=d.expert), 201)
    ok(await client.post(f"{d.url}/amendments/1/sign", headers=d.expert))
    applied = ok(await client.post(f"{d.url}/amendments/1/sign", headers=d.enterprise))
    assert applied["status"] == "signed"
    agreement = await row(session, d.id)
    assert (agreement.end_date, agreement.consultation_cadence) == (end, ConsultationCadence.WEEKLY)
    assert agreement.content_hash == terms_hash(agreement, terms_of(agreement))


async def test_one_amendment_at_a_time_and_withdrawing_frees_the_way(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    ok(await client.post(f"{d.url}/amendments", json=AMEND, headers=d.enterprise), 201)
    ok(await client.post(f"{d.url}/amendments/1/sign", headers=d.enterprise))

    second = await client.post(
        f"{d.url}/amendments", json={"changes": {"goals": "另一个变更"}, "reason": "另议"}, headers=d.expert
    )
    problem = assert_problem(second, 409, "amendment_pending")
    assert "第 1 号" in problem["detail"]

    withdrawn = ok(await client.post(f"{d.url}/amendments/1/withdraw", headers=d.expert))
    assert withdrawn["status"] == "withdrawn"
    assert (await row(session, d.id)).duration_months == 6
    assert_problem(
        await client.post(f"{d.url}/amendments/1/sign", headers=d.expert), 409, "agreement_transition_invalid"
    )
    assert_problem(
        await client.post(f"{d.url}/amendments/1/withdraw", headers=d.enterprise),
        409,
        "agreement_transition_invalid",
    )
    assert_problem(
        await client.post(f"{d.url}/amendments/7/sign", headers=d.expert), 404, "amendment_not_found"
    )
    assert_problem(
        await client.post(f"{d.url}/amendments/7/withdraw", headers=d.expert), 404, "amendment_not_found"
    )

    again = ok(await client.post(f"{d.url}/amendments", json=AMEND, headers=d.expert), 201)
    assert again["number"] == 2
    assert (await actions(session, "agreement_amendments", withdrawn["id"]))[-1] == "amendment.withdrawn"


async def test_amendments_are_for_the_parties(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    ok(await client.post(f"{d.url}/amendments", json=AMEND, headers=d.enterprise), 201)
    for path in ("/amendments/1/sign", "/amendments/1/withdraw"):
        assert_problem(await client.post(f"{d.url}{path}", headers=d.admin), 403, "agreement_party_required")
        assert_problem(
            await client.post(f"{d.url}{path}", headers=d.other_expert), 404, "agreement_not_found"
        )
    amendment = await session.scalar(
        select(AgreementAmendment).where(AgreementAmendment.agreement_id == d.id)
    )
    assert amendment is not None and amendment.status is AmendmentStatus.PENDING_SIGNATURE


@pytest.mark.parametrize("ending", ["termination", "delivery"])
async def test_a_pending_amendment_cannot_be_signed_once_the_agreement_has_ended(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, ending: str
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    ok(await client.post(f"{d.url}/amendments", json=AMEND, headers=d.enterprise), 201)
    ok(await client.post(f"{d.url}/amendments/1/sign", headers=d.enterprise))
    if ending == "termination":
        ok(await client.post(f"{d.url}/termination", json={"reason": "企业转产"}, headers=d.enterprise))
    else:
        ok(await client.post(f"{d.url}/delivery", json={"rating": 5}, headers=d.enterprise))
        assert (
            ok(await client.post(f"{d.url}/delivery", json={"rating": 5}, headers=d.expert))["status"]
            == "delivered"
        )
    frozen = (await row(session, d.id)).content_hash

    late = await client.post(f"{d.url}/amendments/1/sign", headers=d.expert)

    assert late.status_code == 409, late.text
    agreement = await row(session, d.id)
    assert (agreement.duration_months, agreement.content_hash) == (6, frozen)


# ---------------------------------------------------------------------------------------------- delivery


@pytest.mark.parametrize("rating", [0, 6, -1, 3.5, "五", None])
async def test_ratings_are_1_to_5(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, rating: Any
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    answer = await client.post(f"{d.url}/delivery", json={"rating": rating}, headers=d.enterprise)
    assert_problem(answer, 422, "request_invalid", "rating")
    assert_problem(
        await client.post(f"{d.url}/delivery", json={}, headers=d.enterprise),
        422,
        "request_invalid",
        "rating",
    )
    assert (await row(session, d.id)).enterprise_delivery_confirmed_at is None


async def test_delivery_needs_both_sides_once_each(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)

    first = ok(
        await client.post(f"{d.url}/delivery", json={"rating": 1, "comment": "进度偏慢"}, headers=d.expert)
    )
    assert (first["status"], first["delivered_at"]) == ("in_progress", None)
    assert (first["expert_rating"], first["expert_comment"], first["enterprise_rating"]) == (
        1,
        "进度偏慢",
        None,
    )
    assert await kinds(session, d.enterprise_user_id) == [NotificationKind.DELIVERY_CONFIRMED]
    assert await kinds(session, d.expert_user_id) == []
    twice = await client.post(f"{d.url}/delivery", json={"rating": 5}, headers=d.expert)
    assert_problem(twice, 409, "delivery_already_confirmed")
    assert (await row(session, d.id)).expert_rating == 1

    second = ok(await client.post(f"{d.url}/delivery", json={"rating": 5}, headers=d.enterprise))

    assert second["status"] == "delivered" and second["delivered_at"] is not None
    assert (second["enterprise_rating"], second["expert_rating"]) == (5, 1)
    assert await kinds(session, d.expert_user_id) == [NotificationKind.DELIVERY_CONFIRMED]
    assert await actions(session, "agreements", d.id) == ["agreement.delivery_confirmed"] * 2
    assert_problem(
        await client.post(f"{d.url}/delivery", json={"rating": 5}, headers=d.enterprise),
        409,
        "agreement_transition_invalid",
    )


@pytest.mark.parametrize("status", NOT_RUNNING)
async def test_delivery_only_while_carried_out(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus
) -> None:
    d = await deal(session, auth, admin, status)
    answer = await client.post(f"{d.url}/delivery", json={"rating": 4}, headers=d.expert)
    assert_problem(answer, 409, "agreement_transition_invalid")


# ---------------------------------------------------------------------------------------------- termination


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "  \n "}, {"reason": None}, {"reason": "长" * 1001}]
)
async def test_termination_needs_a_reason(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, body: dict[str, Any]
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    assert_problem(
        await client.post(f"{d.url}/termination", json=body, headers=d.enterprise),
        422,
        "request_invalid",
        "reason",
    )
    assert (await row(session, d.id)).status is AgreementStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "status", [AgreementStatus.DRAFT, AgreementStatus.PENDING_SIGNATURE, AgreementStatus.IN_PROGRESS]
)
async def test_a_party_terminates_and_the_other_side_is_told(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus
) -> None:
    d = await deal(session, auth, admin, status)
    ended = ok(await client.post(f"{d.url}/termination", json={"reason": "  企业转产  "}, headers=d.expert))
    assert (ended["status"], ended["termination_reason"]) == ("terminated", "企业转产")
    assert ended["terminated_at"] is not None
    assert await kinds(session, d.enterprise_user_id) == [NotificationKind.AGREEMENT_TERMINATED]
    assert await kinds(session, d.expert_user_id) == []
    assert await actions(session, "agreements", d.id) == ["agreement.terminated"]


async def test_an_administrator_may_terminate_and_both_sides_are_told(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    assert (
        ok(await client.post(f"{d.url}/termination", json={"reason": "长期未开展会商"}, headers=d.admin))[
            "status"
        ]
        == "terminated"
    )
    for user_id in (d.enterprise_user_id, d.expert_user_id):
        assert await kinds(session, user_id) == [NotificationKind.AGREEMENT_TERMINATED]
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "agreement.terminated"))
    assert event is not None and event.actor_user_id == admin.id


@pytest.mark.parametrize("status", [AgreementStatus.DELIVERED, AgreementStatus.TERMINATED])
async def test_a_finished_agreement_is_not_terminated(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus
) -> None:
    d = await deal(session, auth, admin, status)
    answer = await client.post(f"{d.url}/termination", json={"reason": "补录"}, headers=d.enterprise)
    problem = assert_problem(answer, 409, "agreement_transition_invalid")
    assert f"“{STATUS_LABELS[status]}”" in problem["detail"]
    assert (await row(session, d.id)).status is status


# ---------------------------------------------------------------------------------------------- work logs


def consultation(held_on: date | str = TODAY, **overrides: Any) -> dict[str, Any]:
    day = held_on.isoformat() if isinstance(held_on, date) else held_on
    body = {"kind": "diagnosis", "held_on": day, "participants": "李明；车间主任", "minutes": "现场测振"}
    body.update(overrides)
    return body


def training(held_on: date | str = TODAY, **overrides: Any) -> dict[str, Any]:
    day = held_on.isoformat() if isinstance(held_on, date) else held_on
    body = {"kind": "apprenticeship", "held_on": day, "trainee_count": 12, "hours": 4.5}
    body.update(overrides)
    return body


def outcome(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "invention_patent",
        "title": "一种主轴动平衡装置",
        "patent_number": "ZL202610000001.X",
    }
    body.update(overrides)
    return body


async def test_work_is_logged_while_carried_out_and_listed_latest_first(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    older = ok(
        await client.post(
            f"{d.url}/consultations", json=consultation(TODAY - timedelta(days=5)), headers=d.expert
        ),
        201,
    )
    newer = ok(
        await client.post(f"{d.url}/consultations", json=consultation(kind="exchange"), headers=d.enterprise),
        201,
    )
    trained = ok(await client.post(f"{d.url}/trainings", json=training(), headers=d.enterprise), 201)
    made = ok(
        await client.post(f"{d.url}/outcomes", json=outcome(achieved_on=TODAY.isoformat()), headers=d.expert),
        201,
    )

    assert (trained["trainee_count"], trained["hours"]) == (12, 4.5)
    assert made["patent_number"] == "ZL202610000001.X"
    for headers in (d.enterprise, d.expert, d.admin):
        listed = ok(await client.get(f"{d.url}/consultations", headers=headers))
        assert [c["id"] for c in listed] == [newer["id"], older["id"]]
        assert [t["id"] for t in ok(await client.get(f"{d.url}/trainings", headers=headers))] == [
            trained["id"]
        ]
        assert [o["id"] for o in ok(await client.get(f"{d.url}/outcomes", headers=headers))] == [made["id"]]
    logged = await session.get(Consultation, older["id"])
    assert logged is not None and logged.created_by_user_id == d.expert_user_id
    assert await actions(session, "consultations", older["id"]) == ["consultation.logged"]
    assert await actions(session, "trainings", trained["id"]) == ["training.logged"]
    assert await actions(session, "outcomes", made["id"]) == ["outcome.logged"]


@pytest.mark.parametrize("status", NOT_RUNNING)
@pytest.mark.parametrize("what", ["consultations", "trainings"])
async def test_consultations_and_trainings_only_while_carried_out(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus, what: str
) -> None:
    d = await deal(session, auth, admin, status)
    body = consultation() if what == "consultations" else training()
    problem = assert_problem(
        await client.post(f"{d.url}/{what}", json=body, headers=d.expert), 409, "agreement_transition_invalid"
    )
    assert f"“{STATUS_LABELS[status]}”" in problem["detail"]
    assert ok(await client.get(f"{d.url}/{what}", headers=d.expert)) == []


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (AgreementStatus.IN_PROGRESS, True),
        (AgreementStatus.DELIVERED, True),
        (AgreementStatus.DRAFT, False),
        (AgreementStatus.PENDING_SIGNATURE, False),
        (AgreementStatus.TERMINATED, False),
    ],
)
async def test_outcomes_also_after_delivery(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    status: AgreementStatus,
    allowed: bool,
) -> None:
    d = await deal(session, auth, admin, status)
    answer = await client.post(
        f"{d.url}/outcomes",
        json=outcome(kind="conversion", converted=True, value_yuan=300_000),
        headers=d.enterprise,
    )
    if allowed:
        assert ok(answer, 201)["converted"] is True
    else:
        assert_problem(answer, 409, "agreement_transition_invalid")


@pytest.mark.parametrize(
    ("what", "body", "field"),
    [
        ("consultations", consultation(TODAY + timedelta(days=1)), "held_on"),
        ("trainings", training(TODAY + timedelta(days=1)), "held_on"),
        ("outcomes", outcome(achieved_on=(TODAY + timedelta(days=1)).isoformat()), "achieved_on"),
    ],
)
async def test_work_cannot_be_dated_in_the_future(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    what: str,
    body: dict[str, Any],
    field: str,
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    assert_problem(
        await client.post(f"{d.url}/{what}", json=body, headers=d.expert), 422, "work_date_in_future", field
    )
    assert ok(await client.get(f"{d.url}/{what}", headers=d.expert)) == []


@pytest.mark.parametrize(
    ("what", "body", "field"),
    [
        ("trainings", training(trainee_count=0), "trainee_count"),
        ("trainings", training(trainee_count=-3), "trainee_count"),
        ("trainings", training(trainee_count=100_001), "trainee_count"),
        ("trainings", training(hours=0), "hours"),
        ("trainings", training(kind="lecture"), "kind"),
        ("trainings", training(held_on="昨天"), "held_on"),
        ("consultations", consultation(participants="   "), "participants"),
        ("consultations", consultation(kind="meeting"), "kind"),
        ("consultations", {"kind": "guidance", "participants": "张三"}, "held_on"),
        ("outcomes", outcome(title=""), "title"),
        ("outcomes", outcome(value_yuan=-1), "value_yuan"),
        ("outcomes", outcome(converted="也许"), "converted"),
        ("outcomes", outcome(extra="x"), "extra"),
    ],
)
async def test_bad_work_logs_are_refused(
    client: AsyncClient,
    session: AsyncSession,
    auth: Auth,
    admin: User,
    what: str,
    body: dict[str, Any],
    field: str,
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    assert_problem(
        await client.post(f"{d.url}/{what}", json=body, headers=d.enterprise), 422, "request_invalid", field
    )
    assert ok(await client.get(f"{d.url}/{what}", headers=d.enterprise)) == []


# ---------------------------------------------------------------------------------------------- consultation schedule


@pytest.mark.parametrize(
    ("cadence", "days"),
    [("weekly", 7), ("biweekly", 14), ("monthly", 31), ("quarterly", 92)],
)
async def test_the_next_consultation_is_due_one_cadence_after_the_start(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, cadence: str, days: int
) -> None:
    start = TODAY - timedelta(days=3)
    d = await deal(
        session,
        auth,
        admin,
        AgreementStatus.IN_PROGRESS,
        start_date=start,
        consultation_cadence=ConsultationCadence(cadence),
    )
    body = ok(await client.get(d.url, headers=d.enterprise))
    assert (body["next_consultation_due"], body["consultation_overdue"]) == (
        (start + timedelta(days=days)).isoformat(),
        False,
    )


async def test_the_next_consultation_is_due_one_cadence_after_the_last_one(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS, start_date=TODAY - timedelta(days=60))
    before = ok(await client.get(d.url, headers=d.expert))
    assert before["next_consultation_due"] == (TODAY - timedelta(days=29)).isoformat()
    assert before["consultation_overdue"] is True

    for held in (
        TODAY - timedelta(days=20),
        TODAY - timedelta(days=40),
    ):  # the latest counts, not the last logged
        ok(await client.post(f"{d.url}/consultations", json=consultation(held), headers=d.expert), 201)

    after = ok(await client.get(d.url, headers=d.expert))
    assert (after["next_consultation_due"], after["consultation_overdue"]) == (
        (TODAY + timedelta(days=11)).isoformat(),
        False,
    )
    listed = ok(await client.get(f"{API}/agreements", params={"order_id": d.order_id}, headers=d.expert))[
        "items"
    ]
    assert [(a["next_consultation_due"], a["consultation_overdue"]) for a in listed] == [
        ((TODAY + timedelta(days=11)).isoformat(), False)
    ]


async def test_due_today_is_not_yet_overdue(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(
        session,
        auth,
        admin,
        AgreementStatus.IN_PROGRESS,
        start_date=TODAY - timedelta(days=7),
        consultation_cadence=ConsultationCadence.WEEKLY,
    )
    body = ok(await client.get(d.url, headers=d.expert))
    assert (body["next_consultation_due"], body["consultation_overdue"]) == (TODAY.isoformat(), False)
    d2 = await deal(
        session,
        auth,
        admin,
        AgreementStatus.IN_PROGRESS,
        start_date=TODAY - timedelta(days=8),
        consultation_cadence=ConsultationCadence.WEEKLY,
    )
    assert ok(await client.get(d2.url, headers=d2.expert))["consultation_overdue"] is True


@pytest.mark.parametrize("status", NOT_RUNNING)
async def test_only_a_running_agreement_has_a_schedule(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, status: AgreementStatus
) -> None:
    d = await deal(session, auth, admin, status, start_date=TODAY - timedelta(days=400))
    body = ok(await client.get(d.url, headers=d.enterprise))
    assert (body["next_consultation_due"], body["consultation_overdue"]) == (None, False)


async def test_overdue_consultations_are_reminded_once_per_due_date(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    late = await deal(
        session, auth, admin, AgreementStatus.IN_PROGRESS, start_date=TODAY - timedelta(days=40)
    )
    colleague = await make_user(session, UserRole.ENTERPRISE, enterprise_id=late.enterprise_id)
    on_time = await deal(
        session, auth, admin, AgreementStatus.IN_PROGRESS, start_date=TODAY - timedelta(days=5)
    )
    ended = await deal(
        session, auth, admin, AgreementStatus.DELIVERED, start_date=TODAY - timedelta(days=400)
    )
    await session.commit()

    assert await remind_overdue_consultations(session) == 1

    reminded = [late.enterprise_user_id, colleague.id, late.expert_user_id]
    for user_id in reminded:
        assert await kinds(session, user_id) == [NotificationKind.CONSULTATION_OVERDUE]
    note = await session.scalar(select(Notification).where(Notification.user_id == late.expert_user_id))
    assert note is not None
    assert (TODAY - timedelta(days=9)).isoformat() in note.body and note.link == f"/agreements/{late.id}"
    for d in (on_time, ended):
        assert (
            await kinds(session, d.enterprise_user_id) == [] and await kinds(session, d.expert_user_id) == []
        )
    assert await kinds(session, admin.id) == []

    # a second run the same day sends nothing new
    assert await remind_overdue_consultations(session) == 1
    for user_id in reminded:
        assert len(await kinds(session, user_id)) == 1

    # a consultation moves the due date; still late, so a new reminder for the new date
    ok(
        await client.post(
            f"{late.url}/consultations", json=consultation(TODAY - timedelta(days=35)), headers=late.expert
        ),
        201,
    )
    assert await remind_overdue_consultations(session) == 1
    for user_id in reminded:
        assert len(await kinds(session, user_id)) == 2
    # a consultation today ends the reminders
    ok(await client.post(f"{late.url}/consultations", json=consultation(), headers=late.expert), 201)
    assert await remind_overdue_consultations(session) == 0
    for user_id in reminded:
        assert len(await kinds(session, user_id)) == 2


# ---------------------------------------------------------------------------------------------- who sees which agreement


async def test_the_list_shows_the_parties_their_own_and_administrators_all(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    first = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS)
    second = await deal(session, auth, admin)
    # a second agreement of the first enterprise, with another expert
    expert = await make_expert(session)
    enterprise = await session.get(Enterprise, first.enterprise_id)
    order = await make_order(session, await make_studio(session, enterprise), status=OrderStatus.TAKEN)
    third = Agreement(
        order_id=order.id, expert_id=expert.id, studio_id=order.studio_id, enterprise_id=first.enterprise_id,
        status=AgreementStatus.DRAFT, goals="第三个协议",
    )  # fmt: skip
    session.add(third)
    await session.commit()

    def listed(response: Response) -> list[int]:
        return [a["id"] for a in ok(response)["items"]]

    assert listed(await client.get(f"{API}/agreements", params={"sort": "id"}, headers=first.enterprise)) == [
        first.id,
        third.id,
    ]
    assert listed(await client.get(f"{API}/agreements", headers=first.expert)) == [first.id]
    assert listed(await client.get(f"{API}/agreements", headers=second.enterprise)) == [second.id]
    assert listed(await client.get(f"{API}/agreements", headers=first.other_expert)) == []
    assert listed(await client.get(f"{API}/agreements", headers=first.other_enterprise)) == []
    everything = await client.get(
        f"{API}/agreements", params={"sort": "id", "page_size": 100}, headers=first.admin
    )
    assert listed(everything) == [first.id, second.id, third.id]
    assert ok(everything)["total"] == 3
    assert listed(
        await client.get(f"{API}/agreements", params={"status": "draft", "sort": "id"}, headers=first.admin)
    ) == [second.id, third.id]
    assert listed(
        await client.get(f"{API}/agreements", params={"status": "draft"}, headers=first.enterprise)
    ) == [third.id]
    assert (
        listed(
            await client.get(
                f"{API}/agreements", params={"order_id": second.order_id}, headers=first.enterprise
            )
        )
        == []
    )
    assert listed(
        await client.get(
            f"{API}/agreements", params={"catalogued": "false", "sort": "-id"}, headers=first.admin
        )
    ) == [third.id, second.id, first.id]
    for params in ({"status": "signed"}, {"sort": "goals"}, {"page_size": 101}, {"order_id": 0}):
        assert_problem(
            await client.get(f"{API}/agreements", params=params, headers=first.admin), 422, "request_invalid"
        )
