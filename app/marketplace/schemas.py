"""API shapes of the marketplace."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.orders.models import TakingSource, TakingStatus
from app.proposals.models import ProposalStatus
from app.schemas import Id, InputModel, Text

Note = Annotated[str, Text(500, min_length=0, multiline=True)]
Reason = Annotated[str, Text(500, multiline=True)]


class TakeOrder(InputModel):
    """An expert takes an order (接单), with a short note to the enterprise."""

    note: Note = Field(default="", description="给企业的留言，如可投入的时间、类似经验")


class InviteExpert(InputModel):
    """An enterprise invites a proposed expert."""

    expert_id: Id


class DeclineInvitation(InputModel):
    """An expert declines an invitation; the reason is kept (it measures match quality)."""

    reason: Reason = Field(description="谢绝原因，如方向不符、时间冲突")


class ReleaseTaking(InputModel):
    """Give a held slot back (the enterprise declines a taker, or the expert steps back)."""

    reason: Reason


class TakingRead(BaseModel):
    """An expert's taking of an order."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    expert_id: int
    source: TakingSource
    status: TakingStatus
    note: str
    release_reason: str | None
    created_at: datetime
    decided_at: datetime | None


class InvitationRead(BaseModel):
    """An invitation: a proposal the enterprise turned into an invitation, and the expert's answer."""

    model_config = ConfigDict(from_attributes=True)

    order_id: int
    expert_id: int
    status: ProposalStatus
    rank: int
    score: float
    decline_reason: str | None
    decided_at: datetime | None
