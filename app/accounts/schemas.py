"""Request and response bodies for login and accounts."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from app.accounts.models import UserRole
from app.schemas import NO_NUL_PATTERN, Text


def _nfkc(value: object) -> object:
    # a full-width `ｚｈａｎｇ．ｗｅｉ` typed with a Chinese input method is the ASCII name it looks like
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


Username = Annotated[
    str,
    BeforeValidator(_nfkc),
    StringConstraints(strip_whitespace=True, min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$"),
]
# the policy (length, not the username, not easy to guess) is the service's: app/accounts/passwords.py
Password = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


class LoginRequest(BaseModel):
    """Credentials for ``POST /api/v1/auth/login``."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Text(50)]
    password: Password


class UserRead(BaseModel):
    """An account as the API shows it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: UserRole
    enterprise_id: int | None
    expert_id: int | None
    is_active: bool
    last_login_at: datetime | None
    must_change_password: bool


class LoginResponse(BaseModel):
    """A bearer token for the API; the same login also sets the pages' session cookie."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserRead


class UserCreate(BaseModel):
    """An administrator creates an account for an enterprise, an expert or another administrator."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    display_name: Annotated[str, Text(100)]
    role: UserRole
    enterprise_id: int | None = Field(default=None, ge=1)
    expert_id: int | None = Field(default=None, ge=1)


class PasswordChange(BaseModel):
    """The caller changes their own password; the current one is required."""

    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class PasswordReset(BaseModel):
    """The temporary password an administrator hands over; it must be changed at the next login."""

    user: UserRead
    temporary_password: str
