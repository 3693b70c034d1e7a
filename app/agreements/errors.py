"""Errors raised by the agreements domain."""

from app.errors import DomainError


class AgreementNotFound(DomainError):
    """No such agreement, or one the caller is not a party to (the answer is the same, nothing leaks)."""

    code, status, title = "agreement_not_found", 404, "协议不存在"

    def __init__(self, agreement_id: int) -> None:
        super().__init__(f"未找到编号为 {agreement_id} 的协议。")


class AgreementTransitionInvalid(DomainError):
    """The agreement's state does not allow this step."""

    code, status, title = "agreement_transition_invalid", 409, "协议状态不允许此操作"

    def __init__(self, action: str, status_label: str) -> None:
        super().__init__(f"协议当前状态为“{status_label}”，不能{action}。")


class AgreementVersionConflict(DomainError):
    """The agreement changed after the caller read it (optimistic locking)."""

    code, status, title = "agreement_version_conflict", 409, "协议已被他人修改"

    def __init__(self, agreement_id: int) -> None:
        super().__init__(f"协议 #{agreement_id} 在您打开后已被更新，请刷新后查看最新条款再操作。")


class AgreementTermsIncomplete(DomainError):
    """Terms are missing before the agreement can go out for signature."""

    code, status, title = "agreement_terms_incomplete", 422, "协议条款不完整"

    def __init__(self, missing: list[tuple[str, str]]) -> None:
        names = "、".join(label for _, label in missing)
        super().__init__(
            f"提交签署前请填写：{names}。",
            errors=[{"field": field, "message": "提交签署前必须填写"} for field, _ in missing],
        )


class AgreementDatesInvalid(DomainError):
    """The end date lies before the start date."""

    code, status, title = "agreement_dates_invalid", 422, "协议日期不正确"

    def __init__(self) -> None:
        super().__init__(
            "结束日期不能早于开始日期。", errors=[{"field": "end_date", "message": "不能早于开始日期"}]
        )


class AlreadySigned(DomainError):
    """This side has already signed."""

    code, status, title = "agreement_already_signed", 409, "您方已签署"

    def __init__(self) -> None:
        super().__init__("您方已经签署过，等待对方签署即可。")


class TermsChangedSinceRead(DomainError):
    """The signer saw other terms than the ones now up for signature."""

    code, status, title = "agreement_terms_changed", 409, "协议条款已变化"

    def __init__(self) -> None:
        super().__init__("您看到的条款与当前待签署的条款不一致，请刷新后核对条款再签署。")


class NotAParty(DomainError):
    """Only the enterprise and the expert of the agreement can do this (administrators cannot sign for them)."""

    code, status, title = "agreement_party_required", 403, "只有协议双方可以操作"

    def __init__(self, action: str) -> None:
        super().__init__(f"只有协议双方（企业和专家）可以{action}。")


class AmendmentPending(DomainError):
    """One amendment at a time: the open one must be signed or withdrawn first."""

    code, status, title = "amendment_pending", 409, "已有待签署的协议变更"

    def __init__(self, number: int) -> None:
        super().__init__(f"第 {number} 号变更尚待签署，请先签署或撤回它。")


class AmendmentNotFound(DomainError):
    """No such amendment on this agreement."""

    code, status, title = "amendment_not_found", 404, "协议变更不存在"

    def __init__(self, number: int) -> None:
        super().__init__(f"该协议没有第 {number} 号变更。")


class AmendmentEmpty(DomainError):
    """An amendment must change at least one term."""

    code, status, title = "amendment_empty", 422, "变更内容为空"

    def __init__(self) -> None:
        super().__init__(
            "变更没有修改任何条款，请至少修改一项。",
            errors=[{"field": "changes", "message": "没有修改任何条款"}],
        )


class DeliveryAlreadyConfirmed(DomainError):
    """This side has already confirmed delivery."""

    code, status, title = "delivery_already_confirmed", 409, "您方已确认交付"

    def __init__(self) -> None:
        super().__init__("您方已经确认过交付和评价，等待对方确认即可。")


class WorkDateBeforeEffect(DomainError):
    """Work is logged on a day before the agreement took effect (the second signature)."""

    code, status, title = "work_date_before_effect", 422, "日期早于协议生效日期"

    def __init__(self, field: str, effective: str) -> None:
        super().__init__(
            f"协议于 {effective} 生效，记录的日期不能早于这一天。",
            errors=[{"field": field, "message": f"不能早于协议生效日期 {effective}"}],
        )


class DeliveryBeforeStart(DomainError):
    """Delivery is confirmed before the agreed start date."""

    code, status, title = "delivery_before_start", 409, "协议尚未开始"

    def __init__(self, start: str) -> None:
        super().__init__(f"协议约定于 {start} 开始，开始之前不能确认交付。")


class WorkDateInFuture(DomainError):
    """Work is logged after it happened."""

    code, status, title = "work_date_in_future", 422, "日期不能晚于今天"

    def __init__(self, field: str) -> None:
        super().__init__("记录的日期不能晚于今天。", errors=[{"field": field, "message": "不能晚于今天"}])
