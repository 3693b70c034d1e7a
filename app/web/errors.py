"""Errors on pages: a Chinese error page (never a stack trace or English exception text), and the
redirect to the login page."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts.errors import PasswordChangeRequired
from app.errors import problem_from_domain_error
from app.web.deps import LoginRequired
from app.web.templating import render

PROBE_PATHS = frozenset({"/healthz", "/readyz"})


def is_page(request: Request) -> bool:
    """True for page requests (everything outside the JSON API, the probes, the docs and the problem pages)."""
    path = request.url.path
    if path in PROBE_PATHS:
        return False  # load balancers and orchestrators read problem+json, never an HTML page
    return not path.startswith(("/api/", "/docs", "/openapi", "/redoc", "/problems/", "/static/"))


def problem_page(request: Request, *, status: int, title: str, detail: str, code: str) -> Response:
    """The Chinese error page for a problem on a page request."""
    return render(
        request,
        "error.html",
        {"title": title, "detail": detail, "code": code, "status": status},
        status_code=status,
    )


async def _on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)


async def _on_password_change_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PasswordChangeRequired)
    if is_page(request):  # a temporary password: every page leads to the change form first
        return RedirectResponse("/account/password", status_code=303)
    return problem_from_domain_error(request, exc)


def register_page_errors(app: FastAPI) -> None:
    """Install the login and change-password redirects and make ``app.errors`` render problems on pages as HTML."""
    app.add_exception_handler(LoginRequired, _on_login_required)
    app.add_exception_handler(PasswordChangeRequired, _on_password_change_required)
    app.state.page_problem_renderer = (is_page, problem_page)
