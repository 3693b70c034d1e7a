"""Request and response bodies for enterprises."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict

from app.schemas import InputModel, PatchModel, Text

Name = Annotated[str, Text(200)]
Region = Annotated[str, Text(50)]


class EnterpriseCreate(InputModel):
    """A new enterprise. The credit code is checked against GB 32100-2015 by the service."""

    name: Name
    credit_code: Annotated[str, Text(30)]
    province: Region
    city: Region
    district: Region
    town: Region | None = None
    industry: Annotated[str, Text(100)] | None = None


class EnterpriseUpdate(PatchModel):
    """Fields an enterprise may change about itself (the credit code is fixed once registered)."""

    not_nullable: ClassVar[frozenset[str]] = frozenset({"name", "province", "city", "district"})

    name: Name | None = None
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    town: Region | None = None
    industry: Annotated[str, Text(100)] | None = None


class EnterpriseRead(BaseModel):
    """An enterprise as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    credit_code: str
    province: str
    city: str
    district: str
    town: str | None
    industry: str | None
    created_at: datetime
    updated_at: datetime
