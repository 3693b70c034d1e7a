"""Response bodies for proposals and recommended orders."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.orders.schemas import OrderRead
from app.proposals.models import ProposalStatus


class ReasonsRead(BaseModel):
    """Why the matcher proposed this pairing: the sentence, each factor, and the evidence."""

    sentence: str
    factors: dict[str, float]
    contributions: dict[str, float]
    shared_terms: list[str]
    matched_keywords: list[str]
    matched_fields: list[str]


class ProposalRead(BaseModel):
    """A stored proposal of an expert for an order."""

    id: int
    order_id: int
    expert_id: int
    expert_name: str
    expert_title: str
    expert_university: str
    rank: int
    score: float
    status: ProposalStatus
    matcher_version: str
    index_state: str = Field(description="排序时所用索引的确切状态：存储的索引版本 + 已应用的最后一条变更")
    reasons: ReasonsRead
    created_at: datetime


class RecommendedOrderRead(BaseModel):
    """An order the matcher recommends to an expert."""

    order: OrderRead
    score: float
    reasons: ReasonsRead
    matcher_version: str
