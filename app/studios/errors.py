"""Errors raised by the studios domain."""

from app.errors import DomainError


class StudioNotFound(DomainError):
    """No studio with this id."""

    code, status, title = "studio_not_found", 404, "工作室不存在"

    def __init__(self, studio_id: int) -> None:
        super().__init__(f"未找到编号为 {studio_id} 的工作室。")


class StarRatingInconsistent(DomainError):
    """Star rating, score and assessment date do not agree."""

    code, status, title = "studio_star_invalid", 422, "星级信息不一致"
