"""The draft agreement's page (issue 12, bug 1): one terms form whose 提交签署 carries what was typed,
nothing typed lost when the form comes back with errors, and no "已保存" for terms still incomplete."""

from __future__ import annotations

import html
from datetime import date

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.agreements.models import Agreement, AgreementStatus
from app.enterprises.models import Enterprise
from app.experts.models import Expert
from app.orders.models import Order
from tests.factories import make_agreement, make_user
from tests.web.test_pages import logged_in, token_of


async def _draft_and_its_enterprise_user(session: AsyncSession) -> tuple[Agreement, User]:
    """A draft with only its goal written, and a user of its enterprise."""
    agreement = await make_agreement(
        session, status=AgreementStatus.DRAFT, deliverables="", duration_months=None, start_date=None
    )
    enterprise = await session.get(Enterprise, agreement.enterprise_id)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)
    return agreement, user


async def test_submitting_carries_the_terms_typed_in_the_same_form(
    client: AsyncClient, session: AsyncSession
) -> None:
    agreement, user = await _draft_and_its_enterprise_user(session)
    await logged_in(client, user)
    page = await client.get(f"/agreements/{agreement.id}")
    # one form holds the terms and both buttons
    form = page.text.split(f'action="/agreements/{agreement.id}/terms"')[1].split("</form>")[0]
    assert "保存条款" in form and f'formaction="/agreements/{agreement.id}/submit"' in form

    typed = {
        "csrf_token": token_of(page),
        "version": str(agreement.version),
        "goals": "消除焊接变形",
        "deliverables": "工艺方案与验证报告",
        "duration_months": "6",
        "consultation_cadence": "biweekly",
        "start_date": "2027-01-04",
        "end_date": "",
        "funding_amount": "",
        "funding_source": "",
    }
    done = await client.post(f"/agreements/{agreement.id}/submit", data=typed)

    assert done.status_code == 303, done.text
    assert "flash=submitted" in done.headers["location"]
    await session.refresh(agreement)
    assert agreement.status is AgreementStatus.PENDING_SIGNATURE
    assert (agreement.goals, agreement.deliverables, agreement.duration_months) == (
        "消除焊接变形",
        "工艺方案与验证报告",
        6,
    )
    assert agreement.start_date == date(2027, 1, 4)
    assert agreement.consultation_cadence.value == "biweekly"


async def test_a_refused_submission_shows_every_typed_value_again(
    client: AsyncClient, session: AsyncSession
) -> None:
    agreement, user = await _draft_and_its_enterprise_user(session)
    await logged_in(client, user)
    page = await client.get(f"/agreements/{agreement.id}")
    typed = {
        "csrf_token": token_of(page),
        "version": str(agreement.version),
        "goals": "消除焊接变形<b>",
        "deliverables": "工艺方案与验证报告",
        "duration_months": "",
        "consultation_cadence": "quarterly",
        "start_date": "",
        "end_date": "",
        "funding_amount": "",
        "funding_source": "市总工会专项",
    }
    refused = await client.post(f"/agreements/{agreement.id}/submit", data=typed)

    assert refused.status_code == 422, refused.text
    text = refused.text
    assert html.escape("消除焊接变形<b>", quote=False) in text
    assert "工艺方案与验证报告" in text and 'value="市总工会专项"' in text
    assert '<option value="quarterly" selected' in text
    # the missing terms are named next to their fields
    assert 'id="duration_months-error"' in text and 'id="start_date-error"' in text
    await session.refresh(agreement)
    assert agreement.status is AgreementStatus.DRAFT and agreement.deliverables == ""  # nothing half-written


async def test_saving_incomplete_terms_does_not_say_saved(client: AsyncClient, session: AsyncSession) -> None:
    agreement, user = await _draft_and_its_enterprise_user(session)
    await logged_in(client, user)
    page = await client.get(f"/agreements/{agreement.id}")
    data = {"csrf_token": token_of(page), "version": str(agreement.version), "goals": "", "deliverables": ""}

    saved = await client.post(f"/agreements/{agreement.id}/terms", data=data)

    assert saved.status_code == 303, saved.text
    shown = await client.get(saved.headers["location"])
    assert "已保存。" not in shown.text
    assert "条款已保存，但还不完整" in shown.text
    assert "提交签署前还须填写：合作目标、交付成果、合作期限（月）、开始日期" in shown.text


async def test_revising_asks_why_and_the_draft_page_shows_it(
    client: AsyncClient, session: AsyncSession
) -> None:
    agreement = await make_agreement(session, status=AgreementStatus.PENDING_SIGNATURE)
    enterprise = await session.get(Enterprise, agreement.enterprise_id)
    user = await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise)
    await logged_in(client, user)
    page = await client.get(f"/agreements/{agreement.id}")
    form = {"csrf_token": token_of(page), "version": str(agreement.version)}

    blank = await client.post(f"/agreements/{agreement.id}/revise", data=form | {"reason": ""})
    assert blank.status_code == 422 and 'id="revise-reason-error"' in blank.text
    done = await client.post(
        f"/agreements/{agreement.id}/revise", data=form | {"reason": "期限需改为 8 个月"}
    )
    assert done.status_code == 303, done.text

    shown = await client.get(f"/agreements/{agreement.id}")
    assert "企业于" in shown.text and "退回修改，原因：" in shown.text and "期限需改为 8 个月" in shown.text


async def test_agreements_are_shown_by_the_names_of_who_and_what(
    client: AsyncClient, session: AsyncSession
) -> None:
    # issue 12: "专家 #8 · 企业 #1" and "协议 #5" told people nothing
    agreement, user = await _draft_and_its_enterprise_user(session)
    expert = await session.get(Expert, agreement.expert_id)
    enterprise = await session.get(Enterprise, agreement.enterprise_id)
    order = await session.get(Order, agreement.order_id)
    assert expert and enterprise and order
    await logged_in(client, user)

    page = await client.get(f"/agreements/{agreement.id}")
    listed = await client.get("/my/agreements")

    for shown in (page.text, listed.text):
        assert order.title in shown and expert.name in shown and enterprise.name in shown
        assert "专家 #" not in shown and "企业 #" not in shown and f"协议 #{agreement.id}" not in shown
