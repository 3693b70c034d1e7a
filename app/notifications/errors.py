"""Errors raised by the notifications domain."""

from app.errors import DomainError


class NotificationNotFound(DomainError):
    """No such notification in the caller's inbox."""

    code, status, title = "notification_not_found", 404, "消息不存在"

    def __init__(self, notification_id: int) -> None:
        super().__init__(f"您的消息中没有编号为 {notification_id} 的消息。")
