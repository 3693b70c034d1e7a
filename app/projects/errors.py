"""Errors raised by the joint-project catalogue and review rounds."""

from app.errors import DomainError


class ProjectNotEligible(DomainError):
    """Only agreements being carried out or delivered enter the catalogue."""

    code, status, title = "project_not_eligible", 409, "协议不能入库"

    def __init__(self, status_label: str) -> None:
        super().__init__(f"协议当前状态为“{status_label}”，只有执行中或已交付的协议可以列入共建项目目录。")


class ProjectAlreadyCatalogued(DomainError):
    """The agreement is in the catalogue already."""

    code, status, title = "project_already_catalogued", 409, "项目已在目录中"

    def __init__(self) -> None:
        super().__init__("该协议已列入共建项目目录。")


class ProjectNotCatalogued(DomainError):
    """Reviews are for projects in the catalogue."""

    code, status, title = "project_not_catalogued", 409, "项目不在目录中"

    def __init__(self) -> None:
        super().__init__("该协议尚未列入共建项目目录，不能安排评审。")


class ReviewRoundExists(DomainError):
    """One review round per year."""

    code, status, title = "review_round_exists", 409, "该年度评审已开启"

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年度的评审已经开启过。")


class ReviewRoundNotFound(DomainError):
    """No review round for that year."""

    code, status, title = "review_round_not_found", 404, "评审轮次不存在"

    def __init__(self, year: int) -> None:
        super().__init__(f"没有 {year} 年度的评审。")


class ReviewRoundClosed(DomainError):
    """A closed round is final."""

    code, status, title = "review_round_closed", 409, "评审已结束"

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年度的评审已经结束，结果不能再修改。")


class ReviewerConflict(DomainError):
    """The reviewer has an agreement on the project or with its enterprise (conflict of interest)."""

    code, status, title = "reviewer_conflict_of_interest", 409, "评审专家需回避"

    def __init__(self) -> None:
        super().__init__("该专家承担了该项目，或与项目所属企业有合作协议，按回避原则不能评审此项目。")


class ReviewerAlreadyAssigned(DomainError):
    """The reviewer is assigned to this project in this round already."""

    code, status, title = "reviewer_already_assigned", 409, "已安排该专家评审"

    def __init__(self) -> None:
        super().__init__("本年度已安排该专家评审此项目。")


class ReviewNotFound(DomainError):
    """No such review assignment for the caller."""

    code, status, title = "review_not_found", 404, "评审任务不存在"

    def __init__(self, review_id: int) -> None:
        super().__init__(f"您没有编号为 {review_id} 的评审任务。")


class ProjectNotRanked(DomainError):
    """Funding is decided for projects that have at least one submitted review."""

    code, status, title = "project_not_ranked", 409, "项目尚无评审结果"

    def __init__(self, agreement_id: int) -> None:
        super().__init__(f"项目（协议 #{agreement_id}）本年度还没有提交的评审，不能作出资助决定。")


class FundingAmountRequired(DomainError):
    """A funded project needs an amount."""

    code, status, title = "funding_amount_required", 422, "请填写资助金额"

    def __init__(self, agreement_id: int) -> None:
        super().__init__(
            f"项目（协议 #{agreement_id}）决定予以资助，请填写资助金额。",
            errors=[{"field": "amount", "message": "予以资助时必须填写"}],
        )


class FundingDecisionsMissing(DomainError):
    """Every ranked project needs a decision before the round closes."""

    code, status, title = "funding_decisions_missing", 409, "尚有项目未作资助决定"

    def __init__(self, agreement_ids: list[int]) -> None:
        listed = "、".join(f"#{i}" for i in agreement_ids)
        super().__init__(f"以下项目还没有资助决定：协议 {listed}。请全部决定后再结束评审。")


class ProjectEnded(DomainError):
    """The project's agreement was terminated: it is neither reviewed nor funded any more."""

    code, status, title = "project_ended", 409, "项目协议已终止"

    def __init__(self, agreement_id: int) -> None:
        super().__init__(
            f"项目（协议 #{agreement_id}）的协议已终止，不能再安排评审或予以资助（可作“不予资助”决定）。"
        )
