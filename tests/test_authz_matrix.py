"""The authorisation matrix: every route of the app, six actors, records owned by enterprise A.

The rules live in ``tests/authz_rules.py``; the records and the rolled-back app in ``tests/authz_world.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Mount

from app.accounts.security import SESSION_COOKIE
from app.config import Settings
from app.web.csrf import CSRF_COOKIE, CSRF_HEADER
from tests.authz_rules import ACTORS, DEFAULT_PATH, RULES, Case, Outcome, World
from tests.authz_world import RolledBackApp, rolled_back_app

try:  # FastAPI 0.165 includes routers lazily: app.routes holds the included routers, not their routes
    from fastapi.routing import iter_route_contexts
except ImportError:  # earlier versions copy every route into app.routes

    def iter_route_contexts(routes: Any) -> Any:  # type: ignore[misc]
        return iter(routes)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSRF = "matrix-csrf-token"


@pytest.fixture(scope="module")
async def matrix(settings: Settings, engine: AsyncEngine) -> AsyncIterator[RolledBackApp]:
    """Enterprise A's records and the six actors' logins, built once for the module."""
    async with rolled_back_app(settings, engine) as app:
        yield app


def route_keys(app: FastAPI) -> set[tuple[str, str]]:
    """``(METHOD, path template)`` of every route of ``app`` (HEAD and static mounts left out)."""
    keys: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(getattr(route, "original_route", route), Mount) or route.path is None:
            continue
        keys.update((method, route.path) for method in route.methods or () if method != "HEAD")
    return keys


async def send(matrix: RolledBackApp, method: str, path: str, actor: str, case: Case) -> Response:
    """Send ``case`` as ``actor``: a bearer token to the API, the session cookie (and CSRF token) to pages."""
    world = matrix.world
    url = path.format(**{name: _resolve(world, value) for name, value in _path_values(path, case).items()})
    headers: dict[str, str] = {}
    token = matrix.tokens.get(actor)
    if url.startswith("/api/"):
        if token:
            headers["Authorization"] = f"Bearer {token}"
    else:
        cookies = {CSRF_COOKIE: CSRF} | ({SESSION_COOKIE: token} if token else {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        headers[CSRF_HEADER] = CSRF
    kwargs: dict[str, Any] = {"headers": headers, "params": dict(case.query)}
    if case.json is not None:
        kwargs["json"] = case.json(world)
    if case.form is not None:
        kwargs["data"] = {k: str(v) for k, v in case.form(world).items()}
    if case.upload is not None:
        kwargs["files"] = {"file": ("导入.xlsx", case.upload(), XLSX)}
    return await matrix.request(method, url, **kwargs)


def _path_values(path: str, case: Case) -> dict[str, Any]:
    names = [part.split("}")[0] for part in path.split("{")[1:]]
    return {name: case.path.get(name, DEFAULT_PATH.get(name)) for name in names}


def _resolve(world: World, value: Any) -> Any:
    return getattr(world, value) if isinstance(value, str) and hasattr(world, value) else value


def outcome_of(response: Response) -> Outcome:
    """What the response amounts to, in the terms of the rules."""
    if 200 <= response.status_code < 300:
        return Outcome("ok")
    if response.status_code in (301, 302, 303, 307, 308):
        login = response.headers.get("location", "").startswith("/login")
        return Outcome("login" if login else "ok")
    code = None
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        code = response.json().get("code")
    return Outcome("status", response.status_code, code)


def matches(expected: Outcome, got: Outcome) -> bool:
    """True if ``got`` is what ``expected`` asks for (a problem code only when the rule names one)."""
    if expected.kind != got.kind:
        return False
    return expected.kind != "status" or (
        expected.status == got.status and (expected.code is None or expected.code == got.code)
    )


# ---------------------------------------------------------------------------------------------- the tests


async def test_every_route_has_a_rule_and_every_rule_a_route(matrix: RolledBackApp) -> None:
    routes = route_keys(matrix.app)
    missing = sorted(routes - RULES.keys())
    stale = sorted(RULES.keys() - routes)
    message = []
    if missing:
        message.append("routes without an authorisation rule (add them to tests/authz_rules.py):")
        message += [f"  {method} {path}" for method, path in missing]
    if stale:
        message.append("rules for routes that no longer exist (remove them from tests/authz_rules.py):")
        message += [f"  {method} {path}" for method, path in stale]
    assert not message, "\n".join(message)


@pytest.mark.parametrize(("method", "path"), sorted(RULES), ids=[f"{m} {p}" for m, p in sorted(RULES)])
async def test_each_actor_gets_what_the_rule_says(matrix: RolledBackApp, method: str, path: str) -> None:
    wrong = []
    for number, case in enumerate(RULES[method, path], start=1):
        assert set(case.outcomes) == set(ACTORS), f"case {number} must name all six actors"
        for actor in ACTORS:
            response = await send(matrix, method, path, actor, case)
            assert response.status_code < 500, (actor, case, response.text[:500])
            got = outcome_of(response)
            if not matches(case.outcomes[actor], got):
                detail = response.text[:200].replace("\n", " ")
                wrong.append(
                    f"case {number} {case.path or ''} {actor}: expected {case.outcomes[actor]}, got {got} — {detail}"
                )
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)
