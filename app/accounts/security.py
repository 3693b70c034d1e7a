"""Password hashing (argon2, in threads), username normalisation, and the random session tokens that both
the API's bearer token and the pages' cookie carry."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import unicodedata
import weakref
from dataclasses import dataclass

import anyio
from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.accounts.models import User, UserRole

SESSION_COOKIE = "studio_match_session"
_hasher = PasswordHasher()
# verifying against this keeps a login for an unknown user as slow as one with a wrong password
_DUMMY_HASH = _hasher.hash("studio-match-timing-equaliser")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: the logged-in user's id, role and the record the role is bound to."""

    user_id: int
    role: UserRole
    enterprise_id: int | None = None
    expert_id: int | None = None

    @property
    def is_admin(self) -> bool:
        """True for union federation / talent office staff."""
        return self.role is UserRole.ADMIN

    @classmethod
    def of(cls, user: User) -> Actor:
        """Build the actor for a loaded user."""
        return cls(
            user_id=user.id, role=user.role, enterprise_id=user.enterprise_id, expert_id=user.expert_id
        )


def username_key(username: str) -> str:
    """The form a username is unique and looked up in: NFKC + casefold (``ＡＤＭＩＮ`` and ``Admin`` → ``admin``)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username.strip()).casefold())


class PasswordHashing:
    """argon2 off the event loop: each hash or check runs in a worker thread, a few at a time.

    argon2 is slow on purpose (tens of milliseconds of CPU and 64 MiB each). Run on the event loop, a
    burst of logins froze every other request of the process; in threads (argon2-cffi releases the
    GIL) the loop keeps serving, and the limiter bounds the CPU and memory a burst can take.

    Args:
        concurrency: how many hashes may run at once in this process.
    """

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        # a limiter belongs to one event loop (tests run several, one after another)
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.concurrency)
        return limiter

    async def hash(self, password: str) -> str:
        """Hash a password with argon2id."""
        return await to_thread.run_sync(_hasher.hash, password, limiter=self._limiter())

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Check ``password`` against a stored hash; ``None`` (unknown user) still costs one verification."""
        return await to_thread.run_sync(verify_password, password_hash, password, limiter=self._limiter())


def hash_password(password: str) -> str:
    """Hash a password with argon2id, blocking: for scripts and tests, never on a request's event loop."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against a stored hash, blocking (``PasswordHashing.verify`` runs this in a thread)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class SessionTokens:
    """Makes the random tokens of login sessions and the keyed hashes the database stores instead.

    The hash is an HMAC with the secret key: someone who can write to the database but does not know
    the key cannot plant a session of their own, and a copy of the table opens no session. Changing
    the secret key therefore ends every session.
    """

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"studio-match.session.v2|" + secret_key.encode()).digest()

    def new(self) -> tuple[str, str]:
        """Return a fresh ``(token, token_hash)``; only the hash is stored."""
        token = secrets.token_urlsafe(32)
        return token, self.digest(token)

    def digest(self, token: str) -> str:
        """The stored form of ``token`` (64 hex characters)."""
        return hmac.new(self._key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
