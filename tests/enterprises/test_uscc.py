"""The unified social credit code (统一社会信用代码, GB 32100-2015): check character, reasons, normalisation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.enterprises import uscc

CJK = re.compile(r"[\u4e00-\u9fff]")
FORBIDDEN = "IOZSV"

# no example database: the properties are cheap, and the run must not leave files in the repository
properties = settings(database=None, max_examples=300, deadline=None)

prefixes = st.text(alphabet=uscc.CHARSET, min_size=17, max_size=17)


@st.composite
def valid_codes(draw: st.DrawFn) -> str:
    first17 = draw(prefixes)
    return first17 + uscc.check_character(first17)


# --- real codes, checked by hand ---------------------------------------------------------------
#
# The value of a character is its index in CHARSET "0123456789ABCDEFGHJKLMNPQRTUWXY" (A=10 … Y=30);
# the check character is CHARSET[(31 - Σ value·weight mod 31) mod 31].
#
# 华为技术有限公司, 914403001922038216 (printed on its business licence):
#   digits   9  1  4   4   0   3   0   0   1   9   2   2  0   3   8   2   1
#   weights  1  3  9  27  19  26  16  17  20  29  25  13  8  24  10  30  28
#   products 9  3 36 108   0  78   0   0  20 261  50  26  0  72  80  60  28   → sum 831
#   831 = 26·31 + 25, so 831 mod 31 = 25; 31 − 25 = 6 → check character "6"  ✓
#
# 阿里巴巴（中国）有限公司, 91330100716105852F:
#   digits   9  1  3   3   0   1   0   0   7   1   6   1  0   5   8   5   2
#   products 9  3 27  81   0  26   0   0 140  29 150  13  0 120  80 150  56   → sum 884
#   884 = 28·31 + 16, so 884 mod 31 = 16; 31 − 16 = 15 → CHARSET[15] = "F"  ✓
HUAWEI = "914403001922038216"
ALIBABA = "91330100716105852F"


@pytest.mark.parametrize(("code", "check"), [(HUAWEI, "6"), (ALIBABA, "F")])
def test_check_character_of_published_codes(code: str, check: str) -> None:
    assert uscc.check_character(code[:17]) == check


@pytest.mark.parametrize("code", [HUAWEI, ALIBABA])
def test_published_codes_are_valid(code: str) -> None:
    assert uscc.problem(code) is None


def test_published_code_with_another_check_character_is_invalid() -> None:
    reason = uscc.problem(HUAWEI[:17] + "7")

    assert reason is not None
    assert "校验位" in reason
    assert "应为 6" in reason
    assert "实际为 7" in reason


# --- problem(): the Chinese reasons ------------------------------------------------------------


def test_too_short_code_names_the_expected_and_actual_length() -> None:
    reason = uscc.problem(HUAWEI[:17])

    assert reason == "应为 18 位，当前为 17 位"


def test_empty_code_is_invalid() -> None:
    reason = uscc.problem("")

    assert reason is not None
    assert "当前为 0 位" in reason


@pytest.mark.parametrize("letter", list(FORBIDDEN))
def test_each_forbidden_letter_is_named(letter: str) -> None:
    code = HUAWEI[:5] + letter + HUAWEI[6:]

    reason = uscc.problem(code)

    assert reason is not None
    assert CJK.search(reason)
    assert f"不允许的字符：{letter}（" in reason


def test_several_forbidden_characters_are_listed_once_each_in_order() -> None:
    reason = uscc.problem("9132O003OI00000012")

    assert reason is not None
    assert "不允许的字符：I、O（" in reason


def test_unnormalised_lower_case_is_not_accepted_by_problem() -> None:
    # problem() expects a normalised code: lower case is the caller's job (normalise) to fix
    assert uscc.problem(ALIBABA.lower()) is not None


# --- check_character(): input it refuses ---------------------------------------------------------


@pytest.mark.parametrize("first17", ["", HUAWEI[:16], HUAWEI, "9144030019220382I"])
def test_check_character_refuses_input_that_is_not_17_charset_characters(first17: str) -> None:
    with pytest.raises(ValueError):
        uscc.check_character(first17)


# --- normalise() --------------------------------------------------------------------------------


def test_normalise_strips_spaces_and_upper_cases() -> None:
    assert uscc.normalise(" 9133 0100 7161 0585 2f ") == ALIBABA


def test_normalise_removes_tabs_newlines_and_full_width_spaces() -> None:
    assert uscc.normalise("913301007\t16105\n852f\u3000") == ALIBABA


# --- properties ---------------------------------------------------------------------------------


@properties
@given(prefixes)
def test_any_prefix_with_its_check_character_is_valid(first17: str) -> None:
    code = first17 + uscc.check_character(first17)

    assert len(code) == uscc.LENGTH
    assert uscc.problem(code) is None


@properties
@given(prefixes, st.sampled_from(uscc.CHARSET))
def test_any_other_check_character_is_rejected(first17: str, last: str) -> None:
    expected = uscc.check_character(first17)
    code = first17 + last

    reason = uscc.problem(code)

    if last == expected:
        assert reason is None
    else:
        assert reason == f"校验位错误：第 18 位应为 {expected}，实际为 {last}"


@properties
@given(valid_codes(), st.integers(0, 16), st.sampled_from(uscc.CHARSET))
def test_any_single_character_change_is_detected(code: str, position: int, replacement: str) -> None:
    # 31 is prime and no weight is 0 mod 31, so one wrong character always changes the sum
    changed = code[:position] + replacement + code[position + 1 :]

    assert (uscc.problem(changed) is None) == (changed == code)


@properties
@given(valid_codes(), st.integers(0, 16))
def test_any_swap_of_neighbouring_characters_is_detected(code: str, position: int) -> None:
    # neighbouring weights differ mod 31 (the check character weighs 1), so a swap changes the sum
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]

    assert (uscc.problem(swapped) is None) == (swapped == code)


@properties
@given(st.text(alphabet=uscc.CHARSET, max_size=40).filter(lambda s: len(s) != uscc.LENGTH))
def test_any_wrong_length_is_rejected_with_a_chinese_reason(code: str) -> None:
    reason = uscc.problem(code)

    assert reason == f"应为 18 位，当前为 {len(code)} 位"


@properties
@given(valid_codes(), st.integers(0, 17), st.sampled_from(FORBIDDEN))
def test_any_forbidden_letter_is_rejected_with_a_chinese_reason(
    code: str, position: int, letter: str
) -> None:
    spoiled = code[:position] + letter + code[position + 1 :]

    reason = uscc.problem(spoiled)

    assert reason is not None
    assert CJK.search(reason)
    assert f"不允许的字符：{letter}（" in reason


@properties
@given(
    valid_codes(),
    st.lists(st.booleans(), min_size=18, max_size=18),
    st.lists(st.sampled_from(["", " ", "  ", "\t", "\n", "\u3000"]), min_size=19, max_size=19),
)
def test_normalise_undoes_any_spacing_and_lower_casing(code: str, lower: list[bool], gaps: list[str]) -> None:
    pasted = gaps[0] + "".join(
        (c.lower() if low else c) + gap for c, low, gap in zip(code, lower, gaps[1:], strict=True)
    )

    assert uscc.normalise(pasted) == code
    assert uscc.problem(uscc.normalise(pasted)) is None


@properties
@given(st.text(alphabet=uscc.CHARSET.lower() + uscc.CHARSET + " \t\n\u3000", max_size=40))
def test_normalise_leaves_no_whitespace_or_lower_case(text: str) -> None:
    normalised = uscc.normalise(text)

    assert not any(c.isspace() for c in normalised)
    assert normalised == normalised.upper()
    assert uscc.normalise(normalised) == normalised


def test_normalise_folds_full_width_characters() -> None:
    # codes copied from documents typed with a Chinese input method come in full width
    assert uscc.normalise("９１３３０１００７１６１０５８５２Ｆ") == ALIBABA
