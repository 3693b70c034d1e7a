"""The Jinja2 environment of the pages, with the helpers every template uses."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.labels import field_label, label
from app.web.csrf import CSRF_FIELD, CSRF_HEADER, csrf_token, remember_csrf
from app.web.forms import FLASH_MESSAGES

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
CHINA = ZoneInfo("Asia/Shanghai")

templates = Jinja2Templates(directory=TEMPLATES_DIR)


def _local(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(CHINA).strftime(fmt)
    return value.strftime("%Y-%m-%d")


def _yuan(value: float | int | None) -> str:
    if value is None:
        return "—"
    if value >= 10_000:
        return f"{value / 10_000:,.1f} 万元".replace(".0 万", " 万")
    return f"{value:,.0f} 元"


templates.env.globals.update(
    label=label, field_label=field_label, CSRF_FIELD=CSRF_FIELD, CSRF_HEADER=CSRF_HEADER
)
templates.env.filters.update(local=_local, yuan=_yuan)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page (request first, autoescape on), with the CSRF token and the logged-in user."""
    values = {"csrf_token": csrf_token(request), "actor": getattr(request.state, "actor", None)}
    # who is logged in, for the header (display name): set by the authentication dependency
    values |= {"account": getattr(request.state, "account", None)}
    values |= {"unread": getattr(request.state, "unread", 0)}
    values |= {"flash": FLASH_MESSAGES.get(request.query_params.get("flash", ""))}
    values |= context or {}
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    remember_csrf(request, response)
    return response
