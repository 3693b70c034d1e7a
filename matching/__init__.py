"""The matching library: finds the experts who can solve an order, and the orders worth an expert's time.

A pure library with a scikit-learn-like API: it never imports ``app``, SQLAlchemy or FastAPI, and its
only I/O is the explicit ``Matcher.save`` / ``Matcher.load``.
"""

from matching.matcher import ALGORITHM, EmptyQueryError, Matcher
from matching.text import normalise, simplified
from matching.tokenizer import Tokenizer
from matching.types import AchievementText, Candidate, ExpertProfile, OrderText, RankerWeights

__all__ = [
    "ALGORITHM",
    "AchievementText",
    "Candidate",
    "EmptyQueryError",
    "ExpertProfile",
    "Matcher",
    "OrderText",
    "RankerWeights",
    "Tokenizer",
    "normalise",
    "simplified",
]
