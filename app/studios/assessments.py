"""Use cases for studio star assessments (星级评定): assess, de-list, read the history.

Tianjin Binhai scores a studio out of 100 from an expert review, a site visit and a live
demonstration, turns the total into 1–3 stars, re-assesses every 1–3 years, and may downgrade
or de-list a studio. Here:

- every assessment is kept (``StudioAssessment``), with the weights and thresholds in force;
- the studio's ``star_rating`` / ``star_score`` / ``star_assessed_on`` follow the latest one;
- the kind is derived, never sent: fewer stars than the studio's current rating is a **downgrade**
  (also when that rating was set by hand before any assessment was recorded); otherwise the studio's
  first scoring is the **initial** assessment and later ones are **re-assessments**;
- **de-listing** (摘牌) is an explicit decision with a reason, not a side effect of a low score: a
  re-assessment below one star downgrades a studio to 0 stars but leaves it listed;
- a de-listed studio may be re-assessed; reaching at least one star relists it, a result below one
  star is kept in the history and the studio stays de-listed;
- assessments are recorded in date order: one dated before the studio's latest assessment or
  de-listing is refused, so "the latest" is both the newest date and the last one recorded.

Only administrators (市总工会 / 人才办) assess, de-list and read the history.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.audit.service import apply_changes, record_change
from app.clock import local_today
from app.config import StarRatingPolicy
from app.errors import Forbidden
from app.studios.errors import (
    AssessmentDateInFuture,
    AssessmentOutOfOrder,
    StudioAlreadyDelisted,
    StudioNotFound,
)
from app.studios.models import AssessmentKind, Studio, StudioAssessment, StudioStatus
from app.studios.rating import policy_snapshot, rate
from app.studios.repository import StudioAssessmentRepository, StudioRepository
from app.studios.schemas import AssessmentCreate, DelistingCreate
from app.studios.service import require_studio

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")


async def assess_studio(
    session: AsyncSession,
    actor: Actor,
    studio_id: int,
    data: AssessmentCreate,
    policy: StarRatingPolicy,
) -> tuple[StudioAssessment, Studio]:
    """Record a star assessment and set the studio's rating from it.

    Args:
        session: the request session.
        actor: an administrator.
        studio_id: the studio assessed.
        data: the three scores, the date and a note.
        policy: the weights and thresholds in force (``Settings.star_rating``); stored with the row.

    Returns:
        The new assessment and the updated studio.

    Raises:
        Forbidden: the caller is not an administrator.
        StudioNotFound: no such studio.
        AssessmentDateInFuture: ``assessed_on`` is after today (China time).
        AssessmentOutOfOrder: ``assessed_on`` is before the studio's latest assessment or de-listing.
    """
    _require_admin(actor, "只有管理员可以进行星级评定。")
    studio = await _lock_studio(session, studio_id)
    assessments = StudioAssessmentRepository(session)
    today = local_today()
    if data.assessed_on > today:
        raise AssessmentDateInFuture(data.assessed_on.isoformat(), today.isoformat())
    await _check_in_order(assessments, studio, data.assessed_on)

    rating = rate(data.expert_review_score, data.site_visit_score, data.demonstration_score, policy)
    if rating.stars < studio.star_rating:
        kind = AssessmentKind.DOWNGRADE
    elif await assessments.has_scored(studio_id) or (
        # a rating brought in with the studio's record (an import, the demo) is an earlier assessment
        studio.star_assessed_on is not None and await assessments.latest(studio_id) is None
    ):
        kind = AssessmentKind.REASSESSMENT
    else:
        kind = AssessmentKind.INITIAL
    assessment = await _record(
        session,
        actor,
        StudioAssessment(
            studio_id=studio_id,
            assessed_on=data.assessed_on,
            expert_review_score=data.expert_review_score,
            site_visit_score=data.site_visit_score,
            demonstration_score=data.demonstration_score,
            total_score=rating.total,
            stars=rating.stars,
            kind=kind,
            weights=policy_snapshot(policy),
            note=data.note,
            assessed_by_user_id=actor.user_id,
        ),
    )
    changes: dict[str, Any] = {
        "star_rating": rating.stars,
        "star_score": rating.total,
        "star_assessed_on": data.assessed_on,
    }
    action = "studio.star_rated"
    # a de-listed studio is relisted only by a result worth a star
    if studio.status is StudioStatus.DELISTED and rating.stars >= 1:
        changes["status"] = StudioStatus.ACTIVE
        action = "studio.relisted"
    await apply_changes(session, actor=actor, record=studio, changes=changes, action=action)
    await session.commit()
    log.info(
        "studio.assessed studio_id=%s kind=%s stars=%s status=%s",
        studio_id,
        kind.value,
        rating.stars,
        studio.status.value,
    )
    return assessment, studio


async def delist_studio(
    session: AsyncSession,
    actor: Actor,
    studio_id: int,
    data: DelistingCreate,
    policy: StarRatingPolicy,
) -> tuple[StudioAssessment, Studio]:
    """De-list (摘牌) a studio today: status ``delisted``, 0 stars, and a ``delisting`` row in the history.

    A de-listing is not a scoring: its three scores and its total are recorded as 0 and its note holds
    the reason. The studio can come back only through a re-assessment reaching at least one star.

    Raises:
        Forbidden: the caller is not an administrator.
        StudioNotFound: no such studio.
        StudioAlreadyDelisted: the studio is already de-listed (a repeated request changes nothing).
        AssessmentOutOfOrder: the latest assessment is dated after today (cannot happen through the API).
    """
    _require_admin(actor, "只有管理员可以为工作室摘牌。")
    studio = await _lock_studio(session, studio_id)
    if studio.status is StudioStatus.DELISTED:
        raise StudioAlreadyDelisted(studio_id)
    today = local_today()
    await _check_in_order(StudioAssessmentRepository(session), studio, today)
    assessment = await _record(
        session,
        actor,
        StudioAssessment(
            studio_id=studio_id,
            assessed_on=today,
            expert_review_score=ZERO,
            site_visit_score=ZERO,
            demonstration_score=ZERO,
            total_score=ZERO,
            stars=0,
            kind=AssessmentKind.DELISTING,
            weights=policy_snapshot(policy),
            note=data.reason,
            assessed_by_user_id=actor.user_id,
        ),
    )
    await apply_changes(
        session,
        actor=actor,
        record=studio,
        changes={
            "status": StudioStatus.DELISTED,
            "star_rating": 0,
            "star_score": ZERO,
            "star_assessed_on": today,
        },
        action="studio.delisted",
    )
    await session.commit()
    log.info("studio.delisted studio_id=%s", studio_id)
    return assessment, studio


async def list_assessments(session: AsyncSession, actor: Actor, studio_id: int) -> Sequence[StudioAssessment]:
    """Return the studio's assessment history, newest first (administrators only).

    Raises:
        Forbidden: the caller is not an administrator.
        StudioNotFound: no such studio.
    """
    _require_admin(actor, "只有管理员可以查看星级评定记录。")
    await require_studio(session, studio_id)
    return await StudioAssessmentRepository(session).list_for_studio(studio_id)


def _require_admin(actor: Actor, message: str) -> None:
    # checked before the studio is looked up, so a non-admin cannot probe which ids exist
    if not actor.is_admin:
        raise Forbidden(message)


async def _lock_studio(session: AsyncSession, studio_id: int) -> Studio:
    studio = await StudioRepository(session).get_for_update(studio_id)
    if studio is None:
        raise StudioNotFound(studio_id)
    return studio


async def _check_in_order(assessments: StudioAssessmentRepository, studio: Studio, assessed_on: date) -> None:
    latest = await assessments.latest(studio.id)
    # the rating on the studio's record counts too when no assessment row holds it (an import)
    dates = [d for d in (latest.assessed_on if latest else None, studio.star_assessed_on) if d is not None]
    if dates and assessed_on < max(dates):
        raise AssessmentOutOfOrder(assessed_on.isoformat(), max(dates).isoformat())


async def _record(session: AsyncSession, actor: Actor, assessment: StudioAssessment) -> StudioAssessment:
    await StudioAssessmentRepository(session).add(assessment)
    await record_change(
        session, actor=actor, action="studio_assessment.created", record=assessment, before=None
    )
    return assessment
