"""Dates that cannot be (issue 12, bug 12): work dated before the agreement took effect, delivery before
the agreed start, an amount on a project that is not funded."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.agreements.models import AgreementStatus
from app.clock import utcnow
from app.projects.schemas import FundingItem
from tests.agreements.test_workflow import TODAY, consultation, deal, ok, training
from tests.problems import Auth, assert_problem


async def test_work_cannot_be_dated_before_the_agreement_took_effect(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    signed = utcnow() - timedelta(days=5)
    d = await deal(
        session,
        auth,
        admin,
        AgreementStatus.IN_PROGRESS,
        enterprise_signed_at=signed,
        expert_signed_at=signed,
    )
    before = TODAY - timedelta(days=6)

    for what, body in (("consultations", consultation(before)), ("trainings", training(before))):
        problem = assert_problem(
            await client.post(f"{d.url}/{what}", json=body, headers=d.expert),
            422,
            "work_date_before_effect",
            "held_on",
        )
        assert (TODAY - timedelta(days=5)).isoformat() in problem["detail"]
    # the day it took effect is fine
    ok(
        await client.post(
            f"{d.url}/consultations", json=consultation(TODAY - timedelta(days=5)), headers=d.expert
        ),
        201,
    )


async def test_delivery_cannot_be_confirmed_before_the_start_date(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    d = await deal(session, auth, admin, AgreementStatus.IN_PROGRESS, start_date=TODAY + timedelta(days=7))

    answer = await client.post(f"{d.url}/delivery", json={"rating": 5}, headers=d.expert)

    problem = assert_problem(answer, 409, "delivery_before_start")
    assert (TODAY + timedelta(days=7)).isoformat() in problem["detail"]


def test_a_project_not_funded_has_no_amount() -> None:
    refused = FundingItem.model_validate
    try:
        refused({"agreement_id": 1, "decision": "not_funded", "amount": 50_000})
    except ValueError as invalid:
        assert "不予资助的项目不能填写资助金额" in str(invalid)
    else:
        raise AssertionError("an amount on a project not funded was accepted")
    assert (
        FundingItem.model_validate({"agreement_id": 1, "decision": "not_funded", "amount": 0}).amount is None
    )
    assert (
        FundingItem.model_validate({"agreement_id": 1, "decision": "funded", "amount": 50_000}).amount
        == 50_000
    )
