"""Chinese display names used only by the dashboard (cards, funnel steps, buckets, sheet titles)."""

from __future__ import annotations

from typing import Final

# KPI cards
KPI_DEMONSTRATION_COBUILDS: Final = "示范共建"
KPI_INNOVATIONS: Final = "技术革新/发明创造/成果"
KPI_CONVERSION_RATE: Final = "成果转化率"
KPI_WORKER_TRAININGS: Final = "培训职工人次"
UNIT_ITEMS: Final = "项"
UNIT_TRAINEES: Final = "人次"
UNIT_PERCENT: Final = "%"

# funnel steps
FUNNEL_PUBLISHED: Final = "已发布"
FUNNEL_PROPOSED: Final = "有匹配建议"
FUNNEL_TAKEN: Final = "已接单"
FUNNEL_SIGNED: Final = "已签约"
FUNNEL_DELIVERED: Final = "已交付"

# ratings, each way
RATING_ENTERPRISE_TO_EXPERT: Final = "企业评专家"
RATING_EXPERT_TO_ENTERPRISE: Final = "专家评企业"

# buckets for missing values
NO_FIELD: Final = "未标注领域"
NO_ALLIANCE: Final = "未加入联盟"
NO_COHORT: Final = "未标注批次"
NO_DISTRICT: Final = "未标注区县"
NO_REASON: Final = "未填写原因"
NO_VERSION: Final = "未记录版本"
STARS: Final = ("未评星级", "一星级", "二星级", "三星级")


def rank_label(rank: int) -> str:
    """第 3 位."""
    return f"第 {rank} 位"


def month_label(month: int) -> str:
    """3月."""
    return f"{month}月"


def cohort_label(number: int | None, year: int | None) -> str:
    """第13批（2020年）; 第13批 without a year; ``NO_COHORT`` without a number."""
    if number is None:
        return NO_COHORT
    return f"第{number}批（{year}年）" if year is not None else f"第{number}批"
