"""The order's state machine: which action moves an order from which states to which, in one table
that the services enforce and the pages read (a button shows exactly when its action would succeed)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.labels import label
from app.orders.errors import OrderTransitionInvalid
from app.orders.models import OrderStatus, OrderTaking, TakingStatus


class OrderAction(StrEnum):
    """What the order's enterprise can do to it."""

    PUBLISH = "publish"
    WITHDRAW = "withdraw"
    CLOSE = "close"
    # not changes of state: (re)compute the proposals (a draft's preview, a published order's list),
    # and edit the order while nobody has taken it
    PROPOSE = "propose"
    EDIT = "edit"


@dataclass(frozen=True, slots=True)
class Transition:
    """An action's verb (for messages), the states it starts from and the state it leads to
    (``None``: the order stays as it is)."""

    verb: str
    sources: frozenset[OrderStatus]
    target: OrderStatus | None


TRANSITIONS: dict[OrderAction, Transition] = {
    OrderAction.PUBLISH: Transition("发布", frozenset({OrderStatus.DRAFT}), OrderStatus.PUBLISHED),
    # a taker already confirmed holds an agreement: close the order or terminate the agreement instead
    OrderAction.WITHDRAW: Transition(
        "撤回",
        frozenset({OrderStatus.DRAFT, OrderStatus.PUBLISHED, OrderStatus.TAKEN}),
        OrderStatus.WITHDRAWN,
    ),
    OrderAction.CLOSE: Transition(
        "关闭", frozenset({OrderStatus.PUBLISHED, OrderStatus.TAKEN}), OrderStatus.CLOSED
    ),
    OrderAction.PROPOSE: Transition(
        "生成匹配建议", frozenset({OrderStatus.DRAFT, OrderStatus.PUBLISHED}), None
    ),
    # an order may change until someone takes it
    OrderAction.EDIT: Transition("修改", frozenset({OrderStatus.DRAFT, OrderStatus.PUBLISHED}), None),
}


def allowed_actions(status: OrderStatus, takings: Iterable[OrderTaking]) -> frozenset[OrderAction]:
    """The actions the order's enterprise may take on an order in ``status`` with these takings."""
    allowed = {action for action, t in TRANSITIONS.items() if status in t.sources}
    if any(t.status is TakingStatus.CONFIRMED for t in takings):
        allowed.discard(OrderAction.WITHDRAW)
    return frozenset(allowed)


def require(action: OrderAction, status: OrderStatus, takings: Iterable[OrderTaking] = ()) -> OrderStatus:
    """Check that ``action`` is allowed and return the state it leads to.

    Raises:
        OrderTransitionInvalid: the action is not allowed now (the message says what to do instead).
    """
    transition = TRANSITIONS[action]
    if action in allowed_actions(status, takings):
        return transition.target or status
    if action is OrderAction.WITHDRAW and status in transition.sources:
        raise OrderTransitionInvalid("撤回（已确认接单专家，请改为关闭需求或终止协议）", label(status))
    raise OrderTransitionInvalid(transition.verb, label(status))
