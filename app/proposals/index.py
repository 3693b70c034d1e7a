"""The service's matcher index: built from the database, kept fresh as records change, shared through a file.

Requests never fit: the index is built at start-up (or loaded from the file ``studio-match reindex``
writes), and records changed since then are added to it before the next ranking, without a refit.
Changes are noticed by a session hook: whatever a service commits about an expert, an achievement,
an order or an agreement marks the matching records as changed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from app.clock import utcnow
from app.experts import service as expert_service
from app.models import Achievement, Agreement, Expert, Order
from app.orders import service as order_service
from app.proposals.profiles import load_expert_profiles, load_open_orders
from matching import Matcher

log = logging.getLogger(__name__)

INDEX_INFO_KEY = "matcher_index"
_PENDING_INFO_KEY = "matcher_pending"
Progress = Callable[[str], None]


class MatcherIndex:
    """Holds the fitted matcher of one process and keeps it in step with the database.

    Args:
        path: where the fitted matcher is shared between workers (``None``: kept in memory only).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.matcher: Matcher | None = None
        self.snapshot_at: datetime | None = None
        self._file_mtime: float | None = None
        self._changed_experts: set[int] = set()
        self._changed_orders: set[int] = set()
        self._lock = asyncio.Lock()

    def mark_changed(self, experts: set[int], orders: set[int]) -> None:
        """Note records whose committed changes the index has not seen yet."""
        self._changed_experts |= experts
        self._changed_orders |= orders

    async def current(self, session: AsyncSession) -> Matcher | None:
        """The up-to-date matcher (``None`` while there is no expert to match)."""
        async with self._lock:
            stale = self.matcher is None or self._file_changed()
            if stale and not await self._load_file(session):
                await self._build(session)
            if self.matcher is not None and (self._changed_experts or self._changed_orders):
                await self._apply_changes(session)
            return self.matcher

    async def rebuild(self, session: AsyncSession, progress: Progress | None = None) -> Matcher | None:
        """Refit from scratch on the whole database and write the shared file (``studio-match reindex``)."""
        async with self._lock:
            await self._build(session, progress)
            return self.matcher

    async def _build(self, session: AsyncSession, progress: Progress | None = None) -> None:
        say = progress or (lambda _step: None)
        snapshot_at = utcnow()  # taken first: a change made while we read is picked up later, not lost
        say("读取专家与科技成果")
        experts = await load_expert_profiles(session)
        say("读取已发布的需求")
        orders = await load_open_orders(session)
        self._changed_experts.clear()
        self._changed_orders.clear()
        if not experts:
            self.matcher, self.snapshot_at = None, snapshot_at
            return
        say(f"分词并建立索引（{len(experts)} 位专家、{len(orders)} 条需求）")
        # fitting is CPU work: keep the event loop serving other requests meanwhile
        self.matcher = await asyncio.to_thread(Matcher().fit, experts, orders)
        self.snapshot_at = snapshot_at
        log.info(
            "matcher.built experts=%s orders=%s version=%s", len(experts), len(orders), self.matcher.version_
        )
        if self.path is not None:
            say("写入索引文件")
            self._save()

    def _save(self) -> None:
        assert self.path is not None and self.matcher is not None and self.snapshot_at is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # a staging name per process: several workers may build at the same start-up
        staging = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        self.matcher.save(str(staging))
        staging.replace(self.path)  # atomic: a worker never loads a half-written file
        # the snapshot time goes second: a reader that sees the new matcher with the old time applies
        # a few changes twice (harmless); the other way round it would miss some
        meta_staging = staging.with_name(staging.name + ".json")
        meta_staging.write_text(json.dumps({"snapshot_at": self.snapshot_at.isoformat()}))
        meta_staging.replace(self._meta_path())
        self._file_mtime = self.path.stat().st_mtime

    def _meta_path(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".json")

    def _file_changed(self) -> bool:
        if self.path is None or not self.path.exists():
            return False
        return self._file_mtime is None or self.path.stat().st_mtime > self._file_mtime

    async def _load_file(self, session: AsyncSession) -> bool:
        if self.path is None or not self.path.exists() or not self._meta_path().exists():
            return False
        try:
            matcher = await asyncio.to_thread(Matcher.load, str(self.path))
            snapshot_at = datetime.fromisoformat(json.loads(self._meta_path().read_text())["snapshot_at"])
        except Exception:
            # a truncated or foreign file (any unpickling error) must not stop matching: rebuild instead
            log.warning("matcher.file_unreadable path=%s", self.path, exc_info=True)
            return False
        self.matcher, self.snapshot_at = matcher, snapshot_at
        self._file_mtime = self.path.stat().st_mtime
        # whatever changed after the file was written is applied on top of it
        self._changed_experts |= await expert_service.experts_changed_since(session, snapshot_at)
        self._changed_orders |= await order_service.orders_changed_since(session, snapshot_at)
        log.info("matcher.loaded path=%s version=%s", self.path, matcher.version_)
        return True

    async def _apply_changes(self, session: AsyncSession) -> None:
        assert self.matcher is not None
        experts, orders = set(self._changed_experts), set(self._changed_orders)
        self._changed_experts -= experts
        self._changed_orders -= orders
        profiles = await load_expert_profiles(session, experts) if experts else []
        open_orders = await load_open_orders(session, orders) if orders else []
        matcher = self.matcher
        matcher.remove_experts(experts - {p.id for p in profiles})
        if profiles:
            matcher.add_experts(profiles)
        matcher.remove_orders(orders - {o.id for o in open_orders})
        if open_orders:
            matcher.add_orders(open_orders)
        log.info("matcher.updated experts=%s orders=%s", len(experts), len(orders))


def _collect_changes(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(INDEX_INFO_KEY) is None:
        return
    experts, orders = session.info.setdefault(_PENDING_INFO_KEY, (set(), set()))
    for record in chain(session.new, session.dirty, session.deleted):
        if isinstance(record, Expert):
            experts.add(record.id)
        elif isinstance(record, Achievement | Agreement):
            experts.add(record.expert_id)  # a new achievement or agreement changes the expert's profile
        elif isinstance(record, Order):
            orders.add(record.id)


def _publish_changes(session: Session) -> None:
    pending: Any = session.info.pop(_PENDING_INFO_KEY, None)
    index = session.info.get(INDEX_INFO_KEY)
    if pending and isinstance(index, MatcherIndex):
        index.mark_changed(*pending)


def _forget_changes(session: Session) -> None:
    session.info.pop(_PENDING_INFO_KEY, None)


event.listen(Session, "after_flush", _collect_changes)
event.listen(Session, "after_commit", _publish_changes)
event.listen(Session, "after_rollback", _forget_changes)
