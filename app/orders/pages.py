"""Pages for orders: post an order (with live proposals as the engineer types), my orders, the order hall."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.errors import DomainError, database_fault
from app.marketplace import service as marketplace_service
from app.orders import service as order_service
from app.orders.models import NeedKind, Order, OrderStatus
from app.orders.repository import OrderFilters
from app.orders.schemas import OrderCreate, OrderRead, OrderUpdate
from app.pagination import PageParams
from app.proposals import service as proposal_service
from app.proposals.reasons import FACTOR_LABELS
from app.proposals.router import IndexDep
from app.routing import BlankIsNone, IdPath, PageTermQuery, PageTextQuery
from app.studios import service as studio_service
from app.studios.repository import StudioFilters
from app.web.deps import CsrfChecked, EnterprisePage, PageActor
from app.web.forms import domain_errors, form_values, parse_form
from app.web.templating import render
from matching import OrderText

router = APIRouter(include_in_schema=False)

OPTIONAL_ORDER_FIELDS = ("budget_min", "budget_max", "deadline", "slots")


async def _studios(session: SessionDep, actor: EnterprisePage) -> list[object]:
    filters = StudioFilters(enterprise_id=actor.enterprise_id if not actor.is_admin else None)
    studios, _ = await studio_service.list_studios(
        session, filters, PageParams(page=1, page_size=100), "name"
    )
    return list(studios)


@router.get("/orders/new")
async def new_order(request: Request, session: SessionDep, actor: EnterprisePage) -> Response:
    """The form to post an order, with the experts the matcher would propose shown as one types."""
    context = {
        "studios": await _studios(session, actor),
        "values": {},
        "errors": {},
        "need_kinds": list(NeedKind),
    }
    return render(request, "orders/new.html", context)


@router.post("/orders/new", dependencies=[CsrfChecked])
async def post_order(
    request: Request, session: SessionDep, actor: EnterprisePage, index: IndexDep
) -> Response:
    """Save the order as a draft (and publish it at once when asked)."""
    form = await request.form()
    values = form_values(form, lists=("fields",), optional=OPTIONAL_ORDER_FIELDS)
    publish = values.pop("action", "") == "publish"
    data, errors = parse_form(OrderCreate, values)
    if data is not None:
        try:
            order = await order_service.post_order(session, actor, data)
        except DomainError as problem:
            errors = domain_errors(problem)
        else:
            if not publish:
                return RedirectResponse(f"/orders/{order.id}?flash=draft_saved", status_code=303)
            try:
                await marketplace_service.publish_order(session, index, actor, order.id)
            except Exception as exc:
                # the draft is saved (its own commit): answer with its page, which says why it is not
                # published yet, so that a retry publishes it rather than posting a second draft
                refusal = exc if isinstance(exc, DomainError) else database_fault(exc)
                if refusal is None:
                    raise
                return RedirectResponse(f"/orders/{order.id}?problem={refusal.code}", status_code=303)
            return RedirectResponse(f"/orders/{order.id}?flash=published", status_code=303)
    context = {
        "studios": await _studios(session, actor),
        "values": values,
        "errors": errors,
        "need_kinds": list(NeedKind),
    }
    return render(request, "orders/new.html", context, status_code=422)


def _order_values(order: Order) -> dict[str, Any]:
    """An order's fields as its edit form shows them (as the API reads them)."""
    return OrderRead.model_validate(order).model_dump(mode="json")


async def _edit_page(
    request: Request, order: Order, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    context = {
        "order": order,
        "values": values,
        "errors": errors,
        "need_kinds": list(NeedKind),
        "studios": [],
    }
    return render(request, "orders/new.html", context, status_code=status)


@router.get("/orders/{order_id}/edit")
async def edit_order(
    order_id: IdPath, request: Request, session: SessionDep, actor: EnterprisePage
) -> Response:
    """The order's form, filled in, while nobody has taken it (its enterprise and administrators)."""
    order = await order_service.get_order_to_edit(session, actor, order_id)
    return await _edit_page(request, order, _order_values(order), {})


@router.post("/orders/{order_id}/edit", dependencies=[CsrfChecked])
async def save_order(
    order_id: IdPath, request: Request, session: SessionDep, actor: EnterprisePage, index: IndexDep
) -> Response:
    """Save the changes (against the version shown); a draft can be published in the same step."""
    values = form_values(await request.form(), lists=("fields",), optional=OPTIONAL_ORDER_FIELDS)
    publish = values.pop("action", "") == "publish"
    values.pop("studio_id", None)  # an order stays with its studio
    data, errors = parse_form(OrderUpdate, values)
    status = 422
    if data is not None:
        try:
            await order_service.update_order(session, actor, order_id, data)
            if publish:
                await marketplace_service.publish_order(session, index, actor, order_id)
        except DomainError as problem:
            await session.rollback()
            errors, status = domain_errors(problem), problem.status
        else:
            return RedirectResponse(
                f"/orders/{order_id}?flash={'published' if publish else 'saved'}", status_code=303
            )
    order = await order_service.get_order_to_edit(session, actor, order_id)
    return await _edit_page(request, order, values, errors, status=status)


@router.post("/orders/preview", dependencies=[CsrfChecked])
async def preview(request: Request, session: SessionDep, actor: EnterprisePage, index: IndexDep) -> Response:
    """The top five experts for the text typed so far (an htmx fragment; nothing is stored)."""
    form = await request.form()
    values = form_values(form, lists=("fields",))
    draft = OrderText(
        id="draft",
        title=str(values.get("title", ""))[:200],
        description=str(values.get("description", ""))[:8000],
        fields=tuple(values.get("fields", []))[:20],
        need_kind=str(values.get("need_kind") or "") or None,
    )
    studio = str(values.get("studio_id", ""))
    # placed where the studio's enterprise is, as the saved order will be
    studio_id = int(studio) if studio.isdigit() and len(studio) < 10 else None
    previews = await proposal_service.preview_experts(session, index, actor, draft, k=5, studio_id=studio_id)
    return render(request, "orders/_live.html", {"previews": previews, "factor_labels": FACTOR_LABELS})


@router.get("/my/orders")
async def my_orders(
    request: Request,
    session: SessionDep,
    actor: EnterprisePage,
    status: Annotated[OrderStatus | None, Query(), BlankIsNone] = None,
) -> Response:
    """The enterprise's orders, by status."""
    filters = OrderFilters(status=status, enterprise_id=None if actor.is_admin else actor.enterprise_id)
    window = await order_service.list_orders(
        session, actor, filters, PageParams(page=1, page_size=100), "-created_at"
    )
    context = {
        "orders": window.items,
        "total": window.total_label,
        "status": status,
        "statuses": list(OrderStatus),
    }
    return render(request, "orders/mine.html", context)


@router.get("/orders")
async def order_hall(
    request: Request,
    session: SessionDep,
    actor: PageActor,
    q: PageTextQuery = "",
    field: PageTermQuery = "",
    district: PageTermQuery = "",
) -> Response:
    """Published orders anyone logged in may browse and experts may take (需求大厅)."""
    filters = OrderFilters(
        status=OrderStatus.PUBLISHED, q=q or None, field=field or None, district=district or None
    )
    window = await order_service.list_orders(
        session, actor, filters, PageParams(page=1, page_size=100), "-published_at"
    )
    context = {
        "orders": window.items,
        "total": window.total_label,
        "more": window.has_more,
        "q": q,
        "field": field,
        "district": district,
    }
    return render(request, "orders/hall.html", context)
