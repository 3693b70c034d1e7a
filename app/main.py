"""The FastAPI application: ``create_app(settings)`` wires settings, database, errors, logging and routers."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.pages import router as accounts_pages
from app.accounts.router import router as accounts_router
from app.accounts.service import AuthConfig
from app.achievements.router import router as achievements_router
from app.agreements.pages import router as agreements_pages
from app.agreements.router import router as agreements_router
from app.body_limit import BodyLimit, BodyLimitMiddleware
from app.config import InsecureSettings, Settings, get_settings
from app.dashboard.pages import router as dashboard_pages
from app.dashboard.router import router as dashboard_router
from app.db import create_engine, create_sessionmaker
from app.enterprises.router import router as enterprises_router
from app.errors import database_fault, register_exception_handlers
from app.experts.pages import router as experts_pages
from app.experts.router import router as experts_router
from app.health.router import router as health_router
from app.jobs.in_process import start_in_process_jobs
from app.logging import RequestIdMiddleware, configure_logging
from app.marketplace.pages import router as marketplace_pages
from app.marketplace.router import router as marketplace_router
from app.notifications.pages import router as notifications_pages
from app.notifications.router import router as notifications_router
from app.orders.pages import router as orders_pages
from app.orders.router import router as orders_router
from app.problems import router as problems_router
from app.projects.admin_pages import router as projects_admin_pages
from app.projects.pages import router as projects_pages
from app.projects.router import router as projects_router
from app.proposals.index import MatcherIndex
from app.proposals.pages import router as proposals_pages
from app.proposals.router import router as proposals_router
from app.security_headers import SecurityHeadersMiddleware, served_over_https
from app.studios.pages import router as studios_pages
from app.studios.router import router as studios_router
from app.transfer.errors import UploadTooLarge
from app.transfer.pages import router as transfer_pages
from app.transfer.router import MULTIPART_ALLOWANCE
from app.transfer.router import router as transfer_router
from app.web.csrf import CsrfMiddleware
from app.web.errors import register_page_errors

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, freeze_heap: bool = False) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when omitted).

    The engine is created in the lifespan, never at import time, so tests and workers each get their own.
    ``freeze_heap`` (a served worker): once started, what is loaded is kept out of the collector's
    full passes (``gc.freeze``), which otherwise walk it all — about 0.1 s with every request waiting.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, echo=settings.sql_echo, limits=settings.database)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        # the matcher index reads through a small pool of its own: requests holding their
        # connections while they wait for the index must never starve the read they wait for
        index_engine = create_engine(
            settings.database_url,
            echo=settings.sql_echo,
            limits=settings.database.model_copy(update={"pool_size": 2, "max_overflow": 2}),
        )
        app.state.index_sessionmaker = create_sessionmaker(index_engine)
        # the embedded database has no queue: jobs and their schedules run in this process
        app.state.in_process_jobs = in_process_jobs = start_in_process_jobs(
            engine, settings, app.state.sessionmaker, app.state.matcher_index
        )
        log.info("app.started database=%s", engine.url.get_backend_name())
        await _warm_matcher(app)
        if freeze_heap:
            _freeze_heap()
        poller = asyncio.create_task(_follow_feed(app.state.matcher_index, settings.matcher_poll_seconds))
        try:
            yield
        finally:
            poller.cancel()
            if in_process_jobs is not None:
                await in_process_jobs.stop()
            await index_engine.dispose()
            # uvicorn waits for in-flight requests on SIGTERM before this runs; then connections close cleanly
            await engine.dispose()
            log.info("app.stopped")

    app = FastAPI(
        title="studio-match 产才对接平台",
        description="劳模/工匠创新工作室与科技镇长团专家的需求发单、接单与匹配服务。",
        version="0.1.0",
        lifespan=lifespan,
        # the stock pages load Swagger UI and ReDoc from a CDN with an inline script: /docs is ours
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # the index reads through the app's own sessions (created in the lifespan), never a request's:
    # a request's uncommitted writes must not leak into the state every request ranks with
    app.state.matcher_index = MatcherIndex(lambda: app.state.index_sessionmaker())
    # session tokens, the password hashing threads and the login throttle's limits
    app.state.auth = AuthConfig.from_settings(settings)

    register_exception_handlers(app)
    _add_edge_middleware(app, settings)
    app.add_middleware(RequestIdMiddleware)

    # each API router is included on the app itself: FastAPI matches a request against every router
    # of each level it passes (twice), so one level fewer is less work on every request
    for router in (
        accounts_router,
        enterprises_router,
        studios_router,
        experts_router,
        achievements_router,
        orders_router,
        proposals_router,
        notifications_router,
        marketplace_router,
        agreements_router,
        projects_router,
        transfer_router,
        dashboard_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health_router)
    app.include_router(problems_router)

    register_page_errors(app)
    # /orders/new before /orders/{order_id}
    for page_router in (
        accounts_pages,
        orders_pages,
        marketplace_pages,
        agreements_pages,
        proposals_pages,
        experts_pages,
        projects_pages,
        dashboard_pages,
        notifications_pages,
        projects_admin_pages,
        studios_pages,
        transfer_pages,
    ):
        app.include_router(page_router)
    _mount_static(app)

    return app


# the XLSX imports (API and page) take a larger body than anything else
UPLOAD_PREFIXES = (f"{API_PREFIX}/admin/imports/", "/admin/transfer/imports/")


def _add_edge_middleware(app: FastAPI, settings: Settings) -> None:
    # added innermost first: a request meets the security headers, then the body cap, then the CSRF
    # check, all before routing; every answer (a refusal too) gets the headers
    app.add_middleware(CsrfMiddleware, api_prefix=API_PREFIX, public_url=settings.public_url)
    upload_limit = BodyLimit(
        UPLOAD_PREFIXES,
        settings.max_upload_bytes + MULTIPART_ALLOWANCE,
        lambda: UploadTooLarge(settings.max_upload_bytes),
    )
    app.add_middleware(BodyLimitMiddleware, default_max_bytes=settings.max_body_bytes, limits=[upload_limit])
    https = served_over_https(cookie_secure=settings.cookie_secure, public_url=settings.public_url)
    app.add_middleware(SecurityHeadersMiddleware, api_prefix=API_PREFIX, https=https)


STATIC_DIR = Path(__file__).resolve().parent / "static"
# front-end libraries installed from the npm registry by `npm ci` (never a CDN): file served → package file
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR_FILES = {
    "echarts.min.js": NODE_MODULES / "echarts" / "dist" / "echarts.min.js",
    "htmx.min.js": NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js",
    "swagger-ui-bundle.js": NODE_MODULES / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "swagger-ui.css": NODE_MODULES / "swagger-ui-dist" / "swagger-ui.css",
}
VENDOR_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
# Swagger UI from the npm registry's swagger-ui-dist, started by a script file (the CSP allows no inline one)
DOCS_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>studio-match 产才对接平台 - 接口文档</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui.css">
<script src="/static/vendor/swagger-ui-bundle.js" defer></script>
<script src="/static/docs.js" defer></script>
</head>
<body><div id="swagger-ui" data-openapi-url="/openapi.json"></div></body>
</html>
"""


def _mount_static(app: FastAPI) -> None:
    @app.get("/static/vendor/{name}", include_in_schema=False)
    async def vendor(name: str) -> FileResponse:
        path = VENDOR_FILES.get(name)
        if path is None or not path.exists():
            raise StarletteHTTPException(status_code=404)
        return FileResponse(
            path,
            media_type=VENDOR_MEDIA_TYPES[path.suffix],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """The API's Swagger UI (its files served from the npm package, like ECharts)."""
        if not VENDOR_FILES["swagger-ui-bundle.js"].exists():
            raise StarletteHTTPException(status_code=404)
        return HTMLResponse(DOCS_PAGE)

    missing = [name for name, path in VENDOR_FILES.items() if not path.exists()]
    if missing:
        log.warning("static.vendor_missing files=%s hint='npm ci'", ",".join(missing))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


async def _warm_matcher(app: FastAPI) -> None:
    # load the stored index before the first request (or build the first one, one process at a
    # time); a database that is not migrated yet must not stop the process from starting: /readyz
    # reports that, and the index loads on the first ranking
    try:
        await app.state.matcher_index.current()
    except Exception as exc:
        # the service must come up even if the index cannot be built now; the first ranking retries
        if isinstance(exc, SQLAlchemyError) or database_fault(exc) is not None:
            log.warning("matcher.warm_up_skipped reason=database_not_ready error=%s", type(exc).__name__)
        else:
            log.exception("matcher.warm_up_failed")


def _freeze_heap() -> None:
    # the libraries, the routes and the loaded index live as long as the worker: a full collection
    # walks every one of them (hundreds of thousands of objects) while requests wait; garbage from
    # starting is collected first so nothing unreachable is kept
    gc.collect()
    gc.freeze()
    log.info("app.heap_frozen objects=%s", gc.get_freeze_count())


async def _follow_feed(index: MatcherIndex, interval: float) -> None:
    """Apply the change feed every ``interval`` seconds, so an idle worker is current when asked."""
    while True:
        await asyncio.sleep(interval)
        try:
            await index.refresh()
        except Exception:
            # the database may be restarting: the next round (or the next ranking) catches up
            log.warning("matcher.refresh_failed", exc_info=True)


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory app.main:create_app_from_env``: settings from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    refuse_unfit_settings(settings)
    return create_app(settings, freeze_heap=True)


def refuse_unfit_settings(settings: Settings) -> None:
    """Log why and raise when the settings must not serve (the public development key in production).

    Raises:
        InsecureSettings: see ``Settings.check_fit_to_serve``.
    """
    try:
        settings.check_fit_to_serve()
    except InsecureSettings as refused:
        log.critical("app.refused_to_start reason=%s", refused)
        raise
