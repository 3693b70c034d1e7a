"""Queries for user accounts."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User, UserRole
from app.repository import Repository


class UserRepository(Repository[User]):
    """Accounts by id or username."""

    model = User

    async def get_by_username(self, username: str) -> User | None:
        """Return the account with this username, or ``None``."""
        return await self.session.scalar(select(User).where(User.username == username))

    async def active_ids(
        self, *, enterprise_id: int | None = None, expert_id: int | None = None, admins: bool = False
    ) -> list[int]:
        """Ids of the active logins of an enterprise, of an expert, or of the administrators."""
        statement = select(User.id).where(User.is_active.is_(True)).order_by(User.id)
        if enterprise_id is not None:
            statement = statement.where(User.enterprise_id == enterprise_id)
        elif expert_id is not None:
            statement = statement.where(User.expert_id == expert_id)
        elif admins:
            statement = statement.where(User.role == UserRole.ADMIN)
        else:
            return []
        return list(await self.session.scalars(statement))
