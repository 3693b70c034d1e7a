"""Pages of the marketplace: an order's page (proposals with reasons, takers, invitations) and its actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts.security import Actor
from app.db import SessionDep
from app.errors import DomainError
from app.marketplace import service as marketplace_service
from app.problems import known_problems
from app.proposals.reasons import FACTOR_LABELS
from app.proposals.router import IndexDep
from app.routing import IdPath
from app.web.deps import CsrfChecked, PageActor
from app.web.templating import render

router = APIRouter(include_in_schema=False)

Reason = Annotated[str, Form(max_length=500)]


async def _order_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    order_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    view = await marketplace_service.order_view(session, actor, order_id)
    problem = known_problems().get(request.query_params.get("problem", ""))
    context: dict[str, Any] = {
        "view": view,
        "order": view.order,
        "factor_labels": FACTOR_LABELS,
        "error": error or (problem.title if problem else None),
    }
    return render(request, "orders/detail.html", context, status_code=status)


async def _act(
    request: Request,
    session: SessionDep,
    actor: Actor,
    order_id: int,
    action: Callable[[], Awaitable[object]],
    done: str,
    target: str | None = None,
) -> Response:
    """Run one use case; on success go back (or to ``target``) with a status line, else show why."""
    try:
        result = await action()
    except DomainError as problem:
        await session.rollback()
        return await _order_page(
            request, session, actor, order_id, error=problem.detail, status=problem.status
        )
    location = (target or "/orders/{order_id}").format(order_id=order_id, id=getattr(result, "id", ""))
    return RedirectResponse(f"{location}?flash={done}", status_code=303)


@router.get("/orders/{order_id}")
async def order_page(request: Request, order_id: IdPath, session: SessionDep, actor: PageActor) -> Response:
    """An order: its enterprise sees proposals with reasons and factors, takers and agreements;
    an expert sees the take button or their invitation."""
    return await _order_page(request, session, actor, order_id)


@router.post("/orders/{order_id}/publish", dependencies=[CsrfChecked])
async def publish(
    order_id: IdPath, request: Request, session: SessionDep, actor: PageActor, index: IndexDep
) -> Response:
    """发布需求."""
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.publish_order(session, index, actor, order_id), "published",
    )  # fmt: skip


@router.post("/orders/{order_id}/withdraw", dependencies=[CsrfChecked])
async def withdraw(order_id: IdPath, request: Request, session: SessionDep, actor: PageActor) -> Response:
    """撤回需求."""
    return await _act(
        request,
        session,
        actor,
        order_id,
        lambda: marketplace_service.withdraw_order(session, actor, order_id),
        "withdrawn",
    )


@router.post("/orders/{order_id}/close", dependencies=[CsrfChecked])
async def close(order_id: IdPath, request: Request, session: SessionDep, actor: PageActor) -> Response:
    """关闭需求."""
    return await _act(
        request,
        session,
        actor,
        order_id,
        lambda: marketplace_service.close_order(session, actor, order_id),
        "closed",
    )


@router.post("/orders/{order_id}/take", dependencies=[CsrfChecked])
async def take(
    order_id: IdPath, request: Request, session: SessionDep, actor: PageActor, note: Reason = ""
) -> Response:
    """接单."""
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.take_order(session, actor, order_id, note.strip()), "taken",
    )  # fmt: skip


@router.post("/orders/{order_id}/invite", dependencies=[CsrfChecked])
async def invite(
    order_id: IdPath,
    request: Request,
    session: SessionDep,
    actor: PageActor,
    expert_id: Annotated[int, Form(ge=1)],
) -> Response:
    """邀请专家."""
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.invite_expert(session, actor, order_id, expert_id), "invited",
    )  # fmt: skip


@router.post("/orders/{order_id}/accept", dependencies=[CsrfChecked])
async def accept(
    order_id: IdPath, request: Request, session: SessionDep, actor: PageActor, note: Reason = ""
) -> Response:
    """接受邀请."""
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.accept_invitation(session, actor, order_id, note.strip()), "taken",
    )  # fmt: skip


@router.post("/orders/{order_id}/decline", dependencies=[CsrfChecked])
async def decline(
    order_id: IdPath, request: Request, session: SessionDep, actor: PageActor, reason: Reason = ""
) -> Response:
    """谢绝邀请（须说明原因）."""
    if not reason.strip():
        return await _order_page(request, session, actor, order_id, error="请填写谢绝原因。", status=422)
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.decline_invitation(session, actor, order_id, reason.strip()), "declined",
    )  # fmt: skip


@router.post("/takings/{taking_id}/confirm", dependencies=[CsrfChecked])
async def confirm(
    taking_id: IdPath,
    request: Request,
    session: SessionDep,
    actor: PageActor,
    order_id: Annotated[int, Form(ge=1)],
) -> Response:
    """确认接单专家 → the new agreement's page."""
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.confirm_taking(session, actor, taking_id), "confirmed", "/agreements/{id}",
    )  # fmt: skip


@router.post("/takings/{taking_id}/release", dependencies=[CsrfChecked])
async def release(
    taking_id: IdPath,
    request: Request,
    session: SessionDep,
    actor: PageActor,
    order_id: Annotated[int, Form(ge=1)],
    reason: Reason = "",
) -> Response:
    """释放接单名额（须说明原因）."""
    if not reason.strip():
        return await _order_page(request, session, actor, order_id, error="请填写释放原因。", status=422)
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.release_taking(session, actor, taking_id, reason.strip()), "released",
    )  # fmt: skip
