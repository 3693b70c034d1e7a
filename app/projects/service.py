"""Use cases for joint projects (联合攻关): the co-built project catalogue (项目目录), the yearly review
(评审) and the funding decision (资助).

An administrator enters an agreement being carried out (or delivered) into the catalogue, opens the
review round of a year, and assigns reviewers: experts with no agreement on the project and none with
its enterprise (a conflict of interest is refused). Reviewers score four fixed criteria out of 100
(进度, 技术含量, 难度, 效益); a project's score is the mean over its submitted reviews of the mean of
the four. The round ranks projects by that score, the administrator records a decision per project,
and closing the round (once every ranked project has one) makes the results final.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import UserRole
from app.accounts.security import Actor
from app.agreements import service as agreement_service
from app.agreements.models import Agreement, AgreementStatus
from app.agreements.schemas import AgreementRead
from app.audit.service import apply_changes, record_change, snapshot
from app.clock import utcnow
from app.errors import Forbidden
from app.experts import service as expert_service
from app.labels import label
from app.notifications import service as notification_service
from app.notifications.models import NotificationKind
from app.projects.errors import (
    FundingAmountRequired,
    FundingDecisionsMissing,
    ProjectAlreadyCatalogued,
    ProjectEnded,
    ProjectNotCatalogued,
    ProjectNotEligible,
    ProjectNotRanked,
    ReviewerAlreadyAssigned,
    ReviewerConflict,
    ReviewNotFound,
    ReviewRoundClosed,
    ReviewRoundExists,
    ReviewRoundNotFound,
)
from app.projects.models import (
    FundingDecision,
    ProjectFunding,
    ProjectReview,
    ProjectReviewStatus,
    ReviewRound,
    ReviewRoundStatus,
)
from app.projects.repository import ReviewRoundRepository
from app.projects.schemas import FundingItem, ReviewScores

CATALOGUE_STATUSES = frozenset({AgreementStatus.IN_PROGRESS, AgreementStatus.DELIVERED})


@dataclass(frozen=True, slots=True)
class Ranked:
    """A project's standing in a round."""

    rank: int
    agreement_id: int
    order_title: str
    mean_score: float
    submitted_reviews: int
    pending_reviews: int
    funding: ProjectFunding | None


@dataclass(frozen=True, slots=True)
class ReviewerTask:
    """A reviewer's assignment as their page shows it: the project's title and whether it can still be scored."""

    review: ProjectReview
    project_title: str
    round_open: bool


def review_total(review: ProjectReview) -> float:
    """The mean of a submitted review's four scores."""
    scores = (review.progress_score, review.technical_score, review.difficulty_score, review.benefit_score)
    return sum(s or 0 for s in scores) / 4.0


async def catalogue_agreement(session: AsyncSession, actor: Actor, agreement_id: int) -> AgreementRead:
    """Enter an agreement into the co-built project catalogue (admin).

    Returns the agreement as the API shows it, built before the commit.

    Raises:
        ProjectNotEligible: the agreement is neither being carried out nor delivered.
        ProjectAlreadyCatalogued: it is in the catalogue already.
    """
    _admin_only(actor)
    agreement = await agreement_service.lock_agreement(session, agreement_id)
    if agreement.status not in CATALOGUE_STATUSES:
        raise ProjectNotEligible(label(agreement.status))
    if agreement.catalogued_at is not None:
        raise ProjectAlreadyCatalogued()
    await apply_changes(
        session,
        actor=actor,
        record=agreement,
        changes={"catalogued_at": utcnow()},
        action="project.catalogued",
    )
    answer = await agreement_service.read_model(session, agreement)
    await session.commit()
    return answer


async def catalogue(session: AsyncSession, actor: Actor) -> Sequence[tuple[Agreement, str]]:
    """The catalogue with each project's order title (admin)."""
    _admin_only(actor)
    return await ReviewRoundRepository(session).catalogue()


async def open_round(session: AsyncSession, actor: Actor, year: int) -> ReviewRound:
    """Open the review of a year (admin). Raises ReviewRoundExists when it was opened before."""
    _admin_only(actor)
    repository = ReviewRoundRepository(session)
    if await repository.by_year(year) is not None:
        raise ReviewRoundExists(year)
    review_round = ReviewRound(year=year, status=ReviewRoundStatus.OPEN, opened_by_user_id=actor.user_id)
    await repository.add(review_round)
    await record_change(session, actor=actor, action="review_round.opened", record=review_round, before=None)
    await session.commit()
    return review_round


async def rounds(session: AsyncSession, actor: Actor) -> Sequence[ReviewRound]:
    """Every review round, latest first (admin)."""
    _admin_only(actor)
    return await ReviewRoundRepository(session).rounds()


async def assign_reviewer(
    session: AsyncSession, actor: Actor, year: int, agreement_id: int, expert_id: int
) -> ProjectReview:
    """Assign an expert to review a catalogued project in an open round (admin).

    Raises:
        ReviewRoundNotFound / ReviewRoundClosed / ProjectNotCatalogued / ExpertNotFound.
        ReviewerConflict: the expert carries the project or has any agreement with its enterprise.
        ReviewerAlreadyAssigned: assigned already.
    """
    _admin_only(actor)
    await _open_round(session, year)
    agreement = await agreement_service.lock_agreement(session, agreement_id)
    if agreement.catalogued_at is None:
        raise ProjectNotCatalogued()
    if agreement.status not in CATALOGUE_STATUSES:
        raise ProjectEnded(agreement.id)  # terminated after it entered the catalogue
    await expert_service.require_expert(session, expert_id)
    if agreement.expert_id == expert_id or await agreement_service.has_worked_with(
        session, expert_id, agreement.enterprise_id
    ):
        raise ReviewerConflict()
    repository = ReviewRoundRepository(session)
    if await repository.review(year, agreement.id, expert_id) is not None:
        raise ReviewerAlreadyAssigned()
    review = ProjectReview(agreement_id=agreement.id, round_year=year, reviewer_expert_id=expert_id)
    session.add(review)
    await session.flush()
    await record_change(session, actor=actor, action="review.assigned", record=review, before=None)
    await notification_service.notify(
        session,
        await account_service.expert_user_ids(session, expert_id),
        NotificationKind.REVIEW_ASSIGNED,
        f"{year} 年度共建项目评审任务",
        body=f"请对项目（协议 #{agreement.id}）的进度、技术含量、难度和效益打分。",
        link=f"/reviews/{review.id}",
    )
    await session.commit()
    return review


async def round_reviews(session: AsyncSession, actor: Actor, year: int) -> Sequence[ProjectReview]:
    """Every reviewer assignment of a round, submitted or not (admin).

    Raises:
        ReviewRoundNotFound: no round that year.
    """
    _admin_only(actor)
    repository = ReviewRoundRepository(session)
    if await repository.by_year(year) is None:
        raise ReviewRoundNotFound(year)
    return await repository.reviews(year)


async def my_reviews(session: AsyncSession, actor: Actor) -> Sequence[ProjectReview]:
    """The calling expert's review assignments, newest first."""
    if actor.role is not UserRole.EXPERT or actor.expert_id is None:
        raise Forbidden("只有专家账号有评审任务。")
    return await ReviewRoundRepository(session).reviews_of(actor.expert_id)


async def reviewer_tasks(session: AsyncSession, actor: Actor) -> list[ReviewerTask]:
    """The calling expert's assignments with each project's title and whether its round is still open."""
    reviews = await my_reviews(session, actor)
    repository = ReviewRoundRepository(session)
    titles = await repository.titles([r.agreement_id for r in reviews])
    open_years = {r.year for r in await repository.rounds() if r.status is ReviewRoundStatus.OPEN}
    return [ReviewerTask(r, titles.get(r.agreement_id, ""), r.round_year in open_years) for r in reviews]


async def submit_review(
    session: AsyncSession, actor: Actor, review_id: int, scores: ReviewScores
) -> ProjectReview:
    """The assigned reviewer submits (or, while the round is open, revises) the scores.

    Raises:
        ReviewNotFound: no such assignment of the caller.
        ReviewRoundClosed: the round is over.
    """
    repository = ReviewRoundRepository(session)
    review = await repository.review_by_id(review_id)
    if review is None or actor.expert_id is None or review.reviewer_expert_id != actor.expert_id:
        raise ReviewNotFound(review_id)
    await _open_round(session, review.round_year)
    before = snapshot(review)
    for field, value in scores.model_dump().items():
        setattr(review, field, value)
    review.status = ProjectReviewStatus.SUBMITTED
    review.submitted_at = utcnow()
    await session.flush()
    await record_change(session, actor=actor, action="review.submitted", record=review, before=before)
    await session.commit()
    return review


async def ranking(session: AsyncSession, actor: Actor, year: int) -> list[Ranked]:
    """The round's projects with at least one submitted review, best mean score first (admin)."""
    _admin_only(actor)
    return await _ranking(session, year)


async def decide_funding(
    session: AsyncSession, actor: Actor, year: int, decisions: Sequence[FundingItem]
) -> list[Ranked]:
    """Record (or change, while the round is open) the funding decision of ranked projects (admin).

    Raises:
        ProjectNotRanked: a project has no submitted review in the round.
        FundingAmountRequired: a funded project without an amount.
    """
    _admin_only(actor)
    await _open_round(session, year, lock=True)
    standing = {r.agreement_id: r for r in await _ranking(session, year)}
    existing = await ReviewRoundRepository(session).fundings(year)
    for item in decisions:
        ranked = standing.get(item.agreement_id)
        if ranked is None:
            raise ProjectNotRanked(item.agreement_id)
        if item.decision is FundingDecision.FUNDED and not item.amount:
            raise FundingAmountRequired(item.agreement_id)
        if item.decision is FundingDecision.FUNDED:
            agreement = await agreement_service.lock_agreement(session, item.agreement_id)
            if agreement.status not in CATALOGUE_STATUSES:
                raise ProjectEnded(agreement.id)
        funding = existing.get(item.agreement_id)
        before = snapshot(funding) if funding is not None else None
        if funding is None:
            funding = ProjectFunding(round_year=year, agreement_id=item.agreement_id)
            session.add(funding)
        funding.rank, funding.mean_score = ranked.rank, ranked.mean_score
        funding.decision = item.decision
        funding.amount = item.amount if item.decision is FundingDecision.FUNDED else None
        funding.note, funding.decided_by_user_id, funding.decided_at = item.note, actor.user_id, utcnow()
        await session.flush()
        await record_change(
            session, actor=actor, action="project.funding_decided", record=funding, before=before
        )
    # the answer is read before the commit (the round's row is locked, so it is what gets committed)
    answer = await _ranking(session, year)
    await session.commit()
    return answer


async def close_round(session: AsyncSession, actor: Actor, year: int) -> ReviewRound:
    """Close a round once every ranked project has a decision (admin); its results are then final."""
    _admin_only(actor)
    review_round = await _open_round(session, year, lock=True)
    undecided = [r.agreement_id for r in await _ranking(session, year) if r.funding is None]
    if undecided:
        raise FundingDecisionsMissing(undecided)
    before = snapshot(review_round)
    review_round.status = ReviewRoundStatus.CLOSED
    review_round.closed_at = utcnow()
    await session.flush()
    await record_change(
        session, actor=actor, action="review_round.closed", record=review_round, before=before
    )
    await session.commit()
    return review_round


def _admin_only(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("只有管理员可以管理共建项目目录和年度评审。")


async def _open_round(session: AsyncSession, year: int, *, lock: bool = False) -> ReviewRound:
    review_round = await ReviewRoundRepository(session).by_year(year, lock=lock)
    if review_round is None:
        raise ReviewRoundNotFound(year)
    if review_round.status is ReviewRoundStatus.CLOSED:
        raise ReviewRoundClosed(year)
    return review_round


async def _ranking(session: AsyncSession, year: int) -> list[Ranked]:
    repository = ReviewRoundRepository(session)
    if await repository.by_year(year) is None:
        raise ReviewRoundNotFound(year)
    submitted: dict[int, list[float]] = defaultdict(list)
    pending: dict[int, int] = defaultdict(int)
    for review in await repository.reviews(year):
        if review.status is ProjectReviewStatus.SUBMITTED:
            submitted[review.agreement_id].append(review_total(review))
        else:
            pending[review.agreement_id] += 1
    means = {agreement_id: round(sum(totals) / len(totals), 2) for agreement_id, totals in submitted.items()}
    ordered = sorted(means, key=lambda agreement_id: (-means[agreement_id], agreement_id))
    titles = await repository.titles(ordered)
    fundings = await repository.fundings(year)
    return [
        Ranked(
            rank=position,
            agreement_id=agreement_id,
            order_title=titles.get(agreement_id, ""),
            mean_score=means[agreement_id],
            submitted_reviews=len(submitted[agreement_id]),
            pending_reviews=pending[agreement_id],
            funding=fundings.get(agreement_id),
        )
        for position, agreement_id in enumerate(ordered, start=1)
    ]
