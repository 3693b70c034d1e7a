"""Errors raised by the marketplace (发单 / 接单)."""

from app.errors import DomainError


class OrderNotPublished(DomainError):
    """Only published orders can be taken or have experts invited."""

    code, status, title = "order_not_published", 409, "需求尚未发布"

    def __init__(self) -> None:
        super().__init__("该需求还是草稿，发布后专家才能接单。")


class OrderFull(DomainError):
    """Every slot of the order is held by a taker."""

    code, status, title = "order_full", 409, "需求已满员"

    def __init__(self, slots: int) -> None:
        super().__init__(f"该需求的 {slots} 个名额已被接满，可以浏览其他需求。")


class OrderWithdrawn(DomainError):
    """The enterprise withdrew the order."""

    code, status, title = "order_withdrawn", 409, "需求已撤回"

    def __init__(self) -> None:
        super().__init__("企业已撤回该需求，不能再接单。")


class OrderClosed(DomainError):
    """The order is closed."""

    code, status, title = "order_closed", 409, "需求已关闭"

    def __init__(self) -> None:
        super().__init__("该需求已关闭，不能再接单。")


class AlreadyTaking(DomainError):
    """The expert already holds a slot of this order."""

    code, status, title = "order_already_taken_by_you", 409, "您已接过该需求"

    def __init__(self) -> None:
        super().__init__("您已经接过该需求，正在等待企业确认或已经确认。")


class TakingNotFound(DomainError):
    """No such taking, or one the caller may not see."""

    code, status, title = "taking_not_found", 404, "接单记录不存在"

    def __init__(self, taking_id: int) -> None:
        super().__init__(f"未找到编号为 {taking_id} 的接单记录。")


class TakingNotPending(DomainError):
    """The taking was already confirmed or released."""

    code, status, title = "taking_not_pending", 409, "接单记录已处理"

    def __init__(self, status_label: str) -> None:
        super().__init__(f"该接单记录当前为“{status_label}”，不能再确认或释放。")


class ExpertNotProposed(DomainError):
    """Invitations go to experts the matcher proposed for the order."""

    code, status, title = "expert_not_proposed", 409, "该专家不在匹配建议中"

    def __init__(self) -> None:
        super().__init__("只能邀请匹配建议中的专家；请先生成匹配建议。")


class InvitationExists(DomainError):
    """The expert was already invited, has answered, or has taken the order."""

    code, status, title = "invitation_exists", 409, "已邀请过该专家"

    def __init__(self, status_label: str) -> None:
        super().__init__(f"该专家对此需求的状态为“{status_label}”，不能重复邀请。")


class InvitationNotFound(DomainError):
    """The expert has no open invitation for this order."""

    code, status, title = "invitation_not_found", 404, "没有待答复的邀请"

    def __init__(self) -> None:
        super().__init__("您没有该需求的待答复邀请。")
