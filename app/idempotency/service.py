"""Idempotency keys (``Idempotency-Key`` header): the first answer is stored with the change it made,
in the same transaction, and a retry with the same key gets that answer back instead of a second change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.idempotency.errors import IdempotencyKeyInvalid, IdempotencyKeyReused
from app.idempotency.models import IdempotencyRecord

_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A key sent with a request, and the request it belongs to (method and path)."""

    key: str
    request: str

    @classmethod
    def parse(cls, header: str | None, request: str) -> IdempotencyKey | None:
        """Read the header value; ``None`` when the request carried no key.

        Raises:
            IdempotencyKeyInvalid: an empty, overlong or non-ASCII key.
        """
        if header is None:
            return None
        if not _KEY.match(header):
            raise IdempotencyKeyInvalid()
        return cls(header, request)


async def stored_answer(
    session: AsyncSession, actor: Actor, key: IdempotencyKey | None
) -> dict[str, Any] | None:
    """The answer stored for this key by an earlier request of the same user, if any.

    Call it after taking the lock that serialises the work (e.g. the agreement's row lock), so that a
    retry racing the first request waits for it and then finds its answer.

    Raises:
        IdempotencyKeyReused: the key answered a different request.
    """
    if key is None:
        return None
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == actor.user_id, IdempotencyRecord.key == key.key
        )
    )
    if record is None:
        return None
    if record.request != key.request:
        raise IdempotencyKeyReused()
    return record.body


async def store_answer(
    session: AsyncSession,
    actor: Actor,
    key: IdempotencyKey | None,
    body: dict[str, Any],
    status_code: int = 200,
) -> None:
    """Stage the answer for this key in the caller's transaction (nothing when there is no key)."""
    if key is None:
        return
    session.add(
        IdempotencyRecord(
            user_id=actor.user_id, key=key.key, request=key.request, status_code=status_code, body=body
        )
    )
    await session.flush()
