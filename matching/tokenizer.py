"""The tokenizer: jieba words with a domain dictionary, plus character bigrams for what jieba misses.

Segmentation runs on ``rjieba``, the Python binding of jieba-rs: jieba's algorithm and dictionary
in Rust. With our user dictionary and the HMM off it cuts every text of the evaluation set exactly as
the Python ``jieba`` package does (2,670 of 2,670 titles and abstracts), about 14 times faster, which
is most of a query's fixed cost and of an index build.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import rjieba

from matching.text import normalise

CharNgrams = Literal["all", "unknown", "none"]

# bigram features are marked so they never collide with a word feature of the same two characters
BIGRAM_PREFIX = "#"
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# decimals and dotted codes jieba would cut at the dot: 1.5t, 0.8mm, 6.3
_DOTTED = re.compile(r"^[0-9a-z]+(?:\.[0-9a-z]+)+$")
_MEANINGFUL = re.compile(r"[0-9a-z\u4e00-\u9fff]")


def _read_lines(name: str) -> list[str]:
    text = resources.files("matching.data").joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The shipped stopword list (boilerplate of abstracts and needs, function words)."""
    return frozenset(word for line in _read_lines("stopwords.txt") for word in line.split())


@lru_cache(maxsize=1)
def domain_terms() -> tuple[str, ...]:
    """The shipped user dictionary: fields, demo vocabulary and mixed Latin terms (5g, 3d打印, q235)."""
    return tuple(line.split()[0] for line in _read_lines("userdict.txt"))


@lru_cache(maxsize=1)
def _segmenter() -> rjieba.Jieba:
    # One private jieba instance per process: nothing another library adds to a shared dictionary
    # can change our tokens. Words are only added here, so it is read-only once built (and its
    # ``cut`` takes no lock).
    segmenter = rjieba.Jieba()
    for term in domain_terms():
        segmenter.add_word(term, 2000, None)
    return segmenter


# Bounded by entries, and an entry is a text with its ~100-150 features (several kB): 200,000 entries
# held 1.8 GB in `studio-match backfill-search` at 100,000 experts. 16,384 keep repeated texts (a
# query, an achievement listed twice in one build) cheap at a bounded ~100 MB.
FEATURE_CACHE_SIZE = 16_384


@lru_cache(maxsize=FEATURE_CACHE_SIZE)
def _cached_features(hmm: bool, char_ngrams: CharNgrams, drop_stopwords: bool, text: str) -> tuple[str, ...]:
    tokenizer = Tokenizer(hmm=hmm, char_ngrams=char_ngrams, drop_stopwords=drop_stopwords)
    return tuple(tokenizer.features(normalise(text)))


def clear_cache() -> None:
    """Forget memoised tokenizations and normalisations (benchmarks call it to time cold work)."""
    _cached_features.cache_clear()
    normalise.cache_clear()


class Tokenizer:
    """Turns text into features: normalised jieba words, and character bigrams of Chinese runs.

    Args:
        hmm: let jieba guess unknown words with its HMM (measured: off is better on technical text).
        char_ngrams: ``"all"`` adds the bigrams of every Chinese run, ``"unknown"`` only of runs
            jieba left as single characters (words it does not know), ``"none"`` adds none.
        drop_stopwords: leave out the shipped stopwords.

    Instances hold no per-instance state beyond these parameters, so they pickle small and any two
    equal instances tokenize identically.
    """

    def __init__(
        self, *, hmm: bool = False, char_ngrams: CharNgrams = "all", drop_stopwords: bool = True
    ) -> None:
        self.hmm = hmm
        self.char_ngrams = char_ngrams
        self.drop_stopwords = drop_stopwords

    def __call__(self, text: str) -> list[str]:
        """Return the features of ``text`` (normalised first).

        Results are memoised per parameter set and text (the last ``FEATURE_CACHE_SIZE`` texts): the
        same query again, or the same achievement listed twice, costs one segmentation. The cache holds pure results only, so it
        cannot make two instances behave differently.
        """
        return list(_cached_features(self.hmm, self.char_ngrams, self.drop_stopwords, text))

    def words(self, normalised: str) -> list[str]:
        """Return the jieba words of already-normalised text, without stopwords and punctuation."""
        return self._clean(self._join_dotted(_segmenter().cut(normalised, self.hmm)))

    def features(self, normalised: str) -> list[str]:
        """Return word features plus the configured character bigrams for already-normalised text."""
        pieces = self._join_dotted(_segmenter().cut(normalised, self.hmm))
        features = self._clean(pieces)
        if self.char_ngrams == "all":
            features.extend(self._bigrams(self._content_runs(pieces)))
        elif self.char_ngrams == "unknown":
            features.extend(self._bigrams(self._single_character_runs(pieces)))
        return features

    def _clean(self, pieces: list[str]) -> list[str]:
        stop = stopwords() if self.drop_stopwords else frozenset()
        return [p for p in pieces if p not in stop and _MEANINGFUL.search(p) and not p.isspace()]

    def _bigrams(self, runs: list[str]) -> list[str]:
        stop = stopwords() if self.drop_stopwords else frozenset()
        return [
            BIGRAM_PREFIX + run[i : i + 2]
            for run in runs
            for i in range(len(run) - 1)
            if run[i : i + 2] not in stop
        ]

    def _content_runs(self, pieces: list[str]) -> list[str]:
        # Chinese text between stopwords and punctuation: bigrams never straddle 本文/研究/提出 ...
        stop = stopwords() if self.drop_stopwords else frozenset()
        return _runs(pieces, lambda piece: piece not in stop)

    @staticmethod
    def _single_character_runs(pieces: list[str]) -> list[str]:
        # with the HMM off, jieba cuts a word it does not know into single characters
        return _runs(pieces, lambda piece: len(piece) == 1)

    @staticmethod
    def _join_dotted(pieces: list[str]) -> list[str]:
        # jieba splits "1.5t" into "1", ".", "5t": glue digit/letter runs joined by single dots
        out: list[str] = []
        for piece in pieces:
            if out and len(out) >= 2 and out[-1] == "." and _DOTTED.match(f"{out[-2]}.{piece}"):
                dot = out.pop()
                out[-1] = out[-1] + dot + piece
            else:
                out.append(piece)
        return out

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn convention)."""
        return {"hmm": self.hmm, "char_ngrams": self.char_ngrams, "drop_stopwords": self.drop_stopwords}

    def __repr__(self) -> str:
        return f"Tokenizer(hmm={self.hmm}, char_ngrams={self.char_ngrams!r}, drop_stopwords={self.drop_stopwords})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokenizer) and self.get_params() == other.get_params()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.get_params().items())))


def _runs(pieces: list[str], joins: Callable[[str], bool]) -> list[str]:
    """Concatenations of consecutive Chinese pieces for which ``joins`` holds (two characters or more)."""
    runs: list[str] = []
    current = ""
    for piece in pieces:
        if joins(piece) and _CJK_RUN.fullmatch(piece):
            current += piece
            continue
        if len(current) > 1:
            runs.append(current)
        current = ""
    if len(current) > 1:
        runs.append(current)
    return runs
