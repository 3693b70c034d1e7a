"""The star-rating arithmetic (星级评定): three scores out of 100 → a weighted total → 0–3 stars.

Pure functions: no database, no settings lookup. The caller passes the ``StarRatingPolicy`` in force,
so tests and scripts can try other weights and thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.config import StarRatingPolicy

CENT = Decimal("0.01")
MAX_SCORE = Decimal("100.00")


@dataclass(frozen=True, slots=True)
class Rating:
    """The outcome of one scoring: the weighted total (2 decimals) and the stars it earns."""

    total: Decimal
    stars: int


def _decimal(value: float) -> Decimal:
    # through str, so a weight of 0.4 is exactly 0.4 and not 0.40000000000000002220446…
    return Decimal(str(value))


def stars_for(total: Decimal, policy: StarRatingPolicy) -> int:
    """Return the stars a total earns: 3, 2 or 1 from each threshold up (inclusive), 0 below ``one_star``."""
    if total >= _decimal(policy.three_stars):
        return 3
    if total >= _decimal(policy.two_stars):
        return 2
    if total >= _decimal(policy.one_star):
        return 1
    return 0


def rate(
    expert_review: Decimal, site_visit: Decimal, demonstration: Decimal, policy: StarRatingPolicy
) -> Rating:
    """Weigh the three scores into a total out of 100 and map it to stars.

    The total is rounded half up (四舍五入) to 2 decimals, and the stars come from that rounded total:
    the figure that is recorded and shown is the one that decides, so 59.995 counts as 60.00.

    Args:
        expert_review: 专家评审 score, 0–100.
        site_visit: 现场考察 score, 0–100.
        demonstration: 现场演示 score, 0–100.
        policy: the weights (adding up to 1) and the star thresholds.

    Raises:
        ValueError: a score outside 0–100 (request schemas refuse those before they get here).
    """
    scores = (expert_review, site_visit, demonstration)
    if any(not (0 <= s <= MAX_SCORE) for s in scores):
        raise ValueError("assessment scores must lie between 0 and 100")
    weights = (policy.expert_review_weight, policy.site_visit_weight, policy.demonstration_weight)
    raw = sum((s * _decimal(w) for s, w in zip(scores, weights, strict=True)), Decimal(0))
    # weights add up to 1 only within 1e-6, so a perfect score may come out a hair above 100
    total = min(raw.quantize(CENT, rounding=ROUND_HALF_UP), MAX_SCORE)
    return Rating(total=total, stars=stars_for(total, policy))


def policy_snapshot(policy: StarRatingPolicy) -> dict[str, Any]:
    """The weights and thresholds as stored with an assessment, so later changes do not rewrite history."""
    return policy.model_dump()
