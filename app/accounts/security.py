"""Password hashing (argon2) and signed session tokens, shared by the API's bearer token and the pages' cookie."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.accounts.models import User, UserRole

SESSION_COOKIE = "studio_match_session"
_TOKEN_SALT = "studio-match.session.v1"
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


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against a stored hash; ``None`` (unknown user) still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _password_fingerprint(password_hash: str) -> str:
    # tokens carry this, so changing the password revokes every token issued before
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class TokenSigner:
    """Issues and checks the signed token used both as the bearer token and as the session cookie."""

    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT)
        self.max_age_seconds = max_age_seconds

    def issue(self, user: User) -> str:
        """Return a token for ``user``."""
        return self._serializer.dumps({"uid": user.id, "pf": _password_fingerprint(user.password_hash)})

    def read_user_id(self, token: str) -> tuple[int, str] | None:
        """Return ``(user_id, password fingerprint)`` from a valid, unexpired token, else ``None``."""
        try:
            data = self._serializer.loads(token, max_age=self.max_age_seconds)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
            return None
        return data["uid"], str(data.get("pf", ""))

    @staticmethod
    def matches(user: User, fingerprint: str) -> bool:
        """True if the token was issued for the user's current password."""
        return _password_fingerprint(user.password_hash) == fingerprint
