"""The dashboard's tables as XLSX sheets: a Chinese title, Chinese column headers and plain rows.

The workbook itself is written by ``app.transfer.xlsx.build_export`` (frozen bold header, filter, widths).
Ratios are written as fractions (0.75); the KPI sheet writes the conversion rate in percent, as its card.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.dashboard.schemas import BreakdownRow, Dashboard, DashboardTable
from app.transfer.xlsx import CellFormat, ExportColumn

_N = CellFormat.NUMBER


@dataclass(frozen=True, slots=True)
class Sheet:
    """One exported table: its sheet title (also in the file name), its columns and its rows."""

    title: str
    columns: tuple[ExportColumn, ...]
    rows: list[Sequence[Any]]


def _columns(*headers: str, text: int = 1) -> tuple[ExportColumn, ...]:
    """The first ``text`` columns hold text, the rest numbers."""
    return tuple(ExportColumn(h, CellFormat.TEXT if i < text else _N) for i, h in enumerate(headers))


def _kpis(d: Dashboard) -> Sheet:
    return Sheet(
        "核心指标",
        (
            ExportColumn("指标"),
            ExportColumn("当年值", _N),
            ExportColumn("年度目标", _N),
            ExportColumn("单位"),
            ExportColumn("完成进度", _N),
            ExportColumn("是否达标"),
            ExportColumn("口径说明"),
        ),
        [(k.label, k.value, k.target, k.unit, k.progress, "是" if k.met else "否", k.note) for k in d.kpis],
    )


def _funnel(d: Dashboard) -> Sheet:
    return Sheet(
        "匹配漏斗",
        _columns("环节", "需求数", "环节转化率", "占已发布比例", "自发布起中位天数"),
        [(s.label, s.orders, s.conversion, s.share_of_published, s.median_days) for s in d.funnel.steps],
    )


_ACCEPTANCE_HEADERS = ("建议数", "已接受", "已婉拒", "接受率", "促成接单", "促成接单比例")


def _acceptance_by_rank(d: Dashboard) -> Sheet:
    return Sheet(
        "按排名的接受率",
        _columns("排名", *_ACCEPTANCE_HEADERS),
        [
            (r.label, r.proposals, r.accepted, r.declined, r.acceptance_rate, r.led_to_taking, r.taking_rate)
            for r in d.acceptance_by_rank
        ],
    )


def _acceptance_by_version(d: Dashboard) -> Sheet:
    return Sheet(
        "按版本的接受率",
        _columns("匹配器版本", *_ACCEPTANCE_HEADERS),
        [
            (r.label, r.proposals, r.accepted, r.declined, r.acceptance_rate, r.led_to_taking, r.taking_rate)
            for r in d.acceptance_by_version
        ],
    )


def _decline_reasons(d: Dashboard) -> Sheet:
    return Sheet(
        "婉拒原因",
        (ExportColumn("婉拒原因"), ExportColumn("次数", _N), ExportColumn("示例")),
        [
            (
                r.reason,
                r.count,
                "\n".join(f"需求 #{e.order_id} {e.order_title}（专家 {e.expert_name}）" for e in r.examples),
            )
            for r in d.decline_reasons
        ],
    )


def _ratings(d: Dashboard) -> Sheet:
    return Sheet(
        "交付评价",
        _columns("评价方向", "评价数", "平均分", *(f"{s}分" for s in range(1, 6))),
        [(r.label, r.rated, r.mean, *(b.count for b in r.distribution)) for r in d.ratings],
    )


def _relevance(d: Dashboard) -> Sheet:
    r = d.relevance
    return Sheet(
        "相关性判定",
        _columns("指标", "nDCG@10", "有判定的需求数", "已判定建议数", "相关", "不相关"),
        [("在线匹配器", r.ndcg_at_10, r.judged_orders, r.judged_proposals, r.relevant, r.not_relevant)],
    )


def _coverage_gaps(d: Dashboard) -> Sheet:
    return Sheet(
        "覆盖缺口",
        (
            ExportColumn("领域"),
            ExportColumn("缺口需求数", _N),
            ExportColumn("无匹配建议", _N),
            ExportColumn("最佳建议低于阈值", _N),
            ExportColumn("当年发布需求数", _N),
            ExportColumn("示例需求"),
        ),
        [
            (
                r.field,
                r.gap_orders,
                r.without_proposals,
                r.weak_proposals,
                r.published_orders,
                "\n".join(f"#{o.id} {o.title}" for o in r.examples),
            )
            for r in d.coverage_gaps
        ],
    )


def _breakdown(title: str, header: str, rows: Sequence[BreakdownRow], *, published: bool = True) -> Sheet:
    if published:
        return Sheet(
            title,
            _columns(header, "发布需求", "已接单需求", "生效协议", "交付协议"),
            [
                (r.label, r.published_orders, r.taken_orders, r.agreements_signed, r.agreements_delivered)
                for r in rows
            ],
        )
    return Sheet(
        title,
        _columns(header, "已接单需求", "生效协议", "交付协议"),
        [(r.label, r.taken_orders, r.agreements_signed, r.agreements_delivered) for r in rows],
    )


def _trend(d: Dashboard) -> Sheet:
    return Sheet(
        "月度趋势",
        _columns("月份", "发布需求", "接单", "生效协议", "交付协议"),
        [
            (r.label, r.published_orders, r.takings, r.agreements_signed, r.agreements_delivered)
            for r in d.trend
        ],
    )


_SHEETS: dict[DashboardTable, Callable[[Dashboard], Sheet]] = {
    DashboardTable.KPIS: _kpis,
    DashboardTable.FUNNEL: _funnel,
    DashboardTable.ACCEPTANCE_BY_RANK: _acceptance_by_rank,
    DashboardTable.ACCEPTANCE_BY_VERSION: _acceptance_by_version,
    DashboardTable.DECLINE_REASONS: _decline_reasons,
    DashboardTable.RATINGS: _ratings,
    DashboardTable.RELEVANCE: _relevance,
    DashboardTable.COVERAGE_GAPS: _coverage_gaps,
    DashboardTable.BY_DISTRICT: lambda d: _breakdown("按区县", "区县", d.by_district),
    DashboardTable.BY_COHORT: lambda d: _breakdown("按专家批次", "专家批次", d.by_cohort, published=False),
    DashboardTable.BY_STAR: lambda d: _breakdown("按工作室星级", "工作室星级", d.by_star),
    DashboardTable.BY_ALLIANCE: lambda d: _breakdown("按创新联盟", "创新联盟", d.by_alliance),
    DashboardTable.TREND: _trend,
}


def sheet(dashboard: Dashboard, table: DashboardTable) -> Sheet:
    """The rows of one table of ``dashboard``, ready for ``build_export``."""
    return _SHEETS[table](dashboard)
