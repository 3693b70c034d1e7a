"""What every request pays before its own work: no worker-thread hop for a dependency, one level of routers."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.config import Settings
from app.main import create_app


def _api_routes(routes: Sequence[Any]) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI ≥ 0.160 includes routers lazily
        if included is not None:
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _is_async(call: Any) -> bool:
    # a function, or an instance whose __call__ is async (HTTPBearer)
    target = call if inspect.isfunction(call) else type(call).__call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def test_no_dependency_runs_in_a_worker_thread() -> None:
    # FastAPI runs a plain `def` dependency in the thread pool: a thread hop on every request for a
    # function that only reads app.state or builds a small value
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    sync = sorted(
        {
            f"{route.path}: {dep.call.__module__}.{dep.call.__qualname__}"
            for route in _api_routes(app.routes)
            for dep in _dependencies(route.dependant)
            if dep.call is not None and not _is_async(dep.call)
        }
    )
    assert not sync, "\n".join(sync)


def test_the_api_routers_hang_directly_from_the_app() -> None:
    # each level of included routers is matched twice per request (FastAPI 0.165): one level, not two
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    for route in app.routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            nested = [r for r in included.routes if getattr(r, "original_router", None) is not None]
            assert not nested, f"{included.prefix or '/'} includes routers of its own"
