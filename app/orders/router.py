"""JSON API for orders: ``/api/v1/orders``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status

from app.accounts.deps import ActorDep
from app.db import SessionDep
from app.orders import service as order_service
from app.orders.models import NeedKind, OrderStatus
from app.orders.repository import OrderFilters
from app.orders.schemas import OrderCreate, OrderRead, OrderUpdate
from app.pagination import ListPage, PageDep
from app.routing import IdPath, IdQuery, TextQuery

router = APIRouter(prefix="/orders", tags=["需求"])

OrderSort = Literal[
    "id", "-id", "created_at", "-created_at", "updated_at", "-updated_at",
    "deadline", "-deadline", "published_at", "-published_at",
]  # fmt: skip


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    summary="新建需求草稿（本企业用户或管理员）",
)
async def post_order(body: OrderCreate, session: SessionDep, actor: ActorDep) -> OrderRead:
    """Save a new order as a draft. Enterprise users for their own studios; administrators for any."""
    return OrderRead.model_validate(await order_service.post_order(session, actor, body))


@router.get("", response_model=ListPage[OrderRead], summary="需求列表（登录用户；草稿和已撤回仅本企业可见）")
async def list_orders(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    q: TextQuery = None,
    status: OrderStatus | None = None,
    studio_id: IdQuery = None,
    enterprise_id: IdQuery = None,
    need_kind: NeedKind | None = None,
    field: TextQuery = None,
    district: TextQuery = None,
    sort: OrderSort = "-created_at",
) -> ListPage[OrderRead]:
    """List the orders the caller may see, filtered and sorted (ties broken by id).

    ``q`` finds the orders holding every content word of the query, as the matcher reads them
    (traditional characters find simplified text); ``total`` is counted up to 1,000 (``total_exact``).
    """
    filters = OrderFilters(
        q=q,
        status=status,
        studio_id=studio_id,
        enterprise_id=enterprise_id,
        need_kind=need_kind,
        field=field,
        district=district,
    )
    window = await order_service.list_orders(session, actor, filters, page, sort)
    return ListPage.of_window([OrderRead.model_validate(o) for o in window.items], window, page)


@router.get("/{order_id}", response_model=OrderRead, summary="需求详情（登录用户）")
async def get_order(order_id: IdPath, session: SessionDep, actor: ActorDep) -> OrderRead:
    """Return one order the caller may see."""
    return OrderRead.model_validate(await order_service.get_order(session, actor, order_id))


@router.patch("/{order_id}", response_model=OrderRead, summary="修改需求（本企业用户或管理员，接单前）")
async def update_order(
    order_id: IdPath, body: OrderUpdate, session: SessionDep, actor: ActorDep
) -> OrderRead:
    """Change an order nobody has taken yet. Its enterprise's users and administrators."""
    return OrderRead.model_validate(await order_service.update_order(session, actor, order_id, body))
