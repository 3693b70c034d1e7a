"""``fit`` tokenizes each document as the vectorizer reaches it: the corpus's tokens are never all alive.

A corpus's tokens take several times the memory of its text (at 20,000 experts and 34,000 orders
they were most of the build's peak), so ``fit`` must not hold them for every document at once.
"""

from __future__ import annotations

import weakref

from matching import AchievementText, ExpertProfile, Matcher, OrderText
from matching.tokenizer import Tokenizer


class _Token(str):
    """A token whose lifetime can be watched (a plain ``str`` cannot be weakly referenced)."""


class WatchingTokenizer(Tokenizer):
    """Tokenizes as usual, with fresh token objects, and records how many were alive at most."""

    def __init__(self) -> None:
        super().__init__()
        self.alive = 0
        self.most_alive = 0
        self.largest_call = 0

    def __call__(self, text: str) -> list[str]:
        self.most_alive = max(self.most_alive, self.alive)
        tokens = [_Token(t) for t in super().__call__(text)]
        for token in tokens:
            self.alive += 1
            weakref.finalize(token, self._dropped)
        self.largest_call = max(self.largest_call, len(tokens))
        return list(tokens)

    def _dropped(self) -> None:
        self.alive -= 1


def test_fit_never_holds_every_documents_tokens() -> None:
    experts = [
        ExpertProfile(
            id=n,
            name=f"专家{n}",
            disciplines=("材料加工工程",),
            bio="长期从事船舶焊接工艺优化与焊接变形控制研究。",
            achievements=(
                AchievementText(
                    title="船体分段焊接变形预测与控制方法",
                    abstract="建立焊接热变形有限元模型，预测船体分段焊接变形并给出反变形工艺。",
                    keywords=("焊接变形", "船体分段"),
                ),
            ),
        )
        for n in range(200)
    ]
    orders = [
        OrderText(id=n, title="焊接变形控制", description="船体分段焊接后变形超差，需要优化焊接工艺。")
        for n in range(200)
    ]
    tokenizer = WatchingTokenizer()

    matcher = Matcher(tokenizer=tokenizer).fit(experts, orders)

    assert matcher.n_experts == 200 and matcher.n_orders == 200
    # the vocabulary keeps one object per distinct token; beyond it, only the documents being counted
    # (400 documents of this size, all alive at once, would be thousands of tokens)
    distinct = len(matcher.vocabulary_)
    assert tokenizer.most_alive <= distinct + 10 * tokenizer.largest_call, (
        tokenizer.most_alive,
        distinct,
        tokenizer.largest_call,
    )
