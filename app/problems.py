"""``/problems/{code}``: the Chinese page each problem+json ``type`` points to."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.errors import HTTP_PROBLEMS, OTHER_HTTP_PROBLEM, DomainError

router = APIRouter(include_in_schema=False)


def known_problems() -> dict[str, type[DomainError]]:
    """Every ``DomainError`` subclass that has been imported, by its stable code."""
    found: dict[str, type[DomainError]] = {}
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


def problem_catalogue() -> dict[str, tuple[int, str]]:
    """Every code a problem+json answer can carry → its HTTP status and Chinese title.

    The domain errors, and what the framework itself answers (no such route, wrong method, a body over
    the cap, any other HTTP error); a domain error's entry wins where both name a code.
    """
    catalogue = {code: (status, title) for status, (code, title, _) in HTTP_PROBLEMS.items()}
    catalogue[OTHER_HTTP_PROBLEM[0]] = (400, OTHER_HTTP_PROBLEM[1])
    catalogue |= {code: (cls.status, cls.title) for code, cls in known_problems().items()}
    return catalogue


@router.get("/problems/{code}", response_class=HTMLResponse)
async def problem_page(code: str) -> HTMLResponse:
    """Explain one problem code in Chinese (404 for an unknown code)."""
    problem = problem_catalogue().get(code)
    if problem is None:
        body = f"<h1>未知的错误代码</h1><p>没有名为 <code>{escape(code)}</code> 的错误代码。</p>"
        return HTMLResponse(_page("未知的错误代码", body), status_code=404)
    status, title = problem
    body = (
        f"<h1>{escape(title)}</h1>"
        f"<p>错误代码：<code>{escape(code)}</code>；HTTP 状态码：{status}。</p>"
        "<p>接口返回的 <code>detail</code> 字段说明了这次请求的具体原因和修改方法；"
        "<code>errors</code> 字段（如有）逐项列出有问题的字段。</p>"
    )
    return HTMLResponse(_page(title, body))


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{escape(title)} - studio-match</title>'
        f"<body>{body}</body></html>"
    )
