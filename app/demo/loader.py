"""Load the demo data (``app/demo/data.json``) through the same services the API uses, all or nothing."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Any

from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import UserRole
from app.accounts.schemas import UserCreate
from app.accounts.security import Actor
from app.achievements import service as achievement_service
from app.achievements.schemas import AchievementCreate
from app.clock import local_today, utcnow
from app.db import create_engine
from app.demo.history import play_history
from app.enterprises import service as enterprise_service
from app.enterprises.schemas import EnterpriseCreate
from app.experts import service as expert_service
from app.experts.schemas import ExpertCreate
from app.orders import service as order_service
from app.orders.models import Order, OrderStatus
from app.orders.schemas import OrderCreate
from app.studios import service as studio_service
from app.studios.schemas import StudioCreate

log = logging.getLogger(__name__)

# One login per role, documented in the README. Demo only: change or remove them in production.
# public (printed in the README and on the login page in development mode): demo installations only
DEMO_PASSWORD = "demo-2026-public"
DEMO_ADMIN = "admin"
DEMO_ENTERPRISE_USER = "enterprise"
DEMO_EXPERT_USER = "expert"


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """How many records the loader wrote (all zero and ``skipped`` when the demo was already there)."""

    skipped: bool = False
    enterprises: int = 0
    studios: int = 0
    experts: int = 0
    achievements: int = 0
    orders: int = 0
    users: int = 0
    agreements: int = 0


def read_demo_data() -> dict[str, Any]:
    """Return the demo data set shipped inside the package."""
    text = resources.files("app.demo").joinpath("data.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


async def load_demo(database_url: str, *, show_progress: bool = True) -> DemoSummary:
    """Load the demo data into a migrated database unless it is there already.

    Everything is written in one outer transaction: each service's ``commit()`` only releases a
    savepoint, so a failure halfway leaves the database as it was and a rerun starts clean.
    """
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            outer = await connection.begin()
            async with AsyncSession(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            ) as session:
                summary = await load_demo_into(session, show_progress=show_progress)
            await outer.commit()
            return summary
    finally:
        await engine.dispose()


async def load_demo_into(session: AsyncSession, *, show_progress: bool = False) -> DemoSummary:
    """Write the demo records with ``session``; skip when the demo administrator already exists."""
    if await account_service.username_taken(session, DEMO_ADMIN):
        log.info("demo.skipped reason=already_loaded")
        return DemoSummary(skipped=True)
    data = read_demo_data()
    total = sum(len(data[k]) for k in ("enterprises", "studios", "experts", "orders")) + 3
    with Progress(disable=not show_progress, transient=True) as progress:
        task = progress.add_task("加载演示数据", total=total)

        def advance() -> None:
            progress.advance(task)

        enterprise_ids: dict[str, int] = {}
        for item in data["enterprises"]:
            fields = {k: v for k, v in item.items() if k != "key"}
            enterprise = await enterprise_service.register_enterprise(
                session, None, EnterpriseCreate(**fields)
            )
            enterprise_ids[item["key"]] = enterprise.id
            advance()

        studio_ids: dict[str, int] = {}
        for item in data["studios"]:
            fields = {k: v for k, v in item.items() if k not in {"key", "enterprise"}}
            studio = await studio_service.register_studio(
                session, None, StudioCreate(enterprise_id=enterprise_ids[item["enterprise"]], **fields)
            )
            studio_ids[item["key"]] = studio.id
            advance()

        expert_ids: dict[str, int] = {}
        achievements = 0
        for item in data["experts"]:
            fields = {k: v for k, v in item.items() if k not in {"key", "achievements"}}
            expert = await expert_service.register_expert(session, None, ExpertCreate(**fields))
            expert_ids[item["key"]] = expert.id
            for achievement in item["achievements"]:
                await achievement_service.publish_achievement(
                    session, None, AchievementCreate(expert_id=expert.id, **achievement)
                )
                achievements += 1
            advance()

        orders = []
        for item in data["orders"]:
            orders.append(await _load_order(session, item, studio_ids))
            advance()

        users = [
            UserCreate(
                username=DEMO_ADMIN,
                password=DEMO_PASSWORD,
                display_name="市总工会管理员",
                role=UserRole.ADMIN,
            ),
            UserCreate(
                username=DEMO_ENTERPRISE_USER,
                password=DEMO_PASSWORD,
                display_name=f"{data['enterprises'][0]['name']}（企业用户）",
                role=UserRole.ENTERPRISE,
                enterprise_id=enterprise_ids[data["enterprises"][0]["key"]],
            ),
            UserCreate(
                username=DEMO_EXPERT_USER,
                password=DEMO_PASSWORD,
                display_name=f"{data['experts'][0]['name']}（专家）",
                role=UserRole.EXPERT,
                expert_id=expert_ids[data["experts"][0]["key"]],
            ),
        ]
        logins = {}
        for key, user in zip(("admin", "enterprise", "expert"), users, strict=True):
            logins[key] = Actor.of(await account_service.create_user(session, None, user))
            advance()
        progress.update(task, description="演示一年的撮合与合作")
        names = {expert_ids[item["key"]]: item["name"] for item in data["experts"]}
        agreements = await play_history(
            session, orders, logins, DEMO_PASSWORD, everyone=(names, list(enterprise_ids.values()))
        )
        accounts = await account_service.count_accounts(session)

    summary = DemoSummary(
        enterprises=len(enterprise_ids),
        studios=len(studio_ids),
        experts=len(expert_ids),
        achievements=achievements,
        orders=len(data["orders"]),
        users=accounts,
        agreements=agreements,
    )
    log.info("demo.loaded %s", summary)
    return summary


async def _load_order(session: AsyncSession, item: dict[str, Any], studio_ids: dict[str, int]) -> Order:
    fields = {k: v for k, v in item.items() if k not in {"key", "studio", "status", "deadline_in_days"}}
    order = await order_service.post_order(
        session, None, OrderCreate(studio_id=studio_ids[item["studio"]], **fields)
    )
    # The demo shows orders in every state, including ones whose deadline has passed; the workflow that
    # moves orders between states comes with the marketplace, so the fixture sets them directly.
    status = OrderStatus(item["status"])
    order.deadline = local_today() + timedelta(days=int(item["deadline_in_days"]))
    order.status = status
    if status is not OrderStatus.DRAFT:
        order.published_at = utcnow() - timedelta(days=max(1, 60 - int(item["deadline_in_days"]) // 3))
    await session.flush()
    await session.commit()
    return order
