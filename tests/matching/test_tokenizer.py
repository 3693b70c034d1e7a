"""Tokenizer: normalised jieba words with a domain dictionary, plus '#'-marked character bigrams."""

from __future__ import annotations

import pickle
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import Tokenizer
from matching.tokenizer import BIGRAM_PREFIX


@pytest.fixture(scope="module")
def tokenize() -> Tokenizer:
    return Tokenizer()


@pytest.mark.parametrize(
    ("text", "whole"),
    [
        ("工厂5G基站的信号覆盖", "5g"),
        ("3D打印随形冷却模具", "3d打印"),
        ("Q235钢板焊接变形", "q235"),
        ("1.5T无液氦超导磁体", "1.5t"),
        ("PLC控制柜改造", "plc"),
        ("CNC加工中心颤振", "cnc"),
        ("ＣＮＣ加工中心颤振", "cnc"),
        ("用 PLC 和 CNC 做产线", "plc"),
    ],
)
def test_mixed_latin_terms_stay_whole_and_lower_cased(tokenize: Tokenizer, text: str, whole: str) -> None:
    tokens = tokenize(text)
    assert whole in tokens
    # and they are not also cut into pieces (no bare "5", "g", "1", ".", "3d" ...)
    pieces = {whole[:1], whole[-1:], "."} - {whole}
    assert not pieces & set(tokens)


def test_mixed_latin_terms_in_one_text(tokenize: Tokenizer) -> None:
    tokens = tokenize("5G专网 3D打印 Q235 1.5T PLC CNC")
    for term in ("3d打印", "q235", "1.5t", "plc", "cnc"):
        assert term in tokens
    assert "5g" in tokens or "5g专网" in tokens
    assert all(t == t.lower() for t in tokens)


def test_stopwords_are_dropped(tokenize: Tokenizer) -> None:
    text = "本文研究了数控机床的振动，提出了一种诊断方法，满足企业需求"
    tokens = tokenize(text)
    assert "数控机床" in tokens
    for stopword in ("本文", "研究", "提出", "企业", "需求"):
        assert stopword not in tokens
        assert BIGRAM_PREFIX + stopword not in tokens


def test_stopwords_are_kept_when_asked(tokenize: Tokenizer) -> None:
    kept = Tokenizer(drop_stopwords=False)("本文研究企业需求")
    assert {"本文", "研究", "企业", "需求"} <= set(kept)


def test_punctuation_and_whitespace_are_not_tokens(tokenize: Tokenizer) -> None:
    tokens = tokenize("  数控机床 ，。！？ 、；：“”（）【】 —— ... \t\n 主轴  ")
    assert tokens
    assert all(t and not t.isspace() and t == t.strip() for t in tokens)
    assert not {"，", "。", "！", "、", "(", ")", ".", "...", "—"} & set(tokens)


@pytest.mark.parametrize("text", ["", "   ", "\u3000\t\n", "，。！？", "...!!!", "本文 研究 提出"])
def test_meaningless_text_yields_nothing(tokenize: Tokenizer, text: str) -> None:
    assert tokenize(text) == []


def test_bigrams_are_marked_and_come_from_chinese_runs(tokenize: Tokenizer) -> None:
    tokens = tokenize("刷丝磨圆率")
    bigrams = [t for t in tokens if t.startswith(BIGRAM_PREFIX)]
    assert bigrams
    assert {"#刷丝", "#丝磨", "#磨圆", "#圆率"} <= set(bigrams)


def test_char_ngrams_none_yields_no_bigram_features() -> None:
    tokens = Tokenizer(char_ngrams="none")("数控机床主轴振动诊断，牙刷刷丝磨圆率检测")
    assert tokens
    assert not [t for t in tokens if t.startswith(BIGRAM_PREFIX)]


def test_char_ngrams_unknown_yields_fewer_bigrams_than_all() -> None:
    text = "数控机床主轴振动诊断，牙刷刷丝磨圆率检测"
    unknown = [t for t in Tokenizer(char_ngrams="unknown")(text) if t.startswith(BIGRAM_PREFIX)]
    every = [t for t in Tokenizer(char_ngrams="all")(text) if t.startswith(BIGRAM_PREFIX)]
    assert set(unknown) <= set(every)
    assert len(unknown) < len(every)


def test_traditional_and_full_width_text_tokenize_like_simplified(tokenize: Tokenizer) -> None:
    assert tokenize("數控機床主軸振動診斷 ＣＮＣ") == tokenize("数控机床主轴振动诊断 cnc")


def test_tokenizer_pickles_and_tokenizes_identically() -> None:
    original = Tokenizer(hmm=True, char_ngrams="unknown", drop_stopwords=False)
    restored = pickle.loads(pickle.dumps(original))
    assert restored == original
    assert restored.get_params() == original.get_params()
    for text in ("数控机床主轴振动", "5G专网云安全", "1.5T无液氦超导磁体MRI", "淮扬菜烹饪培训"):
        assert restored(text) == original(text)


def test_equal_tokenizers_compare_and_hash_equal() -> None:
    assert Tokenizer() == Tokenizer()
    assert hash(Tokenizer()) == hash(Tokenizer())
    assert Tokenizer(char_ngrams="none") == Tokenizer(char_ngrams="none")
    assert Tokenizer() != Tokenizer(char_ngrams="none")
    assert Tokenizer() != Tokenizer(hmm=True)
    assert Tokenizer() != Tokenizer(drop_stopwords=False)
    assert Tokenizer() != "Tokenizer()"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_never_yields_empty_tokens(text: str) -> None:
    tokens = Tokenizer()(text)
    assert isinstance(tokens, list)
    for token in tokens:
        assert isinstance(token, str)
        assert token, "empty token"
        assert not token.isspace(), f"whitespace token {token!r}"
        assert token == token.strip(), f"token with surrounding whitespace {token!r}"
        assert token != BIGRAM_PREFIX


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_tokens_are_stable_under_nfkc(text: str) -> None:
    tokenize = Tokenizer()
    assert tokenize(text) == tokenize(unicodedata.normalize("NFKC", text))


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | st.sampled_from("ab5G .，"))
)
def test_equal_tokenizers_tokenize_alike(text: str) -> None:
    assert Tokenizer(char_ngrams="unknown")(text) == Tokenizer(char_ngrams="unknown")(text)
    assert Tokenizer(char_ngrams="none")(text) == [
        t for t in Tokenizer(char_ngrams="all")(text) if not t.startswith(BIGRAM_PREFIX)
    ]
