"""Errors raised by the enterprises domain."""

from app.errors import DomainError


class EnterpriseNotFound(DomainError):
    """No enterprise with this id."""

    code, status, title = "enterprise_not_found", 404, "企业不存在"

    def __init__(self, enterprise_id: int) -> None:
        super().__init__(f"未找到编号为 {enterprise_id} 的企业。")


class CreditCodeInvalid(DomainError):
    """The credit code fails the GB 32100-2015 rules."""

    code, status, title = "uscc_invalid", 422, "统一社会信用代码无效"

    def __init__(self, credit_code: str, reason: str) -> None:
        super().__init__(
            f"统一社会信用代码“{credit_code}”无效：{reason}。请对照营业执照核对。",
            errors=[{"field": "credit_code", "message": reason}],
        )


class CreditCodeTaken(DomainError):
    """Another enterprise is already registered with this credit code."""

    code, status, title = "uscc_duplicate", 409, "统一社会信用代码已登记"

    def __init__(self, credit_code: str) -> None:
        super().__init__(
            f"统一社会信用代码“{credit_code}”已有企业登记，请勿重复登记。",
            errors=[{"field": "credit_code", "message": "已被其他企业登记"}],
        )
