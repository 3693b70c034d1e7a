"""Queries for the project catalogue and review rounds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from app.agreements.models import Agreement
from app.orders.models import Order
from app.projects.models import ProjectFunding, ProjectReview, ReviewRound
from app.repository import Repository


class ReviewRoundRepository(Repository[ReviewRound]):
    """Rounds by year, their reviews and funding decisions, and the catalogue."""

    model = ReviewRound

    async def by_year(self, year: int, *, lock: bool = False) -> ReviewRound | None:
        """The round of a year (locked until the transaction ends when ``lock``)."""
        statement = select(ReviewRound).where(ReviewRound.year == year)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(statement)

    async def rounds(self) -> Sequence[ReviewRound]:
        """Every round, latest year first."""
        return (await self.session.scalars(select(ReviewRound).order_by(ReviewRound.year.desc()))).all()

    async def catalogue(self) -> Sequence[tuple[Agreement, str]]:
        """Catalogued agreements with their order's title, in the order they entered."""
        rows = await self.session.execute(
            select(Agreement, Order.title)
            .join(Order, Order.id == Agreement.order_id)
            .where(Agreement.catalogued_at.is_not(None))
            .order_by(Agreement.catalogued_at, Agreement.id)
        )
        return [(agreement, title) for agreement, title in rows.all()]

    async def reviews(self, year: int) -> Sequence[ProjectReview]:
        """Every review assignment of a round."""
        statement = select(ProjectReview).where(ProjectReview.round_year == year).order_by(ProjectReview.id)
        return (await self.session.scalars(statement)).all()

    async def review(self, year: int, agreement_id: int, expert_id: int) -> ProjectReview | None:
        """One reviewer's assignment on one project in a round."""
        return await self.session.scalar(
            select(ProjectReview).where(
                ProjectReview.round_year == year,
                ProjectReview.agreement_id == agreement_id,
                ProjectReview.reviewer_expert_id == expert_id,
            )
        )

    async def review_by_id(self, review_id: int) -> ProjectReview | None:
        """A review assignment by id."""
        return await self.session.get(ProjectReview, review_id)

    async def reviews_of(self, expert_id: int) -> Sequence[ProjectReview]:
        """An expert's review assignments, newest first."""
        statement = (
            select(ProjectReview)
            .where(ProjectReview.reviewer_expert_id == expert_id)
            .order_by(ProjectReview.id.desc())
        )
        return (await self.session.scalars(statement)).all()

    async def fundings(self, year: int) -> dict[int, ProjectFunding]:
        """A round's funding decisions keyed by agreement id."""
        rows = await self.session.scalars(select(ProjectFunding).where(ProjectFunding.round_year == year))
        return {f.agreement_id: f for f in rows.all()}

    async def titles(self, agreement_ids: Sequence[int]) -> dict[int, str]:
        """The order title of each agreement."""
        if not agreement_ids:
            return {}
        rows = await self.session.execute(
            select(Agreement.id, Order.title)
            .join(Order, Order.id == Agreement.order_id)
            .where(Agreement.id.in_(list(agreement_ids)))
        )
        return {agreement_id: title for agreement_id, title in rows.all()}
