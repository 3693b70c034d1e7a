"""Fixtures of the matching tests: a matcher fitted once on the hand-written corpus."""

from __future__ import annotations

import pytest

from matching import Matcher
from tests.matching.corpus import EXPERTS, ORDERS


@pytest.fixture(scope="module")
def fitted() -> Matcher:
    """A matcher fitted on the whole corpus. Read-only: tests that mutate build their own (``fresh``)."""
    return Matcher().fit(EXPERTS, ORDERS)


@pytest.fixture
def fresh() -> Matcher:
    """A matcher fitted on the whole corpus that a test may change."""
    return Matcher().fit(EXPERTS, ORDERS)
