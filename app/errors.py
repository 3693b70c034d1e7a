"""Domain errors and the one place where exceptions become RFC 9457 problem+json responses."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.labels import field_label

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class DomainError(Exception):
    """A business rule said no. Subclasses declare a stable ``code``, an HTTP ``status`` and a Chinese ``title``.

    Args:
        detail: Chinese sentence telling the user what went wrong and how to fix it.
        errors: optional per-field problems, ``[{"field": ..., "message": ...}]``.
        headers: extra response headers (e.g. ``WWW-Authenticate``).
        extensions: extra members of the problem+json body (RFC 9457 §3.2), e.g. what a probe found.
    """

    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "请求无法处理"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.errors = [dict(e) for e in errors] if errors else None
        self.headers = dict(headers) if headers else None
        self.extensions = dict(extensions) if extensions else None
        super().__init__(self.detail)


class NotFound(DomainError):
    """A record does not exist, or the caller may not know that it exists."""

    code, status, title = "not_found", 404, "记录不存在"


class Unauthenticated(DomainError):
    """The request carries no valid session or bearer token."""

    code, status, title = "unauthenticated", 401, "请先登录"

    def __init__(self, detail: str = "该操作需要登录，请先登录后重试。") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="studio-match"'})


class Forbidden(DomainError):
    """The caller is logged in but its role or ownership does not allow the action."""

    code, status, title = "forbidden", 403, "没有权限"

    def __init__(self, detail: str = "您没有执行该操作的权限。") -> None:
        super().__init__(detail)


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a business rule about a field."""

    code, status, title = "validation_failed", 422, "提交的数据有误"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field_label(field)}：{message}", errors=[{"field": field, "message": message}])


class RequestInvalid(DomainError):
    """The request body or parameters do not match the schema."""

    code, status, title = "request_invalid", 422, "请求参数有误"


class MalformedJson(DomainError):
    """The request body is not valid JSON."""

    code, status, title = "malformed_json", 400, "请求体不是合法的 JSON"


class InternalError(DomainError):
    """An unexpected error (a bug): never shown with a traceback; the request id finds it in the log."""

    code, status, title = "internal", 500, "服务器内部错误"

    def __init__(self) -> None:
        super().__init__("服务器出现意外错误，请稍后重试；如问题持续，请把请求编号告知管理员。")


class DatabaseFault(DomainError):
    """The database could not serve the request: the client should retry later (503 with ``Retry-After``).

    Nothing here is a business rule: ``database_fault`` classifies driver and pool exceptions into these,
    and the request that met one was not carried out (or, for a write whose connection broke during the
    commit, may have been: the detail asks to check before retrying).
    """

    code, status, title = "database_fault", 503, "数据库暂时无法处理请求"
    retry_after: ClassVar[int] = 5

    def __init__(self, detail: str | None = None, *, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(self.retry_after)}, extensions=extensions)


class DatabaseUnavailable(DatabaseFault):
    """No connection to the database: refused, reset, shut down, starting up, or lost mid-request."""

    code, status, title = "database_unavailable", 503, "数据库暂时不可用"
    retry_after = 5

    def __init__(self, detail: str | None = None, *, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(
            detail
            or "服务暂时连接不上数据库，请求未能完成。请稍等几秒后重试；如果刚才提交了修改，请先刷新页面确认是否已经生效。",
            extensions=extensions,
        )


class DatabaseBusy(DatabaseFault):
    """Every pooled connection is in use (the pool timeout passed), or the database gave up a deadlock."""

    code, status, title = "database_busy", 503, "数据库繁忙"
    retry_after = 2

    def __init__(self, detail: str | None = None, *, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(
            detail or "当前访问量过大，数据库暂时无法处理这个请求，请求未能完成。请稍等片刻后重试。",
            extensions=extensions,
        )


class DatabaseTimeout(DatabaseFault):
    """A statement ran past the statement timeout, waited past the lock timeout, or got no answer in time."""

    code, status, title = "database_timeout", 503, "数据库响应超时"
    retry_after = 2

    def __init__(self, detail: str | None = None, *, extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__(
            detail
            or "数据库未能在限定时间内完成操作（可能有其他操作正在处理同一条记录），请求未能完成。请稍后重试。",
            extensions=extensions,
        )


# PostgreSQL SQLSTATEs (Appendix A of its manual) → what the client is told
_TIMEOUT_STATES = {
    "57014",  # query_canceled: statement_timeout (or an operator's pg_cancel_backend)
    "55P03",  # lock_not_available: lock_timeout
}
_BUSY_STATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected: the database ended one side, a retry goes through
    "53300",  # too_many_connections
}
_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03"}  # admin / crash shutdown, starting up
_DRIVER_MODULES = ("asyncpg", "sqlalchemy", "aiosqlite")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    # the exception, SQLAlchemy's wrapped DBAPI error and the driver's own, along explicit causes only
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            yield orig
            seen.add(id(orig))
            current = orig.__cause__
        else:
            current = current.__cause__


def _raised_by_driver(exc: BaseException) -> bool:
    traceback = exc.__traceback__
    while traceback is not None:
        if str(traceback.tb_frame.f_globals.get("__name__", "")).startswith(_DRIVER_MODULES):
            return True
        traceback = traceback.tb_next
    return False


def database_fault(exc: BaseException) -> DatabaseFault | None:
    """Classify an exception as database trouble the client may retry, or ``None`` for anything else.

    Pool exhausted → ``database_busy``; statement or lock timeout, or no answer in time →
    ``database_timeout``; connection refused, reset or lost, server shut down or starting →
    ``database_unavailable``. Integrity errors, bad SQL and every other exception are bugs or business
    rules, not faults: ``None``.

    Args:
        exc: what a request raised.

    Returns:
        The problem to answer with, or ``None``.
    """
    if isinstance(exc, sa_exc.TimeoutError):  # QueuePool: no connection free within pool_timeout
        return DatabaseBusy()
    for link in _causes(exc):
        state = getattr(link, "sqlstate", None) or getattr(link, "pgcode", None)
        if not isinstance(state, str):
            continue
        if state in _TIMEOUT_STATES:
            return DatabaseTimeout()
        if state in _BUSY_STATES:
            return DatabaseBusy()
        if state in _UNAVAILABLE_STATES or state.startswith(("08", "53")):
            return DatabaseUnavailable()
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return DatabaseUnavailable()
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
        if getattr(getattr(exc, "orig", None), "sqlite_errorname", "") in {"SQLITE_BUSY", "SQLITE_LOCKED"}:
            return DatabaseBusy()
        return DatabaseUnavailable()
    # asyncpg's own errors reach us unwrapped when they happen while connecting (or a pre-ping reconnects)
    if isinstance(
        exc, TimeoutError
    ):  # connect timeout, or command_timeout on a server that stopped answering
        return DatabaseTimeout()
    if isinstance(exc, ConnectionError | socket.gaierror | asyncpg.InterfaceError | asyncpg.PostgresError):
        return DatabaseUnavailable()
    if isinstance(exc, OSError) and _raised_by_driver(exc):
        return DatabaseUnavailable()
    return None


# pydantic error type → Chinese message; ``{name}`` placeholders come from the error's ``ctx``.
_VALIDATION_MESSAGES: dict[str, str] = {
    "missing": "必填项，不能为空",
    "string_type": "必须是字符串",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数",
    "float_type": "必须是数字",
    "float_parsing": "必须是数字",
    "decimal_parsing": "必须是数字",
    "bool_type": "必须是布尔值（true 或 false）",
    "bool_parsing": "必须是布尔值（true 或 false）",
    "greater_than": "必须大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "必须小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "enum": "取值无效，可选值：{expected}",
    "literal_error": "取值无效，可选值：{expected}",
    "date_type": "必须是日期（YYYY-MM-DD）",
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期不能带时间部分",
    "datetime_type": "必须是日期时间",
    "datetime_parsing": "日期时间格式不正确",
    "datetime_from_date_parsing": "日期时间格式不正确",
    "list_type": "必须是列表",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多允许 {max_length} 项",
    "dict_type": "必须是 JSON 对象",
    "model_type": "必须是 JSON 对象",
    "model_attributes_type": "必须是 JSON 对象",
    "extra_forbidden": "不允许的字段",
    "value_error": "{error}",
    "assertion_error": "{error}",
    "url_parsing": "网址格式不正确",
    "json_invalid": "不是合法的 JSON",
    "uuid_parsing": "格式不正确",
}


# errors a field left empty gets from its type ("" is no number, no date, too short): said plainly
_LEFT_EMPTY = frozenset(
    {
        "string_too_short", "int_parsing", "float_parsing", "decimal_parsing", "date_parsing",
        "date_from_datetime_parsing", "datetime_parsing", "datetime_from_date_parsing", "enum",
        "literal_error",
    }
)  # fmt: skip


def _message_for(error: Mapping[str, Any]) -> str:
    value = error.get("input")
    if str(error.get("type")) in _LEFT_EMPTY and isinstance(value, str) and not value.strip():
        return _left_empty(error.get("loc", ()))
    template = _VALIDATION_MESSAGES.get(str(error.get("type")))
    if template is None:
        return "取值不合法"
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    if "expected" in ctx:
        ctx["expected"] = ctx["expected"].replace(" or ", "、").replace(", ", "、").replace("'", "")
    if "error" in ctx:
        # our own validators raise ValueError with a Chinese message; pydantic prefixes it
        ctx["error"] = ctx["error"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    try:
        return template.format(**ctx)
    except KeyError:
        return "取值不合法"


def _left_empty(loc: Sequence[Any]) -> str:
    """``请填写合作目标`` for a required field left empty (``请填写此项`` when its name is unknown)."""
    from app.labels import field_label  # the labels import every domain's models, which import this

    names = [str(p) for p in loc if isinstance(p, str) and p not in {"body", "query", "path", "form"}]
    if not names:
        return "请填写此项"
    label = field_label(names[-1])
    return f"请填写{label}" if label != names[-1] else "请填写此项"


def _field_path(loc: Sequence[Any]) -> str:
    # ("body", "studio", "name") → "studio.name"; ("query", "page_size") → "page_size"
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problems(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Turn pydantic's error list into ``[{"field", "message"}]`` with Chinese messages.

    Args:
        errors: ``RequestValidationError.errors()`` or ``ValidationError.errors()``.

    Returns:
        One entry per problem, in pydantic's order.
    """
    return [{"field": _field_path(e.get("loc", ())), "message": _message_for(e)} for e in errors]


def _problem_response(
    request: Request,
    *,
    code: str,
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    renderer = getattr(request.app.state, "page_problem_renderer", None)
    if renderer is not None and renderer[0](request):
        # a browser on a page gets the same problem as a Chinese page, never JSON or a stack trace
        page: Response = renderer[1](request, status=status, title=title, detail=detail, code=code)
        for name, value in (headers or {}).items():
            if name.lower() != "www-authenticate":
                page.headers[name] = value
        return page
    settings = request.app.state.settings
    # the configured public address, else the one this request reached (any port, behind a proxy
    # the forwarded one): the link to the problem's description must open where the client is
    base = settings.public_url if "public_url" in settings.model_fields_set else str(request.base_url)
    body: dict[str, Any] = {
        "type": f"{base.rstrip('/')}/problems/{code}",
        "code": code,
        "status": status,
        "title": title,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = errors
    for name, value in (extensions or {}).items():
        body.setdefault(name, value)  # an extension never overrides a member RFC 9457 defines
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}))


def problem_from_domain_error(request: Request, exc: DomainError) -> Response:
    """Render a ``DomainError`` as problem+json."""
    return _problem_response(
        request,
        code=exc.code,
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem_from_domain_error(request, exc)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem_from_domain_error(
            request, MalformedJson("请求体不是合法的 JSON，请检查括号、引号和逗号。")
        )
    problems = validation_problems(raw)
    summary = "；".join(f"{field_label(p['field'])}：{p['message']}" for p in problems[:5])
    return problem_from_domain_error(request, RequestInvalid(f"请求参数有误（{summary}）", errors=problems))


# what the framework itself answers (no route, wrong method, body over the cap, …): status → code, title, detail
HTTP_PROBLEMS: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "资源不存在", "请求的地址不存在，请检查网址。"),
    405: ("method_not_allowed", "不支持的请求方法", "该地址不支持此请求方法。"),
    413: ("payload_too_large", "请求体过大", "请求的内容超过了允许的大小，请精简后重试。"),
    415: ("unsupported_media_type", "不支持的内容类型", "请以 application/json 提交数据。"),
}
# any other status a framework HTTPException carries
OTHER_HTTP_PROBLEM = ("http_error", "请求无法处理", "请求无法处理。")


def http_problem(request: Request, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """The problem answer for a framework HTTP status (``HTTP_PROBLEMS``), as the HTTP error handler gives it."""
    code, title, detail = HTTP_PROBLEMS.get(status, OTHER_HTTP_PROBLEM)
    return _problem_response(request, code=code, status=status, title=title, detail=detail, headers=headers)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return http_problem(request, exc.status_code, exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    fault = database_fault(exc)
    if fault is not None:
        # expected while the database restarts: one line each, no traceback flooding the log
        log.warning(
            "request.database_fault path=%s code=%s error=%s: %s",
            request.url.path,
            fault.code,
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "",
        )
        return problem_from_domain_error(request, fault)
    log.error("request.unhandled_error path=%s", request.url.path, exc_info=exc)
    return problem_from_domain_error(request, InternalError())


class UnhandledErrorMiddleware:
    """Answer an exception no handler took (a bug, or database trouble) without closing the connection.

    Starlette sends the response of an ``Exception`` handler from its outermost middleware and then
    re-raises the exception to the server, and uvicorn answers a raised exception by closing the
    keep-alive connection: the client's next request on it would fail too. Caught here, inside that
    middleware, the exception becomes its problem response (``database_fault`` → 503, else 500
    ``internal``) and the connection stays open. Installed by ``register_exception_handlers``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if finished:
                # e.g. a dependency's clean-up after the response went out: the client has its answer
                log.error("request.error_after_response path=%s", scope["path"], exc_info=exc)
                return
            if started:
                raise  # half a response: only closing the connection tells the client
            response = await _on_unexpected(Request(scope, receive), exc)
            await response(scope, receive, send)


def register_exception_handlers(app: FastAPI) -> None:
    """Install every exception → response mapping on ``app``.

    Domain errors, invalid requests and HTTP errors have handlers; anything else (database faults
    included) is answered by ``UnhandledErrorMiddleware``. The ``Exception`` handler only sees what
    escapes the middlewares around it.
    """
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
    app.add_middleware(UnhandledErrorMiddleware)
