"""What the dashboard returns: one typed, read-only tree per year that the JSON API, pages and exports share.

Every list is already sorted for display and every label is Chinese, so a template only loops. Ratios are
fractions (0.75, not 75) rounded to 4 places, except on the conversion-rate KPI card, which is shown in
percent like its target. ``None`` means "no data to compute this from" (a ratio over zero), never zero.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import InputModel


class _Read(BaseModel):
    model_config = ConfigDict(frozen=True)


KpiKey = Literal["demonstration_cobuilds", "innovations", "conversion_rate", "worker_trainings"]


class KpiCard(_Read):
    """One headline figure against its yearly target (``Settings.targets``)."""

    key: KpiKey
    label: str = Field(description="指标名称")
    value: int | float | None = Field(description="当年值（转化率为百分数；当年没有成果时为空）")
    target: int | float = Field(description="年度目标（转化率为百分数）")
    unit: str = Field(description="单位：项、人次或 %")
    progress: float | None = Field(description="完成进度 = 当年值 / 目标，未封顶（1.25 表示完成 125%）")
    progress_capped: float | None = Field(description="进度条用的完成进度，封顶为 1")
    met: bool = Field(description="是否达到目标")
    note: str = Field(description="口径说明或分子分母")


FunnelKey = Literal["published", "proposed", "taken", "signed", "delivered"]


class FunnelStep(_Read):
    """Orders published in the year that reached this step and every step before it (at any time since)."""

    key: FunnelKey
    label: str
    orders: int = Field(description="需求数")
    conversion: float | None = Field(description="相对上一环节的转化率；第一环节或上一环节为 0 时为空")
    share_of_published: float | None = Field(description="占当年发布需求的比例")
    median_days: float | None = Field(
        description="自发布起的中位天数：已接单为至首次接单，已签约为至协议生效；其他环节为空"
    )


class Funnel(_Read):
    """The match funnel of the orders published in the year."""

    steps: list[FunnelStep]
    median_days_to_first_taking: float | None = Field(description="发布至首次接单的中位天数")
    median_days_to_effective: float | None = Field(description="发布至协议生效（双方签署）的中位天数")
    taken_without_proposals: int = Field(description="没有匹配建议、由专家自行接单的需求数（不计入漏斗）")


class AcceptanceRow(_Read):
    """How people answered the proposals of one rank position or one matcher version."""

    key: str = Field(description="排名（1–10）或匹配器版本")
    label: str
    proposals: int = Field(description="匹配建议数")
    accepted: int = Field(description="已接受")
    declined: int = Field(description="已婉拒")
    acceptance_rate: float | None = Field(description="接受率 = 接受 / (接受 + 婉拒)")
    led_to_taking: int = Field(description="促成接单的建议数（被推荐的专家接了该需求）")
    taking_rate: float | None = Field(description="促成接单的比例 = 促成接单 / 建议数")


class DeclineExample(_Read):
    """One declined proposal behind a reason."""

    proposal_id: int
    order_id: int
    order_title: str
    expert_id: int
    expert_name: str


class DeclineReasonRow(_Read):
    """A decline reason, as written (trimmed and normalised), with how often it was given."""

    reason: str
    count: int
    examples: list[DeclineExample] = Field(description="最多 3 个例子")


class RatingBucket(_Read):
    """How many ratings gave this many stars."""

    stars: int
    count: int


class RatingRow(_Read):
    """The ratings one side gave the other on the agreements delivered in the year."""

    key: Literal["enterprise_to_expert", "expert_to_enterprise"]
    label: str
    rated: int = Field(description="有评分的协议数")
    mean: float | None = Field(description="平均分，保留 2 位小数")
    distribution: list[RatingBucket] = Field(description="1–5 分各有几份")


class RelevanceSummary(_Read):
    """nDCG@10 of the live matcher on the administrators' relevance judgements."""

    ndcg_at_10: float | None = Field(description="在有判定的需求上平均的 nDCG@10；没有判定时为空")
    judged_orders: int
    judged_proposals: int
    relevant: int
    not_relevant: int


class OrderRef(_Read):
    """An example order of a coverage gap."""

    id: int
    title: str
    best_score: float | None = Field(description="最佳匹配建议得分；没有建议时为空")


class CoverageGapRow(_Read):
    """A field whose orders of the year found no strong expert (选派建议的依据)."""

    field: str
    gap_orders: int = Field(description="缺口需求数 = 无建议 + 最佳建议低于阈值")
    without_proposals: int
    weak_proposals: int
    published_orders: int = Field(description="该领域当年发布的需求总数")
    examples: list[OrderRef] = Field(description="最多 3 个，最弱的在前")


class BreakdownRow(_Read):
    """The year's activity of one district, expert cohort, star level or alliance."""

    key: str
    label: str
    published_orders: int | None = Field(description="当年发布的需求数；按专家批次统计时不适用，为空")
    taken_orders: int = Field(description="当年有人接单的需求数")
    agreements_signed: int = Field(description="当年生效（双方签署）的协议数")
    agreements_delivered: int = Field(description="当年交付的协议数")


class TrendRow(_Read):
    """One month of the year."""

    month: int
    label: str
    published_orders: int
    takings: int
    agreements_signed: int
    agreements_delivered: int


class Dashboard(_Read):
    """Everything the dashboard shows for one year."""

    year: int
    strong_proposal_score: float = Field(description="强匹配阈值：最佳建议低于此分的需求算作覆盖缺口")
    kpis: list[KpiCard]
    funnel: Funnel
    acceptance_by_rank: list[AcceptanceRow]
    acceptance_by_version: list[AcceptanceRow]
    decline_reasons: list[DeclineReasonRow]
    ratings: list[RatingRow]
    relevance: RelevanceSummary
    coverage_gaps: list[CoverageGapRow]
    by_district: list[BreakdownRow]
    by_cohort: list[BreakdownRow]
    by_star: list[BreakdownRow]
    by_alliance: list[BreakdownRow]
    trend: list[TrendRow]


class DashboardTable(StrEnum):
    """The tables of the dashboard that export to XLSX."""

    KPIS = "kpis"
    FUNNEL = "funnel"
    ACCEPTANCE_BY_RANK = "acceptance_by_rank"
    ACCEPTANCE_BY_VERSION = "acceptance_by_version"
    DECLINE_REASONS = "decline_reasons"
    RATINGS = "ratings"
    RELEVANCE = "relevance"
    COVERAGE_GAPS = "coverage_gaps"
    BY_DISTRICT = "by_district"
    BY_COHORT = "by_cohort"
    BY_STAR = "by_star"
    BY_ALLIANCE = "by_alliance"
    TREND = "trend"


class RelevanceJudgement(InputModel):
    """An administrator's judgement of one proposal: relevant, not relevant, or withdrawn (null)."""

    relevant: bool | None = Field(description="true 相关、false 不相关、null 撤销判定")


class ProposalRelevanceRead(_Read):
    """A proposal with its relevance judgement."""

    id: int
    order_id: int
    expert_id: int
    rank: int
    matcher_version: str
    relevant: bool | None


class DashboardSnapshotRead(_Read):
    """One nightly snapshot of the dashboard (``GET /dashboard/snapshots``)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    taken_at: datetime = Field(description="生成时间（UTC）")
    taken_on: date = Field(description="快照所属日期（北京时间）")
    year: int = Field(description="统计年度")
    payload: dict[str, Any] = Field(
        description="快照内容：kpis（指标卡片）与 funnel（撮合漏斗），字段与 GET /dashboard 相同"
    )
