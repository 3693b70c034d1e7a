"""The audit trail: services write it in the same transaction, and the database refuses to rewrite it."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.audit.models import AuditEvent
from app.audit.service import record_event
from app.experts import service as expert_service
from app.experts.schemas import ExpertUpdate
from tests.factories import make_expert, make_user


async def test_an_update_records_who_changed_what(session: AsyncSession) -> None:
    expert = await make_expert(session, capacity=3)
    user = await make_user(session, UserRole.EXPERT, expert=expert)
    await expert_service.update_expert_profile(session, Actor.of(user), expert.id, ExpertUpdate(capacity=5))

    event = (await session.scalars(select(AuditEvent).where(AuditEvent.entity_id == expert.id))).one()
    assert event.action == "expert.updated"
    assert event.entity_type == "experts"
    assert event.actor_user_id == user.id
    assert event.before is not None and event.before["capacity"] == 3
    assert event.after is not None and event.after["capacity"] == 5
    assert "name" not in event.after  # only what changed


@pytest.mark.parametrize("statement", ["update", "delete"])
async def test_the_database_refuses_to_rewrite_the_trail(session: AsyncSession, statement: str) -> None:
    await record_event(
        session, actor=None, action="test.event", entity_type="experts", entity_id=1, details={}
    )
    sql = (
        update(AuditEvent).values(action="tampered")
        if statement == "update"
        else delete(AuditEvent).where(AuditEvent.action == "test.event")
    )
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(sql)
