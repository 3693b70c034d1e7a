"""Errors raised by the experts domain."""

from app.errors import DomainError


class ExpertNotFound(DomainError):
    """No expert with this id."""

    code, status, title = "expert_not_found", 404, "专家不存在"

    def __init__(self, expert_id: int) -> None:
        super().__init__(f"未找到编号为 {expert_id} 的专家。")


class ExpertTermInvalid(DomainError):
    """The secondment term ends before it starts."""

    code, status, title = "expert_term_invalid", 422, "挂职期限不正确"

    def __init__(self) -> None:
        super().__init__(
            "挂职结束日期不能早于开始日期。",
            errors=[{"field": "term_end", "message": "不能早于挂职开始日期"}],
        )
