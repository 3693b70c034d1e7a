"""ORM model for enterprises."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import POSTGRESQL_ONLY, Base, TimestampMixin
from app.search import TokenList, document_tokens, keep_search_tokens

if TYPE_CHECKING:
    from app.studios.models import Studio


class Enterprise(TimestampMixin, Base):
    """A company (企业) identified by its unified social credit code (统一社会信用代码)."""

    __tablename__ = "enterprises"
    __table_args__ = (
        Index(
            "ix_enterprises_search_tokens", "search_tokens", postgresql_using="gin", info=POSTGRESQL_ONLY
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    province: Mapped[str] = mapped_column(String(50))
    city: Mapped[str] = mapped_column(String(50))
    district: Mapped[str] = mapped_column(String(50), index=True)
    town: Mapped[str | None] = mapped_column(String(50))
    industry: Mapped[str | None] = mapped_column(String(100))
    # derived from the name and industry on every save (app/search.py)
    search_tokens: Mapped[list[str] | None] = mapped_column(TokenList, deferred=True, deferred_raiseload=True)

    studios: Mapped[list[Studio]] = relationship(back_populates="enterprise", lazy="raise")


ENTERPRISE_TEXT_COLUMNS = ("name", "industry")


def enterprise_tokens(enterprise: Any) -> list[str]:
    """The search tokens of an enterprise (or of a row with its text columns): its name and industry."""
    return document_tokens((enterprise.name, enterprise.industry))


keep_search_tokens(Enterprise, ENTERPRISE_TEXT_COLUMNS, enterprise_tokens)
