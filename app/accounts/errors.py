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
