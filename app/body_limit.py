"""A cap on request bodies, enforced before they are read: 413 ``payload_too_large``.

FastAPI 0.165's own limit (``FastAPI(max_body_size=…)``, Starlette's ``RequestBodyLimitMiddleware``) caps
what a handler reads, but a body whose declared ``Content-Length`` is over the limit is answered with
Starlette's plain-text "Content Too Large" (it replaces whatever response the app sends, our
problem+json included), and only after the handler ran: a body-less ``POST …/withdraw`` with a huge
``Content-Length`` would still withdraw the order. This middleware refuses a declared length before
routing, and counts a chunked body as it streams in, failing the read as soon as it passes the cap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import DomainError, http_problem, problem_from_domain_error

log = logging.getLogger(__name__)


class BodyTooLarge(StarletteHTTPException):
    """The request body is larger than the service accepts: answered 413 ``payload_too_large``.

    An ``HTTPException`` because FastAPI turns any other exception raised while it reads a body into a
    400 "error parsing the body"; this one reaches the HTTP error handler like Starlette's own 413.
    """

    def __init__(self) -> None:
        super().__init__(status_code=413)


@dataclass(frozen=True)
class BodyLimit:
    """A cap of its own for the paths starting with ``prefixes`` (the XLSX uploads have a larger one).

    ``error`` makes what a refusal answers (and what a streamed read raises): the upload routes answer
    with their own ``upload_too_large``, which their multipart reader lets through.
    """

    prefixes: tuple[str, ...]
    max_bytes: int
    error: Callable[[], Exception]


class BodyLimitMiddleware:
    """Cap every request body at ``default_max_bytes``, or at the cap of the first ``limits`` entry whose
    prefix the path starts with.

    Args:
        app: the wrapped application.
        default_max_bytes: the cap for every other path.
        limits: larger (or smaller) caps for some paths.
    """

    def __init__(self, app: ASGIApp, *, default_max_bytes: int, limits: Sequence[BodyLimit] = ()) -> None:
        self.app = app
        self.default = BodyLimit((), default_max_bytes, BodyTooLarge)
        self.limits = tuple(limits)

    def limit_for(self, path: str) -> BodyLimit:
        """The cap that applies to ``path``."""
        return next((limit for limit in self.limits if path.startswith(limit.prefixes)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit.max_bytes:
            log.warning(
                "request.body_too_large path=%s declared=%s limit=%s",
                scope["path"],
                declared,
                limit.max_bytes,
            )
            await self._refuse(scope, receive, send, limit)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    log.warning("request.body_too_large path=%s limit=%s", scope["path"], limit.max_bytes)
                    raise limit.error()
            return message

        await self.app(scope, counted_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: BodyLimit) -> None:
        error = limit.error()
        request = Request(scope, receive)
        if isinstance(error, DomainError):
            response = problem_from_domain_error(request, error)
        else:
            response = http_problem(request, 413)
        # the unread body stays on the wire: the connection cannot be reused for another request
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
