"""The matcher: TF-IDF text similarity plus a weighted ranker, in both directions, with reasons.

``Matcher.fit(experts, orders)`` learns the vocabulary and IDF on the platform's own corpus;
``add_*`` / ``remove_*`` update the index in time proportional to the change (a small delta segment
next to the fitted one, removed rows masked), ``fork`` copies it for an update in the background
(copy-on-write, O(1)), and ``compact`` folds the delta in and drops removed rows without changing any
ranking;
``rank_experts(order, k)`` and ``rank_orders(expert, k)`` score every indexed record with sparse
vector algebra (an inverted index: only the columns of the query's terms are read) and return the
top ``k`` as ``Candidate`` objects whose factors and shared terms explain the score.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Any, Literal, Self

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
STATE_FORMAT = 6
FloatArray = npt.NDArray[np.float32]
ExpertModel = Literal["profile", "documents"]
# postings read for a query (terms × experts) in the main segment and the delta (None: empty), the query
# terms kept and their weights
_Evidence = tuple[sp.csr_matrix, sp.csr_matrix | None, npt.NDArray[np.int32], FloatArray]

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

        self.vectorizer_ = TfidfVectorizer(
            analyzer=_identity, sublinear_tf=True, dtype=np.float32, lowercase=False
        )
        # one pass over the corpus: the IDF is learned and every document vectorised together. Each
        # document is tokenized as the vectorizer reaches it and dropped once counted: the corpus's
        # tokens (several times the size of its text) are never all in memory at once
        documents = chain(map(self._expert_tokens, experts), map(self._order_tokens, orders))
        corpus_matrix = self.vectorizer_.fit_transform(documents)
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
        # the incremental path builds the index too: everything goes into the delta, then is compacted
        # the rows are given: the insert needs no tokens
        self._insert_experts(experts, (), corpus_matrix[: len(experts)])
        self._compact_experts()
        self._fit_centroids()
        self._order_delta = _OrderDelta.empty(len(self.vocabulary_), self.discipline_centroids_.shape[0])
        self.order_field_similarity_ = np.zeros((0, self.discipline_centroids_.shape[0]), dtype=np.float32)
        self._insert_orders(orders, (), corpus_matrix[len(experts) :])
        self._compact_orders()

        self.state_format_ = STATE_FORMAT
        corpus = hashlib.sha256(repr((self.get_params(), sorted(str(e.id) for e in experts))).encode())
        self.version_ = f"{ALGORITHM}:{corpus.hexdigest()[:10]}"
        return self

    def _reset_index(self) -> None:
        """Empty every index structure, so that ``fit`` replaces all earlier learning."""
        terms = len(self.vocabulary_)
        # Two segments per side. The main segment is built by ``fit`` and ``compact`` and never changed
        # in place; changes since then live in a small delta segment, and removed rows are masked
        # (tombstones in ``_Rows.active``) until ``compact`` drops them. Every change replaces the objects
        # it touches instead of writing into them, so a ``fork`` shares everything with its original.
        self._experts = _Rows.of([])
        # Experts are stored term-major only (terms × experts, an inverted index): queries read the
        # posting lists of their terms, and one copy of the matrix keeps 100,000 experts under 1 GB.
        self.expert_postings_ = sp.csr_matrix((terms, 0), dtype=np.float32)
        self.achievement_postings_ = sp.csr_matrix((terms, 0), dtype=np.float32)
        self.achievement_owner_ = np.zeros(0, dtype=np.int64)
        self.expert_keywords_ = sp.csr_matrix((0, 0), dtype=np.float32)
        self._expert_keywords_csc = self.expert_keywords_.tocsc()
        self.expert_discipline_names_: list[tuple[str, ...]] = []
        self.expert_discipline_codes_: list[tuple[int, ...]] = []
        self._discipline_slots = np.zeros((0, 1), dtype=np.int32)
        self._expert_delta = _ExpertDelta.empty(terms)
        # per-row attributes of both segments (main rows, then delta rows)
        self.expert_district_ = np.zeros(0, dtype=np.int64)
        self.expert_town_ = np.zeros(0, dtype=np.int64)
        self.expert_capacity_ = np.zeros(0, dtype=np.float32)
        self.expert_load_ = np.zeros(0, dtype=np.float32)
        self.expert_term_end_ = np.zeros(0, dtype=np.int64)
        self.expert_track_record_ = np.zeros(0, dtype=np.float32)
        self.expert_maturity_level_ = np.zeros(0, dtype=np.int8)
        self._expert_has_history = np.zeros(0, dtype=bool)
        self.has_track_records_ = False
        # keywords: the main segment's (an Aho–Corasick automaton) and those first seen since
        self.keyword_index_: dict[str, int] = {}
        self._keyword_automaton = _automaton(self.keyword_index_)
        self._keyword_labels = np.zeros(0, dtype=object)
        self._delta_keyword_index: dict[str, int] = {}
        self._delta_keyword_automaton = _automaton({})
        self._keyword_df = np.zeros(0, dtype=np.int64)
        self.keyword_idf_ = np.zeros(0, dtype=np.float32)
        self.discipline_index_: dict[str, int] = {}
        # the centroids' float64 sums (terms × disciplines, from ``fit``), the sums and centroids of the
        # disciplines changed since (copy-on-write), and each discipline's number of live experts
        self._centroid_sums_t: sp.csc_matrix | None = None
        self._centroid_updates: dict[int, tuple[npt.NDArray[np.float64], FloatArray]] = {}
        self._discipline_members = np.zeros(0, dtype=np.int64)
        self._expert_rows_main: list[sp.csr_matrix | None] = [None]  # experts × terms, on first use
        self._orders = _Rows.of([])
        self.order_matrix_ = sp.csr_matrix((0, terms), dtype=np.float32)
        self._order_matrix_t: list[sp.csr_matrix | None] = [None]  # built on first use, shared by forks
        self.order_field_similarity_ = np.zeros((0, 1), dtype=np.float32)
        self.order_keywords_ = sp.csr_matrix((0, 0), dtype=np.float32)
        self._order_delta = _OrderDelta.empty(terms, 1)
        self.order_district_ = np.zeros(0, dtype=np.int64)
        self.order_town_ = np.zeros(0, dtype=np.int64)
        self.order_need_ = np.zeros(0, dtype=np.int8)
        self._reset_caches()
        self._changes = 0

    def _reset_caches(self) -> None:
        self._availability_cache: tuple[int, int, FloatArray] | None = None
        self._static_cache: (
            tuple[tuple[float, tuple[str, ...], int], tuple[FloatArray, ...], FloatArray] | None
        ) = None
        self._maturity_cache: dict[tuple[str, int], FloatArray] = {}

    # ------------------------------------------------------------------ incremental updates

    def add_experts(self, experts: Iterable[ExpertProfile]) -> Self:
        """Index new or changed experts without refitting (a changed id replaces its row).

        The cost grows with the batch, not with the index: the experts go into the delta segment (a
        changed expert's old row is masked), the keyword document frequencies and the query side's
        discipline centroids are updated for the experts and disciplines touched, and a keyword or
        discipline never seen before gets a column. Left for the next ``fit`` (``compact`` changes no
        ranking, so it does not do it either):

        - new words: the vocabulary and IDF are the fit's (a word the fit never saw is ignored);
        - the field similarity of indexed orders (``rank_orders``): taken against the fit's centroids,
          so a discipline first seen here is close to no order;
        - keywords first seen here, in the rows of orders indexed before them (``rank_orders``; an order
          indexed later, and every order being ranked against by ``rank_experts``, is scanned for them).

        Measured on the evaluation set, 80 % fitted then 20 % added one by one: nDCG@10 0.704 against
        0.707 for a fit on everything (``scripts/eval_variants.py --incremental``).
        """
        check_is_fitted(self, "vectorizer_")
        batch = list(experts)
        self._check_unique([e.id for e in batch], "expert")
        self._drop_expert_rows(self._experts.rows_of(e.id for e in batch))
        self._insert_experts(batch, [self._expert_tokens(e) for e in batch])
        return self

    def remove_experts(self, ids: Iterable[RecordId]) -> Self:
        """Stop proposing these experts (their rows are masked until ``compact`` drops them)."""
        check_is_fitted(self, "vectorizer_")
        self._drop_expert_rows(self._experts.rows_of(ids))
        return self

    def add_orders(self, orders: Iterable[OrderText]) -> Self:
        """Index new or changed orders for ``rank_orders`` (a changed id replaces its row).

        As with ``add_experts``, the cost grows with the batch: the orders go into the delta segment,
        with their field similarity taken against the fit's discipline centroids and their keywords
        against every keyword known now.
        """
        check_is_fitted(self, "vectorizer_")
        batch = list(orders)
        self._check_unique([o.id for o in batch], "order")
        self._drop_order_rows(self._orders.rows_of(o.id for o in batch))
        self._insert_orders(batch, [self._order_tokens(o) for o in batch])
        return self

    def remove_orders(self, ids: Iterable[RecordId]) -> Self:
        """Stop recommending these orders (closed, withdrawn, deleted)."""
        check_is_fitted(self, "vectorizer_")
        self._drop_order_rows(self._orders.rows_of(ids))
        return self

    def fork(self) -> Matcher:
        """A copy to change while this matcher keeps answering (copy-on-write: it costs O(1)).

        The copy shares every array with this matcher, and no change to either ever writes into a
        shared one (changes build new arrays), so ``add_*``, ``remove_*`` and ``compact`` on the fork
        never change what this matcher returns. Update a fork in a worker thread, then swap it in by
        assignment.
        """
        check_is_fitted(self, "vectorizer_")
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._reset_caches()
        return copy

    def compact(self) -> Self:
        """Fold the delta segment into the main one and drop removed rows (in place; returns ``self``).

        Costs about as much as building the postings (seconds at 100,000 experts): call it on a
        ``fork``, in the background, when ``n_pending_changes`` has grown. Afterwards the index holds
        only live rows, so memory stays flat however many edits are applied. It changes no ranking,
        score or reason, only memory and speed: what ``add_experts`` leaves for the next ``fit`` is
        left for it here too, so that a state is named by its fit and the changes applied since,
        whenever (and on which worker) it was compacted.
        """
        check_is_fitted(self, "vectorizer_")
        if self._experts.pending:
            self._compact_experts()
        if self._orders.pending:
            self._compact_orders()
        return self

    @property
    def n_pending_changes(self) -> int:
        """Rows ``compact`` would fold in or drop: delta rows plus removed rows of the main segment."""
        check_is_fitted(self, "vectorizer_")
        return self._experts.pending + self._orders.pending

    @property
    def n_experts(self) -> int:
        """Number of experts that can be proposed."""
        check_is_fitted(self, "vectorizer_")
        return self._experts.count

    @property
    def n_orders(self) -> int:
        """Number of orders that can be recommended."""
        check_is_fitted(self, "vectorizer_")
        return self._orders.count

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
        factors, evidence_read = self._expert_factors(order, query, today)
        experts = self._experts
        exclude = list(exclude)
        filtered = only_available or district is not None or exclude or require_evidence
        # no filter and nobody removed: no mask at all (a pass over every expert saved)
        mask = experts.active.copy() if filtered or experts.count < experts.size else None
        if mask is None:
            pass
        elif only_available:
            mask &= (self._availability(today) > 0) & ~self._term_ended(today)
        if mask is not None and district is not None:
            mask &= self.expert_district_ == self._place_code(normalise(district))
        for record_id in exclude:
            row = experts.row(record_id)
            if row is not None and mask is not None:
                mask[row] = False
        if mask is not None and require_evidence:
            # only experts with evidence about the order itself: shared words or keywords, or the
            # field the order states (a free expert next door with nothing in common is no match)
            evidence = factors["text"] > 0
            if factors.get("keyword") is not None and factors["keyword"] is not _ZERO:
                evidence |= factors["keyword"] > 0
            if query.explicit_fields.size:
                evidence |= np.concatenate(
                    [np.isin(slots, query.explicit_fields).any(axis=1) for slots in self._slot_tables()]
                )
            mask &= evidence
        score = self._combine(factors)
        rows = self._top_rows(score, mask, k, experts.key())
        main_read, delta_read, columns, weights = evidence_read
        on_query_terms = _columns_of_segments(main_read, delta_read, experts.n_main, rows)
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
        orders, delta = self._orders, self._order_delta
        text = self._scores(self._order_matrix_t_main(), vector)
        if delta.matrix.shape[0]:
            text = np.concatenate([text, self._scores(delta.matrix_t, vector)])
        factors: dict[str, FloatArray] = {"text": text}
        disciplines = self._known_disciplines(expert.disciplines)
        if disciplines.size:
            # a discipline first seen after the fit has no centroid yet: it is close to no order
            with_centroid = disciplines[disciplines < self.order_field_similarity_.shape[1]]
            factors["field"] = np.concatenate(
                [
                    similarity[:, with_centroid].max(axis=1)
                    if with_centroid.size
                    else np.zeros(similarity.shape[0], dtype=np.float32)
                    for similarity in (self.order_field_similarity_, delta.field_similarity)
                ]
            )
        keywords = self._known_keywords(expert)
        if keywords.size:
            raw = np.concatenate(
                [
                    _keyword_sums(table, keywords, self.keyword_idf_)
                    for table in (self.order_keywords_, delta.keywords)
                ]
            )
            factors["keyword"] = (raw / (raw + self.keyword_saturation)).astype(np.float32)
        if expert.district:
            factors["region"] = self._region(
                self.order_district_,
                self.order_town_,
                normalise(expert.district),
                normalise(expert.town or ""),
            )
        # only the orders that can be recommended decide whether maturity applies (so that dropping a
        # removed order in ``compact`` changes no score)
        if np.any(self.order_need_[orders.active] > 0):
            best_maturity = self._best_maturity(expert.achievements)
            table = np.array(
                [0.5] + [MATURITY_FIT[kind][best_maturity] for kind in MATURITY_FIT], dtype=np.float32
            )
            factors["maturity"] = table[self.order_need_]
        factors = {name: values for name, values in factors.items() if getattr(w, name) > 0}
        mask = orders.active.copy()
        if district is not None:
            mask &= self.order_district_ == self._place_code(normalise(district))
        for record_id in exclude:
            row = orders.row(record_id)
            if row is not None:
                mask[row] = False
        score = self._combine(factors)
        rows = self._top_rows(score, mask, k, orders.key())
        expert_keywords = set(keywords.tolist())
        candidates = []
        for row in rows:
            keyword_table, matrix, similarity, local = self._order_segment(row)
            matched = [int(i) for i in _row_of(keyword_table, local)[0] if i in expert_keywords]
            candidates.append(
                Candidate(
                    id=orders.id_at(row),
                    score=float(score[row]),
                    factors={name: float(v[row]) for name, v in factors.items()},
                    contributions=self._contributions(factors, row),
                    shared_terms=self._shared_terms(vector, _row_of(matrix, local)),
                    matched_keywords=self._keyword_names(matched),
                    matched_fields=self._fields_named(expert.disciplines, similarity[local]),
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
        return self._weights(tokens)

    def _weights(self, tokens: list[str]) -> _Vector:
        vocabulary = self.vocabulary_
        known = np.fromiter((i for i in map(vocabulary.get, tokens) if i is not None), dtype=np.int32)
        columns, counts = np.unique(known, return_counts=True)
        weights = ((np.log(counts.astype(np.float32)) + 1.0) * self._idf[columns]).astype(np.float32)
        norm = float(np.sqrt(np.dot(weights, weights)))
        if norm > 0:
            weights /= norm
        return _Vector(columns.astype(np.int32), weights)

    def _rows(self, documents: Sequence[list[str]], rows: sp.csr_matrix | None = None) -> sp.csr_matrix:
        """TF-IDF rows (L2-normalised) of tokenized documents, or the given rows normalised.

        A small batch is weighted here rather than by the vectorizer: scikit-learn's input checks
        cost more than the arithmetic of one document.
        """
        if rows is not None or len(documents) > 64:
            return l2_normalize(self.vectorizer_.transform(documents) if rows is None else rows)
        vectors = [self._weights(tokens) for tokens in documents]
        indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
        np.cumsum([v.indices.size for v in vectors], out=indptr[1:])
        indices = np.concatenate([v.indices for v in vectors]) if vectors else np.zeros(0, dtype=np.int32)
        data = np.concatenate([v.data for v in vectors]) if vectors else np.zeros(0, dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(vectors), len(self.vocabulary_)))

    def _strongest(self, vector: _Vector) -> _Vector:
        """The query's ``max_query_terms`` strongest terms (common ones, with the longest posting lists
        and the smallest weights, are the ones left out)."""
        if self.max_query_terms is None or vector.indices.size <= self.max_query_terms:
            return vector
        keep = np.sort(np.argpartition(-vector.data, self.max_query_terms - 1)[: self.max_query_terms])
        return _Vector(vector.indices[keep], vector.data[keep])

    # ------------------------------------------------------------------ internals: indexing

    def _insert_experts(
        self, experts: Sequence[ExpertProfile], tokens: Sequence[list[str]], rows: sp.csr_matrix | None = None
    ) -> None:
        """Append experts to the delta segment (their ids must not be indexed)."""
        if not experts:
            return
        start = self._experts.size
        delta = self._expert_delta
        new_rows = _keep_above_mean(self._rows(tokens, rows), self.min_relative_weight)
        profiles = sp.vstack([delta.profiles, new_rows], format="csr")
        achievements, achievement_owner = delta.achievements, delta.achievement_owner
        if self.expert_model == "documents":
            docs = [self._achievement_tokens(a) or ["∅"] for e in experts for a in e.achievements]
            owners = [start + offset for offset, e in enumerate(experts) for _ in e.achievements]
            if docs:
                achievement_rows = _keep_above_mean(self._rows(docs), self.min_relative_weight)
                achievements = sp.vstack([achievements, achievement_rows], format="csr")
                achievement_owner = np.concatenate([achievement_owner, np.array(owners, dtype=np.int64)])
        keyword_rows = self._index_keywords(experts)
        codes = self._index_disciplines(experts)
        names = delta.discipline_names + tuple(tuple(e.disciplines) for e in experts)
        all_codes = delta.discipline_codes + codes
        self._expert_delta = _ExpertDelta(
            profiles=profiles,
            profiles_t=_term_major(profiles),
            achievements=achievements,
            achievements_t=(
                delta.achievements_t if achievements is delta.achievements else _term_major(achievements)
            ),
            achievement_owner=achievement_owner,
            keywords=_stacked(delta.keywords, _membership(keyword_rows, len(self._keyword_df))),
            discipline_names=names,
            discipline_codes=all_codes,
            discipline_slots=_stacked_slots(
                delta.discipline_slots, _padded_rows(_membership(codes, len(self.discipline_index_)))
            ),
        )
        self._index_expert_attributes(experts)
        self._update_centroids(new_rows, codes, 1.0)
        self._experts = self._experts.plus([e.id for e in experts])
        self._after_expert_change()

    def _index_expert_attributes(self, experts: Sequence[ExpertProfile]) -> None:
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
        levels = np.array([0 if m is None else MATURITY_ORDER[m] + 1 for m in maturity], dtype=np.int8)
        history = np.array([e.delivered_agreements > 0 for e in experts], dtype=bool)
        # new arrays, never writes into the old ones (a fork may share them)
        self.expert_district_ = np.concatenate([self.expert_district_, district])
        self.expert_town_ = np.concatenate([self.expert_town_, town])
        self.expert_capacity_ = np.concatenate([self.expert_capacity_, capacity])
        self.expert_load_ = np.concatenate([self.expert_load_, active])
        self.expert_term_end_ = np.concatenate([self.expert_term_end_, term_end])
        self.expert_track_record_ = np.concatenate([self.expert_track_record_, track])
        self.expert_maturity_level_ = np.concatenate([self.expert_maturity_level_, levels])
        self._expert_has_history = np.concatenate([self._expert_has_history, history])

    def _index_keywords(self, experts: Sequence[ExpertProfile]) -> list[tuple[int, ...]]:
        """Each expert's keyword columns; keywords never seen get a column in the delta's index."""
        stop = stopwords()
        main, delta = self.keyword_index_, self._delta_keyword_index
        added: dict[str, int] | None = None
        rows: list[tuple[int, ...]] = []
        for expert in experts:
            columns = set()
            for keyword in {normalise(k) for a in expert.achievements for k in a.keywords}:
                if len(keyword) not in KEYWORD_LENGTHS or keyword in stop:
                    continue
                column = main.get(keyword)
                if column is None:
                    column = (delta if added is None else added).get(keyword)
                if column is None:
                    added = dict(delta) if added is None else added
                    column = added[keyword] = len(main) + len(added)
                columns.add(column)
            rows.append(tuple(sorted(columns)))
        if added is not None:
            self._delta_keyword_index = added
            self._delta_keyword_automaton = _automaton(added)
        df = np.zeros(len(main) + len(self._delta_keyword_index), dtype=np.int64)
        df[: self._keyword_df.size] = self._keyword_df
        np.add.at(df, np.fromiter((c for r in rows for c in r), dtype=np.int64), 1)
        self._keyword_df = df
        return rows

    def _index_disciplines(self, experts: Sequence[ExpertProfile]) -> tuple[tuple[int, ...], ...]:
        """Each expert's discipline codes; a new discipline gets the next code (it has no centroid)."""
        index: dict[str, int] | None = None
        rows = []
        for expert in experts:
            codes = []
            for name in (normalise(d) for d in expert.disciplines):
                if not name:
                    continue
                code = (index or self.discipline_index_).get(name)
                if code is None:
                    index = dict(self.discipline_index_) if index is None else index
                    code = index[name] = len(index)
                codes.append(code)
            rows.append(tuple(codes))
        if index is not None:
            self.discipline_index_ = index
        return tuple(rows)

    def _drop_expert_rows(self, rows: Sequence[int]) -> None:
        """Mask these expert rows and take their keywords out of the keyword document frequencies."""
        if not rows:
            return
        df = self._keyword_df.copy()
        for row in rows:
            table, local = self._expert_keyword_table(row)
            np.subtract.at(df, _row_of(table, local)[0], 1)
        self._keyword_df = df
        profiles = sp.vstack([self._expert_profile(row) for row in rows], format="csr")
        self._update_centroids(profiles, [self._expert_disciplines(row)[1] for row in rows], -1.0)
        self._experts = self._experts.without(rows)
        self._after_expert_change()

    def _after_expert_change(self) -> None:
        active = self._experts.active
        n = max(1, self._experts.count)
        self.keyword_idf_ = np.log((1.0 + n) / (1.0 + self._keyword_df)).astype(np.float32)
        self.has_track_records_ = bool(np.any(self._expert_has_history & active))
        self._changes += 1
        self._reset_caches()

    def _compact_experts(self) -> None:
        """Rebuild the main expert segment from its live rows and the delta's; empty the delta."""
        experts, delta = self._experts, self._expert_delta
        keep = experts.active
        rows = np.flatnonzero(keep)
        main_rows, delta_rows = rows[rows < experts.n_main], rows[rows >= experts.n_main] - experts.n_main
        postings = sp.hstack(
            [self.expert_postings_[:, main_rows], delta.profiles_t[:, delta_rows]], format="csr"
        )
        postings.sort_indices()
        owners = np.concatenate([self.achievement_owner_, delta.achievement_owner])
        kept_achievements = keep[owners]
        new_row = np.cumsum(keep) - 1
        achievements = sp.hstack([self.achievement_postings_, delta.achievements_t], format="csr")
        achievements = achievements[:, np.flatnonzero(kept_achievements)]
        achievements.sort_indices()
        keywords = len(self._keyword_df)
        table = sp.vstack(
            [_widened(self.expert_keywords_, keywords), _widened(delta.keywords, keywords)], format="csr"
        )[rows]
        width = max(self._discipline_slots.shape[1], delta.discipline_slots.shape[1])
        slots = np.vstack(
            [_widened_slots(self._discipline_slots, width), _widened_slots(delta.discipline_slots, width)]
        )
        names = self.expert_discipline_names_ + list(delta.discipline_names)
        codes = self.expert_discipline_codes_ + list(delta.discipline_codes)

        self.expert_postings_ = postings
        self.achievement_postings_ = achievements
        self.achievement_owner_ = new_row[owners[kept_achievements]].astype(np.int64)
        self.expert_keywords_ = table
        self._expert_keywords_csc = table.tocsc()
        self._discipline_slots = slots[rows]
        self.expert_discipline_names_ = [names[r] for r in rows]
        self.expert_discipline_codes_ = [codes[r] for r in rows]
        for name in _EXPERT_ROW_ARRAYS:
            setattr(self, name, getattr(self, name)[keep])
        if self._delta_keyword_index:
            self.keyword_index_ = {**self.keyword_index_, **self._delta_keyword_index}
            self._keyword_automaton = _automaton(self.keyword_index_)
            self._delta_keyword_index = {}
            self._delta_keyword_automaton = _automaton({})
        self._keyword_labels = np.array(list(self.keyword_index_), dtype=object)
        self._expert_rows_main = [None]
        self._fold_centroid_updates()
        self._expert_delta = _ExpertDelta.empty(len(self.vocabulary_))
        self._experts = experts.compacted()
        self._after_expert_change()

    def _fit_centroids(self) -> None:
        """Each discipline's centroid: the mean of its experts' profiles (learned by ``fit`` only)."""
        membership = _membership(self.expert_discipline_codes_, max(1, len(self.discipline_index_)))
        # a discipline's centroid: the mean of its experts' profiles, so an order with no stated field
        # still finds the experts of the discipline its text belongs to
        # summed in float64, so that the order the experts were indexed in cannot show in the last bits
        centroids_t = sp.csr_matrix(self.expert_postings_.astype(np.float64) @ membership.astype(np.float64))
        self._centroids_t = l2_normalize(centroids_t, axis=0).astype(np.float32).tocsr()
        cells = self._centroids_t.shape[0] * self._centroids_t.shape[1]
        self._centroid_rows = self._centroids_t.toarray() if cells <= _DENSE_CENTROID_LIMIT else None
        # the orders' field similarities are taken against these, the fit's, until the next fit
        self.discipline_centroids_ = self._centroids_t.T.tocsr()
        self._centroid_sums_t = centroids_t.tocsc()
        self._centroid_updates = {}
        self._discipline_members = np.asarray(membership.sum(axis=0), dtype=np.int64).ravel()

    def _expert_profile(self, row: int) -> sp.csr_matrix:
        """One expert's indexed profile, as a (1 × terms) row."""
        n_main = self._experts.n_main
        if row >= n_main:
            return self._expert_delta.profiles[row - n_main]
        holder = self._expert_rows_main
        rows = holder[0]
        if rows is None:
            # the expert-major copy of the main postings, built on the first removal from this main
            # segment and shared by its forks (a removal must take the profile out of its centroids)
            rows = holder[0] = self.expert_postings_.T.tocsr()
        return rows[row]

    def _update_centroids(
        self, profiles: sp.csr_matrix, codes: Sequence[tuple[int, ...]], sign: float
    ) -> None:
        """Add (``sign`` 1) or take out (-1) experts' profiles from their disciplines' centroids.

        The query side's centroids follow every change (the field factor is the ranker's strongest);
        only the touched disciplines are recomputed, into new arrays.
        """
        if self._centroid_sums_t is None:
            return  # fitting: the centroids are learned once every expert is in
        terms = len(self.vocabulary_)
        members = np.zeros(max(len(self.discipline_index_), self._discipline_members.size), dtype=np.int64)
        members[: self._discipline_members.size] = self._discipline_members
        sums: dict[int, npt.NDArray[np.float64]] = {}
        for row, row_codes in enumerate(codes):
            start, end = profiles.indptr[row], profiles.indptr[row + 1]
            for code in set(row_codes):
                if code not in sums:
                    if code in self._centroid_updates:
                        sums[code] = self._centroid_updates[code][0].copy()
                    elif code < self._centroid_sums_t.shape[1]:
                        sums[code] = self._centroid_sums_t[:, code].toarray().ravel()
                    else:
                        sums[code] = np.zeros(terms, dtype=np.float64)
                sums[code][profiles.indices[start:end]] += sign * profiles.data[start:end].astype(np.float64)
                members[code] += int(sign)
        if not sums:
            return
        updates = dict(self._centroid_updates)
        for code, total in sums.items():
            norm = float(np.sqrt(total @ total))
            # a discipline with no live expert left has no centroid (not the rounding residue of one)
            centroid = total / norm if norm > 0 and members[code] > 0 else np.zeros(terms)
            updates[code] = (total, centroid.astype(np.float32))
        self._centroid_updates = updates
        self._discipline_members = members

    def _fold_centroid_updates(self) -> None:
        """Write the changed disciplines' sums and centroids into the tables (values unchanged)."""
        if not self._centroid_updates or self._centroid_sums_t is None:
            return
        updates = self._centroid_updates
        width = max(self._centroid_sums_t.shape[1], max(updates) + 1)
        sums = _with_columns(self._centroid_sums_t, width, {c: s for c, (s, _) in updates.items()})
        centroids = _with_columns(self._centroids_t.tocsc(), width, {c: v for c, (_, v) in updates.items()})
        self._centroid_sums_t = sums
        self._centroids_t = centroids.tocsr()
        if self._centroid_rows is not None:
            rows = np.zeros((self._centroid_rows.shape[0], width), dtype=np.float32)
            rows[:, : self._centroid_rows.shape[1]] = self._centroid_rows
            for code, (_, centroid) in updates.items():
                rows[:, code] = centroid
            self._centroid_rows = rows
        self._centroid_updates = {}

    def _insert_orders(
        self, orders: Sequence[OrderText], tokens: Sequence[list[str]], rows: sp.csr_matrix | None = None
    ) -> None:
        """Append orders to the delta segment (their ids must not be indexed)."""
        if not orders:
            return
        delta = self._order_delta
        new_rows = self._rows(tokens, rows)
        new_rows.sort_indices()  # reasons binary-search the rows
        matrix = sp.vstack([delta.matrix, new_rows], format="csr")
        texts = (normalise(f"{o.title} {o.description} {' '.join(o.fields)}") for o in orders)
        keywords = [tuple(sorted(self._keywords_in(text))) for text in texts]
        self._order_delta = _OrderDelta(
            matrix=matrix,
            matrix_t=_term_major(matrix),
            field_similarity=np.vstack([delta.field_similarity, self._field_similarity(new_rows)]),
            keywords=_stacked(delta.keywords, _membership(keywords, len(self._keyword_df))),
        )
        kinds = {kind: code for code, kind in enumerate(MATURITY_FIT, start=1)}
        self.order_need_ = np.concatenate(
            [self.order_need_, np.array([kinds.get(o.need_kind or "", 0) for o in orders], dtype=np.int8)]
        )
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
        self._orders = self._orders.plus([o.id for o in orders])
        self._changes += 1

    def _drop_order_rows(self, rows: Sequence[int]) -> None:
        if rows:
            self._orders = self._orders.without(rows)
            self._changes += 1

    def _compact_orders(self) -> None:
        """Rebuild the main order segment from its live rows and the delta's; empty the delta."""
        orders, delta = self._orders, self._order_delta
        keep = orders.active
        rows = np.flatnonzero(keep)
        keywords = len(self._keyword_df)
        self.order_matrix_ = sp.vstack([self.order_matrix_, delta.matrix], format="csr")[rows]
        self.order_matrix_.sort_indices()
        self._order_matrix_t = [None]
        self.order_field_similarity_ = np.vstack([self.order_field_similarity_, delta.field_similarity])[rows]
        self.order_keywords_ = sp.vstack(
            [_widened(self.order_keywords_, keywords), _widened(delta.keywords, keywords)], format="csr"
        )[rows]
        for name in _ORDER_ROW_ARRAYS:
            setattr(self, name, getattr(self, name)[keep])
        self._order_delta = _OrderDelta.empty(len(self.vocabulary_), self.order_field_similarity_.shape[1])
        self._orders = orders.compacted()
        self._changes += 1

    def _field_similarity(self, matrix: sp.csr_matrix) -> FloatArray:
        if matrix.shape[0] == 0:
            return np.zeros((0, self.discipline_centroids_.shape[0]), dtype=np.float32)
        return np.asarray((matrix @ self.discipline_centroids_.T).todense(), dtype=np.float32)

    # ------------------------------------------------------------------ internals: rows of both segments

    def _slot_tables(self) -> tuple[npt.NDArray[np.int32], ...]:
        """The discipline slot tables of the main segment and the delta (rows in that order)."""
        if self._expert_delta.profiles.shape[0] == 0:
            return (self._discipline_slots,)
        return (self._discipline_slots, self._expert_delta.discipline_slots)

    def _expert_keyword_table(self, row: int) -> tuple[sp.csr_matrix, int]:
        n_main = self._experts.n_main
        return (self.expert_keywords_, row) if row < n_main else (self._expert_delta.keywords, row - n_main)

    def _expert_disciplines(self, row: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        n_main = self._experts.n_main
        if row < n_main:
            return self.expert_discipline_names_[row], self.expert_discipline_codes_[row]
        delta = self._expert_delta
        return delta.discipline_names[row - n_main], delta.discipline_codes[row - n_main]

    def _order_segment(self, row: int) -> tuple[sp.csr_matrix, sp.csr_matrix, FloatArray, int]:
        """An order row's keyword table, TF-IDF matrix, field similarities and row within them."""
        n_main = self._orders.n_main
        if row < n_main:
            return self.order_keywords_, self.order_matrix_, self.order_field_similarity_, row
        delta = self._order_delta
        return delta.keywords, delta.matrix, delta.field_similarity, row - n_main

    def _keyword_label(self, column: int) -> str:
        labels = self._keyword_labels
        if column < labels.size:
            return str(labels[column])
        return list(self._delta_keyword_index)[column - labels.size]

    def _keyword_column(self, keyword: str) -> int | None:
        column = self.keyword_index_.get(keyword)
        return self._delta_keyword_index.get(keyword) if column is None else column

    # ------------------------------------------------------------------ internals: scoring

    def _query(self, tokens: list[str], text: str, fields: Sequence[str]) -> _Query:
        vector = self._strongest(self._vector(tokens))
        explicit = [
            self.discipline_index_[f] for f in (normalise(x) for x in fields) if f in self.discipline_index_
        ]
        # in keyword order, not column order (columns are numbered as keywords first appear): the
        # factor's sum then adds up in the same order whatever order the experts were indexed in
        keywords = np.array(sorted(self._keywords_in(text), key=self._keyword_label), dtype=np.int64)
        return _Query(vector, keywords, self._centroid_similarity(vector), np.array(explicit, dtype=np.int64))

    def _centroid_similarity(self, vector: _Vector) -> FloatArray:
        """Cosine of the query with every discipline's centroid."""
        if self._centroid_rows is not None:
            # a few dozen rows of a small dense table: no sparse bookkeeping per query
            rows = self._centroid_rows[vector.indices].astype(np.float64)
        else:
            rows = self._centroids_t[vector.indices].toarray().astype(np.float64)
        updates = self._centroid_updates
        if updates:
            # disciplines changed since the last compaction: their columns replaced (or added)
            wide = np.zeros((rows.shape[0], max(rows.shape[1], max(updates) + 1)), dtype=np.float64)
            wide[:, : rows.shape[1]] = rows
            for code, (_, centroid) in updates.items():
                wide[:, code] = centroid[vector.indices]
            rows = wide
        # summed term by term (row after row), whatever the table's width: folding the changed
        # columns into the table in ``compact`` then changes no bit of a score
        return np.asarray((rows * vector.data.astype(np.float64)[:, None]).sum(axis=0), dtype=np.float32)

    def _keywords_in(self, text: str) -> set[int]:
        """Every known achievement keyword that occurs in ``text`` (one Aho–Corasick pass)."""
        found = {column for _, column in self._keyword_automaton.iter(text)} if self.keyword_index_ else set()
        if self._delta_keyword_index:
            # keywords first seen since the last compaction: a second, small automaton
            found.update(column for _, column in self._delta_keyword_automaton.iter(text))
        return found

    def _expert_factors(
        self, order: OrderText, query: _Query, today: date
    ) -> tuple[dict[str, FloatArray], _Evidence]:
        w = self.weights_
        text, evidence = self._text_scores(query.vector)
        factors: dict[str, FloatArray] = {"text": text}
        if self.discipline_index_:
            # disciplines first seen after the fit have no centroid: similarity 0, unless stated
            similarity = np.zeros(len(self.discipline_index_) + 1, dtype=np.float32)
            similarity[: query.field_similarity.size] = query.field_similarity
            # a field the order states outright counts as a perfect match for experts of that discipline
            similarity[query.explicit_fields] = 1.0
            # the last cell stays 0: the padding (-1) of the slot tables reads it
            factors["field"] = _concatenated([_best_of(similarity, slots) for slots in self._slot_tables()])
        if query.keywords.size:
            raw = _concatenated(
                [
                    _keyword_sums(self._expert_keywords_csc, query.keywords, self.keyword_idf_),
                    *(
                        [_keyword_sums(self._expert_delta.keywords_csc, query.keywords, self.keyword_idf_)]
                        if self._expert_delta.profiles.shape[0]
                        else []
                    ),
                ]
            )
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

    def _text_scores(self, vector: _Vector) -> tuple[FloatArray, _Evidence]:
        scores, postings, columns, weights = self._scores_and_postings(self.expert_postings_, vector)
        delta = self._expert_delta
        delta_postings = None
        if delta.profiles.shape[0]:
            delta_scores, delta_postings, _, _ = self._scores_and_postings(delta.profiles_t, vector)
            scores = np.concatenate([scores, delta_scores])
        # the postings read are kept as evidence: the top candidates' weights on the query's terms
        evidence = (postings, delta_postings, columns, weights)
        if self.expert_model == "profile":
            return scores, evidence
        per_achievement = self._scores(self.achievement_postings_, vector)
        all_owners = self.achievement_owner_
        if delta.achievement_owner.size:
            per_achievement = np.concatenate([per_achievement, self._scores(delta.achievements_t, vector)])
            all_owners = np.concatenate([all_owners, delta.achievement_owner])
        order = np.lexsort((-per_achievement, all_owners))
        owners = all_owners[order]
        starts = np.r_[0, np.flatnonzero(np.diff(owners)) + 1]
        rank_in_group = np.arange(len(owners)) - np.repeat(starts, np.diff(np.r_[starts, len(owners)]))
        weights = np.zeros(len(owners), dtype=np.float32)
        for rank, weight in enumerate(DOCUMENT_WEIGHTS):
            weights[rank_in_group == rank] = weight
        totals = np.bincount(owners, weights=per_achievement[order] * weights, minlength=self._experts.size)
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

    def _order_matrix_t_main(self) -> sp.csr_matrix:
        # built on first use; the holder is shared by forks of the same main segment, so that it is
        # built once for all of them
        holder = self._order_matrix_t
        if holder[0] is None:
            holder[0] = _term_major(self.order_matrix_)
        return holder[0]

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
        found = (self._keyword_column(normalise(x)) for a in expert.achievements for x in a.keywords)
        return np.array(sorted({c for c in found if c is not None}), dtype=np.int64)

    # ------------------------------------------------------------------ internals: reasons

    def _expert_candidate(
        self,
        row: int,
        score: float,
        factors: Mapping[str, FloatArray],
        query_sets: tuple[set[int], set[int]],
        text_evidence: tuple[npt.NDArray[np.int32], FloatArray, FloatArray],
    ) -> Candidate:
        disciplines, codes = self._expert_disciplines(row)
        wanted, closest = query_sets
        matched = [int(i) for i in _row_of(*self._expert_keyword_table(row))[0] if i in wanted]
        fields: list[str] = []
        if "field" in factors and factors["field"][row] > 0:
            # said only when it is one of the fields the order is most about (or states outright)
            named = zip([d for d in disciplines if normalise(d)], codes, strict=True)
            fields = [name for name, code in named if code in closest]
        return Candidate(
            id=self._experts.id_at(row),
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
        # ties by the keyword itself, not its column (columns are numbered as keywords first appear)
        labelled = [(-float(self.keyword_idf_[c]), self._keyword_label(c)) for c in columns]
        return tuple(label for _, label in sorted(labelled)[:5])

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
    """Each row's column indices in a dense (rows × widest row) table, padded with ``-1``.

    Indexing ``values`` (whose last cell is 0) with it gathers every row's values at once; the padding
    reads that 0, so ``.max(axis=1)`` is each row's best value (0 for an empty row). ``-1`` stays the
    padding when columns are added later (a discipline first seen in an update).
    """
    counts = np.diff(membership.indptr)
    width = max(1, int(counts.max()) if counts.size else 1)
    table = np.full((membership.shape[0], width), -1, dtype=np.int32)
    for slot in range(width):
        has = counts > slot
        table[has, slot] = membership.indices[membership.indptr[:-1][has] + slot]
    return table


def _widened_slots(table: npt.NDArray[np.int32], width: int) -> npt.NDArray[np.int32]:
    """A slot table padded (with ``-1``) to ``width`` columns."""
    if table.shape[1] >= width:
        return table
    return np.hstack([table, np.full((table.shape[0], width - table.shape[1]), -1, dtype=np.int32)])


def _with_columns(
    matrix: sp.csc_matrix, width: int, columns: Mapping[int, npt.NDArray[Any]]
) -> sp.csc_matrix:
    """``matrix`` widened to ``width`` columns, with the given columns replaced by dense ones."""
    if matrix.shape[1] < width:
        padding = sp.csc_matrix((matrix.shape[0], width - matrix.shape[1]), dtype=matrix.dtype)
        matrix = sp.hstack([matrix, padding], format="csc")
    keep = np.ones(width, dtype=bool)
    keep[list(columns)] = False
    kept = matrix @ sp.diags(keep.astype(matrix.dtype))
    replaced = sp.lil_matrix(matrix.shape, dtype=matrix.dtype)
    for code, values in columns.items():
        replaced[:, code] = values.reshape(-1, 1)
    return sp.csc_matrix(kept + replaced.tocsc())


def _stacked_slots(top: npt.NDArray[np.int32], bottom: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Two slot tables one above the other, as wide as the wider."""
    width = max(top.shape[1], bottom.shape[1])
    return np.vstack([_widened_slots(top, width), _widened_slots(bottom, width)])


def _membership(rows: Sequence[Sequence[int]], columns: int) -> sp.csr_matrix:
    """A 0/1 (rows × columns) matrix with each row's given columns set (sorted, no duplicates)."""
    counts = np.fromiter((len(set(r)) for r in rows), dtype=np.int64, count=len(rows))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.fromiter((c for r in rows for c in sorted(set(r))), dtype=np.int32, count=int(indptr[-1]))
    data = np.ones(indices.size, dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), max(1, columns)))


def _widened(matrix: sp.csr_matrix, columns: int) -> sp.csr_matrix:
    """The same rows with ``columns`` columns (at least as many as it has: new keywords are appended)."""
    columns = max(columns, matrix.shape[1], 1)
    if matrix.shape[1] == columns:
        return matrix
    return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], columns))


def _stacked(top: sp.csr_matrix, bottom: sp.csr_matrix) -> sp.csr_matrix:
    """Two keyword tables one above the other, as wide as the wider."""
    columns = max(top.shape[1], bottom.shape[1])
    return sp.vstack([_widened(top, columns), _widened(bottom, columns)], format="csr")


def _term_major(rows: sp.csr_matrix) -> sp.csr_matrix:
    """The (terms × rows) transpose that queries read by term."""
    transposed = rows.T.tocsr()
    transposed.sort_indices()
    return transposed


def _keyword_sums(table: sp.spmatrix, columns: npt.NDArray[np.int64], idf: FloatArray) -> FloatArray:
    """Each row's summed IDF over ``columns`` (in that order), reading only the columns the table has."""
    inside = columns[columns < table.shape[1]]
    if inside.size == 0:
        return np.zeros(table.shape[0], dtype=np.float32)
    return np.asarray(table[:, inside] @ idf[inside], dtype=np.float32).ravel()


def _concatenated(parts: Sequence[FloatArray]) -> FloatArray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _automaton(index: Mapping[str, int]) -> ahocorasick.Automaton:
    """An Aho–Corasick automaton that finds the keywords of ``index`` and reports their columns."""
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for keyword, column in index.items():
        automaton.add_word(keyword, column)
    if index:
        automaton.make_automaton()
    return automaton


def _columns_of_segments(
    main: sp.csr_matrix, delta: sp.csr_matrix | None, n_main: int, rows: Sequence[int]
) -> FloatArray:
    """The given rows' weights on the query's terms, from the postings read in each segment."""
    in_main = [i for i, row in enumerate(rows) if row < n_main]
    if delta is None or len(in_main) == len(rows):
        return _columns_of(main, rows)
    block = np.zeros((main.shape[0], len(rows)), dtype=np.float32)
    block[:, in_main] = _columns_of(main, [rows[i] for i in in_main])
    in_delta = [i for i, row in enumerate(rows) if row >= n_main]
    block[:, in_delta] = _columns_of(delta, [rows[i] - n_main for i in in_delta])
    return block


class _Rows:
    """Which record sits in which row: the main segment's rows, then the delta's.

    Never changed in place: every change returns a new ``_Rows``, so a fork can share the old one. The
    main segment's lists and map are shared by every ``_Rows`` derived from one fit or compaction.
    """

    __slots__ = (
        "_key",
        "active",
        "count",
        "delta",
        "delta_row",
        "main",
        "main_rank",
        "main_removed",
        "main_row",
        "main_sorted",
    )

    def __init__(
        self,
        main: list[RecordId],
        main_row: dict[RecordId, int],
        main_sorted: list[RecordId],
        main_rank: npt.NDArray[np.int64],
        delta: tuple[RecordId, ...],
        delta_row: dict[RecordId, int],
        active: npt.NDArray[np.bool_],
        count: int,
        main_removed: int,
    ) -> None:
        self.main, self.main_row, self.main_sorted, self.main_rank = main, main_row, main_sorted, main_rank
        self.delta, self.delta_row = delta, delta_row
        self.active, self.count, self.main_removed = active, count, main_removed
        self._key: npt.NDArray[np.int64] | None = None

    @classmethod
    def of(cls, ids: Sequence[RecordId]) -> _Rows:
        """A main segment of these ids, all live (ids compare among themselves: all ints or all strings)."""
        main = list(ids)
        order = sorted(range(len(main)), key=main.__getitem__)
        rank = np.empty(len(main), dtype=np.int64)
        rank[order] = np.arange(len(main))
        row = {record_id: i for i, record_id in enumerate(main)}
        return cls(
            main, row, [main[i] for i in order], rank, (), {}, np.ones(len(main), dtype=bool), len(main), 0
        )

    @property
    def n_main(self) -> int:
        return len(self.main)

    @property
    def size(self) -> int:
        return len(self.main) + len(self.delta)

    @property
    def pending(self) -> int:
        """Delta rows plus removed main rows: what a compaction folds in or drops."""
        return len(self.delta) + self.main_removed

    def row(self, record_id: RecordId) -> int | None:
        """The live row of ``record_id`` (``None``: not indexed, or removed)."""
        row = self.delta_row.get(record_id)
        if row is not None:
            return row
        row = self.main_row.get(record_id)
        return row if row is not None and self.active[row] else None

    def rows_of(self, ids: Iterable[RecordId]) -> list[int]:
        return sorted({row for row in map(self.row, ids) if row is not None})

    def id_at(self, row: int) -> RecordId:
        return self.main[row] if row < len(self.main) else self.delta[row - len(self.main)]

    def plus(self, ids: Sequence[RecordId]) -> _Rows:
        """These (unindexed) ids appended to the delta."""
        start = self.size
        delta_row = {**self.delta_row, **{record_id: start + i for i, record_id in enumerate(ids)}}
        active = np.concatenate([self.active, np.ones(len(ids), dtype=bool)])
        return _Rows(
            self.main, self.main_row, self.main_sorted, self.main_rank, self.delta + tuple(ids), delta_row,
            active, self.count + len(ids), self.main_removed,
        )  # fmt: skip

    def without(self, rows: Sequence[int]) -> _Rows:
        """These live rows masked (tombstones until the next compaction)."""
        active = self.active.copy()
        active[list(rows)] = False
        gone = {self.id_at(row) for row in rows if row >= len(self.main)}
        delta_row = {k: v for k, v in self.delta_row.items() if k not in gone} if gone else self.delta_row
        removed = self.main_removed + sum(1 for row in rows if row < len(self.main))
        return _Rows(
            self.main, self.main_row, self.main_sorted, self.main_rank, self.delta, delta_row, active,
            self.count - len(rows), removed,
        )  # fmt: skip

    def compacted(self) -> _Rows:
        """The live rows, in row order, as a new main segment."""
        return _Rows.of([self.id_at(int(row)) for row in np.flatnonzero(self.active)])

    def key(self) -> npt.NDArray[np.int64]:
        """Each row's place in id order (ties between equal scores break by it).

        A delta id sits between the main ids around it (found by bisection), so no sort of the whole
        index is needed after a change. Built on first use per state (forks share it).
        """
        if self._key is None:
            n = len(self.delta)
            if n == 0:
                self._key = self.main_rank
            else:
                # main rank i ↦ (2i + 1)·W; a delta id after p main ids ↦ 2p·W + its rank among the delta's
                width = n + 1
                points = np.array(
                    [bisect.bisect_left(self.main_sorted, i) for i in self.delta], dtype=np.int64
                )
                order = sorted(range(n), key=self.delta.__getitem__)
                rank = np.empty(n, dtype=np.int64)
                rank[order] = np.arange(n)
                self._key = np.concatenate([(2 * self.main_rank + 1) * width, 2 * points * width + rank])
        return self._key


@dataclass(frozen=True, slots=True)
class _ExpertDelta:
    """The experts indexed since the last compaction (rows after the main segment's)."""

    profiles: sp.csr_matrix  # rows × terms
    profiles_t: sp.csr_matrix  # terms × rows: what a query reads
    achievements: sp.csr_matrix  # achievements × terms (the documents model)
    achievements_t: sp.csr_matrix
    achievement_owner: npt.NDArray[np.int64]  # rows over both segments
    keywords: sp.csr_matrix  # rows × keyword columns
    discipline_names: tuple[tuple[str, ...], ...]
    discipline_codes: tuple[tuple[int, ...], ...]
    discipline_slots: npt.NDArray[np.int32]
    keywords_csc: sp.csc_matrix = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keywords_csc", self.keywords.tocsc())

    @classmethod
    def empty(cls, terms: int) -> _ExpertDelta:
        rows = sp.csr_matrix((0, terms), dtype=np.float32)
        return cls(
            rows, _term_major(rows), rows, _term_major(rows), np.zeros(0, dtype=np.int64),
            sp.csr_matrix((0, 1), dtype=np.float32), (), (), np.zeros((0, 1), dtype=np.int32),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _OrderDelta:
    """The orders indexed since the last compaction (rows after the main segment's)."""

    matrix: sp.csr_matrix  # rows × terms
    matrix_t: sp.csr_matrix  # terms × rows
    field_similarity: FloatArray  # rows × disciplines with a centroid
    keywords: sp.csr_matrix  # rows × keyword columns

    @classmethod
    def empty(cls, terms: int, disciplines: int) -> _OrderDelta:
        rows = sp.csr_matrix((0, terms), dtype=np.float32)
        return cls(
            rows, _term_major(rows), np.zeros((0, disciplines), dtype=np.float32),
            sp.csr_matrix((0, 1), dtype=np.float32),
        )  # fmt: skip


# the per-row arrays of each side, over both segments (a compaction keeps their live rows)
_EXPERT_ROW_ARRAYS = (
    "expert_district_", "expert_town_", "expert_capacity_", "expert_load_", "expert_term_end_",
    "expert_track_record_", "expert_maturity_level_", "_expert_has_history",
)  # fmt: skip
_ORDER_ROW_ARRAYS = ("order_district_", "order_town_", "order_need_")


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
