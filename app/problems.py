"""``/problems/{code}``: the Chinese page each problem+json ``type`` points to."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.errors import DomainError

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


@router.get("/problems/{code}", response_class=HTMLResponse)
async def problem_page(code: str) -> HTMLResponse:
    """Explain one problem code in Chinese (404 for an unknown code)."""
    problem = known_problems().get(code)
    if problem is None:
        body = f"<h1>未知的错误代码</h1><p>没有名为 <code>{escape(code)}</code> 的错误代码。</p>"
        return HTMLResponse(_page("未知的错误代码", body), status_code=404)
    body = (
        f"<h1>{escape(problem.title)}</h1>"
        f"<p>错误代码：<code>{escape(problem.code)}</code>；HTTP 状态码：{problem.status}。</p>"
        "<p>接口返回的 <code>detail</code> 字段说明了这次请求的具体原因和修改方法；"
        "<code>errors</code> 字段（如有）逐项列出有问题的字段。</p>"
    )
    return HTMLResponse(_page(problem.title, body))


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{escape(title)} - studio-match</title>'
        f"<body>{body}</body></html>"
    )
