"""Property tests of a fitted matcher: bounded, finite, sorted rankings that ignore whitespace and input order."""

from __future__ import annotations

import itertools
import math
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Candidate, EmptyQueryError, ExpertProfile, Matcher, OrderText
from tests.matching.corpus import EXPERTS, ORDERS, TODAY

# words of the corpus, so that random orders usually share terms with some expert
WORDS = sorted(
    {k for e in EXPERTS for a in e.achievements for k in a.keywords}
    | {d for e in EXPERTS for d in e.disciplines}
    | {"数控机床", "振动", "焊接", "注塑", "模具", "超导", "混凝土", "烹饪", "监测", "安全", "光伏", "封装"}
)
DISCIPLINES = sorted({d for e in EXPERTS for d in e.disciplines})
DISTRICTS = sorted({e.district for e in EXPERTS if e.district})
WHITESPACE = [" ", "  ", "\t", "\n", "\u3000", " \n "]

CJK_ASCII = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | st.characters(
    min_codepoint=0x20, max_codepoint=0x7E
)
# whole titles and abstracts too, so that some orders match an expert almost perfectly
PASSAGES = sorted({t for e in EXPERTS for a in e.achievements for t in (a.title, a.abstract)})
fragments = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(PASSAGES),
    st.text(alphabet=CJK_ASCII, max_size=12),
    st.sampled_from(WHITESPACE),
)
texts = st.lists(fragments, max_size=10).map("".join)
orders = st.builds(
    OrderText,
    id=st.just("q"),
    title=texts,
    description=texts,
    fields=st.lists(st.sampled_from(DISCIPLINES), max_size=2).map(tuple),
    need_kind=st.sampled_from([None, "tech_transfer", "process_improvement", "consulting"]),
    district=st.none() | st.sampled_from(DISTRICTS),
)

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def rank_or_none(matcher: Matcher, order: OrderText, k: int) -> list[Candidate] | None:
    """Rank, or return None when the order legitimately has no term the matcher knows."""
    try:
        return matcher.rank_experts(order, k, today=TODAY)
    except EmptyQueryError:
        tokens = [
            *matcher.tokenizer_(order.title),
            *matcher.tokenizer_(order.description),
            *matcher.tokenizer_(" ".join(order.fields)),
        ]
        assert not any(t in matcher.vocabulary_ for t in tokens), "EmptyQueryError on a text with known terms"
        return None


@PROPERTY_SETTINGS
@given(order=orders, k=st.integers(min_value=1, max_value=20))
def test_rankings_are_bounded_finite_sorted_and_tie_broken_by_id(
    fitted: Matcher, order: OrderText, k: int
) -> None:
    candidates = rank_or_none(fitted, order, k)
    if candidates is None:
        return
    assert len(candidates) <= k
    assert len(candidates) == min(k, len(EXPERTS))
    ids = [c.id for c in candidates]
    assert len(set(ids)) == len(ids)
    for candidate in candidates:
        assert math.isfinite(candidate.score)
        assert 0.0 <= candidate.score <= 1.0
        assert all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in candidate.factors.values())
    for before, after in itertools.pairwise(candidates):
        assert before.score >= after.score
        if before.score == after.score:
            assert before.id < after.id  # type: ignore[operator]


@PROPERTY_SETTINGS
@given(order=orders)
def test_duplicated_whitespace_does_not_change_the_ranking(fitted: Matcher, order: OrderText) -> None:
    def widen(text: str) -> str:
        return re.sub(r"(\s)", r"\1\1", text)

    wide = OrderText(
        id=order.id,
        title=f"  {widen(order.title)} ",
        description=widen(order.description) + "\n\n",
        fields=order.fields,
        need_kind=order.need_kind,
        district=order.district,
    )
    narrow_candidates = rank_or_none(fitted, order, 10)
    if narrow_candidates is None:
        assert rank_or_none(fitted, wide, 10) is None
        return
    assert fitted.rank_experts(wide, 10, today=TODAY) == narrow_candidates


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(experts=st.permutations(EXPERTS), orders_=st.permutations(ORDERS), data=st.data())
def test_ranking_does_not_depend_on_the_order_of_the_experts(
    fitted: Matcher, experts: list[ExpertProfile], orders_: list[OrderText], data: st.DataObject
) -> None:
    shuffled = Matcher().fit(experts, orders_)
    order = data.draw(st.sampled_from(ORDERS) | orders, label="order")
    expected = rank_or_none(fitted, order, 12)
    if expected is None:
        return
    got = shuffled.rank_experts(order, 12, today=TODAY)
    assert [c.id for c in got] == [c.id for c in expected]
    assert [c.score for c in got] == [c.score for c in expected]
    assert shuffled.version_ == fitted.version_
