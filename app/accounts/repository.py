"""Queries for user accounts."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.repository import Repository


class UserRepository(Repository[User]):
    """Accounts by id or username."""

    model = User

    async def get_by_username(self, username: str) -> User | None:
        """Return the account with this username, or ``None``."""
        return await self.session.scalar(select(User).where(User.username == username))
