"""Security headers on every response, and ``Cache-Control: no-store`` on everything private.

- ``Content-Security-Policy``: scripts only from our own origin (``/static``: htmx, ECharts, Swagger UI
  and our scripts are files, never inline), no plugins, no framing, forms post only to us. Styles allow
  inline ``style`` attributes (a score bar's width is one; they cannot run code).
- ``X-Frame-Options: DENY`` for browsers without ``frame-ancestors``; ``X-Content-Type-Options: nosniff``;
  ``Referrer-Policy: same-origin`` (an order's address never leaves the site in a ``Referer``).
- ``Strict-Transport-Security`` when the site is served over HTTPS (``cookie_secure`` or an https public
  URL): browsers ignore it over plain HTTP, and sending it from a development server would pin
  ``localhost`` to HTTPS.
- ``Cache-Control: no-store`` on every API answer and on every answer to a request that carries
  credentials (session cookie or bearer token): after logging out, the Back button must not show a
  private agreement from the browser's cache. Public assets under ``/static`` keep their own caching.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.security import SESSION_COOKIE

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000"
STATIC_PREFIX = "/static/"


def served_over_https(*, cookie_secure: bool, public_url: str) -> bool:
    """True when the site is reached over HTTPS (then HSTS is sent)."""
    return cookie_secure or public_url.strip().lower().startswith("https://")


class SecurityHeadersMiddleware:
    """Add the security headers (and ``no-store`` where private) to every HTTP response.

    Args:
        app: the wrapped application.
        api_prefix: the JSON API's path prefix: its answers are never stored.
        https: send ``Strict-Transport-Security``.
    """

    def __init__(self, app: ASGIApp, *, api_prefix: str, https: bool) -> None:
        self.app = app
        self.api_prefix = api_prefix.rstrip("/") + "/"
        self.fixed = [
            ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        if https:
            self.fixed.append(("Strict-Transport-Security", HSTS))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = self._private(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.fixed:
                    headers.setdefault(name, value)
                if private:
                    headers["Cache-Control"] = "no-store"
                    headers.setdefault("Pragma", "no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _private(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path.startswith(STATIC_PREFIX):
            return False
        if path.startswith(self.api_prefix):
            return True
        request_headers = Headers(scope=scope)
        if "authorization" in request_headers:
            return True
        cookies = request_headers.get("cookie", "")
        return f"{SESSION_COOKIE}=" in cookies
