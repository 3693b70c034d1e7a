"""Errors raised by the proposals domain."""

from app.errors import DomainError


class OrderTextEmpty(DomainError):
    """The order has no words the matcher can use."""

    code, status, title = "order_text_empty", 422, "需求内容无法匹配"

    def __init__(self) -> None:
        super().__init__(
            "需求的标题和描述中没有可用于匹配的词语，请补充具体的技术问题后再试。",
            errors=[{"field": "description", "message": "没有可用于匹配的内容"}],
        )


class ExpertTextEmpty(DomainError):
    """The expert's profile has no words the matcher can use."""

    code, status, title = "expert_text_empty", 422, "专家档案内容不足"

    def __init__(self) -> None:
        super().__init__("专家档案中还没有研究方向、简介或科技成果，补充后才能推荐需求。")


class OrderNotOpen(DomainError):
    """Proposals are computed for drafts and published orders only."""

    code, status, title = "order_not_open", 409, "需求不在可匹配状态"

    def __init__(self, status_label: str) -> None:
        super().__init__(f"需求当前状态为“{status_label}”，只有草稿或已发布的需求可以生成匹配建议。")
