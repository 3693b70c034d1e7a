"""Request and response bodies for orders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.orders.models import NeedKind, OrderStatus
from app.schemas import MAX_INT, Id, InputModel, PatchModel, TermList, Text

Title = Annotated[str, Text(200)]
Description = Annotated[str, Text(8000, multiline=True)]
Yuan = Annotated[int, Field(ge=0, le=MAX_INT, description="金额（元）")]
Slots = Annotated[int, Field(ge=1, le=20, description="可接单专家人数")]


class OrderCreate(InputModel):
    """A new order, saved as a draft for one of the caller's studios."""

    studio_id: Id
    title: Title
    description: Description
    need_kind: NeedKind
    fields: TermList = []
    budget_min: Yuan | None = None
    budget_max: Yuan | None = None
    deadline: date | None = None
    slots: Slots = 1


class OrderUpdate(PatchModel):
    """Changes to an order nobody has taken. ``version``, if sent, must be the one the caller read."""

    not_nullable: ClassVar[frozenset[str]] = frozenset(
        {"title", "description", "need_kind", "fields", "slots", "version"}
    )

    title: Title | None = None
    description: Description | None = None
    need_kind: NeedKind | None = None
    fields: TermList | None = None
    budget_min: Yuan | None = None
    budget_max: Yuan | None = None
    deadline: date | None = None
    slots: Slots | None = None
    version: Id | None = None


class OrderRead(BaseModel):
    """An order as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    studio_id: int
    title: str
    description: str
    need_kind: NeedKind
    fields: list[str]
    budget_min: int | None
    budget_max: int | None
    deadline: date | None
    province: str
    city: str
    district: str
    town: str | None
    slots: int
    status: OrderStatus
    published_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
