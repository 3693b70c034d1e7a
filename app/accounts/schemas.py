"""Request and response bodies for login and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.accounts.models import UserRole
from app.schemas import NO_NUL_PATTERN, Text

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
]


class LoginRequest(BaseModel):
    """Credentials for ``POST /api/v1/auth/login``."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Text(50)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)]


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
    password: Annotated[str, StringConstraints(min_length=8, max_length=200, pattern=NO_NUL_PATTERN)]
    display_name: Annotated[str, Text(100)]
    role: UserRole
    enterprise_id: int | None = Field(default=None, ge=1)
    expert_id: int | None = Field(default=None, ge=1)
