"""Use cases for orders (发单): post, update, read, list — with who may see and edit what."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.audit.service import apply_changes, record_change
from app.clock import local_today
from app.enterprises import service as enterprise_service
from app.errors import Forbidden
from app.labels import label
from app.orders.errors import (
    OrderBudgetInvalid,
    OrderDeadlinePast,
    OrderNotEditable,
    OrderNotFound,
    OrderSlotsBelowTakers,
    OrderVersionConflict,
)
from app.orders.models import Order, OrderStatus
from app.orders.repository import PUBLIC_STATUSES, OrderFilters, OrderRepository
from app.orders.schemas import OrderCreate, OrderUpdate
from app.orders.transitions import OrderAction, allowed_actions
from app.pagination import PageParams, Window
from app.studios import service as studio_service
from app.studios.errors import StudioNotFound


async def post_order(session: AsyncSession, actor: Actor | None, data: OrderCreate) -> Order:
    """Save a new order as a draft for a studio; its region is the studio's enterprise's.

    Args:
        session: the request session.
        actor: an enterprise user of the studio's enterprise, or an administrator
            (``None`` only for trusted jobs such as the demo loader).
        data: the order.

    Raises:
        Forbidden: experts, or an enterprise user posting for another enterprise's studio.
        StudioNotFound: the studio does not exist.
        OrderDeadlinePast: the deadline is before today.
        OrderBudgetInvalid: the budget range is upside down.
    """
    if actor is not None and actor.role is UserRole.EXPERT:
        raise Forbidden("专家账号不能发布需求，请使用企业账号。")
    studio = await studio_service.require_studio(session, data.studio_id)
    if actor is not None and not studio_service.can_manage(actor, studio):
        raise Forbidden("您只能为本企业的工作室发布需求。")
    check_deadline(data.deadline)
    _check_budget(data.budget_min, data.budget_max)
    enterprise = await enterprise_service.require_enterprise(session, studio.enterprise_id)
    order = Order(
        **data.model_dump(),
        province=enterprise.province,
        city=enterprise.city,
        district=enterprise.district,
        town=enterprise.town,
        status=OrderStatus.DRAFT,
    )
    await OrderRepository(session).add(order)
    await record_change(session, actor=actor, action="order.created", record=order, before=None)
    await session.commit()
    return order


async def place_of_studio(
    session: AsyncSession, actor: Actor, studio_id: int
) -> tuple[str, str | None] | None:
    """Where an order of this studio is placed (its enterprise's district and town), or ``None`` if
    there is no such studio or the caller may not post for it (a preview then ranks without a place)."""
    try:
        studio = await studio_service.require_studio(session, studio_id)
    except StudioNotFound:
        return None
    if not studio_service.can_manage(actor, studio):
        return None
    enterprise = await enterprise_service.require_enterprise(session, studio.enterprise_id)
    return enterprise.district, enterprise.town


async def update_order(session: AsyncSession, actor: Actor, order_id: int, data: OrderUpdate) -> Order:
    """Change an order nobody has taken yet: its enterprise's users or an administrator.

    Raises:
        OrderNotFound: no such order, or one the caller may not see.
        Forbidden: the caller may see the order but does not own it.
        OrderNotEditable: the order has been taken, closed or withdrawn.
        OrderVersionConflict: the order changed since the caller read it.
        OrderDeadlinePast / OrderBudgetInvalid: as for ``post_order``.
        OrderSlotsBelowTakers: fewer slots than experts already holding one.
    """
    await _managed_order(session, actor, order_id)
    # takings lock the order's row too: without the lock a taking committed between our count and our
    # write would leave an order cut to one slot holding two takers
    locked = await lock_order(session, order_id)
    if locked is None:
        raise OrderNotFound(order_id)
    order = locked
    changes = data.changes()
    seen_version = changes.pop("version", None)
    # the client's version decides: an edit made on a stale page must not overwrite a newer one
    if seen_version is not None and seen_version != order.version:
        raise OrderVersionConflict(order_id)
    _require_editable(order)
    if "deadline" in changes:
        check_deadline(changes["deadline"])
    _check_budget(changes.get("budget_min", order.budget_min), changes.get("budget_max", order.budget_max))
    if "slots" in changes:
        holding = await slots_held(session, order.id)
        if changes["slots"] < holding:
            raise OrderSlotsBelowTakers(holding)
        if order.status is OrderStatus.PUBLISHED and changes["slots"] == holding:
            changes["status"] = OrderStatus.TAKEN  # cut to exactly its takers: the order is full
    try:
        await apply_changes(session, actor=actor, record=order, changes=changes, action="order.updated")
    except StaleDataError:  # someone else's update won the race after our read
        raise OrderVersionConflict(order_id) from None
    await session.commit()
    return order


async def get_order_to_edit(session: AsyncSession, actor: Actor, order_id: int) -> Order:
    """The order its enterprise (or an administrator) is about to edit.

    Raises:
        OrderNotFound / Forbidden: as for ``update_order``.
        OrderNotEditable: someone has taken it, or it is closed or withdrawn.
    """
    order = await _managed_order(session, actor, order_id)
    _require_editable(order)
    return order


async def _managed_order(session: AsyncSession, actor: Actor, order_id: int) -> Order:
    order, enterprise_id = await _visible_order(session, actor, order_id)
    if not enterprise_service.can_manage(actor, enterprise_id):
        raise Forbidden("您只能修改本企业发布的需求。")
    return order


def _require_editable(order: Order) -> None:
    if OrderAction.EDIT not in allowed_actions(order.status, ()):
        raise OrderNotEditable(label(order.status))


async def get_order(session: AsyncSession, actor: Actor, order_id: int) -> Order:
    """Return one order the caller may see.

    Raises:
        OrderNotFound: no such order, or a draft / withdrawn order of another enterprise.
    """
    order, _ = await _visible_order(session, actor, order_id)
    return order


async def list_orders(
    session: AsyncSession, actor: Actor, filters: OrderFilters, params: PageParams, sort: str
) -> Window[Order]:
    """Return one page of the orders the caller may see (counted up to ``COUNT_LIMIT``)."""
    return await OrderRepository(session).list(
        filters, params, sort, private_visible_to=actor.enterprise_id, all_visible=actor.is_admin
    )


async def orders_for_matching(session: AsyncSession, ids: Collection[int] | None = None) -> Sequence[Order]:
    """Published orders (all, or these ids): the ones the matcher may recommend to experts."""
    return await OrderRepository(session).open_for_matching(ids)


async def orders_for_matching_after(session: AsyncSession, after: int | None, limit: int) -> Sequence[Order]:
    """The next ``limit`` published orders by id after ``after`` (reading all in chunks)."""
    return await OrderRepository(session).open_for_matching_after(after, limit)


async def enterprise_of(
    session: AsyncSession, actor: Actor, order_id: int, *, lock: bool = False
) -> tuple[Order, int]:
    """The order and its enterprise's id, if the caller may see the order.

    Args:
        session: the request session.
        actor: the caller.
        order_id: the order.
        lock: also lock the order's row until the transaction ends.

    Raises:
        OrderNotFound: no such order, or one the caller may not see.
    """
    return await _visible_order(session, actor, order_id, lock=lock)


def can_see(actor: Actor, order: Order, enterprise_id: int) -> bool:
    """Published, taken and closed orders are visible to all users; drafts and withdrawn ones to their owners."""
    return order.status in PUBLIC_STATUSES or enterprise_service.can_manage(actor, enterprise_id)


async def _visible_order(
    session: AsyncSession, actor: Actor, order_id: int, *, lock: bool = False
) -> tuple[Order, int]:
    found = await OrderRepository(session).get_with_enterprise(order_id, lock=lock)
    # a private order answers exactly like a missing one, so its existence does not leak
    if found is None or not can_see(actor, *found):
        raise OrderNotFound(order_id)
    return found


def check_deadline(deadline: date | None) -> None:
    """Refuse a deadline that lies before today (OrderDeadlinePast)."""
    today = local_today()
    if deadline is not None and deadline < today:
        raise OrderDeadlinePast(deadline.isoformat(), today.isoformat())


def _check_budget(budget_min: int | None, budget_max: int | None) -> None:
    if budget_min is not None and budget_max is not None and budget_max < budget_min:
        raise OrderBudgetInvalid()


async def enterprise_id_of(session: AsyncSession, order_id: int) -> int:
    """The id of the enterprise whose studio posted the order (for trusted internal use: no visibility check).

    Raises:
        OrderNotFound: no such order.
    """
    found = await OrderRepository(session).get_with_enterprise(order_id)
    if found is None:
        raise OrderNotFound(order_id)
    return found[1]


async def lock_order(session: AsyncSession, order_id: int) -> Order | None:
    """Load the order with its row locked until the transaction ends (for trusted internal use: no
    visibility check). Every use case that counts or changes an order's takings or slots takes it first.
    """
    return await OrderRepository(session).lock(order_id)


async def slots_held(session: AsyncSession, order_id: int) -> int:
    """How many takings hold a slot of the order (waiting for confirmation or confirmed)."""
    return await OrderRepository(session).holding(order_id)
