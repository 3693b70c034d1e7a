"""Errors about idempotency keys."""

from app.errors import DomainError


class IdempotencyKeyReused(DomainError):
    """The same key was sent with a different request."""

    code, status, title = "idempotency_key_reused", 422, "幂等键已用于其他请求"

    def __init__(self) -> None:
        super().__init__("这个 Idempotency-Key 已用于另一个请求，请为新请求生成新的键。")


class IdempotencyKeyInvalid(DomainError):
    """The key is empty, too long or has characters outside visible ASCII."""

    code, status, title = "idempotency_key_invalid", 400, "幂等键格式不正确"

    def __init__(self) -> None:
        super().__init__("Idempotency-Key 应为 1–100 个可见 ASCII 字符（建议使用 UUID）。")
