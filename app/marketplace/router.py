"""JSON API of the marketplace: publish, withdraw and close orders; take, invite, confirm, release."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.accounts.deps import ActorDep
from app.agreements.schemas import AgreementRead
from app.db import SessionDep
from app.marketplace import service as marketplace_service
from app.marketplace.schemas import (
    DeclineInvitation,
    InvitationRead,
    InviteExpert,
    ReleaseTaking,
    TakeOrder,
    TakingRead,
)
from app.orders.schemas import OrderRead
from app.proposals.router import IndexDep
from app.routing import IdPath

router = APIRouter(tags=["发单与接单"])


@router.post("/orders/{order_id}/publish", response_model=OrderRead, summary="发布需求并生成匹配建议")
async def publish_order(order_id: IdPath, session: SessionDep, actor: ActorDep, index: IndexDep) -> OrderRead:
    """Publish a draft; proposals are computed in the same transaction."""
    return OrderRead.model_validate(await marketplace_service.publish_order(session, index, actor, order_id))


@router.post("/orders/{order_id}/withdraw", response_model=OrderRead, summary="撤回需求")
async def withdraw_order(order_id: IdPath, session: SessionDep, actor: ActorDep) -> OrderRead:
    """Withdraw an order nobody has been confirmed on."""
    return OrderRead.model_validate(await marketplace_service.withdraw_order(session, actor, order_id))


@router.post("/orders/{order_id}/close", response_model=OrderRead, summary="关闭需求")
async def close_order(order_id: IdPath, session: SessionDep, actor: ActorDep) -> OrderRead:
    """Close a published or taken order."""
    return OrderRead.model_validate(await marketplace_service.close_order(session, actor, order_id))


@router.post(
    "/orders/{order_id}/takings",
    status_code=status.HTTP_201_CREATED,
    response_model=TakingRead,
    summary="接单（专家）",
)
async def take_order(order_id: IdPath, body: TakeOrder, session: SessionDep, actor: ActorDep) -> TakingRead:
    """Take a published order; 409 when it is full, withdrawn or closed."""
    return TakingRead.model_validate(
        await marketplace_service.take_order(session, actor, order_id, body.note)
    )


@router.get("/orders/{order_id}/takings", response_model=list[TakingRead], summary="需求的接单记录")
async def list_takings(order_id: IdPath, session: SessionDep, actor: ActorDep) -> list[TakingRead]:
    """All takings for the order's enterprise and administrators; an expert sees their own."""
    return [
        TakingRead.model_validate(t)
        for t in await marketplace_service.takings_of_order(session, actor, order_id)
    ]


@router.post(
    "/orders/{order_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationRead,
    summary="邀请匹配建议中的专家",
)
async def invite_expert(
    order_id: IdPath, body: InviteExpert, session: SessionDep, actor: ActorDep
) -> InvitationRead:
    """Invite a proposed expert to take the order."""
    proposal = await marketplace_service.invite_expert(session, actor, order_id, body.expert_id)
    return InvitationRead.model_validate(proposal)


@router.post(
    "/orders/{order_id}/invitations/accept",
    status_code=status.HTTP_201_CREATED,
    response_model=TakingRead,
    summary="接受邀请（专家）",
)
async def accept_invitation(
    order_id: IdPath, body: TakeOrder, session: SessionDep, actor: ActorDep
) -> TakingRead:
    """Accept an invitation: the expert takes the order."""
    return TakingRead.model_validate(
        await marketplace_service.accept_invitation(session, actor, order_id, body.note)
    )


@router.post(
    "/orders/{order_id}/invitations/decline",
    response_model=InvitationRead,
    summary="谢绝邀请（专家，须说明原因）",
)
async def decline_invitation(
    order_id: IdPath, body: DeclineInvitation, session: SessionDep, actor: ActorDep
) -> InvitationRead:
    """Decline an invitation with a reason."""
    proposal = await marketplace_service.decline_invitation(session, actor, order_id, body.reason)
    return InvitationRead.model_validate(proposal)


@router.get("/me/invitations", response_model=list[InvitationRead], summary="我收到的邀请（专家）")
async def my_invitations(session: SessionDep, actor: ActorDep) -> list[InvitationRead]:
    """The calling expert's open invitations."""
    return [
        InvitationRead.model_validate(p) for p in await marketplace_service.my_invitations(session, actor)
    ]


@router.get("/me/takings", response_model=list[TakingRead], summary="我的接单（专家）")
async def my_takings(session: SessionDep, actor: ActorDep) -> list[TakingRead]:
    """The calling expert's takings."""
    return [TakingRead.model_validate(t) for t in await marketplace_service.my_takings(session, actor)]


@router.post(
    "/takings/{taking_id}/confirm",
    status_code=status.HTTP_201_CREATED,
    response_model=AgreementRead,
    summary="确认接单专家，生成协议草稿（企业）",
)
async def confirm_taking(taking_id: IdPath, session: SessionDep, actor: ActorDep) -> AgreementRead:
    """Confirm a taker; the answer is the new agreement draft."""
    return await marketplace_service.confirm_taking(session, actor, taking_id)


@router.post("/takings/{taking_id}/release", response_model=TakingRead, summary="释放接单名额（须说明原因）")
async def release_taking(
    taking_id: IdPath, body: ReleaseTaking, session: SessionDep, actor: ActorDep
) -> TakingRead:
    """Free a waiting taker's slot: the enterprise declines the taker, or the expert steps back."""
    return TakingRead.model_validate(
        await marketplace_service.release_taking(session, actor, taking_id, body.reason)
    )
