"""Errors raised by the orders domain."""

from app.errors import DomainError


class OrderNotFound(DomainError):
    """No order with this id, or one the caller may not see (drafts and withdrawn orders are private)."""

    code, status, title = "order_not_found", 404, "需求不存在"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"未找到编号为 {order_id} 的需求。")


class OrderDeadlinePast(DomainError):
    """The deadline lies before today."""

    code, status, title = "order_deadline_past", 422, "截止日期已过"

    def __init__(self, deadline: str, today: str) -> None:
        super().__init__(
            f"截止日期 {deadline} 早于今天（{today}），请选择今天或以后的日期。",
            errors=[{"field": "deadline", "message": "不能早于今天"}],
        )


class OrderBudgetInvalid(DomainError):
    """The budget range is upside down."""

    code, status, title = "order_budget_invalid", 422, "预算范围不正确"

    def __init__(self) -> None:
        super().__init__(
            "预算上限不能低于预算下限。", errors=[{"field": "budget_max", "message": "不能低于预算下限"}]
        )


class OrderNotEditable(DomainError):
    """Only drafts and published orders nobody has taken can be edited."""

    code, status, title = "order_not_editable", 409, "需求当前不可修改"

    def __init__(self, status_label: str) -> None:
        super().__init__(f"需求当前状态为“{status_label}”，只有草稿或已发布且尚未接单的需求可以修改。")


class OrderVersionConflict(DomainError):
    """The order changed after the caller read it."""

    code, status, title = "order_version_conflict", 409, "需求已被他人修改"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"需求 #{order_id} 在您打开后已被更新，请刷新后重试。")


class OrderSlotsBelowTakers(DomainError):
    """Slots cannot drop below the experts already holding one."""

    code, status, title = "order_slots_below_takers", 422, "名额少于已接单专家"

    def __init__(self, holding: int) -> None:
        super().__init__(
            f"已有 {holding} 位专家接单，名额不能少于 {holding}。",
            errors=[{"field": "slots", "message": f"不能少于已接单的 {holding} 位专家"}],
        )


class OrderTransitionInvalid(DomainError):
    """The order cannot go from its current state to the one asked for."""

    code, status, title = "order_transition_invalid", 409, "需求状态不允许此操作"

    def __init__(self, action: str, status_label: str) -> None:
        super().__init__(f"需求当前状态为“{status_label}”，不能{action}。")
