"""Errors raised by the achievements domain."""

from app.errors import DomainError


class AchievementNotFound(DomainError):
    """No achievement with this id."""

    code, status, title = "achievement_not_found", 404, "科技成果不存在"

    def __init__(self, achievement_id: int) -> None:
        super().__init__(f"未找到编号为 {achievement_id} 的科技成果。")
