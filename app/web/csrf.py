"""CSRF protection for pages: a random token in a cookie, echoed by every form (or htmx header).

A cross-site form can make the browser send our cookies, but it cannot read them, so it cannot put the
token into the form. The comparison is constant-time.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response

from app.errors import DomainError

CSRF_COOKIE = "studio_match_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class CsrfFailed(DomainError):
    """The form did not carry the page's token (an old page, or a request from another site)."""

    code, status, title = "csrf_failed", 403, "页面已过期"

    def __init__(self) -> None:
        super().__init__("页面已过期或请求来源不明，请刷新页面后重新提交。")


def csrf_token(request: Request) -> str:
    """The token of this browser (made on first use; ``remember_csrf`` stores it in the response)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_token", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf_token = token
    return str(token)


def remember_csrf(request: Request, response: Response) -> None:
    """Set the cookie when this request made a new token."""
    token = getattr(request.state, "new_csrf_token", None)
    if token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.cookie_secure,
            path="/",
        )


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing page request whose form field or header does not match the cookie.

    Raises:
        CsrfFailed: the token is missing or wrong.
    """
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    # compared as bytes: a forged token with non-ASCII characters is a mismatch, not a crash
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfFailed()
