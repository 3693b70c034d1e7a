"""Words the matcher's structured reasons in Chinese: one short sentence a person can check."""

from __future__ import annotations

from datetime import date

from app.experts.models import Expert
from matching import Candidate

# factor values at or above which a factor is worth saying
_REGION_TOWN, _REGION_DISTRICT = 1.0, 0.6


def describe_expert(candidate: Candidate, expert: Expert, *, today: date, active: int, delivered: int) -> str:
    """A sentence such as "研究方向匹配：集成电路、封装；同在邗江区；近期完成 2 项合作"."""
    parts = _evidence(candidate, terms="研究方向匹配", keywords="成果关键词")
    region = candidate.factors.get("region", 0.0)
    if region >= _REGION_TOWN and expert.seconded_town:
        parts.append(f"同在{expert.seconded_town}")
    elif region >= _REGION_DISTRICT and expert.seconded_district:
        parts.append(f"同在{expert.seconded_district}")
    if expert.term_end is not None and expert.term_end < today:
        parts.append("挂职已期满")
    elif expert.capacity and active:
        parts.append(f"在办协议 {active}/{expert.capacity}")
    if delivered:
        parts.append(f"已完成 {delivered} 项合作")
    maturity = candidate.factors.get("maturity")
    if maturity is not None and maturity >= 1.0:
        parts.append("有可量产的成果")
    return "；".join(parts) if parts else "与需求的文本相近"


def describe_order(candidate: Candidate) -> str:
    """A sentence explaining why an order suits an expert."""
    parts = _evidence(candidate, terms="需求涉及", keywords="与您的成果关键词相同")
    region = candidate.factors.get("region", 0.0)
    if region >= _REGION_TOWN:
        parts.append("在您挂职的乡镇")
    elif region >= _REGION_DISTRICT:
        parts.append("在您挂职的区县")
    return "；".join(parts) if parts else "与您的研究方向相近"


def _evidence(candidate: Candidate, *, terms: str, keywords: str) -> list[str]:
    # the textual evidence, worded for whoever reads it: shared terms, keywords, matching fields
    parts: list[str] = []
    if candidate.shared_terms:
        parts.append(f"{terms}：" + "、".join(candidate.shared_terms[:4]))
    if candidate.matched_keywords:
        parts.append(f"{keywords}：" + "、".join(candidate.matched_keywords[:3]))
    if candidate.matched_fields:
        parts.append("学科对口：" + "、".join(candidate.matched_fields[:2]))
    return parts


# the ranker's factors as the pages name them
FACTOR_LABELS = {
    "text": "研究方向相似",
    "field": "学科领域对口",
    "keyword": "成果关键词",
    "region": "地域相近",
    "availability": "可承接程度",
    "track_record": "合作记录",
    "maturity": "成果成熟度",
}
