"""A worker killed (SIGKILL) in the middle of signing: every agreement is fully signed or not at all.

A real server process on a database of this module's own takes a burst of signatures from both
parties of many agreements and is killed while they are in flight. Afterwards each agreement must be
in a state a signing could have left: each side's signature complete (who and when) or absent, the
agreement in force exactly when both signed, one audit event per signature, and every signature the
server acknowledged (200) present.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.agreements.models import Agreement, AgreementStatus
from app.audit.models import AuditEvent
from app.config import DEV_SECRET_KEY
from app.db import create_engine
from tests.conftest import own_migrated_database
from tests.factories import bearer, make_agreement, make_expert, make_user

AGREEMENTS = 120


@pytest.fixture(scope="module")
def crash_database_url() -> Iterator[str]:
    yield from own_migrated_database("crash")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _pending_agreements(url: str) -> list[tuple[int, User, User]]:
    engine = create_engine(url)
    made = []
    async with AsyncSession(engine, expire_on_commit=False) as session:
        expert = await make_expert(session)
        expert_user = await make_user(session, UserRole.EXPERT, expert=expert)
        for _ in range(AGREEMENTS):
            agreement = await make_agreement(session, expert=expert)
            owner = await make_user(session, UserRole.ENTERPRISE, enterprise_id=agreement.enterprise_id)
            made.append((agreement.id, owner, expert_user))
        await session.commit()
    await engine.dispose()
    return made


async def _sign_until_killed(
    base: str, signers: list[tuple[int, User]], server: asyncio.subprocess.Process
) -> set[tuple[int, int]]:
    acknowledged: set[tuple[int, int]] = set()
    answered = asyncio.Event()

    async def sign(client: httpx.AsyncClient, agreement_id: int, user: User) -> None:
        try:
            response = await client.post(
                f"{base}/api/v1/agreements/{agreement_id}/sign", json={}, headers=bearer(user, DEV_SECRET_KEY)
            )
        except httpx.TransportError:
            return  # the server died with this request in flight
        if response.status_code == 200:
            acknowledged.add((agreement_id, user.id))
            if len(acknowledged) >= 15:
                answered.set()

    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        requests = [asyncio.create_task(sign(client, a, u)) for a, u in signers]
        await asyncio.wait_for(answered.wait(), timeout=60)
        server.send_signal(signal.SIGKILL)  # mid-burst: no shutdown, no cleanup
        await asyncio.gather(*requests)
    return acknowledged


async def test_a_worker_killed_mid_signing_leaves_every_agreement_signed_or_not(
    crash_database_url: str,
) -> None:
    made = await _pending_agreements(crash_database_url)
    signers = [s for a, owner, expert in made for s in ((a, owner), (a, expert))]
    port = _free_port()
    env = {**os.environ, "STUDIO_MATCH_DATABASE_URL": crash_database_url, "STUDIO_MATCH_LOG_LEVEL": "WARNING"}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=1) as probe:
            while True:
                try:
                    if (await probe.get(f"{base}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.returncode is None, "the server did not start"
                await asyncio.sleep(0.2)
        acknowledged = await _sign_until_killed(base, signers, server)
    finally:
        if server.returncode is None:
            server.kill()
        await asyncio.wait_for(server.wait(), timeout=30)

    engine = create_engine(crash_database_url)
    async with AsyncSession(engine) as session:
        agreements = (
            await session.scalars(select(Agreement).where(Agreement.id.in_([a for a, _, _ in made])))
        ).all()
        events = dict(
            (
                await session.execute(
                    select(AuditEvent.entity_id, func.count())
                    .where(AuditEvent.action == "agreement.signed", AuditEvent.entity_type == "agreements")
                    .group_by(AuditEvent.entity_id)
                )
            ).all()
        )
    await engine.dispose()

    signatures = 0
    for agreement in agreements:
        enterprise = agreement.enterprise_signed_at is not None
        expert = agreement.expert_signed_at is not None
        assert enterprise == (agreement.enterprise_signed_by_user_id is not None), agreement.id
        assert expert == (agreement.expert_signed_by_user_id is not None), agreement.id
        in_force = agreement.status is AgreementStatus.IN_PROGRESS
        assert in_force == (enterprise and expert), agreement.id
        assert in_force or agreement.status is AgreementStatus.PENDING_SIGNATURE, agreement.id
        assert events.get(agreement.id, 0) == enterprise + expert, agreement.id
        signatures += enterprise + expert
    signed_by = {
        (a.id, user_id)
        for a in agreements
        for user_id in (a.enterprise_signed_by_user_id, a.expert_signed_by_user_id)
        if user_id is not None
    }
    assert acknowledged <= signed_by  # nothing the server answered 200 for was lost
    assert len(acknowledged) <= signatures < len(signers)  # the kill did come mid-burst
