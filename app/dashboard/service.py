"""Use cases of the administrators' dashboard (管理驾驶舱): the yearly figures, their XLSX exports, and
administrators' relevance judgements of proposals.

Definitions (a "year" is a calendar year in China time, UTC+8: timestamps are compared with local
midnight of 1 January, dates such as ``held_on`` with the dates themselves; months likewise):

KPI cards, each against ``Settings.targets`` with ``progress = value / target`` (uncapped; a second,
capped copy feeds progress bars; no progress when the target is 0 or there is no value):

* 示范共建 — agreements whose ``catalogued_at`` (entry into the co-built project catalogue) falls in the year.
* 技术革新/发明创造/成果 — outcomes of any kind achieved in the year: by ``achieved_on``, or by
  ``created_at`` when ``achieved_on`` is not known.
* 成果转化率 — converted outcomes / outcomes of the year (as above); ``None`` when there are none. The card
  shows it and its target in percent.
* 培训职工人次 — the sum of ``trainee_count`` over trainings held (``held_on``) in the year.

The match funnel follows the orders published in the year (``published_at`` in the year, whatever their
status now) to what became of them since. Steps are nested (each keeps the orders of the step before that
also reached it): published → with at least one proposal → taken (at least one taking, released ones
included) → signed (at least one agreement signed by both sides, i.e. one that reached 执行中, whether it
was delivered or terminated later) → delivered (an agreement in 已交付). Orders taken without any proposal
(an expert found them on their own) stop at the first step and are counted apart. Conversion is a step's
count over the previous step's. Medians are over the orders of the step, in days (fractional), from
``published_at`` to the first taking's ``created_at`` (已接单) and to the first agreement taking effect,
the later of ``enterprise_signed_at`` and ``expert_signed_at`` (已签约).

Match quality covers the proposals of the orders published in the year:

* acceptance by rank position (1–10; ranks beyond 10 only count in the version table) and by
  ``matcher_version``: acceptance rate = accepted / (accepted + declined); taking rate = proposals whose
  expert took the order (any taking) / proposals.
* decline reasons: declined proposals grouped by their reason (NFKC, trimmed, inner spaces collapsed,
  final punctuation dropped; blank as 未填写原因), most frequent first, then by text; three examples each.
* ratings: the agreements delivered (``delivered_at``) in the year; 企业评专家 is ``enterprise_rating``,
  专家评企业 is ``expert_rating``; count, mean and the 1–5 distribution each way.
* nDCG@10 of the live matcher on administrators' judgements: for each order with at least one judged
  proposal (relevance 1 or 0), its proposals ranked by stored rank (then id), expired ones included,
  gain 1 for relevant and 0 otherwise (unjudged counts as 0), ideal ranking = the order's judged gains
  sorted; ``matching.evaluation.order_metrics`` computes it, so an order whose judgements are all "not
  relevant" scores 0. The mean over those orders; ``None`` when nothing is judged.

Coverage gaps (选派建议): orders published in the year with no proposal at all, or whose best proposal
score (any status) is below ``Settings.strong_proposal_score``, counted under each field of
``Order.fields`` (an order with no field under 未标注领域); fields with the most such orders first, with up
to three example orders, the weakest first.

Breakdowns and the monthly trend count the year's events: orders published in the year; orders taken in
the year (at least one taking made in it; the trend counts the takings themselves); agreements that took
effect in the year; agreements delivered in the year. Orders and agreements are placed by the order's
district and its studio's current star level and alliance (none: 未加入联盟); takings and agreements by
the expert's cohort (``cohort_number`` / ``cohort_year``), where published orders do not apply.
"""

from __future__ import annotations

import asyncio
import logging
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.security import Actor
from app.agreements.models import AgreementStatus
from app.audit.service import record_change, snapshot
from app.clock import CHINA_TZ, local_today
from app.config import YearlyTargets
from app.dashboard import exports, labels
from app.dashboard.errors import ProposalNotFound
from app.dashboard.models import DashboardSnapshot
from app.dashboard.repository import (
    AgreementFact,
    Cohort,
    DashboardRepository,
    OrderFact,
    OutcomeCount,
    Place,
    ProposalFact,
    TakingFact,
    Window,
)
from app.dashboard.schemas import (
    AcceptanceRow,
    BreakdownRow,
    CoverageGapRow,
    Dashboard,
    DashboardSnapshotRead,
    DashboardTable,
    DeclineExample,
    DeclineReasonRow,
    Funnel,
    FunnelStep,
    KpiCard,
    KpiKey,
    OrderRef,
    ProposalRelevanceRead,
    RatingBucket,
    RatingRow,
    RelevanceSummary,
    TrendRow,
)
from app.db import utcnow
from app.errors import Forbidden
from app.pagination import Page, PageParams
from app.proposals.models import Proposal, ProposalStatus
from app.transfer import service as transfer_service
from app.transfer import xlsx
from matching import normalise, simplified
from matching.evaluation import order_metrics
from matching.types import RecordId

log = logging.getLogger(__name__)

# the years the dashboard answers for (the programme started in 2004)
YEAR_MIN, YEAR_MAX = 2000, 2100
TOP_RANKS = 10
EXAMPLES = 3


def require_admin(actor: Actor) -> None:
    """The dashboard is for administrators (市总工会 / 人才办) only.

    Raises:
        Forbidden: the caller is not an administrator.
    """
    if not actor.is_admin:
        raise Forbidden("只有管理员可以查看管理驾驶舱。")


def year_window(year: int) -> Window:
    """The calendar year ``year`` in China time."""
    return Window(
        start=datetime(year, 1, 1, tzinfo=CHINA_TZ),
        end=datetime(year + 1, 1, 1, tzinfo=CHINA_TZ),
        first_day=date(year, 1, 1),
        next_first_day=date(year + 1, 1, 1),
    )


async def build_dashboard(
    session: AsyncSession,
    actor: Actor,
    *,
    year: int | None,
    targets: YearlyTargets,
    strong_proposal_score: float,
) -> Dashboard:
    """Every figure of the dashboard for ``year`` (default: the current year in China).

    Args:
        session: the request session (only read).
        actor: an administrator.
        year: the calendar year, ``YEAR_MIN``–``YEAR_MAX``; ``None`` for this year.
        targets: the yearly targets the KPI cards measure against.
        strong_proposal_score: below this best score, an order is a coverage gap.

    Raises:
        Forbidden: the caller is not an administrator.
    """
    require_admin(actor)
    year = local_today().year if year is None else year
    return await _compute_dashboard(
        session, year=year, targets=targets, strong_proposal_score=strong_proposal_score
    )


async def _compute_dashboard(
    session: AsyncSession, *, year: int, targets: YearlyTargets, strong_proposal_score: float
) -> Dashboard:
    window = year_window(year)
    repository = DashboardRepository(session)
    catalogued = await repository.catalogued_agreements(window)
    outcomes = await repository.outcomes(window)
    trainees = await repository.trainees(window)
    orders = await repository.published_orders(window)
    proposals = await repository.proposals(window)
    takings = await repository.takings(window)
    agreements = await repository.agreements(window)

    published_ids = {o.id for o in orders}
    takings_of_published = [t for t in takings if t.order_id in published_ids]
    agreements_of_published = [a for a in agreements if a.order_id in published_ids]
    events = _Events(
        published=orders,
        takings=[t for t in takings if _within(t.created_at, window)],
        signed=[a for a in agreements if _within(_effective_at(a), window)],
        delivered=[a for a in agreements if _delivered(a) and _within(a.delivered_at, window)],
    )
    taken_pairs = {(t.order_id, t.expert_id) for t in takings_of_published}
    titles = {o.id: o.title for o in orders}
    return Dashboard(
        year=year,
        strong_proposal_score=strong_proposal_score,
        kpis=_kpis(targets, catalogued, outcomes, trainees),
        funnel=_funnel(orders, proposals, takings_of_published, agreements_of_published),
        acceptance_by_rank=_acceptance_by_rank(proposals, taken_pairs),
        acceptance_by_version=_acceptance_by_version(proposals, taken_pairs),
        decline_reasons=_decline_reasons(proposals, titles),
        ratings=_ratings(events.delivered),
        relevance=_relevance(proposals),
        coverage_gaps=_coverage_gaps(orders, proposals, strong_proposal_score),
        by_district=_breakdown(events, _by_place(_district), rank_by_activity=True),
        by_cohort=_breakdown(events, _by_cohort(), rank_by_activity=False),
        by_star=_breakdown(events, _by_place(_star), rank_by_activity=False, always=_ALL_STARS),
        by_alliance=_breakdown(events, _by_place(_alliance), rank_by_activity=True),
        trend=_trend(events),
    )


async def take_snapshot(
    session: AsyncSession,
    *,
    targets: YearlyTargets,
    strong_proposal_score: float,
    day: date | None = None,
) -> DashboardSnapshot:
    """Record the KPI cards and the match funnel of ``day``'s year as they stand now (the nightly job).

    Idempotent per day: a second run for the same day replaces that day's snapshot with the
    current figures, so a retried job leaves one row.

    Args:
        session: a session of the job's own; this use case commits.
        targets: the yearly targets the KPI cards measure against.
        strong_proposal_score: as for ``build_dashboard``.
        day: the day (China time) the snapshot stands for; default today.
    """
    day = local_today() if day is None else day
    dashboard = await _compute_dashboard(
        session, year=day.year, targets=targets, strong_proposal_score=strong_proposal_score
    )
    payload = {
        "kpis": [card.model_dump(mode="json") for card in dashboard.kpis],
        "funnel": dashboard.funnel.model_dump(mode="json"),
    }
    repository = DashboardRepository(session)
    snapshot = await repository.snapshot_on(day)
    if snapshot is None:
        snapshot = DashboardSnapshot(taken_on=day, year=day.year, payload=payload)
        session.add(snapshot)
    else:
        snapshot.taken_at, snapshot.year, snapshot.payload = utcnow(), day.year, payload
    await session.commit()
    log.info("dashboard.snapshot_taken day=%s year=%s", day.isoformat(), day.year)
    return snapshot


async def list_snapshots(
    session: AsyncSession, actor: Actor, *, year: int | None, params: PageParams
) -> Page[DashboardSnapshotRead]:
    """The nightly snapshots, newest day first, optionally of one year only.

    Raises:
        Forbidden: the caller is not an administrator.
    """
    require_admin(actor)
    snapshots, total = await DashboardRepository(session).snapshots(
        year=year, offset=params.offset, limit=params.page_size
    )
    return Page.of([DashboardSnapshotRead.model_validate(s) for s in snapshots], total, params)


async def export_table(
    session: AsyncSession,
    actor: Actor,
    table: DashboardTable,
    *,
    year: int | None,
    targets: YearlyTargets,
    strong_proposal_score: float,
) -> transfer_service.XlsxFile:
    """One table of the dashboard as an XLSX workbook with Chinese headers.

    Raises:
        Forbidden: the caller is not an administrator.
    """
    dashboard = await build_dashboard(
        session, actor, year=year, targets=targets, strong_proposal_score=strong_proposal_score
    )
    sheet = exports.sheet(dashboard, table)
    content = await asyncio.to_thread(xlsx.build_export, sheet.title, sheet.columns, sheet.rows)
    log.info("dashboard.exported table=%s year=%s rows=%s", table.value, dashboard.year, len(sheet.rows))
    return transfer_service.XlsxFile(
        f"管理驾驶舱-{dashboard.year}-{sheet.title}.xlsx",
        f"dashboard-{dashboard.year}-{table.value}.xlsx",
        content,
    )


async def judge_relevance(
    session: AsyncSession, actor: Actor, proposal_id: int, relevant: bool | None
) -> ProposalRelevanceRead:
    """Record an administrator's judgement of a proposal: relevant, not relevant, or none (``None``).

    The judgement is stored on the proposal (1 / 0 / NULL) with an audit event, and feeds the nDCG@10
    figure of the dashboard.

    Raises:
        Forbidden: the caller is not an administrator.
        ProposalNotFound: no such proposal.
    """
    if not actor.is_admin:
        raise Forbidden("只有管理员可以判定匹配建议是否相关。")
    proposal = await DashboardRepository(session).proposal_for_update(proposal_id)
    if proposal is None:
        raise ProposalNotFound(proposal_id)
    before = snapshot(proposal)
    proposal.relevance = None if relevant is None else int(relevant)
    await session.flush()
    await record_change(
        session, actor=actor, action="proposal.relevance_judged", record=proposal, before=before
    )
    await session.commit()
    log.info("proposal.relevance_judged proposal_id=%s relevance=%s", proposal.id, proposal.relevance)
    return _relevance_read(proposal)


def _relevance_read(proposal: Proposal) -> ProposalRelevanceRead:
    return ProposalRelevanceRead(
        id=proposal.id,
        order_id=proposal.order_id,
        expert_id=proposal.expert_id,
        rank=proposal.rank,
        matcher_version=proposal.matcher_version,
        relevant=None if proposal.relevance is None else proposal.relevance > 0,
    )


# --- time ---------------------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    # PostgreSQL returns aware UTC timestamps; SQLite returns them naive, still in UTC
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _within(moment: datetime | None, window: Window) -> bool:
    return moment is not None and window.start <= _aware(moment) < window.end


def _month(moment: datetime) -> int:
    return _aware(moment).astimezone(CHINA_TZ).month


def _days(start: datetime, end: datetime) -> float:
    return (_aware(end) - _aware(start)).total_seconds() / 86_400


def _effective_at(agreement: AgreementFact) -> datetime | None:
    """When the agreement took effect: the later of the two signatures; ``None`` until both signed."""
    if agreement.enterprise_signed_at is None or agreement.expert_signed_at is None:
        return None
    return max(_aware(agreement.enterprise_signed_at), _aware(agreement.expert_signed_at))


def _delivered(agreement: AgreementFact) -> bool:
    return agreement.status is AgreementStatus.DELIVERED


# --- numbers ------------------------------------------------------------------------------------------


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _median_days(values: Iterable[float]) -> float | None:
    collected = list(values)
    return round(statistics.median(collected), 2) if collected else None


# --- KPI cards ----------------------------------------------------------------------------------------


def _kpis(targets: YearlyTargets, catalogued: int, outcomes: OutcomeCount, trainees: int) -> list[KpiCard]:
    rate = outcomes.converted / outcomes.total if outcomes.total else None
    rate_target = targets.conversion_rate
    rate_progress = round(rate / rate_target, 4) if rate is not None and rate_target > 0 else None
    return [
        _count_card(
            "demonstration_cobuilds",
            labels.KPI_DEMONSTRATION_COBUILDS,
            catalogued,
            targets.demonstration_cobuilds,
            labels.UNIT_ITEMS,
            "当年列入共建项目目录的协议数",
        ),
        _count_card(
            "innovations",
            labels.KPI_INNOVATIONS,
            outcomes.total,
            targets.innovations,
            labels.UNIT_ITEMS,
            "当年取得的成果数（按取得日期，未填日期的按登记时间）",
        ),
        KpiCard(
            key="conversion_rate",
            label=labels.KPI_CONVERSION_RATE,
            value=round(rate * 100, 2) if rate is not None else None,
            target=round(rate_target * 100, 2),
            unit=labels.UNIT_PERCENT,
            progress=rate_progress,
            progress_capped=min(rate_progress, 1.0) if rate_progress is not None else None,
            met=rate is not None and rate >= rate_target,
            note=f"已转化 {outcomes.converted} 项 / 当年成果 {outcomes.total} 项",
        ),
        _count_card(
            "worker_trainings",
            labels.KPI_WORKER_TRAININGS,
            trainees,
            targets.worker_trainings,
            labels.UNIT_TRAINEES,
            "当年举办的培训的受训人次之和",
        ),
    ]


def _count_card(key: KpiKey, label: str, value: int, target: int, unit: str, note: str) -> KpiCard:
    progress = round(value / target, 4) if target > 0 else None
    return KpiCard(
        key=key,
        label=label,
        value=value,
        target=target,
        unit=unit,
        progress=progress,
        progress_capped=min(progress, 1.0) if progress is not None else None,
        met=value >= target,
        note=note,
    )


# --- the funnel ---------------------------------------------------------------------------------------


def _funnel(
    orders: Sequence[OrderFact],
    proposals: Sequence[ProposalFact],
    takings: Sequence[TakingFact],
    agreements: Sequence[AgreementFact],
) -> Funnel:
    published_at = {o.id: o.published_at for o in orders}
    first_taking: dict[int, datetime] = {}
    for taking in takings:
        moment = _aware(taking.created_at)
        if taking.order_id not in first_taking or moment < first_taking[taking.order_id]:
            first_taking[taking.order_id] = moment
    first_effective: dict[int, datetime] = {}
    for agreement in agreements:
        effective = _effective_at(agreement)
        if effective is not None and (
            agreement.order_id not in first_effective or effective < first_effective[agreement.order_id]
        ):
            first_effective[agreement.order_id] = effective
    # nested: each step keeps the orders of the step before that reached it
    reached_published = set(published_at)
    reached_proposed = reached_published & {p.order_id for p in proposals}
    reached_taken = reached_proposed & set(first_taking)
    reached_signed = reached_taken & set(first_effective)
    reached_delivered = reached_signed & {a.order_id for a in agreements if _delivered(a)}
    to_taking = _median_days(_days(published_at[o], first_taking[o]) for o in reached_taken)
    to_effective = _median_days(_days(published_at[o], first_effective[o]) for o in reached_signed)
    counts: list[tuple[Any, str, int, float | None]] = [
        ("published", labels.FUNNEL_PUBLISHED, len(reached_published), None),
        ("proposed", labels.FUNNEL_PROPOSED, len(reached_proposed), None),
        ("taken", labels.FUNNEL_TAKEN, len(reached_taken), to_taking),
        ("signed", labels.FUNNEL_SIGNED, len(reached_signed), to_effective),
        ("delivered", labels.FUNNEL_DELIVERED, len(reached_delivered), None),
    ]
    steps = [
        FunnelStep(
            key=key,
            label=label,
            orders=count,
            conversion=_ratio(count, counts[index - 1][2]) if index else None,
            share_of_published=_ratio(count, len(orders)),
            median_days=median,
        )
        for index, (key, label, count, median) in enumerate(counts)
    ]
    return Funnel(
        steps=steps,
        median_days_to_first_taking=to_taking,
        median_days_to_effective=to_effective,
        taken_without_proposals=len(set(first_taking) - reached_proposed),
    )


# --- match quality ------------------------------------------------------------------------------------


def _acceptance(
    key: str, label: str, proposals: Sequence[ProposalFact], taken_pairs: set[tuple[int, int]]
) -> AcceptanceRow:
    accepted = sum(1 for p in proposals if p.status is ProposalStatus.ACCEPTED)
    declined = sum(1 for p in proposals if p.status is ProposalStatus.DECLINED)
    led = sum(1 for p in proposals if (p.order_id, p.expert_id) in taken_pairs)
    return AcceptanceRow(
        key=key,
        label=label,
        proposals=len(proposals),
        accepted=accepted,
        declined=declined,
        acceptance_rate=_ratio(accepted, accepted + declined),
        led_to_taking=led,
        taking_rate=_ratio(led, len(proposals)),
    )


def _acceptance_by_rank(
    proposals: Sequence[ProposalFact], taken_pairs: set[tuple[int, int]]
) -> list[AcceptanceRow]:
    by_rank: dict[int, list[ProposalFact]] = defaultdict(list)
    for proposal in proposals:
        by_rank[proposal.rank].append(proposal)
    return [
        _acceptance(str(rank), labels.rank_label(rank), by_rank.get(rank, []), taken_pairs)
        for rank in range(1, TOP_RANKS + 1)
    ]


def _acceptance_by_version(
    proposals: Sequence[ProposalFact], taken_pairs: set[tuple[int, int]]
) -> list[AcceptanceRow]:
    by_version: dict[str, list[ProposalFact]] = defaultdict(list)
    for proposal in proposals:
        by_version[proposal.matcher_version].append(proposal)
    # oldest version first: the table reads as the matcher's history
    ordered = sorted(by_version.items(), key=lambda kv: (min(_aware(p.created_at) for p in kv[1]), kv[0]))
    return [
        _acceptance(version, version or labels.NO_VERSION, group, taken_pairs) for version, group in ordered
    ]


_SPACES = re.compile(r"\s+")
_TRAILING_PUNCTUATION = "。.！!；;，,、…~～"


def normalise_reason(reason: str | None) -> str:
    """A decline reason as it is grouped: NFKC, trimmed, inner spaces collapsed, final punctuation dropped."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", reason or "")).strip()
    return text.rstrip(_TRAILING_PUNCTUATION).strip() or labels.NO_REASON


def _decline_reasons(proposals: Sequence[ProposalFact], titles: dict[int, str]) -> list[DeclineReasonRow]:
    groups: dict[str, list[ProposalFact]] = defaultdict(list)
    for proposal in proposals:
        if proposal.status is ProposalStatus.DECLINED:
            groups[normalise_reason(proposal.decline_reason)].append(proposal)
    rows = [
        DeclineReasonRow(
            reason=reason,
            count=len(group),
            examples=[
                DeclineExample(
                    proposal_id=p.id,
                    order_id=p.order_id,
                    order_title=titles.get(p.order_id, ""),
                    expert_id=p.expert_id,
                    expert_name=p.expert_name,
                )
                for p in sorted(group, key=lambda p: p.id)[:EXAMPLES]
            ],
        )
        for reason, group in groups.items()
    ]
    return sorted(rows, key=lambda r: (-r.count, r.reason))


def _ratings(delivered: Sequence[AgreementFact]) -> list[RatingRow]:
    sides: tuple[tuple[Any, str, Callable[[AgreementFact], int | None]], ...] = (
        ("enterprise_to_expert", labels.RATING_ENTERPRISE_TO_EXPERT, lambda a: a.enterprise_rating),
        ("expert_to_enterprise", labels.RATING_EXPERT_TO_ENTERPRISE, lambda a: a.expert_rating),
    )
    rows: list[RatingRow] = []
    for key, label, rating_of in sides:
        ratings = [r for r in (rating_of(a) for a in delivered) if r is not None]
        rows.append(
            RatingRow(
                key=key,
                label=label,
                rated=len(ratings),
                mean=round(statistics.fmean(ratings), 2) if ratings else None,
                distribution=[RatingBucket(stars=s, count=ratings.count(s)) for s in range(1, 6)],
            )
        )
    return rows


def _relevance(proposals: Sequence[ProposalFact]) -> RelevanceSummary:
    by_order: dict[int, list[ProposalFact]] = defaultdict(list)
    for proposal in proposals:
        by_order[proposal.order_id].append(proposal)
    scores: list[float] = []
    judged_proposals = relevant = 0
    for group in by_order.values():
        judged: dict[RecordId, int] = {
            p.id: 1 if p.relevance > 0 else 0 for p in group if p.relevance is not None
        }
        if not judged:
            continue
        ranked: list[RecordId] = [p.id for p in sorted(group, key=lambda p: (p.rank, p.id))]
        scores.append(order_metrics(ranked, judged)["ndcg@10"])
        judged_proposals += len(judged)
        relevant += sum(judged.values())
    return RelevanceSummary(
        ndcg_at_10=round(statistics.fmean(scores), 4) if scores else None,
        judged_orders=len(scores),
        judged_proposals=judged_proposals,
        relevant=relevant,
        not_relevant=judged_proposals - relevant,
    )


# --- coverage gaps ------------------------------------------------------------------------------------


def _order_fields(order: OrderFact) -> list[str]:
    fields = list(dict.fromkeys(f.strip() for f in order.fields if f and f.strip()))
    return fields or [labels.NO_FIELD]


def _coverage_gaps(
    orders: Sequence[OrderFact], proposals: Sequence[ProposalFact], strong_score: float
) -> list[CoverageGapRow]:
    best: dict[int, float] = {}
    for proposal in proposals:
        best[proposal.order_id] = max(best.get(proposal.order_id, proposal.score), proposal.score)
    published: dict[str, int] = defaultdict(int)
    gaps: dict[str, list[OrderFact]] = defaultdict(list)
    for order in orders:
        score = best.get(order.id)
        for name in _order_fields(order):
            published[name] += 1
            if score is None or score < strong_score:
                gaps[name].append(order)

    def weakest_first(order: OrderFact) -> tuple[bool, float, int]:
        score = best.get(order.id)
        return (score is not None, score or 0.0, order.id)

    rows = [
        CoverageGapRow(
            field=name,
            gap_orders=len(group),
            without_proposals=sum(1 for o in group if o.id not in best),
            weak_proposals=sum(1 for o in group if o.id in best),
            published_orders=published[name],
            examples=[
                OrderRef(id=o.id, title=o.title, best_score=best.get(o.id))
                for o in sorted(group, key=weakest_first)[:EXAMPLES]
            ],
        )
        for name, group in gaps.items()
    ]
    return sorted(rows, key=lambda r: (-r.gap_orders, -r.without_proposals, r.field))


# --- breakdowns and trend -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Events:
    """The year's events: orders published, takings made, agreements taking effect or delivered."""

    published: Sequence[OrderFact]
    takings: Sequence[TakingFact]
    signed: Sequence[AgreementFact]
    delivered: Sequence[AgreementFact]


@dataclass(frozen=True, slots=True)
class _Bucket:
    """A breakdown row's identity: its key, its label, where it sorts, and whether it is the remainder."""

    key: str
    label: str
    sort: tuple[Any, ...] = ()
    remainder: bool = False


@dataclass(slots=True)
class _Tally:
    bucket: _Bucket
    published: set[int] = field(default_factory=set)
    taken: set[int] = field(default_factory=set)
    signed: set[int] = field(default_factory=set)
    delivered: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Dimension:
    """How each kind of event is placed in a bucket; ``of_order`` is ``None`` where orders do not apply."""

    of_order: Callable[[OrderFact], _Bucket] | None
    of_taking: Callable[[TakingFact], _Bucket]
    of_agreement: Callable[[AgreementFact], _Bucket]


def _by_place(bucket: Callable[[Place], _Bucket]) -> _Dimension:
    return _Dimension(
        of_order=lambda o: bucket(o.place),
        of_taking=lambda t: bucket(t.place),
        of_agreement=lambda a: bucket(a.place),
    )


def _by_cohort() -> _Dimension:
    return _Dimension(
        of_order=None,
        of_taking=lambda t: _cohort(t.cohort),
        of_agreement=lambda a: _cohort(a.cohort),
    )


def _district(place: Place) -> _Bucket:
    district = place.district.strip()
    return _Bucket(district, district or labels.NO_DISTRICT, remainder=not district)


def _star(place: Place) -> _Bucket:
    stars = min(max(place.star_rating, 0), 3)
    return _Bucket(str(stars), labels.STARS[stars], (stars,))


_ALL_STARS = tuple(_Bucket(str(s), labels.STARS[s], (s,)) for s in range(4))


def _alliance(place: Place) -> _Bucket:
    # one alliance whatever script its name is written in (揚州市職工創新聯盟 is 扬州市职工创新联盟)
    alliance = (place.alliance or "").strip()
    return _Bucket(normalise(alliance), simplified(alliance) or labels.NO_ALLIANCE, remainder=not alliance)


def _cohort(cohort: Cohort) -> _Bucket:
    if cohort.number is None:
        return _Bucket("", labels.NO_COHORT, remainder=True)
    key = f"{cohort.number}" if cohort.year is None else f"{cohort.number}-{cohort.year}"
    return _Bucket(
        key,
        labels.cohort_label(cohort.number, cohort.year),
        (cohort.number, cohort.year is None, cohort.year or 0),
    )


def _breakdown(
    events: _Events, dimension: _Dimension, *, rank_by_activity: bool, always: Sequence[_Bucket] = ()
) -> list[BreakdownRow]:
    tallies: dict[str, _Tally] = {b.key: _Tally(b) for b in always}

    def tally(bucket: _Bucket) -> _Tally:
        return tallies.setdefault(bucket.key, _Tally(bucket))

    if dimension.of_order is not None:
        for order in events.published:
            tally(dimension.of_order(order)).published.add(order.id)
    for taking in events.takings:
        tally(dimension.of_taking(taking)).taken.add(taking.order_id)
    for agreement in events.signed:
        tally(dimension.of_agreement(agreement)).signed.add(agreement.id)
    for agreement in events.delivered:
        tally(dimension.of_agreement(agreement)).delivered.add(agreement.id)

    def sort_key(t: _Tally) -> tuple[Any, ...]:
        activity = (-len(t.published), -len(t.taken), -len(t.signed), -len(t.delivered))
        return (t.bucket.remainder, *(activity if rank_by_activity else t.bucket.sort), t.bucket.label)

    return [
        BreakdownRow(
            key=t.bucket.key,
            label=t.bucket.label,
            published_orders=len(t.published) if dimension.of_order is not None else None,
            taken_orders=len(t.taken),
            agreements_signed=len(t.signed),
            agreements_delivered=len(t.delivered),
        )
        for t in sorted(tallies.values(), key=sort_key)
    ]


def _trend(events: _Events) -> list[TrendRow]:
    published = [_month(o.published_at) for o in events.published]
    takings = [_month(t.created_at) for t in events.takings]
    signed = [_month(e) for e in (_effective_at(a) for a in events.signed) if e is not None]
    delivered = [_month(a.delivered_at) for a in events.delivered if a.delivered_at is not None]
    return [
        TrendRow(
            month=month,
            label=labels.month_label(month),
            published_orders=published.count(month),
            takings=takings.count(month),
            agreements_signed=signed.count(month),
            agreements_delivered=delivered.count(month),
        )
        for month in range(1, 13)
    ]


async def proposals_to_review(
    session: AsyncSession, actor: Actor, limit: int = 60
) -> list[tuple[Proposal, str, str]]:
    """The latest proposals (with order title and expert name) for an administrator to judge."""
    require_admin(actor)
    return await DashboardRepository(session).recent_proposals(limit)
