"""Errors raised by the accounts domain."""

from app.errors import DomainError


class LoginFailed(DomainError):
    """Wrong username or password (deliberately not saying which)."""

    code, status, title = "login_failed", 401, "登录失败"

    def __init__(self) -> None:
        super().__init__("用户名或密码不正确，请检查后重试。")


class UsernameTaken(DomainError):
    """Another account already uses this username."""

    code, status, title = "username_taken", 409, "用户名已被占用"

    def __init__(self, username: str) -> None:
        super().__init__(
            f"用户名“{username}”已被占用，请换一个。", errors=[{"field": "username", "message": "已被占用"}]
        )


class RoleBindingInvalid(DomainError):
    """The account's role does not match the record it is bound to."""

    code, status, title = "role_binding_invalid", 422, "账号角色与绑定对象不符"


class LoginThrottled(DomainError):
    """Too many failed logins for this account or from this address: wait before trying again."""

    code, status, title = "login_throttled", 429, "登录尝试过于频繁"

    def __init__(self, retry_after_seconds: int) -> None:
        minutes = max(1, -(-retry_after_seconds // 60))
        super().__init__(
            f"登录失败次数过多，为保护账号安全，请在 {minutes} 分钟后再试。如忘记密码，请联系管理员重置。",
            headers={"Retry-After": str(retry_after_seconds)},
        )
        self.retry_after_seconds = retry_after_seconds


class PasswordChangeRequired(DomainError):
    """The account logged in with a temporary password and must choose its own before anything else."""

    code, status, title = "password_change_required", 403, "请先修改密码"

    def __init__(self) -> None:
        super().__init__(
            "管理员为您设置了临时密码，请先修改密码（POST /api/v1/auth/password 或页面“修改密码”）后再继续使用。"
        )


class PasswordRejected(DomainError):
    """The new password breaks the password policy."""

    code, status, title = "password_rejected", 422, "密码不符合要求"

    def __init__(self, message: str, *, field: str = "password") -> None:
        super().__init__(message, errors=[{"field": field, "message": message}])


class CurrentPasswordWrong(DomainError):
    """Changing one's password needs the current one, and it was wrong."""

    code, status, title = "current_password_wrong", 422, "当前密码不正确"

    def __init__(self) -> None:
        message = "当前密码不正确，请重新输入。"
        super().__init__(message, errors=[{"field": "current_password", "message": message}])


class OwnAccountLocked(DomainError):
    """An administrator tried to disable their own account (nobody could then undo it from that login)."""

    code, status, title = "own_account_locked", 409, "不能停用自己的账号"

    def __init__(self) -> None:
        super().__init__("不能停用自己正在使用的账号，请由另一位管理员操作。")
