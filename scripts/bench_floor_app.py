"""The floor of the stack, for ``bench_http.py``: the same two reads as reading an order, and nothing else.

FastAPI, uvicorn, SQLAlchemy (Core, no ORM) and asyncpg on the same database, one transaction with an
indexed lookup of a login session by token hash and the order by id, the order returned as JSON. No
middleware, no dependencies, no authentication rules, no pydantic models. What the service's own read
costs beyond this is the service's overhead; what this costs is what any service on this stack and
machine pays. Served by ``uvicorn scripts.bench_floor_app:app`` with ``STUDIO_MATCH_DATABASE_URL`` set.
"""

from __future__ import annotations

import hashlib
import os

from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(os.environ["STUDIO_MATCH_DATABASE_URL"], pool_size=10, max_overflow=10)
app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

_SESSION = text("SELECT user_id FROM user_sessions WHERE token_hash = :token_hash")
_ORDER = text(
    "SELECT id, studio_id, title, description, need_kind, fields, budget_min, budget_max, deadline, "
    "province, city, district, town, slots, status, published_at, version, created_at, updated_at "
    "FROM orders WHERE id = :order_id"
)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive."""
    return {"status": "ok"}


@app.get("/api/v1/orders/{order_id}")
async def read_order(order_id: int, request: Request) -> dict[str, object]:
    """The session lookup and the order, in one transaction."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    async with engine.begin() as connection:
        await connection.execute(_SESSION, {"token_hash": hashlib.sha256(token.encode()).hexdigest()})
        row = (await connection.execute(_ORDER, {"order_id": order_id})).mappings().first()
    return dict(row) if row else {}
