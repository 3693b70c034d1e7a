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


class AssessmentDateInFuture(DomainError):
    """An assessment dated after today."""

    code, status, title = "studio_assessment_date_future", 422, "评定日期不能晚于今天"

    def __init__(self, assessed_on: str, today: str) -> None:
        super().__init__(
            f"评定日期 {assessed_on} 晚于今天（{today}），请填写实际评定的日期。",
            errors=[{"field": "assessed_on", "message": "不能晚于今天"}],
        )


class AssessmentOutOfOrder(DomainError):
    """An assessment dated before the studio's latest one: the history is a chronology, not back-filled."""

    code, status, title = "studio_assessment_out_of_order", 422, "评定日期早于上次评定"

    def __init__(self, assessed_on: str, latest: str) -> None:
        super().__init__(
            f"评定日期 {assessed_on} 早于该工作室上次评定或摘牌的日期（{latest}），不能补录更早的评定。",
            errors=[{"field": "assessed_on", "message": f"不能早于上次评定日期 {latest}"}],
        )


class StudioAlreadyDelisted(DomainError):
    """De-listing a studio that is already de-listed."""

    code, status, title = "studio_already_delisted", 409, "工作室已摘牌"

    def __init__(self, studio_id: int) -> None:
        super().__init__(
            f"工作室 #{studio_id} 已经摘牌，无需重复操作；如需恢复，请重新评定，达到一星及以上即恢复挂牌。"
        )
