"""JSON API for proposals (匹配建议) and recommended orders (适合我的需求)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from app.accounts.deps import ActorDep
from app.db import SessionDep
from app.experts.models import Expert
from app.orders.schemas import OrderRead
from app.proposals import service as proposal_service
from app.proposals.index import MatcherIndex
from app.proposals.models import Proposal
from app.proposals.schemas import ProposalRead, ReasonsRead, RecommendedOrderRead
from app.routing import IdPath

router = APIRouter(tags=["匹配建议"])

TopK = Annotated[int, Query(ge=1, le=50, description="返回条数，1–50")]


async def get_matcher_index(request: Request) -> MatcherIndex:
    """The process's matcher index."""
    index: MatcherIndex = request.app.state.matcher_index
    return index


IndexDep = Annotated[MatcherIndex, Depends(get_matcher_index)]


def _read(proposal: Proposal, expert: Expert) -> ProposalRead:
    return ProposalRead(
        id=proposal.id,
        order_id=proposal.order_id,
        expert_id=expert.id,
        expert_name=expert.name,
        expert_title=expert.title,
        expert_university=expert.university,
        rank=proposal.rank,
        score=proposal.score,
        status=proposal.status,
        matcher_version=proposal.matcher_version,
        index_state=proposal.index_state,
        reasons=ReasonsRead.model_validate(proposal.reasons),
        created_at=proposal.created_at,
    )


@router.post(
    "/orders/{order_id}/proposals",
    status_code=status.HTTP_201_CREATED,
    response_model=list[ProposalRead],
    summary="生成并保存匹配建议（本企业用户或管理员）",
)
async def propose_experts(
    order_id: IdPath, session: SessionDep, actor: ActorDep, index: IndexDep, k: TopK = 10
) -> list[ProposalRead]:
    """Rank the experts for an order and store the top ``k`` with their reasons and the matcher version."""
    rows = await proposal_service.propose_experts(session, index, actor, order_id, k)
    return [_read(p, e) for p, e in rows]


@router.get(
    "/orders/{order_id}/proposals",
    response_model=list[ProposalRead],
    summary="查看匹配建议（本企业用户或管理员）",
)
async def list_proposals(order_id: IdPath, session: SessionDep, actor: ActorDep) -> list[ProposalRead]:
    """The order's stored proposals, best first."""
    return [_read(p, e) for p, e in await proposal_service.list_proposals(session, actor, order_id)]


@router.get(
    "/experts/{expert_id}/recommended-orders",
    response_model=list[RecommendedOrderRead],
    summary="适合我的需求（专家本人或管理员）",
)
async def recommended_orders(
    expert_id: IdPath, session: SessionDep, actor: ActorDep, index: IndexDep, k: TopK = 10
) -> list[RecommendedOrderRead]:
    """Published orders ranked for the expert, with reasons."""
    recommendations = await proposal_service.recommend_orders(session, index, actor, expert_id, k)
    return [
        RecommendedOrderRead(
            order=OrderRead.model_validate(r.order),
            score=round(r.candidate.score, 6),
            reasons=ReasonsRead.model_validate(proposal_service.reasons_payload(r.candidate, r.sentence)),
            matcher_version=r.matcher_version,
        )
        for r in recommendations
    ]
