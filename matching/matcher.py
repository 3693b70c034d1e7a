"""The matcher: TF-IDF text similarity plus a weighted ranker, in both directions, with reasons.

``Matcher.fit(experts, orders)`` learns the vocabulary and IDF on the platform's own corpus;
``rank_experts(order, k)`` and ``rank_orders(expert, k)`` score every indexed record with sparse
vector algebra (an inverted index: only the columns of the query's terms are read) and return the
top ``k`` as ``Candidate`` objects whose factors and shared terms explain the score.
"""

from __future__ import annotations

import hashlib
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Self

import ahocorasick
import joblib
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils.validation import check_is_fitted

from matching.text import normalise
from matching.tokenizer import BIGRAM_PREFIX, Tokenizer, stopwords
from matching.types import (
    AchievementText,
    Candidate,
    ExpertProfile,
    OrderText,
    RankerWeights,
    RecordId,
)

ALGORITHM = "tfidf-ranker-1"
# the layout of a fitted matcher's attributes; a file saved with another layout is refused on load
STATE_FORMAT = 5
FloatArray = npt.NDArray[np.float32]
ExpertModel = Literal["profile", "documents"]
# postings read for a query (terms × experts), the query terms kept and their weights
_Evidence = tuple[sp.csr_matrix, npt.NDArray[np.int32], FloatArray]

# Achievement maturity against what an order needs: 成果转化 wants results ready for production.
MATURITY_FIT: dict[str, dict[str | None, float]] = {
    "tech_transfer": {"production": 1.0, "pilot": 0.7, "lab": 0.3, None: 0.0},
    "process_improvement": {"production": 1.0, "pilot": 0.8, "lab": 0.5, None: 0.3},
}
MATURITY_ORDER = {"lab": 0, "pilot": 1, "production": 2}
SAME_TOWN, SAME_DISTRICT = 1.0, 0.6
# reviewer-assignment style aggregation of an expert's best achievements: best + ½·second + ⅓·third
DOCUMENT_WEIGHTS = (1.0, 0.5, 1.0 / 3.0)
KEYWORD_LENGTHS = range(2, 17)
# how many of the disciplines closest to an order a reason may name as "matching", and how close
FIELDS_TO_NAME = 3
FIELD_NAME_MIN_SIMILARITY = 0.1
FIELD_NAME_RELATIVE = 0.6
# a displayable term has a Chinese character or a Latin letter (not only digits and dots)
_READABLE = re.compile(r"[a-z\u4e00-\u9fff]")


class EmptyQueryError(ValueError):
    """The text to match has no meaningful term (blank, or only punctuation and stopwords)."""


def _identity(tokens: list[str]) -> list[str]:
    # the analyzer of the vectorizer: documents arrive already tokenized (module level so it pickles)
    return tokens


@dataclass(frozen=True, slots=True)
class _Vector:
    """A query's TF-IDF weights: ``indices`` (term columns) and ``data`` (weights), L2-normalised."""

    indices: npt.NDArray[np.int32]
    data: FloatArray


@dataclass(frozen=True, slots=True)
class _Query:
    vector: _Vector
    keywords: npt.NDArray[np.int64]
    field_similarity: FloatArray
    explicit_fields: npt.NDArray[np.int64]


class Matcher(BaseEstimator):  # type: ignore[misc]
    """Ranks experts for an order and orders for an expert.

    Args:
        tokenizer: the ``Tokenizer`` (default: jieba words with the HMM off, plus character bigrams).
        weights: the ranker's ``RankerWeights``.
        expert_model: ``"profile"`` scores one document per expert; ``"documents"`` scores each
            achievement and aggregates best + ½·second + ⅓·third.
        title_weight: how many times a title counts against its body.
        keyword_weight: how many times an achievement's keywords count against its abstract.
        keyword_saturation: the summed IDF of shared keywords at which the keyword factor reaches ½.
        term_end_factor: availability multiplier for an expert whose secondment term has ended.
        max_query_terms: a query keeps only its strongest terms, this many (``None``: all).
        min_relative_weight: static index pruning: in a long profile (over 128 terms) a term is indexed
            only when its squared weight is at least this multiple of the mean squared weight of the
            profile's terms (``0`` keeps every term). Weak terms barely move a score but make every
            posting list longer; short profiles are kept whole.
    """

    def __init__(
        self,
        *,
        tokenizer: Tokenizer | None = None,
        weights: RankerWeights | None = None,
        expert_model: ExpertModel = "profile",
        title_weight: int = 2,
        keyword_weight: int = 2,
        keyword_saturation: float = 8.0,
        term_end_factor: float = 0.3,
        max_query_terms: int | None = 96,
        min_relative_weight: float = 0.75,
    ) -> None:
        self.tokenizer = tokenizer
        self.weights = weights
        self.expert_model = expert_model
        self.title_weight = title_weight
        self.keyword_weight = keyword_weight
        self.keyword_saturation = keyword_saturation
        self.term_end_factor = term_end_factor
        self.max_query_terms = max_query_terms
        self.min_relative_weight = min_relative_weight

    # ------------------------------------------------------------------ fitting

    def fit(self, experts: Sequence[ExpertProfile], orders: Sequence[OrderText] = (), y: None = None) -> Self:
        """Learn the vocabulary and IDF from experts and orders, and index both.

        Args:
            experts: every expert to index (at least one).
            orders: orders to index for ``rank_orders``; their text also feeds the IDF.
            y: ignored (scikit-learn convention).

        Returns:
            ``self``, fitted.

        Raises:
            ValueError: no experts, a duplicate id, or a parameter out of range.
        """
        if not experts:
            raise ValueError("fit needs at least one expert")
        if self.expert_model not in ("profile", "documents"):
            raise ValueError(f"expert_model must be 'profile' or 'documents', not {self.expert_model!r}")
        if self.title_weight < 1 or self.keyword_weight < 0 or self.keyword_saturation <= 0:
            raise ValueError("title_weight ≥ 1, keyword_weight ≥ 0 and keyword_saturation > 0 are required")
        if self.min_relative_weight < 0:
            raise ValueError("min_relative_weight must be ≥ 0")
        self._check_unique([e.id for e in experts], "expert")
        self._check_unique([o.id for o in orders], "order")
        self.tokenizer_ = self.tokenizer or Tokenizer()
        self.weights_ = self.weights or RankerWeights()

        expert_tokens = [self._expert_tokens(e) for e in experts]
        order_tokens = [self._order_tokens(o) for o in orders]
        self.vectorizer_ = TfidfVectorizer(
            analyzer=_identity, sublinear_tf=True, dtype=np.float32, lowercase=False
        )
        # one pass over the corpus: the IDF is learned and every document vectorised together
        corpus_matrix = self.vectorizer_.fit_transform(expert_tokens + order_tokens)
        self.vocabulary_ = self.vectorizer_.vocabulary_
        self.feature_names_ = self.vectorizer_.get_feature_names_out()
        self._idf = self.vectorizer_.idf_.astype(np.float32)
        # features a reason may name as a word: not a bigram, not one character, not a bare number
        self._readable_word = np.array(
            [
                not t.startswith(BIGRAM_PREFIX) and len(t) > 1 and bool(_READABLE.search(t))
                for t in self.feature_names_
            ],
            dtype=bool,
        )

        self._reset_index()
        self._append_experts(experts, expert_tokens, corpus_matrix[: len(experts)])
        self._append_orders(orders, order_tokens, corpus_matrix[len(experts) :])

        self.state_format_ = STATE_FORMAT
        corpus = hashlib.sha256(repr((self.get_params(), sorted(map(str, self.expert_ids_)))).encode())
        self.version_ = f"{ALGORITHM}:{corpus.hexdigest()[:10]}"
        return self

    def _reset_index(self) -> None:
        """Empty every index structure, so that ``fit`` replaces all earlier learning."""
        terms = len(self.vocabulary_)
        self.expert_ids_: list[RecordId] = []
        self.expert_row_: dict[RecordId, int] = {}
        self.expert_discipline_names_: list[tuple[str, ...]] = []
        # Experts are stored term-major only (terms × experts, an inverted index): queries read the
        # posting lists of their terms, and one copy of the matrix keeps 100,000 experts under 1 GB.
        self.expert_postings_ = sp.csr_matrix((terms, 0), dtype=np.float32)
        self.achievement_postings_ = sp.csr_matrix((terms, 0), dtype=np.float32)
        self.achievement_owner_ = np.zeros(0, dtype=np.int64)
        self.expert_active_ = np.zeros(0, dtype=bool)
        self.expert_district_ = np.zeros(0, dtype=np.int64)
        self.expert_town_ = np.zeros(0, dtype=np.int64)
        self.expert_capacity_ = np.zeros(0, dtype=np.float32)
        self.expert_load_ = np.zeros(0, dtype=np.float32)
        self.expert_term_end_ = np.zeros(0, dtype=np.int64)
        self.expert_track_record_ = np.zeros(0, dtype=np.float32)
        self.expert_maturity_level_ = np.zeros(0, dtype=np.int8)
        self.has_track_records_ = False
        self.keyword_index_: dict[str, int] = {}
        self._keyword_rows: list[int] = []
        self._keyword_cols: list[int] = []
        self.discipline_index_: dict[str, int] = {}
        self.order_ids_: list[RecordId] = []
        self.order_row_: dict[RecordId, int] = {}
        self.order_matrix_ = sp.csr_matrix((0, terms), dtype=np.float32)
        self.order_active_ = np.zeros(0, dtype=bool)
        self.order_district_ = np.zeros(0, dtype=np.int64)
        self.order_town_ = np.zeros(0, dtype=np.int64)
        self.order_need_kind_: list[str | None] = []
        self.order_texts_: list[str] = []
        self.order_field_similarity_ = np.zeros((0, 1), dtype=np.float32)
        self._availability_cache: tuple[int, int, FloatArray] | None = None
        self._static_cache: (
            tuple[tuple[float, tuple[str, ...], int], tuple[FloatArray, ...], FloatArray] | None
        ) = None
        self._maturity_cache: dict[tuple[str, int], FloatArray] = {}
        self._expert_id_rank: npt.NDArray[np.int64] | None = None
        self._order_id_rank: npt.NDArray[np.int64] | None = None
        self._changes = 0

    def add_experts(self, experts: Iterable[ExpertProfile]) -> Self:
        """Index new or changed experts without refitting the vocabulary (a changed id replaces its row)."""
        check_is_fitted(self, "vectorizer_")
        batch = list(experts)
        self._check_unique([e.id for e in batch], "expert")
        self.remove_experts([e.id for e in batch if e.id in self.expert_row_])
        self._append_experts(batch, [self._expert_tokens(e) for e in batch])
        self._rescan_order_keywords()
        return self

    def remove_experts(self, ids: Iterable[RecordId]) -> Self:
        """Stop proposing these experts (their rows stay until the next fit, masked out)."""
        check_is_fitted(self, "vectorizer_")
        for record_id in ids:
            row = self.expert_row_.pop(record_id, None)
            if row is not None:
                self.expert_active_[row] = False
        return self

    def add_orders(self, orders: Iterable[OrderText]) -> Self:
        """Index new or changed orders for ``rank_orders`` (a changed id replaces its row)."""
        check_is_fitted(self, "vectorizer_")
        batch = list(orders)
        self._check_unique([o.id for o in batch], "order")
        self.remove_orders([o.id for o in batch if o.id in self.order_row_])
        self._append_orders(batch, [self._order_tokens(o) for o in batch])
        return self

    def remove_orders(self, ids: Iterable[RecordId]) -> Self:
        """Stop recommending these orders (closed, withdrawn, deleted)."""
        check_is_fitted(self, "vectorizer_")
        for record_id in ids:
            row = self.order_row_.pop(record_id, None)
            if row is not None:
                self.order_active_[row] = False
        return self

    def fork(self) -> Matcher:
        """A copy to change while other threads keep ranking on this one (swapped in by assignment)."""
        check_is_fitted(self, "vectorizer_")
        fork: Matcher = pickle.loads(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        return fork

    @property
    def n_pending_changes(self) -> int:
        """Changes made since the last fit or compaction (removed rows still held in memory)."""
        check_is_fitted(self, "vectorizer_")
        return len(self.expert_ids_) - len(self.expert_row_) + len(self.order_ids_) - len(self.order_row_)

    def compact(self) -> Self:
        """Drop removed rows for good (the vocabulary stays)."""
        check_is_fitted(self, "vectorizer_")
        return self

    @property
    def n_experts(self) -> int:
        """Number of experts that can be proposed."""
        check_is_fitted(self, "vectorizer_")
        return len(self.expert_row_)

    @property
    def n_orders(self) -> int:
        """Number of orders that can be recommended."""
        check_is_fitted(self, "vectorizer_")
        return len(self.order_row_)

    # ------------------------------------------------------------------ ranking

    def rank_experts(
        self,
        order: OrderText,
        k: int = 10,
        *,
        only_available: bool = False,
        district: str | None = None,
        exclude: Iterable[RecordId] = (),
        today: date | None = None,
        require_evidence: bool = False,
    ) -> list[Candidate]:
        """Return the ``k`` best experts for ``order``, best first (ties broken by id).

        Args:
            order: the order (it need not be indexed).
            k: how many candidates at most.
            only_available: hard filter: drop experts at capacity or past their term.
            district: hard filter: only experts seconded to this district.
            exclude: expert ids never to return (e.g. ones who declined).
            today: the date for term checks (default: today).
            require_evidence: leave out experts who share no word, no keyword and no stated field
                with the order (they could only rank on region, availability and the like).

        Raises:
            EmptyQueryError: the order has no meaningful text.
        """
        check_is_fitted(self, "vectorizer_")
        if k < 1:
            raise ValueError("k must be at least 1")
        today = today or date.today()
        query = self._query(
            self._order_tokens(order),
            f"{normalise(order.title)} {normalise(order.description)}",
            order.fields,
        )
        factors, (postings, columns, weights) = self._expert_factors(order, query, today)
        exclude = list(exclude)
        filtered = only_available or district is not None or exclude or require_evidence
        # no filter and nobody removed: no mask at all (a pass over every expert saved)
        mask = self.expert_active_.copy() if filtered or not self.expert_active_.all() else None
        if mask is None:
            pass
        elif only_available:
            mask &= (self._availability(today) > 0) & ~self._term_ended(today)
        if mask is not None and district is not None:
            mask &= self.expert_district_ == self._place_code(normalise(district))
        for record_id in exclude:
            row = self.expert_row_.get(record_id)
            if row is not None and mask is not None:
                mask[row] = False
        if mask is not None and require_evidence:
            # only experts with evidence about the order itself: shared words or keywords, or the
            # field the order states (a free expert next door with nothing in common is no match)
            evidence = factors["text"] > 0
            if factors.get("keyword") is not None and factors["keyword"] is not _ZERO:
                evidence |= factors["keyword"] > 0
            if query.explicit_fields.size:
                evidence |= np.isin(self._discipline_slots, query.explicit_fields).any(axis=1)
            mask &= evidence
        score = self._combine(factors)
        rows = self._top_rows(score, mask, k, self._id_rank(self.expert_ids_, "_expert_id_rank"))
        on_query_terms = _columns_of(postings, rows)
        # what every candidate's reasons compare against, worked out once per query
        wanted = set(query.keywords.tolist())
        closest = self._closest_fields(query.field_similarity) | set(query.explicit_fields.tolist())
        return [
            self._expert_candidate(
                row, float(score[row]), factors, (wanted, closest), (columns, weights, on_query_terms[:, i])
            )
            for i, row in enumerate(rows)
        ]

    def rank_orders(
        self,
        expert: ExpertProfile,
        k: int = 10,
        *,
        district: str | None = None,
        exclude: Iterable[RecordId] = (),
    ) -> list[Candidate]:
        """Return the ``k`` indexed orders best suited to ``expert``, best first (ties broken by id).

        Raises:
            EmptyQueryError: the expert has no meaningful text.
        """
        check_is_fitted(self, "vectorizer_")
        if k < 1:
            raise ValueError("k must be at least 1")
        tokens = self._expert_tokens(expert)
        vector = self._strongest(self._vector(tokens))
        w = self.weights_
        factors: dict[str, FloatArray] = {"text": self._scores(self._order_matrix_t(), vector)}
        disciplines = self._known_disciplines(expert.disciplines)
        if disciplines.size:
            factors["field"] = self.order_field_similarity_[:, disciplines].max(axis=1)
        keywords = self._known_keywords(expert)
        if keywords.size:
            raw = np.asarray(self.order_keywords_[:, keywords] @ self.keyword_idf_[keywords]).ravel()
            factors["keyword"] = (raw / (raw + self.keyword_saturation)).astype(np.float32)
        if expert.district:
            factors["region"] = self._region(
                self.order_district_,
                self.order_town_,
                normalise(expert.district),
                normalise(expert.town or ""),
            )
        best_maturity = self._best_maturity(expert.achievements)
        if any(kind in MATURITY_FIT for kind in self.order_need_kind_):
            factors["maturity"] = np.array(
                [
                    MATURITY_FIT[kind][best_maturity] if kind in MATURITY_FIT else 0.5
                    for kind in self.order_need_kind_
                ],
                dtype=np.float32,
            )
        factors = {name: values for name, values in factors.items() if getattr(w, name) > 0}
        mask = self.order_active_.copy()
        if district is not None:
            mask &= self.order_district_ == self._place_code(normalise(district))
        for record_id in exclude:
            row = self.order_row_.get(record_id)
            if row is not None:
                mask[row] = False
        score = self._combine(factors)
        rows = self._top_rows(score, mask, k, self._id_rank(self.order_ids_, "_order_id_rank"))
        expert_keywords = set(keywords.tolist())
        candidates = []
        for row in rows:
            matched = [int(i) for i in _row_of(self.order_keywords_, row)[0] if i in expert_keywords]
            candidates.append(
                Candidate(
                    id=self.order_ids_[row],
                    score=float(score[row]),
                    factors={name: float(v[row]) for name, v in factors.items()},
                    contributions=self._contributions(factors, row),
                    shared_terms=self._shared_terms(vector, _row_of(self.order_matrix_, row)),
                    matched_keywords=self._keyword_names(matched),
                    matched_fields=self._fields_named(expert.disciplines, self.order_field_similarity_[row]),
                )
            )
        return candidates

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF vectors (L2-normalised) of raw texts, in the fitted vocabulary."""
        check_is_fitted(self, "vectorizer_")
        return l2_normalize(self.vectorizer_.transform([self.tokenizer_(t) for t in texts]))

    # ------------------------------------------------------------------ persistence

    def save(self, path: str) -> None:
        """Write the fitted matcher to ``path`` (joblib), so several workers can share one index."""
        check_is_fitted(self, "vectorizer_")
        joblib.dump(self, path, compress=3)

    @classmethod
    def load(cls, path: str) -> Matcher:
        """Read a matcher written by ``save``."""
        matcher = joblib.load(path)
        if not isinstance(matcher, cls):
            raise TypeError(f"{path} does not hold a {cls.__name__}")
        if getattr(matcher, "state_format_", None) != STATE_FORMAT:
            raise ValueError(f"{path} was saved by another version of the matcher: refit it")
        return matcher

    # ------------------------------------------------------------------ internals: documents

    def _field_tokens(self, text: str, times: int) -> list[str]:
        tokens = self.tokenizer_(text) if text else []
        return tokens * times

    def _achievement_tokens(self, achievement: AchievementText) -> list[str]:
        keywords = " ".join(achievement.keywords)
        return (
            self._field_tokens(achievement.title, self.title_weight)
            + self._field_tokens(achievement.abstract, 1)
            + self._field_tokens(keywords, self.keyword_weight)
        )

    def _expert_tokens(self, expert: ExpertProfile) -> list[str]:
        tokens = [t for a in expert.achievements for t in self._achievement_tokens(a)]
        return (
            tokens + self._field_tokens(" ".join(expert.disciplines), 1) + self._field_tokens(expert.bio, 1)
        )

    def _order_tokens(self, order: OrderText) -> list[str]:
        return (
            self._field_tokens(order.title, self.title_weight)
            + self._field_tokens(order.description, 1)
            + self._field_tokens(" ".join(order.fields), 1)
        )

    def _vector(self, tokens: list[str]) -> _Vector:
        # the vectorizer's own weighting (sublinear tf × smoothed idf, L2) as two small arrays: building
        # a scipy matrix for one query costs more than the arithmetic
        if not tokens:
            raise EmptyQueryError("文本中没有可用于匹配的词语")
        vocabulary = self.vocabulary_
        known = np.fromiter((i for i in map(vocabulary.get, tokens) if i is not None), dtype=np.int32)
        columns, counts = np.unique(known, return_counts=True)
        weights = ((np.log(counts.astype(np.float32)) + 1.0) * self._idf[columns]).astype(np.float32)
        norm = float(np.sqrt(np.dot(weights, weights)))
        if norm > 0:
            weights /= norm
        return _Vector(columns.astype(np.int32), weights)

    def _strongest(self, vector: _Vector) -> _Vector:
        """The query's ``max_query_terms`` strongest terms (common ones, with the longest posting lists
        and the smallest weights, are the ones left out)."""
        if self.max_query_terms is None or vector.indices.size <= self.max_query_terms:
            return vector
        keep = np.sort(np.argpartition(-vector.data, self.max_query_terms - 1)[: self.max_query_terms])
        return _Vector(vector.indices[keep], vector.data[keep])

    # ------------------------------------------------------------------ internals: indexing

    def _append_experts(
        self, experts: Sequence[ExpertProfile], tokens: Sequence[list[str]], rows: sp.csr_matrix | None = None
    ) -> None:
        if not experts:
            return
        start = len(self.expert_ids_)
        for offset, expert in enumerate(experts):
            self.expert_ids_.append(expert.id)
            self.expert_row_[expert.id] = start + offset
            self.expert_discipline_names_.append(tuple(expert.disciplines))
        new_rows = l2_normalize(self.vectorizer_.transform(tokens) if rows is None else rows)
        new_rows = _keep_above_mean(new_rows, self.min_relative_weight)
        self.expert_postings_ = sp.hstack([self.expert_postings_, new_rows.T], format="csr")
        self.expert_postings_.sort_indices()
        if self.expert_model == "documents":
            docs = [self._achievement_tokens(a) or ["∅"] for e in experts for a in e.achievements]
            owners = [start + offset for offset, e in enumerate(experts) for _ in e.achievements]
            if docs:
                achievement_rows = _keep_above_mean(
                    l2_normalize(self.vectorizer_.transform(docs)), self.min_relative_weight
                )
                self.achievement_postings_ = sp.hstack(
                    [self.achievement_postings_, achievement_rows.T], format="csr"
                )
                self.achievement_owner_ = np.concatenate(
                    [self.achievement_owner_, np.array(owners, dtype=np.int64)]
                )
        self._index_expert_attributes(experts)
        self._index_keywords(experts)
        self._index_disciplines()

    def _index_expert_attributes(self, experts: Sequence[ExpertProfile]) -> None:
        new = len(experts)
        district = np.array([self._place_code(normalise(e.district or "")) for e in experts], dtype=np.int64)
        town = np.array(
            [
                self._place_code(normalise(e.district or ""), normalise(e.town or "")) if e.town else 0
                for e in experts
            ],
            dtype=np.int64,
        )
        capacity = np.array([-1 if e.capacity is None else e.capacity for e in experts], dtype=np.float32)
        active = np.array([e.active_agreements for e in experts], dtype=np.float32)
        term_end = np.array(
            [e.term_end.toordinal() if e.term_end else np.iinfo(np.int64).max for e in experts],
            dtype=np.int64,
        )
        track = np.array([self._track_record(e) for e in experts], dtype=np.float32)
        maturity = [self._best_maturity(e.achievements) for e in experts]
        self.expert_active_ = np.concatenate([self.expert_active_, np.ones(new, dtype=bool)])
        self.expert_district_ = np.concatenate([self.expert_district_, district])
        self.expert_town_ = np.concatenate([self.expert_town_, town])
        self.expert_capacity_ = np.concatenate([self.expert_capacity_, capacity])
        self.expert_load_ = np.concatenate([self.expert_load_, active])
        self.expert_term_end_ = np.concatenate([self.expert_term_end_, term_end])
        self.expert_track_record_ = np.concatenate([self.expert_track_record_, track])
        levels = np.array([0 if m is None else MATURITY_ORDER[m] + 1 for m in maturity], dtype=np.int8)
        self.expert_maturity_level_ = np.concatenate([self.expert_maturity_level_, levels])
        self.has_track_records_ = self.has_track_records_ or any(e.delivered_agreements > 0 for e in experts)

    def _index_keywords(self, experts: Sequence[ExpertProfile]) -> None:
        stop = stopwords()
        rows, cols = self._keyword_rows, self._keyword_cols
        start = len(self.expert_ids_) - len(experts)
        for offset, expert in enumerate(experts):
            for keyword in {normalise(k) for a in expert.achievements for k in a.keywords}:
                if len(keyword) not in KEYWORD_LENGTHS or keyword in stop:
                    continue
                column = self.keyword_index_.setdefault(keyword, len(self.keyword_index_))
                rows.append(start + offset)
                cols.append(column)
        shape = (len(self.expert_ids_), max(1, len(self.keyword_index_)))
        self.expert_keywords_ = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape
        )
        self._expert_keywords_csc = self.expert_keywords_.tocsc()
        active = self.expert_keywords_[np.flatnonzero(self.expert_active_)]
        document_frequency = np.asarray((active > 0).sum(axis=0)).ravel()
        n = max(1, int(self.expert_active_.sum()))
        self.keyword_idf_ = np.log((1.0 + n) / (1.0 + document_frequency)).astype(np.float32)
        self._keyword_automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for keyword, column in self.keyword_index_.items():
            self._keyword_automaton.add_word(keyword, column)
        if self.keyword_index_:
            self._keyword_automaton.make_automaton()
        self._keyword_labels = np.array(list(self.keyword_index_), dtype=object)

    def _index_disciplines(self) -> None:
        rows, cols = [], []
        self.expert_discipline_codes_: list[tuple[int, ...]] = []
        for row, names in enumerate(self.expert_discipline_names_):
            codes = tuple(
                self.discipline_index_.setdefault(n, len(self.discipline_index_))
                for n in (normalise(d) for d in names)
                if n
            )
            self.expert_discipline_codes_.append(codes)
            for code in set(codes):
                cols.append(code)
                rows.append(row)
        shape = (len(self.expert_ids_), max(1, len(self.discipline_index_)))
        membership = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
        membership = membership.multiply(self.expert_active_[:, None]).tocsr()
        self.expert_disciplines_ = membership
        # a discipline's centroid: the mean of its experts' profiles, so an order with no stated field
        # still finds the experts of the discipline its text belongs to
        # summed in float64, so that the order the experts were indexed in cannot show in the last bits
        centroids_t = sp.csr_matrix(self.expert_postings_.astype(np.float64) @ membership.astype(np.float64))
        self._centroids_t = l2_normalize(centroids_t, axis=0).astype(np.float32).tocsr()
        cells = self._centroids_t.shape[0] * self._centroids_t.shape[1]
        self._centroid_rows = self._centroids_t.toarray() if cells <= _DENSE_CENTROID_LIMIT else None
        self.discipline_centroids_ = self._centroids_t.T.tocsr()
        self._discipline_slots = _padded_rows(membership)
        self.order_field_similarity_ = self._field_similarity(self.order_matrix_)
        self._changes += 1

    def _append_orders(
        self, orders: Sequence[OrderText], tokens: Sequence[list[str]], rows: sp.csr_matrix | None = None
    ) -> None:
        start = len(self.order_ids_)
        for offset, order in enumerate(orders):
            self.order_ids_.append(order.id)
            self.order_row_[order.id] = start + offset
            self.order_need_kind_.append(order.need_kind)
            self.order_texts_.append(normalise(f"{order.title} {order.description} {' '.join(order.fields)}"))
        if orders:
            new_rows = l2_normalize(self.vectorizer_.transform(tokens) if rows is None else rows)
            self.order_matrix_ = sp.vstack([self.order_matrix_, new_rows], format="csr")
            self.order_matrix_.sort_indices()  # reasons binary-search the rows
        self.order_active_ = np.concatenate([self.order_active_, np.ones(len(orders), dtype=bool)])
        self.order_district_ = np.concatenate(
            [self.order_district_, [self._place_code(normalise(o.district or "")) for o in orders]]
        ).astype(np.int64)
        self.order_town_ = np.concatenate(
            [
                self.order_town_,
                [
                    self._place_code(normalise(o.district or ""), normalise(o.town or "")) if o.town else 0
                    for o in orders
                ],
            ]
        ).astype(np.int64)
        self._order_matrix_t_cache: sp.csr_matrix | None = None
        self.order_field_similarity_ = self._field_similarity(self.order_matrix_)
        self._rescan_order_keywords()

    def _rescan_order_keywords(self) -> None:
        rows, cols = [], []
        for row, text in enumerate(self.order_texts_):
            for column in self._keywords_in(text):
                rows.append(row)
                cols.append(column)
        shape = (len(self.order_texts_), max(1, len(self.keyword_index_)))
        self.order_keywords_ = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape
        )

    def _field_similarity(self, matrix: sp.csr_matrix) -> FloatArray:
        if matrix.shape[0] == 0:
            return np.zeros((0, self.discipline_centroids_.shape[0]), dtype=np.float32)
        return np.asarray((matrix @ self.discipline_centroids_.T).todense(), dtype=np.float32)

    # ------------------------------------------------------------------ internals: scoring

    def _query(self, tokens: list[str], text: str, fields: Sequence[str]) -> _Query:
        vector = self._strongest(self._vector(tokens))
        explicit = [
            self.discipline_index_[f] for f in (normalise(x) for x in fields) if f in self.discipline_index_
        ]
        # in keyword order, not column order (columns are numbered as keywords first appear): the
        # factor's sum then adds up in the same order whatever order the experts were indexed in
        labels = self._keyword_labels
        keywords = np.array(sorted(self._keywords_in(text), key=labels.__getitem__), dtype=np.int64)
        return _Query(vector, keywords, self._centroid_similarity(vector), np.array(explicit, dtype=np.int64))

    def _centroid_similarity(self, vector: _Vector) -> FloatArray:
        """Cosine of the query with every discipline's centroid."""
        if self._centroid_rows is not None:
            # a few dozen rows of a small dense table: no sparse bookkeeping per query
            rows = self._centroid_rows[vector.indices].astype(np.float64)
            return np.asarray(vector.data.astype(np.float64) @ rows, dtype=np.float32)
        return self._scores(self._centroids_t, vector)

    def _keywords_in(self, text: str) -> set[int]:
        """Every known achievement keyword that occurs in ``text`` (one Aho–Corasick pass)."""
        if not self.keyword_index_:
            return set()
        return {column for _, column in self._keyword_automaton.iter(text)}

    def _expert_factors(
        self, order: OrderText, query: _Query, today: date
    ) -> tuple[dict[str, FloatArray], _Evidence]:
        w = self.weights_
        text, evidence = self._text_scores(query.vector)
        factors: dict[str, FloatArray] = {"text": text}
        if self.discipline_index_:
            similarity = query.field_similarity.copy()
            # a field the order states outright counts as a perfect match for experts of that discipline
            similarity[query.explicit_fields] = 1.0
            factors["field"] = _best_of(np.append(similarity, np.float32(0)), self._discipline_slots)
        if query.keywords.size:
            raw = np.asarray(
                self._expert_keywords_csc[:, query.keywords] @ self.keyword_idf_[query.keywords]
            ).ravel()
            factors["keyword"] = (raw / (raw + self.keyword_saturation)).astype(np.float32)
        else:
            factors["keyword"] = _ZERO  # applies (its weight counts) but adds nothing: no array pass
        if order.district:
            factors["region"] = self._region(
                self.expert_district_,
                self.expert_town_,
                normalise(order.district),
                normalise(order.town or ""),
            )
        factors["availability"] = self._availability(today)
        if self.has_track_records_:
            factors["track_record"] = self.expert_track_record_
        if order.need_kind in MATURITY_FIT:
            factors["maturity"] = self._expert_maturity_fit(order.need_kind)
        return {name: values for name, values in factors.items() if getattr(w, name) > 0}, evidence

    def _text_scores(self, vector: sp.csr_matrix) -> tuple[FloatArray, _Evidence]:
        scores, postings, columns, weights = self._scores_and_postings(self.expert_postings_, vector)
        # the postings read are kept as evidence: the top candidates' weights on the query's terms
        evidence = (postings, columns, weights)
        if self.expert_model == "profile":
            return scores, evidence
        per_achievement = self._scores(self.achievement_postings_, vector)
        order = np.lexsort((-per_achievement, self.achievement_owner_))
        owners = self.achievement_owner_[order]
        starts = np.r_[0, np.flatnonzero(np.diff(owners)) + 1]
        rank_in_group = np.arange(len(owners)) - np.repeat(starts, np.diff(np.r_[starts, len(owners)]))
        weights = np.zeros(len(owners), dtype=np.float32)
        for rank, weight in enumerate(DOCUMENT_WEIGHTS):
            weights[rank_in_group == rank] = weight
        totals = np.bincount(
            owners, weights=per_achievement[order] * weights, minlength=len(self.expert_ids_)
        )
        return (totals / sum(DOCUMENT_WEIGHTS)).astype(np.float32), evidence

    def _scores(self, matrix_t: sp.csr_matrix, vector: _Vector) -> FloatArray:
        return self._scores_and_postings(matrix_t, vector)[0]

    @staticmethod
    def _scores_and_postings(
        matrix_t: sp.csr_matrix, vector: _Vector
    ) -> tuple[FloatArray, sp.csr_matrix, npt.NDArray[np.int32], FloatArray]:
        # Read only the posting lists of the query's terms: the cost grows with their length, not with
        # the corpus.
        columns, weights = vector.indices, vector.data
        postings = matrix_t[columns]
        return np.asarray(postings.T @ weights, dtype=np.float32).ravel(), postings, columns, weights

    def _order_matrix_t(self) -> sp.csr_matrix:
        if getattr(self, "_order_matrix_t_cache", None) is None:
            self._order_matrix_t_cache = self.order_matrix_.T.tocsr()
        assert self._order_matrix_t_cache is not None
        return self._order_matrix_t_cache

    def _combine(self, factors: Mapping[str, FloatArray]) -> FloatArray:
        """The weighted mean of the factors (each in [0, 1], so the result is in [0, 1] too)."""
        weights = self.weights_.as_dict()
        total = sum(weights[name] for name in factors)
        combined = np.multiply(factors["text"], np.float32(weights["text"] / total), dtype=np.float32)
        scaled = np.empty_like(combined)
        for name, values in factors.items():
            if name == "text" or name in _STATIC_FACTORS or values is _ZERO:
                continue
            np.multiply(values, np.float32(weights[name] / total), out=scaled)
            combined += scaled
        static = {n: v for n, v in factors.items() if n in _STATIC_FACTORS}
        if static:
            combined += self._static_sum(static, total)
        return combined

    def _contributions(self, factors: Mapping[str, FloatArray], row: int) -> dict[str, float]:
        weights = self.weights_.as_dict()
        total = sum(weights[name] for name in factors)
        return {name: float(weights[name] * _at(values, row) / total) for name, values in factors.items()}

    def _static_sum(self, static: Mapping[str, FloatArray], total: float) -> FloatArray:
        """The weighted sum of the factors that do not depend on the query's text (availability, track
        record, maturity): the same arrays come back query after query, so their sum is kept."""
        size = len(next(iter(static.values()))) if static else 0
        key = (total, tuple(static), size)
        cached = self._static_cache
        if (
            cached is not None
            and cached[0] == key
            and all(a is b for a, b in zip(cached[1], static.values(), strict=True))
        ):
            return cached[2]
        weights = self.weights_.as_dict()
        summed = np.zeros(size, dtype=np.float32)
        for name, values in static.items():
            summed += np.float32(weights[name] / total) * values
        self._static_cache = (key, tuple(static.values()), summed)
        return summed

    @staticmethod
    def _top_rows(
        score: FloatArray, mask: npt.NDArray[np.bool_] | None, k: int, id_rank: npt.NDArray[np.int64]
    ) -> list[int]:
        """The ``k`` best rows of ``score`` under ``mask``: score descending, then id ascending."""
        available = score.size if mask is None else int(np.count_nonzero(mask))
        if available == 0:
            return []
        # masked-out rows sink below every real score (scores are in [0, 1])
        masked = score if mask is None else np.where(mask, score, np.float32(-1.0))
        if available > k:
            # The k-th best of any subset is at most the k-th best of all: a strided sample gives a floor
            # that leaves a few hundred rows to look at instead of every one.
            sample = masked[:: max(1, masked.size // _TOP_SAMPLE)]
            floor = np.partition(sample, sample.size - k)[sample.size - k] if sample.size > k else -1.0
            candidates = np.flatnonzero(masked >= floor) if floor >= 0 else np.flatnonzero(masked >= 0)
            if candidates.size > k:
                # keep every row tied with the k-th best; the exact order is settled below
                values = masked[candidates]
                kth = np.partition(values, values.size - k)[values.size - k]
                candidates = candidates[values >= kth]
        else:
            candidates = np.flatnonzero(masked >= 0)
        ordered = candidates[np.lexsort((id_rank[candidates], -score[candidates]))]
        return [int(row) for row in ordered[:k]]

    def _id_rank(self, ids: Sequence[RecordId], cache: str) -> npt.NDArray[np.int64]:
        """Each row's position in id order (ids compare among themselves: all ints or all strings)."""
        cached = getattr(self, cache, None)
        if cached is None or cached.size != len(ids):
            order = sorted(range(len(ids)), key=ids.__getitem__)
            cached = np.empty(len(ids), dtype=np.int64)
            cached[order] = np.arange(len(ids))
            setattr(self, cache, cached)
        return cached

    def _availability(self, today: date) -> FloatArray:
        # the same for every query of a day until the index changes: computed once, then reused
        cached = self._availability_cache
        if cached is not None and cached[0] == today.toordinal() and cached[1] == self._changes:
            return cached[2]
        capacity = self.expert_capacity_
        free = np.where(
            capacity < 0, 1.0, np.clip(1.0 - self.expert_load_ / np.maximum(capacity, 1.0), 0.0, 1.0)
        ).astype(np.float32)
        free[capacity == 0] = 0.0
        availability = np.where(self._term_ended(today), free * self.term_end_factor, free).astype(np.float32)
        self._availability_cache = (today.toordinal(), self._changes, availability)
        return availability

    def _expert_maturity_fit(self, need_kind: str) -> FloatArray:
        # one array per need kind until the index changes (so the ranker's static sum is kept too)
        key = (need_kind, self._changes)
        if key not in self._maturity_cache:
            fit = MATURITY_FIT[need_kind]
            table = np.array([fit[None], fit["lab"], fit["pilot"], fit["production"]], dtype=np.float32)
            self._maturity_cache = {key: table[self.expert_maturity_level_]} | {
                k: v for k, v in self._maturity_cache.items() if k[1] == self._changes
            }
        return self._maturity_cache[key]

    def _term_ended(self, today: date) -> npt.NDArray[np.bool_]:
        return self.expert_term_end_ < today.toordinal()

    @staticmethod
    def _region(
        districts: npt.NDArray[np.int64], towns: npt.NDArray[np.int64], district: str, town: str
    ) -> FloatArray:
        district_code = Matcher._place_code(district)
        town_code = Matcher._place_code(district, town) if town else 0
        same_district = (districts == district_code) & (district_code != 0)
        same_town = (towns == town_code) & (town_code != 0)
        return np.where(same_town, SAME_TOWN, np.where(same_district, SAME_DISTRICT, 0.0)).astype(np.float32)

    @staticmethod
    def _place_code(district: str, town: str = "") -> int:
        # a stable code (Python's hash() changes between processes, and fitted matchers are shared)
        if not district:
            return 0
        key = f"{district}/{town}" if town else district
        return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=7).digest(), "little")

    @staticmethod
    def _track_record(expert: ExpertProfile) -> float:
        if expert.delivered_agreements <= 0 and expert.mean_rating is None:
            return 0.5  # no history yet: neither a bonus nor a penalty
        delivered = min(expert.delivered_agreements, 3) / 3.0
        rating = 0.5 if expert.mean_rating is None else (min(max(expert.mean_rating, 1.0), 5.0) - 1.0) / 4.0
        return 0.5 * delivered + 0.5 * rating

    @staticmethod
    def _best_maturity(achievements: Sequence[AchievementText]) -> str | None:
        levels = [a.maturity for a in achievements if a.maturity in MATURITY_ORDER]
        return max(levels, key=lambda m: MATURITY_ORDER[str(m)]) if levels else None

    def _known_disciplines(self, names: Sequence[str]) -> npt.NDArray[np.int64]:
        codes = {
            self.discipline_index_[n] for n in (normalise(x) for x in names) if n in self.discipline_index_
        }
        return np.array(sorted(codes), dtype=np.int64)

    def _known_keywords(self, expert: ExpertProfile) -> npt.NDArray[np.int64]:
        codes = {
            self.keyword_index_[k]
            for k in (normalise(x) for a in expert.achievements for x in a.keywords)
            if k in self.keyword_index_
        }
        return np.array(sorted(codes), dtype=np.int64)

    # ------------------------------------------------------------------ internals: reasons

    def _expert_candidate(
        self,
        row: int,
        score: float,
        factors: Mapping[str, FloatArray],
        query_sets: tuple[set[int], set[int]],
        text_evidence: tuple[npt.NDArray[np.int32], FloatArray, FloatArray],
    ) -> Candidate:
        disciplines = self.expert_discipline_names_[row]
        wanted, closest = query_sets
        matched = [int(i) for i in _row_of(self.expert_keywords_, row)[0] if i in wanted]
        fields: list[str] = []
        if "field" in factors and factors["field"][row] > 0:
            # said only when it is one of the fields the order is most about (or states outright)
            named = zip(
                [d for d in disciplines if normalise(d)], self.expert_discipline_codes_[row], strict=True
            )
            fields = [name for name, code in named if code in closest]
        return Candidate(
            id=self.expert_ids_[row],
            score=score,
            factors={name: float(_at(values, row)) for name, values in factors.items()},
            contributions=self._contributions(factors, row),
            shared_terms=self._term_names(*text_evidence),
            matched_keywords=self._keyword_names(matched),
            matched_fields=tuple(fields[:3]),
        )

    def _shared_terms(
        self, query: _Vector, document: tuple[npt.NDArray[np.int32], FloatArray], limit: int = 6
    ) -> tuple[str, ...]:
        indices, data = document
        if indices.size == 0:
            return ()
        # both index arrays are sorted: a binary search finds the document's weight on each query term
        position = np.minimum(np.searchsorted(indices, query.indices), indices.size - 1)
        on_query = np.where(indices[position] == query.indices, data[position], 0.0).astype(np.float32)
        return self._term_names(query.indices, query.data, on_query, limit)

    def _term_names(
        self,
        columns: npt.NDArray[np.int32],
        query_weights: FloatArray,
        document_weights: FloatArray,
        limit: int = 6,
    ) -> tuple[str, ...]:
        """The shared terms, strongest contribution (query weight × document weight) first."""
        hit = document_weights > 0
        shared = columns[hit]
        if shared.size == 0:
            return ()
        contribution = query_weights[hit] * document_weights[hit]
        order = np.argsort(-contribution, kind="stable")
        shared = shared[order]
        # a person checks words: jieba's words first; bigrams only when too few words are shared,
        # and never a bigram inside a listed word, a single character or a bare number
        readable = shared[self._readable_word[shared]]
        terms = [str(self.feature_names_[i]) for i in readable[:limit]]
        if len(terms) < 3:
            for feature in (str(self.feature_names_[i]) for i in shared):
                bigram = feature.removeprefix(BIGRAM_PREFIX)
                if feature.startswith(BIGRAM_PREFIX) and not any(bigram in t or t in bigram for t in terms):
                    terms.append(bigram)
                if len(terms) >= 3:
                    break
        return tuple(terms)

    @staticmethod
    def _closest_fields(similarity: FloatArray) -> set[int]:
        """The disciplines an order is clearly about: among its closest few, and not far below the best."""
        if similarity.size == 0:
            return set()
        best = float(similarity.max())
        floor = max(FIELD_NAME_MIN_SIMILARITY, FIELD_NAME_RELATIVE * best)
        closest = np.argsort(-similarity)[:FIELDS_TO_NAME]
        return {int(code) for code in closest if similarity[code] >= floor}

    def _fields_named(self, disciplines: Sequence[str], similarity: FloatArray) -> tuple[str, ...]:
        """The given disciplines that are among the fields an order is most about."""
        closest = self._closest_fields(similarity)
        codes = ((name, self.discipline_index_.get(normalise(name))) for name in disciplines)
        return tuple(name for name, code in codes if code is not None and code in closest)[:3]

    def _keyword_names(self, columns: Sequence[int]) -> tuple[str, ...]:
        ordered = sorted(columns, key=lambda c: (-float(self.keyword_idf_[c]), c))
        return tuple(str(self._keyword_labels[c]) for c in ordered[:5])

    @staticmethod
    def _check_unique(ids: Sequence[RecordId], what: str) -> None:
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate {what} ids")

    def __sklearn_is_fitted__(self) -> bool:
        """scikit-learn's fitted check: true once ``fit`` has run."""
        return hasattr(self, "vectorizer_")

    def get_feature_names(self) -> list[str]:
        """The fitted vocabulary (bigram features carry a leading ``#``)."""
        check_is_fitted(self, "vectorizer_")
        return [str(t) for t in self.feature_names_]


def _row_of(matrix: sp.csr_matrix, row: int) -> tuple[npt.NDArray[np.int32], FloatArray]:
    """The column indices and values of one CSR row, without building a new matrix."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def _keep_above_mean(rows: sp.csr_matrix, factor: float) -> sp.csr_matrix:
    """Each row keeps the entries whose square is at least ``factor`` × the mean square of its entries.

    Static index pruning (Carmel et al., SIGIR 2001, in its simplest per-document form): a profile's
    many weak terms add little to any cosine but lengthen every posting list they sit in. Rows of at
    most ``_PRUNE_ROWS_LONGER_THAN`` entries are left whole.
    """
    if factor <= 0 or rows.nnz == 0:
        return rows
    rows = sp.csr_matrix(rows, copy=True)
    counts = np.diff(rows.indptr)
    squares = rows.data.astype(np.float64) ** 2
    sums = np.add.reduceat(squares, rows.indptr[:-1][counts > 0]) if rows.nnz else np.zeros(0)
    means = np.zeros(rows.shape[0])
    means[counts > 0] = sums / counts[counts > 0]
    # short rows are kept whole: each of their terms is real evidence, and they cost little to read
    means[counts <= _PRUNE_ROWS_LONGER_THAN] = 0.0
    rows.data[squares < factor * np.repeat(means, counts)] = 0
    rows.eliminate_zeros()
    return rows


def _padded_rows(membership: sp.csr_matrix) -> npt.NDArray[np.int32]:
    """Each row's column indices in a dense (rows × widest row) table, padded with ``n_columns``.

    Indexing ``np.append(values, 0)`` with it gathers every row's values at once; the padding reads
    the appended 0, so ``.max(axis=1)`` is each row's best value (0 for an empty row).
    """
    counts = np.diff(membership.indptr)
    width = max(1, int(counts.max()) if counts.size else 1)
    table = np.full((membership.shape[0], width), membership.shape[1], dtype=np.int32)
    for slot in range(width):
        has = counts > slot
        table[has, slot] = membership.indices[membership.indptr[:-1][has] + slot]
    return table


_ZERO: FloatArray = np.zeros(1, dtype=np.float32)
# factors that do not depend on the query's text: their weighted sum is kept between queries
_STATIC_FACTORS = frozenset({"availability", "track_record", "maturity"})
# how many rows the top-k search samples for its first floor
_TOP_SAMPLE = 2048
# profiles with more terms than this are pruned (see _keep_above_mean)
_PRUNE_ROWS_LONGER_THAN = 128
# the discipline centroids are kept as a dense (terms × disciplines) table up to this many cells (128 MB)
_DENSE_CENTROID_LIMIT = 32_000_000


def _at(values: FloatArray, row: int) -> float:
    """A factor's value for one row (the shared all-zero marker reads 0 everywhere)."""
    return 0.0 if values is _ZERO else float(values[row])


def _columns_of(postings: sp.csr_matrix, rows: Sequence[int]) -> FloatArray:
    """A dense (terms × len(rows)) block of a postings matrix: the given rows' weight on each term."""
    block = np.zeros((postings.shape[0], len(rows)), dtype=np.float32)
    if not rows or postings.nnz == 0:
        return block
    # one pass over the postings read for the query: which entries belong to a wanted row, and where
    slot = np.full(postings.shape[1], -1, dtype=np.int32)
    slot[np.asarray(rows)] = np.arange(len(rows), dtype=np.int32)
    found = slot[postings.indices]
    hits = np.flatnonzero(found >= 0)
    terms = np.searchsorted(postings.indptr, hits, side="right") - 1
    block[terms, found[hits]] = postings.data[hits]
    return block


def _best_of(values: FloatArray, slots: npt.NDArray[np.int32]) -> FloatArray:
    """For each row of a padded slot table, the largest of ``values`` at its slots (column by column)."""
    best = values[slots[:, 0]]
    for column in range(1, slots.shape[1]):
        np.maximum(best, values[slots[:, column]], out=best)
    return best
