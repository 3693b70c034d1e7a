"""Queries over agreements."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, case, func, select

from app.agreements.models import (
    Agreement,
    AgreementAmendment,
    AgreementStatus,
    AmendmentStatus,
    Consultation,
    Outcome,
    Training,
)
from app.pagination import PageParams
from app.repository import Repository

SORT_COLUMNS = {"id": Agreement.id, "created_at": Agreement.created_at, "updated_at": Agreement.updated_at}

ACTIVE_STATUSES = (AgreementStatus.PENDING_SIGNATURE, AgreementStatus.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class AgreementNames:
    """An agreement's order, expert, enterprise and studio by name."""

    order_title: str
    expert_name: str
    enterprise_name: str
    studio_name: str


class AgreementRepository(Repository[Agreement]):
    """Agreements by id, and per-expert workload figures."""

    model = Agreement

    async def names(self, agreement_ids: Collection[int]) -> dict[int, AgreementNames]:
        """Who and what each agreement is about, by name (one statement; the pages show names, not ids)."""
        from app.enterprises.models import Enterprise
        from app.experts.models import Expert
        from app.orders.models import Order
        from app.studios.models import Studio

        if not agreement_ids:
            return {}
        rows = await self.session.execute(
            select(Agreement.id, Order.title, Expert.name, Enterprise.name, Studio.name)
            .join(Order, Order.id == Agreement.order_id)
            .join(Expert, Expert.id == Agreement.expert_id)
            .join(Enterprise, Enterprise.id == Agreement.enterprise_id)
            .join(Studio, Studio.id == Agreement.studio_id)
            .where(Agreement.id.in_(list(agreement_ids)))
        )
        return {row[0]: AgreementNames(*row[1:]) for row in rows}

    async def reviewed_by(self, agreement_id: int, expert_id: int) -> bool:
        """True if the expert is assigned to review this agreement's project in a yearly round."""
        from app.projects.models import ProjectReview  # the projects domain builds on agreements

        found = await self.session.scalar(
            select(ProjectReview.id)
            .where(ProjectReview.agreement_id == agreement_id, ProjectReview.reviewer_expert_id == expert_id)
            .limit(1)
        )
        return found is not None

    async def workloads(
        self, expert_ids: Collection[int] | None = None
    ) -> dict[int, tuple[int, int, float | None]]:
        """Per expert: active agreements, delivered agreements, mean rating given by enterprises."""
        active = func.sum(case((Agreement.status.in_(ACTIVE_STATUSES), 1), else_=0))
        delivered = func.sum(case((Agreement.status == AgreementStatus.DELIVERED, 1), else_=0))
        statement = select(
            Agreement.expert_id, active, delivered, func.avg(Agreement.enterprise_rating)
        ).group_by(Agreement.expert_id)
        if expert_ids is not None:
            statement = statement.where(Agreement.expert_id.in_(list(expert_ids)))
        rows = await self.session.execute(statement)
        return {
            expert_id: (int(a or 0), int(d or 0), float(r) if r is not None else None)
            for expert_id, a, d, r in rows.all()
        }

    async def lock(self, agreement_id: int) -> Agreement | None:
        """Load the agreement and lock its row until the transaction ends (``SELECT … FOR UPDATE``).

        Every step of the workflow takes this lock first: two signatures racing on one agreement are
        applied one after the other, and the second sees the first.
        """
        statement = (
            select(Agreement)
            .where(Agreement.id == agreement_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(statement)

    async def list_for(
        self,
        params: PageParams,
        sort: str,
        *,
        enterprise_id: int | None,
        expert_id: int | None,
        everyone: bool,
        status: AgreementStatus | None,
        order_id: int | None,
        catalogued: bool | None,
    ) -> tuple[Sequence[Agreement], int]:
        """One page of the agreements a caller may see: a party's own, or all for administrators."""
        conditions: list[ColumnElement[bool]] = []
        if not everyone:
            mine: list[ColumnElement[bool]] = []
            if enterprise_id is not None:
                mine.append(Agreement.enterprise_id == enterprise_id)
            if expert_id is not None:
                mine.append(Agreement.expert_id == expert_id)
            if not mine:
                return [], 0
            conditions.append(mine[0] if len(mine) == 1 else mine[0] | mine[1])
        if status is not None:
            conditions.append(Agreement.status == status)
        if order_id is not None:
            conditions.append(Agreement.order_id == order_id)
        if catalogued is not None:
            conditions.append(
                Agreement.catalogued_at.is_not(None) if catalogued else Agreement.catalogued_at.is_(None)
            )
        return await self.page(
            select(Agreement).where(*conditions), params, sort=sort, sort_columns=SORT_COLUMNS
        )

    async def last_consultations(self, agreement_ids: Collection[int]) -> dict[int, date]:
        """The date of each agreement's latest consultation (agreements without one are left out)."""
        if not agreement_ids:
            return {}
        rows = await self.session.execute(
            select(Consultation.agreement_id, func.max(Consultation.held_on))
            .where(Consultation.agreement_id.in_(list(agreement_ids)))
            .group_by(Consultation.agreement_id)
        )
        return {agreement_id: held_on for agreement_id, held_on in rows.all()}

    async def in_progress(self) -> Sequence[Agreement]:
        """Every agreement being carried out."""
        statement = (
            select(Agreement).where(Agreement.status == AgreementStatus.IN_PROGRESS).order_by(Agreement.id)
        )
        return (await self.session.scalars(statement)).all()

    async def amendments(self, agreement_id: int) -> Sequence[AgreementAmendment]:
        """The agreement's amendments, oldest first."""
        statement = (
            select(AgreementAmendment)
            .where(AgreementAmendment.agreement_id == agreement_id)
            .order_by(AgreementAmendment.number)
        )
        return (await self.session.scalars(statement)).all()

    async def pending_amendment(self, agreement_id: int) -> AgreementAmendment | None:
        """The amendment waiting for signatures, if any."""
        return await self.session.scalar(
            select(AgreementAmendment).where(
                AgreementAmendment.agreement_id == agreement_id,
                AgreementAmendment.status == AmendmentStatus.PENDING_SIGNATURE,
            )
        )

    async def amendment(self, agreement_id: int, number: int) -> AgreementAmendment | None:
        """One amendment by its number."""
        return await self.session.scalar(
            select(AgreementAmendment).where(
                AgreementAmendment.agreement_id == agreement_id, AgreementAmendment.number == number
            )
        )

    async def consultations(self, agreement_id: int) -> Sequence[Consultation]:
        """The agreement's consultations, latest first."""
        statement = (
            select(Consultation)
            .where(Consultation.agreement_id == agreement_id)
            .order_by(Consultation.held_on.desc(), Consultation.id.desc())
        )
        return (await self.session.scalars(statement)).all()

    async def trainings(self, agreement_id: int) -> Sequence[Training]:
        """The agreement's trainings, latest first."""
        statement = (
            select(Training)
            .where(Training.agreement_id == agreement_id)
            .order_by(Training.held_on.desc(), Training.id.desc())
        )
        return (await self.session.scalars(statement)).all()

    async def outcomes(self, agreement_id: int) -> Sequence[Outcome]:
        """The agreement's outcomes, newest first."""
        statement = select(Outcome).where(Outcome.agreement_id == agreement_id).order_by(Outcome.id.desc())
        return (await self.session.scalars(statement)).all()

    async def of_enterprise_or_expert(self, expert_id: int, enterprise_id: int) -> bool:
        """True if the expert has any agreement with the enterprise (a conflict of interest for reviews)."""
        found = await self.session.scalar(
            select(Agreement.id)
            .where(Agreement.expert_id == expert_id, Agreement.enterprise_id == enterprise_id)
            .limit(1)
        )
        return found is not None
