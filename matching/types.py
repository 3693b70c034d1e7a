"""The matcher's inputs and outputs: frozen dataclasses, so the library never sees an ORM object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

RecordId = int | str
MaturityLevel = Literal["lab", "pilot", "production"]


@dataclass(frozen=True, slots=True)
class AchievementText:
    """One achievement (科技成果) of an expert as the matcher reads it."""

    title: str
    abstract: str = ""
    keywords: tuple[str, ...] = ()
    maturity: MaturityLevel | None = None


@dataclass(frozen=True, slots=True)
class ExpertProfile:
    """What the matcher knows about an expert: text, disciplines, post and workload."""

    id: RecordId
    name: str = ""
    disciplines: tuple[str, ...] = ()
    achievements: tuple[AchievementText, ...] = ()
    bio: str = ""
    district: str | None = None
    town: str | None = None
    capacity: int | None = None
    active_agreements: int = 0
    term_end: date | None = None
    delivered_agreements: int = 0
    mean_rating: float | None = None


@dataclass(frozen=True, slots=True)
class OrderText:
    """What the matcher knows about an order: only what an enterprise writes, and where it is."""

    id: RecordId
    title: str
    description: str = ""
    fields: tuple[str, ...] = ()
    need_kind: str | None = None
    district: str | None = None
    town: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ranked match with the evidence behind its score.

    Attributes:
        id: the expert's (or order's) id.
        score: the weighted score in [0, 1].
        factors: each applicable factor's value in [0, 1] (``text``, ``field``, ``keyword``, ...).
        contributions: each factor's share of ``score`` (weight × value / total weight).
        shared_terms: the shared terms that contributed most to the text score, strongest first.
        matched_keywords: achievement keywords found in the order, most specific first.
        matched_fields: the expert's disciplines that matched the order's field.
    """

    id: RecordId
    score: float
    factors: Mapping[str, float] = field(default_factory=dict)
    contributions: Mapping[str, float] = field(default_factory=dict)
    shared_terms: tuple[str, ...] = ()
    matched_keywords: tuple[str, ...] = ()
    matched_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RankerWeights:
    """Weights of the ranker's factors; a factor that cannot apply to a query is left out of the sum.

    ``text``, ``field`` and ``keyword`` were tuned on the public evaluation set (see BENCHMARKS.md);
    the others are the service's policy and do not exist in that set.
    """

    text: float = 1.0
    field: float = 3.0
    keyword: float = 0.15
    region: float = 0.2
    availability: float = 0.15
    track_record: float = 0.1
    maturity: float = 0.15

    def as_dict(self) -> dict[str, float]:
        """The weights by factor name."""
        return {name: float(getattr(self, name)) for name in self.__slots__}
