"""Enterprise A's records in every state the rules need, five logins, and an app whose every request
runs in a savepoint that is rolled back after it (used by the authorisation matrix and schemathesis).

The records are built once per module inside one transaction; since no request keeps its writes, no
request sees another's, and the order of the requests never matters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.accounts.models import User, UserRole
from app.agreements.models import Agreement, AgreementAmendment, AgreementStatus
from app.agreements.service import terms_hash, terms_of
from app.clock import local_today, utcnow
from app.config import Settings
from app.db import get_session
from app.main import create_app
from app.notifications.models import Notification, NotificationKind
from app.orders.models import OrderStatus, OrderTaking, TakingSource, TakingStatus
from app.projects.models import ProjectReview, ProjectReviewStatus, ReviewRound, ReviewRoundStatus
from app.proposals.index import MatcherIndex, borrowed
from app.proposals.models import Proposal, ProposalStatus
from tests.authz_rules import ADMIN, EMPTY_YEAR, ENT_A, ENT_B, EXPERT_X, EXPERT_Y, OPEN_YEAR, World
from tests.factories import (
    PASSWORD,
    make_achievement,
    make_enterprise,
    make_expert,
    make_order,
    make_studio,
    make_user,
)

REASONS = {"sentence": "研究方向与需求相符", "factors": {}, "contributions": {}, "shared_terms": ["数控"],
           "matched_keywords": [], "matched_fields": []}  # fmt: skip


@dataclass
class RolledBackApp:
    """The app, its client, the module's connection, the records and each actor's login token."""

    app: FastAPI
    client: AsyncClient
    connection: AsyncConnection
    world: World
    tokens: dict[str, str]  # actor → the token login answered (bearer for the API, cookie for pages)
    current: list[AsyncSession]

    async def request(self, method: str, url: str, **kwargs: Any) -> Response:
        """Send one request inside a savepoint that is rolled back afterwards."""
        savepoint = await self.connection.begin_nested()
        try:
            async with AsyncSession(
                bind=self.connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            ) as session:
                self.current[:] = [session]
                # a fresh index per request: one built on a rolled-back write must not rank later ones
                self.app.state.matcher_index = MatcherIndex(borrowed(session), concurrent=False)
                self.client.cookies.clear()
                return await self.client.request(method, url, **kwargs)
        finally:
            await savepoint.rollback()


async def build_world(session: AsyncSession) -> tuple[World, dict[str, User]]:
    """Enterprise A's records in every state the rules need, and the five users."""
    enterprise_a, enterprise_b = await make_enterprise(session), await make_enterprise(session)
    studio_a = await make_studio(session, enterprise_a)
    await make_studio(session, enterprise_b)
    expert_x = await make_expert(session, name="许专家")
    expert_y = await make_expert(session, name="杨专家")
    expert_z = await make_expert(session, name="赵专家")
    users = {
        ENT_A: await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise_a),
        ENT_B: await make_user(session, UserRole.ENTERPRISE, enterprise=enterprise_b),
        EXPERT_X: await make_user(session, UserRole.EXPERT, expert=expert_x),
        EXPERT_Y: await make_user(session, UserRole.EXPERT, expert=expert_y),
        ADMIN: await make_user(session, UserRole.ADMIN),
    }
    achievement_x = await make_achievement(session, expert_x)
    order_draft = await make_order(session, studio_a, status=OrderStatus.DRAFT)
    order_published = await make_order(session, studio_a, slots=2, published_at=utcnow())
    order_withdrawn = await make_order(session, studio_a, status=OrderStatus.WITHDRAWN)
    order_with_taking = await make_order(session, studio_a, slots=2, published_at=utcnow())
    invitation = Proposal(order_id=order_published.id, expert_id=expert_x.id, rank=1, score=0.9, reasons=REASONS,
                          matcher_version="matrix", status=ProposalStatus.INVITED)  # fmt: skip
    proposal_z = Proposal(order_id=order_published.id, expert_id=expert_z.id, rank=2, score=0.8, reasons=REASONS,
                          matcher_version="matrix", status=ProposalStatus.PROPOSED)  # fmt: skip
    taking_x = OrderTaking(order_id=order_with_taking.id, expert_id=expert_x.id, source=TakingSource.TAKEN,
                           status=TakingStatus.PENDING, taken_by_user_id=users[EXPERT_X].id)  # fmt: skip
    notification = Notification(
        user_id=users[ENT_A].id, kind=NotificationKind.ORDER_TAKEN, title="许专家 承接了需求"
    )
    session.add_all([invitation, proposal_z, taking_x, notification])

    async def agreement(status: AgreementStatus, **values: Any) -> Agreement:
        order = await make_order(session, studio_a, status=OrderStatus.TAKEN)
        terms: dict[str, Any] = {"goals": "消除主轴振纹", "deliverables": "诊断报告一份", "duration_months": 6,
                                 "start_date": local_today() - timedelta(days=30), "funding_amount": 100_000}  # fmt: skip
        if status is not AgreementStatus.DRAFT and status is not AgreementStatus.PENDING_SIGNATURE:
            # signed on the start day: work can be logged on the days since
            signed = utcnow() - timedelta(days=30)
            terms |= {"enterprise_signed_by_user_id": users[ENT_A].id, "enterprise_signed_at": signed,
                      "expert_signed_by_user_id": users[EXPERT_X].id, "expert_signed_at": signed}  # fmt: skip
        row = Agreement(order_id=order.id, expert_id=expert_x.id, studio_id=studio_a.id,
                        enterprise_id=enterprise_a.id, status=status, **(terms | values))  # fmt: skip
        session.add(row)
        await session.flush()
        if status is not AgreementStatus.DRAFT:
            row.content_hash = terms_hash(row, terms_of(row))
            await session.flush()
        return row

    agreement_draft = await agreement(AgreementStatus.DRAFT)
    agreement_pending = await agreement(AgreementStatus.PENDING_SIGNATURE)
    agreement_active = await agreement(AgreementStatus.IN_PROGRESS, catalogued_at=utcnow())
    agreement_amending = await agreement(AgreementStatus.IN_PROGRESS)
    session.add(AgreementAmendment(agreement_id=agreement_amending.id, number=1, changes={"duration_months": 9},
                                   reason="延长合作期限", content_hash="0" * 64,
                                   proposed_by_user_id=users[ENT_A].id))  # fmt: skip
    session.add_all(
        [ReviewRound(year=year, status=ReviewRoundStatus.OPEN) for year in (OPEN_YEAR, EMPTY_YEAR)]
    )
    review_y = ProjectReview(agreement_id=agreement_active.id, round_year=OPEN_YEAR, reviewer_expert_id=expert_y.id,
                             status=ProjectReviewStatus.SUBMITTED, progress_score=80, technical_score=85,
                             difficulty_score=70, benefit_score=90, submitted_at=utcnow())  # fmt: skip
    session.add(review_y)
    await session.flush()
    world = World(
        enterprise_a=enterprise_a.id, enterprise_b=enterprise_b.id, studio_a=studio_a.id,
        expert_x=expert_x.id, expert_y=expert_y.id, expert_z=expert_z.id, achievement_x=achievement_x.id,
        order_draft=order_draft.id, order_published=order_published.id, order_withdrawn=order_withdrawn.id,
        order_with_taking=order_with_taking.id, taking_x=taking_x.id, proposal_z=proposal_z.id,
        notification_a=notification.id, agreement_draft=agreement_draft.id,
        agreement_pending=agreement_pending.id, agreement_active=agreement_active.id,
        agreement_amending=agreement_amending.id, review_y=review_y.id,
        username_a=users[ENT_A].username, password_a=PASSWORD, user_a=users[ENT_A].id,
    )  # fmt: skip
    return world, users


@asynccontextmanager
async def rolled_back_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[RolledBackApp]:
    """The records, built in a transaction rolled back at the end, the logins, and the app."""
    app = create_app(settings)
    current: list[AsyncSession] = []

    async def request_session() -> AsyncIterator[AsyncSession]:
        yield current[0]

    app.dependency_overrides[get_session] = request_session
    async with engine.connect() as connection:
        outer = await connection.begin()
        async with AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        ) as session:
            world, users = await build_world(session)
            await session.commit()
            current[:] = [session]
            app.state.matcher_index = MatcherIndex(borrowed(session), concurrent=False)
            async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client:
                # log in as a client would (kept in the module's transaction, not rolled back per request)
                tokens: dict[str, str] = {}
                for actor, user in users.items():
                    answer = await client.post(
                        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
                    )
                    assert answer.status_code == 200, answer.text
                    tokens[actor] = answer.json()["access_token"]
                yield RolledBackApp(app, client, connection, world, tokens, current)
        await outer.rollback()
