"""CSRF protection: a random token in a cookie, echoed by every form (or htmx header), and a refusal of
state-changing requests that come from another site.

A cross-site form can make the browser send our cookies, but it cannot read them, so it cannot put the
token into the form or a header. The comparison is constant-time.

Two layers, because one of them needs the request body:

- ``CsrfMiddleware`` (headers only, before any handler or body read) refuses every unsafe request that
  is not bearer-authenticated when the browser says it comes from another site (``Sec-Fetch-Site``) or
  from another origin (``Origin``), and a JSON API request authenticated by the session cookie that does
  not carry the token in ``X-CSRF-Token``. A form posted from another port of the same host is
  ``same-site`` (a site ignores ports), so only ``same-origin`` and ``none`` (typed or bookmarked) pass.
- ``check_csrf`` (a page dependency) checks the token of a page form: its ``csrf_token`` field, or the
  header htmx sends.

Bearer-token requests are exempt: a browser never attaches an ``Authorization`` header on its own, and a
page that sets one itself needs a CORS preflight we never grant.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Collection
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.accounts.security import SESSION_COOKIE
from app.errors import DomainError, problem_from_domain_error

log = logging.getLogger(__name__)

CSRF_COOKIE = "studio_match_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what the browser says about where a request comes from (Fetch Metadata); "same-site" includes
# another port or subdomain of our host, which is not us
REFUSED_FETCH_SITES = frozenset({"cross-site", "same-site"})


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


def _same_token(expected: str | None, sent: str | None) -> bool:
    # compared as bytes: a forged token with non-ASCII characters is a mismatch, not a crash
    return bool(expected and sent and hmac.compare_digest(expected.encode(), sent.encode()))


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
    if not _same_token(expected, sent):
        raise CsrfFailed()


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports left out (the form of ``Origin``)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: an origin nothing equals
        return "invalid:"
    if port == {"http": 80, "https": 443}.get(scheme):
        port = None
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def bearer_authenticated(headers: Headers) -> bool:
    """True when the request authenticates with ``Authorization: Bearer …`` (which the cookie never backs up)."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(credentials.strip())


def cross_site_reason(headers: Headers, own_origins: Collection[str]) -> str | None:
    """Why the browser's own headers say this request comes from another site, or ``None``.

    ``Sec-Fetch-Site: cross-site`` or ``same-site`` is refused; an ``Origin`` header (sent by browsers on
    every POST) must be one of ``own_origins``. Clients that send neither (curl, scripts) pass: they
    carry no victim's cookies.
    """
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site in REFUSED_FETCH_SITES:
        return f"sec-fetch-site={site}"
    origin = headers.get("origin")
    if origin is not None and (origin.strip().lower() == "null" or origin_of(origin) not in own_origins):
        return "origin_mismatch"
    return None


class CsrfMiddleware:
    """Refuse cross-site unsafe requests, and cookie-authenticated unsafe API requests without the token.

    Runs on headers alone, before routing, authentication or any read of the body, so a refused request
    changes nothing and costs nothing. The answer is the ``csrf_failed`` problem (a Chinese page for a
    page request, problem+json for the API).

    Args:
        app: the wrapped application.
        api_prefix: the JSON API's path prefix (``/api/v1``): cookie-authenticated unsafe requests under
            it need the ``X-CSRF-Token`` header.
        public_url: the service's public address; its origin is accepted next to the request's own
            (the ``Host`` header and scheme the server saw, which a proxy may have rewritten).
    """

    def __init__(self, app: ASGIApp, *, api_prefix: str, public_url: str) -> None:
        self.app = app
        self.api_prefix = api_prefix.rstrip("/") + "/"
        self.login_path = self.api_prefix + "auth/login"
        self.public_origin = origin_of(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if bearer_authenticated(request.headers):
            await self.app(scope, receive, send)
            return
        reason = cross_site_reason(request.headers, self._own_origins(request))
        if reason is None and self._needs_token(request) and not self._token_sent(request):
            reason = "token_missing_or_wrong"
        if reason is None:
            await self.app(scope, receive, send)
            return
        log.warning("csrf.refused method=%s path=%s reason=%s", scope["method"], scope["path"], reason)
        response = problem_from_domain_error(request, CsrfFailed())
        await response(scope, receive, send)

    def _own_origins(self, request: Request) -> set[str]:
        own = {self.public_origin}
        host = request.headers.get("host")
        if host:
            own.add(origin_of(f"{request.url.scheme}://{host}"))
        return own

    @staticmethod
    def _token_sent(request: Request) -> bool:
        return _same_token(request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER))

    def _needs_token(self, request: Request) -> bool:
        # pages check their form's token in ``check_csrf``; the API has no form, only the header. Logging
        # in is authenticated by the credentials in the body, not by a cookie left in the client's jar
        # (another user's, or a revoked session's); a cross-site login is still refused by the origin
        path = request.url.path
        return (
            path.startswith(self.api_prefix) and path != self.login_path and SESSION_COOKIE in request.cookies
        )
