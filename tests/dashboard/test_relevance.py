"""``PUT /api/v1/proposals/{id}/relevance``: administrators judge proposals; the dashboard's nDCG@10 follows."""

from __future__ import annotations

import math

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.audit.models import AuditEvent
from app.proposals.models import Proposal, ProposalStatus
from tests.factories import make_expert, make_order, make_user
from tests.problems import Auth, assert_problem

from .scenario import utc


def url(proposal_id: int) -> str:
    return f"/api/v1/proposals/{proposal_id}/relevance"


async def ranked_proposals(session: AsyncSession, count: int) -> list[Proposal]:
    """An order published in 2025 with ``count`` proposals, ranked 1.."""
    order = await make_order(session, published_at=utc(2025, 5, 1, 2))
    proposals = []
    for rank in range(1, count + 1):
        expert = await make_expert(session)
        proposal = Proposal(
            order_id=order.id,
            expert_id=expert.id,
            rank=rank,
            score=1 - rank / 20,
            matcher_version="tfidf-ranker-1:cccccccccc",
            status=ProposalStatus.PROPOSED,
        )
        session.add(proposal)
        proposals.append(proposal)
    await session.flush()
    return proposals


async def relevance(client: AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    response = await client.get("/api/v1/dashboard", params={"year": 2025}, headers=headers)
    assert response.status_code == 200, response.text
    summary: dict[str, object] = response.json()["relevance"]
    return summary


async def test_an_administrator_marks_a_proposal_relevant_with_an_audit_event(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    (proposal,) = await ranked_proposals(session, 1)

    response = await client.put(url(proposal.id), json={"relevant": True}, headers=auth(admin))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": proposal.id,
        "order_id": proposal.order_id,
        "expert_id": proposal.expert_id,
        "rank": 1,
        "matcher_version": "tfidf-ranker-1:cccccccccc",
        "relevant": True,
    }
    stored = await session.scalar(select(Proposal.relevance).where(Proposal.id == proposal.id))
    assert stored == 1
    event = (
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "proposals", AuditEvent.entity_id == proposal.id
            )
        )
    ).one()
    assert event.action == "proposal.relevance_judged"
    assert event.actor_user_id == admin.id
    assert (event.before, event.after) == ({"relevance": None}, {"relevance": 1})


async def test_judgements_can_be_changed_and_withdrawn(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    (proposal,) = await ranked_proposals(session, 1)
    headers = auth(admin)

    assert (await client.put(url(proposal.id), json={"relevant": False}, headers=headers)).json()[
        "relevant"
    ] is False
    assert await session.scalar(select(Proposal.relevance).where(Proposal.id == proposal.id)) == 0
    assert (await client.put(url(proposal.id), json={"relevant": None}, headers=headers)).json()[
        "relevant"
    ] is None
    assert await session.scalar(select(Proposal.relevance).where(Proposal.id == proposal.id)) is None
    # the same judgement again changes nothing and writes no event
    await client.put(url(proposal.id), json={"relevant": None}, headers=headers)
    actions = (
        await session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "proposals", AuditEvent.entity_id == proposal.id)
            .order_by(AuditEvent.id)
        )
    ).all()
    assert actions == ["proposal.relevance_judged", "proposal.relevance_judged"]


async def test_the_ndcg_follows_the_judgements_made_through_the_api(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    proposals = await ranked_proposals(session, 12)
    headers = auth(admin)
    assert (await relevance(client, headers))["ndcg_at_10"] is None

    # relevant at ranks 2 and 5, and at rank 11 (outside the top 10, but in the ideal ranking);
    # not relevant at rank 1
    for index, judgement in ((1, True), (4, True), (10, True), (0, False)):
        response = await client.put(url(proposals[index].id), json={"relevant": judgement}, headers=headers)
        assert response.status_code == 200, response.text

    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    summary = await relevance(client, headers)
    assert summary["ndcg_at_10"] == round(dcg / ideal, 4) == 0.4776
    assert (summary["judged_orders"], summary["judged_proposals"]) == (1, 4)
    assert (summary["relevant"], summary["not_relevant"]) == (3, 1)


@pytest.mark.parametrize("role", [UserRole.ENTERPRISE, UserRole.EXPERT])
async def test_only_administrators_judge(
    client: AsyncClient, session: AsyncSession, auth: Auth, role: UserRole
) -> None:
    (proposal,) = await ranked_proposals(session, 1)
    user = await make_user(session, role)

    response = await client.put(url(proposal.id), json={"relevant": True}, headers=auth(user))

    assert_problem(response, 403, "forbidden")
    assert await session.scalar(select(Proposal.relevance).where(Proposal.id == proposal.id)) is None


async def test_an_unknown_proposal_is_a_404(client: AsyncClient, auth: Auth, admin: User) -> None:
    response = await client.put(url(2_000_000_000), json={"relevant": True}, headers=auth(admin))

    body = assert_problem(response, 404, "proposal_not_found")
    assert "2000000000" in body["detail"]


@pytest.mark.parametrize("body", [{}, {"relevant": "maybe"}, {"relevant": True, "score": 1}, [True]])
async def test_a_malformed_judgement_is_a_422(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User, body: object
) -> None:
    (proposal,) = await ranked_proposals(session, 1)

    response = await client.put(url(proposal.id), json=body, headers=auth(admin))

    assert_problem(response, 422, "request_invalid")
