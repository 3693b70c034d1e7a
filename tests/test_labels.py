"""Every enum value a user can meet has its own Chinese label."""

from __future__ import annotations

from enum import StrEnum

import pytest

import app.models as models
from app.labels import label

ENUMS = sorted(
    (v for v in vars(models).values() if isinstance(v, type) and issubclass(v, StrEnum)),
    key=lambda e: e.__name__,
)


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_member_has_a_chinese_label(enum: type[StrEnum]) -> None:
    for member in enum:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in label(member)), f"{enum.__name__}.{member.name}"


def test_members_with_the_same_value_keep_their_own_labels() -> None:
    # OrderStatus.TAKEN and TakingSource.TAKEN are both "taken" (equal as strings)
    assert label(models.OrderStatus.TAKEN) == "已接单"
    assert label(models.TakingSource.TAKEN) == "主动接单"


def test_a_required_field_left_empty_is_asked_for_by_name() -> None:
    # issue 12: "请填写合作目标", not "长度不能少于 1 个字符" or "必须是整数" for an empty field
    from app.errors import validation_problems

    problems = validation_problems(
        [
            {"type": "string_too_short", "loc": ("body", "goals"), "input": "", "ctx": {"min_length": 1}},
            {"type": "int_parsing", "loc": ("form", "duration_months"), "input": " "},
            {"type": "date_from_datetime_parsing", "loc": ("start_date",), "input": ""},
            {"type": "int_parsing", "loc": ("body", "duration_months"), "input": "六"},
            {
                "type": "string_too_short",
                "loc": ("body", "no_such_field"),
                "input": "",
                "ctx": {"min_length": 1},
            },
        ]
    )

    assert [p["message"] for p in problems] == [
        "请填写合作目标",
        "请填写合作期限（月）",
        "请填写开始日期",
        "必须是整数",  # something typed that is not a number is told so
        "请填写此项",
    ]
