"""Pages of the marketplace: an order's page (proposals with reasons, takers, invitations) and its actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from app.accounts.security import Actor
from app.db import SessionDep
from app.errors import DomainError
from app.marketplace import service as marketplace_service
from app.marketplace.schemas import DeclineInvitation, InviteExpert, ReleaseTaking, TakeOrder
from app.problems import known_problems
from app.proposals import service as proposal_service
from app.proposals.index import MatcherIndex
from app.proposals.reasons import FACTOR_LABELS
from app.proposals.router import IndexDep
from app.routing import IdForm, IdPath
from app.web.deps import CsrfChecked, PageActor
from app.web.forms import form_values, parse_form
from app.web.templating import render

router = APIRouter(include_in_schema=False)

M = TypeVar("M", bound=BaseModel)


async def _order_page(
    request: Request,
    session: SessionDep,
    actor: Actor,
    order_id: int,
    *,
    error: str | None = None,
    status: int = 200,
    index: MatcherIndex | None = None,
) -> Response:
    view = await marketplace_service.order_view(session, actor, order_id, index)
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
async def order_page(
    request: Request, order_id: IdPath, session: SessionDep, actor: PageActor, index: IndexDep
) -> Response:
    """An order: its enterprise sees proposals with reasons and factors (computed on the first view
    of a published order that has none), takers and agreements; an expert sees the take button or
    their invitation."""
    return await _order_page(request, session, actor, order_id, index=index)


@router.post("/orders/{order_id}/proposals", dependencies=[CsrfChecked])
async def refresh_proposals(
    order_id: IdPath, request: Request, session: SessionDep, actor: PageActor, index: IndexDep
) -> Response:
    """生成 / 刷新匹配建议: rank the experts again with everything the index holds now."""
    return await _act(
        request, session, actor, order_id,
        lambda: proposal_service.propose_experts(session, index, actor, order_id), "proposals_refreshed",
    )  # fmt: skip


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


async def _form(request: Request, model: type[M], *, blank: str = "") -> tuple[M | None, str]:
    """The submitted form validated with the API's model (only its fields: the page's forms also carry
    the CSRF token and the order to come back to); on failure, one Chinese line naming the fields, or
    ``blank`` when the reason was left empty (the common mistake, said in plain words)."""
    values = form_values(await request.form())
    data, errors = parse_form(model, {k: v for k, v in values.items() if k in model.model_fields})
    if data is None and blank and not values.get("reason"):
        return None, blank
    return data, errors.get("__all__", "")


@router.post("/orders/{order_id}/take", dependencies=[CsrfChecked])
async def take(order_id: IdPath, request: Request, session: SessionDep, actor: PageActor) -> Response:
    """接单."""
    data, error = await _form(request, TakeOrder)
    if data is None:
        return await _order_page(request, session, actor, order_id, error=error, status=422)
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.take_order(session, actor, order_id, data.note), "taken",
    )  # fmt: skip


@router.post("/orders/{order_id}/invite", dependencies=[CsrfChecked])
async def invite(order_id: IdPath, request: Request, session: SessionDep, actor: PageActor) -> Response:
    """邀请专家."""
    data, error = await _form(request, InviteExpert)
    if data is None:
        return await _order_page(request, session, actor, order_id, error=error, status=422)
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.invite_expert(session, actor, order_id, data.expert_id), "invited",
    )  # fmt: skip


@router.post("/orders/{order_id}/accept", dependencies=[CsrfChecked])
async def accept(order_id: IdPath, request: Request, session: SessionDep, actor: PageActor) -> Response:
    """接受邀请."""
    data, error = await _form(request, TakeOrder)
    if data is None:
        return await _order_page(request, session, actor, order_id, error=error, status=422)
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.accept_invitation(session, actor, order_id, data.note), "taken",
    )  # fmt: skip


@router.post("/orders/{order_id}/decline", dependencies=[CsrfChecked])
async def decline(order_id: IdPath, request: Request, session: SessionDep, actor: PageActor) -> Response:
    """谢绝邀请（须说明原因）."""
    data, error = await _form(request, DeclineInvitation, blank="请填写谢绝原因。")
    if data is None:
        return await _order_page(request, session, actor, order_id, error=error, status=422)
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.decline_invitation(session, actor, order_id, data.reason), "declined",
    )  # fmt: skip


@router.post("/takings/{taking_id}/confirm", dependencies=[CsrfChecked])
async def confirm(
    taking_id: IdPath, request: Request, session: SessionDep, actor: PageActor, order_id: IdForm
) -> Response:
    """确认接单专家 → the new agreement's page."""
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.confirm_taking(session, actor, taking_id), "confirmed", "/agreements/{id}",
    )  # fmt: skip


@router.post("/takings/{taking_id}/release", dependencies=[CsrfChecked])
async def release(
    taking_id: IdPath, request: Request, session: SessionDep, actor: PageActor, order_id: IdForm
) -> Response:
    """释放接单名额（须说明原因）."""
    data, error = await _form(request, ReleaseTaking, blank="请填写释放原因。")
    if data is None:
        return await _order_page(request, session, actor, order_id, error=error, status=422)
    return await _act(
        request, session, actor, order_id,
        lambda: marketplace_service.release_taking(session, actor, taking_id, data.reason), "released",
    )  # fmt: skip
