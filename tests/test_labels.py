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
