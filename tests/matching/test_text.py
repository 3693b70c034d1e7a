"""normalise(): one spelling for traditional/simplified, full/half width, upper/lower case and whitespace."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("數控機床", "数控机床"),
        ("船舶焊接變形", "船舶焊接变形"),
        ("淮揚菜烹飪培訓", "淮扬菜烹饪培训"),
        ("鐳射", "激光"),
        ("雷射切割", "激光切割"),
        ("3D列印", "3d打印"),
    ],
)
def test_traditional_becomes_simplified(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize("mainland", ["程序", "软件程序设计", "数据库", "进程调度"])
def test_mainland_words_are_left_alone(mainland: str) -> None:
    # Taiwan phrase conversion would turn 程序 (a program) into 进程 (a process)
    assert normalise(mainland) == mainland


def test_taiwan_phrase_software_becomes_simplified_phrase() -> None:
    # 軟體 is the Taiwan phrase for 软件: character-by-character conversion would give 软体
    assert normalise("軟體開發") == "软件开发"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＰＬＣ", "plc"),
        ("９１", "91"),
        ("ＣＮＣ加工", "cnc加工"),
        ("Ｑ２３５", "q235"),
        ("（ＭＲＩ）", "(mri)"),
    ],
)
def test_full_width_becomes_half_width(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("PLC", "plc"), ("Cnc", "cnc"), ("1.5T", "1.5t"), ("COD", "cod")]
)
def test_latin_case_is_folded(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_whitespace_runs_collapse_to_one_space_and_ends_are_stripped() -> None:
    assert normalise("  数控\t\t机床 \n\n 主轴\u3000 振动  ") == "数控 机床 主轴 振动"


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\u3000\u3000", "\u00a0"])
def test_blank_becomes_empty(blank: str) -> None:
    assert normalise(blank) == ""


def test_already_normal_text_is_unchanged() -> None:
    text = "数控机床主轴振动诊断 cnc 5g q235"
    assert normalise(text) == text


def test_text_after_a_nul_character_is_kept() -> None:
    # user input may carry control characters; they must not swallow the rest of the text
    assert "机床" in normalise("数控\x00机床")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))))
def test_normalise_is_idempotent_and_has_no_stray_whitespace(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert normalise(unicodedata.normalize("NFKC", text)) == once
