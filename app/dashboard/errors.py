"""Errors raised by the dashboard."""

from app.errors import DomainError


class ProposalNotFound(DomainError):
    """No proposal with this id."""

    code, status, title = "proposal_not_found", 404, "匹配建议不存在"

    def __init__(self, proposal_id: int) -> None:
        super().__init__(f"未找到编号为 {proposal_id} 的匹配建议。")
