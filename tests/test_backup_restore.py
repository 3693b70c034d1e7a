"""Backup and restore (docs/BACKUP.md): ``pg_dump -Fc`` and ``pg_restore`` into a fresh database.

Agreements are made through the services, the real binaries dump and restore the database, and the
restored copy must hold every agreement with its content hash intact (equal to a recomputation from
its terms). Then the service starts on the restored database with an index version stored *after* the
dump (it knows an expert and an order the backup does not) and must still rank an order's experts.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.accounts.security import Actor
from app.agreements import service as agreement_service
from app.agreements.models import Agreement, AgreementStatus
from app.agreements.schemas import AgreementTerms, AgreementTermsUpdate, AmendmentCreate
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.experts.models import Expert
from app.main import create_app
from app.marketplace import service as marketplace_service
from app.proposals.index import MatcherIndex
from app.proposals.models import MatcherBuild, MatcherBuildChunk
from app.studios.models import Studio
from tests.conftest import TEST_DATABASE, create_database, drop_database, own_migrated_database
from tests.factories import bearer, make_achievement, make_expert, make_order, make_studio, make_user

SECRET = "backup-restore-test-secret"
RESTORED = f"{TEST_DATABASE}_restored"

pytestmark = pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
    reason="needs the PostgreSQL client programs (Debian: postgresql-client)",
)


@pytest.fixture(scope="module")
def source_url() -> Iterator[str]:
    """The database that is backed up."""
    yield from own_migrated_database("backup")


@pytest.fixture(scope="module")
def restored_url() -> Iterator[str]:
    """An empty database (not migrated: the dump brings the schema), dropped after."""
    yield create_database(RESTORED)
    drop_database(RESTORED)


def libpq(url: str) -> list[str]:
    """Connection options for the PostgreSQL client programs."""
    parsed = make_url(url)
    options = ["--host", parsed.host or "127.0.0.1", "--port", str(parsed.port or 5432)]
    if parsed.username:
        options += ["--username", parsed.username]
    return [*options, "--dbname", parsed.database or ""]


def client_env(url: str) -> dict[str, str]:
    """The password, if any, goes through the environment, never the command line."""
    password = make_url(url).password
    return {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}


def dump_and_restore(source_url: str, target_url: str, dump: Path) -> None:
    """The procedure of docs/BACKUP.md: a custom-format dump, restored into an empty database."""
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), *libpq(source_url)],
        check=True,
        env=client_env(source_url),
    )
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", *libpq(target_url), str(dump)],
        check=True,
        env=client_env(target_url),
    )


async def deal(session: AsyncSession, title: str, *, stop_at: AgreementStatus) -> Agreement:
    """An order taken, confirmed, agreed and (up to ``stop_at``) signed, through the services."""
    studio = await make_studio(session)
    order = await make_order(session, studio, title=title)
    expert = await make_expert(session)
    await make_achievement(session, expert)
    owner = Actor.of(await make_user(session, UserRole.ENTERPRISE, enterprise_id=studio.enterprise_id))
    taker = Actor.of(await make_user(session, UserRole.EXPERT, expert=expert))
    await session.commit()
    taking = await marketplace_service.take_order(session, taker, order.id, "可到现场")
    agreement = await marketplace_service.confirm_taking(session, owner, taking.id)
    if stop_at is AgreementStatus.DRAFT:
        return agreement
    agreement = await agreement_service.update_terms(
        session,
        owner,
        agreement.id,
        AgreementTermsUpdate(
            goals=f"解决“{title}”的关键问题",
            deliverables="技术方案与现场验证报告",
            duration_months=6,
            start_date=date(2026, 3, 1),
            funding_amount=80_000,
            funding_source="企业自筹",
            version=agreement.version,
        ),
    )
    agreement = await agreement_service.submit_for_signature(session, owner, agreement.id, agreement.version)
    if stop_at is AgreementStatus.PENDING_SIGNATURE:
        return agreement
    await agreement_service.sign(session, owner, agreement.id)
    await agreement_service.sign(session, taker, agreement.id)
    return agreement


async def make_agreements(url: str) -> int:
    """Agreements with and without a hash, one amended after signing; returns an order open to ranking.

    The order is published by the first agreement's enterprise, whose login ranks it after the restore.
    """
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            draft = await deal(session, "主轴振动诊断", stop_at=AgreementStatus.DRAFT)
            studio = await session.get_one(Studio, draft.studio_id)
            open_order = await make_order(session, studio, title="数控机床主轴异响诊断")
            await session.commit()
            await deal(session, "压铸件气孔攻关", stop_at=AgreementStatus.PENDING_SIGNATURE)
            await deal(session, "焊接变形控制", stop_at=AgreementStatus.IN_PROGRESS)
            amended = await deal(session, "电池包箱体激光焊", stop_at=AgreementStatus.IN_PROGRESS)
            parties = (
                await session.execute(select(User).where(User.role != UserRole.ADMIN).order_by(User.id))
            ).scalars()
            actors = [
                Actor.of(u)
                for u in parties
                if u.enterprise_id == amended.enterprise_id or u.expert_id == amended.expert_id
            ]
            await agreement_service.propose_amendment(
                session,
                actors[0],
                amended.id,
                AmendmentCreate(changes=AgreementTerms(funding_amount=120_000), reason="增加激光焊样件试制"),
            )
            for actor in actors:
                await agreement_service.sign_amendment(session, actor, amended.id, 1)
            return open_order.id
    finally:
        await engine.dispose()


async def agreements_of(url: str) -> dict[int, dict[str, Any]]:
    """Every agreement of a database: its status, stored hash and a hash recomputed from its terms."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = (await session.execute(select(Agreement).order_by(Agreement.id))).scalars().all()
            return {
                a.id: {
                    "status": a.status,
                    "content_hash": a.content_hash,
                    "recomputed": agreement_service.terms_hash(a, agreement_service.terms_of(a)),
                    "terms": agreement_service.terms_of(a),
                    "signed": (a.enterprise_signed_at, a.expert_signed_at),
                }
                for a in rows
            }
    finally:
        await engine.dispose()


async def index_newer_than_the_backup(url: str, restored_url: str) -> int:
    """After the dump: a new expert and order on the source, and an index version that includes them,
    copied into the restored database (as if a reindex had stored it after the backup was taken)."""
    engine = create_engine(url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session:
            expert = await make_expert(session, name="备份后新增专家")
            await make_achievement(session, expert, title="数控机床主轴振动在线诊断系统")
            await make_order(session, title="备份后发布的主轴诊断需求")
            await session.commit()
        built = await MatcherIndex(sessions).build()
        async with sessions() as session:
            build = await session.get_one(MatcherBuild, built.build_id)
            row = {c.name: getattr(build, c.key) for c in MatcherBuild.__table__.columns}
            chunks = (
                await session.execute(
                    select(MatcherBuildChunk.seq, MatcherBuildChunk.data).where(
                        MatcherBuildChunk.build_id == build.id
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    restored = create_engine(restored_url)
    try:
        async with create_sessionmaker(restored)() as session:
            row["id"] = 10_000  # newer than any build the backup holds
            await session.execute(insert(MatcherBuild), [row])
            await session.execute(
                insert(MatcherBuildChunk),
                [{"build_id": 10_000, "seq": seq, "data": data} for seq, data in chunks],
            )
            await session.commit()
    finally:
        await restored.dispose()
    return expert.id


async def test_a_restored_database_keeps_every_agreement_and_ranks(
    source_url: str, restored_url: str, tmp_path: Path
) -> None:
    order_id = await make_agreements(source_url)
    before = await agreements_of(source_url)
    assert {a["status"] for a in before.values()} == {
        AgreementStatus.DRAFT,
        AgreementStatus.PENDING_SIGNATURE,
        AgreementStatus.IN_PROGRESS,
    }

    await asyncio.to_thread(dump_and_restore, source_url, restored_url, tmp_path / "studio-match.dump")

    after = await agreements_of(restored_url)
    assert after == before  # every agreement, its status, terms, signatures and stored hash
    hashed = [a for a in after.values() if a["status"] is not AgreementStatus.DRAFT]
    assert len(hashed) == 3
    for agreement in hashed:
        assert agreement["content_hash"] == agreement["recomputed"]

    # the newest index version was built after the backup: it knows an expert the restored database lacks
    newer_expert = await index_newer_than_the_backup(source_url, restored_url)
    settings = Settings(
        database_url=restored_url, public_url="http://testserver", log_format="text", secret_key=SECRET
    )
    app = create_app(settings)
    engine = create_engine(restored_url)
    try:
        async with create_sessionmaker(engine)() as session:
            enterprise_id = (await session.get_one(Agreement, min(after))).enterprise_id
            owner = (
                await session.execute(select(User).where(User.enterprise_id == enterprise_id))
            ).scalar_one()
            restored_experts = set((await session.execute(select(Expert.id))).scalars())
            owner_login = bearer(owner, SECRET, session)
            await session.commit()
    finally:
        await engine.dispose()
    assert newer_expert not in restored_experts

    async with (
        app.router.lifespan_context(app),
        AsyncClient(
            transport=ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
        ) as http,
    ):
        response = await http.post(f"/api/v1/orders/{order_id}/proposals", headers=owner_login)
        assert response.status_code == 201, response.text
        ranked = {p["expert_id"] for p in response.json()}
        assert ranked and ranked <= restored_experts
