"""Request and response bodies for experts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.schemas import InputModel, PatchModel, ShortText, TermList, Text

Name = Annotated[str, Text(50)]
Org = Annotated[str, Text(100)]
Bio = Annotated[str, Text(4000, min_length=0, multiline=True)]
CohortNumber = Annotated[int, Field(ge=1, le=100, description="第几批，例如 13 表示第十三批")]
CohortYear = Annotated[int, Field(ge=1990, le=2100)]
Capacity = Annotated[int, Field(ge=0, le=50, description="同时执行中的协议上限")]
Phone = Annotated[str, Text(30), Field(pattern=r"^[0-9+\-() ]{5,30}$")]


class ExpertCreate(InputModel):
    """A new expert record (科技镇长团成员), entered by an administrator."""

    name: Name
    title: ShortText
    university: Org
    department: Org | None = None
    disciplines: TermList = []
    cohort_number: CohortNumber | None = None
    cohort_year: CohortYear | None = None
    seconded_district: ShortText | None = None
    seconded_town: ShortText | None = None
    seconded_role: ShortText | None = None
    term_start: date | None = None
    term_end: date | None = None
    capacity: Capacity = 3
    phone: Phone | None = None
    email: EmailStr | None = None
    bio: Bio = ""


class ExpertUpdate(PatchModel):
    """Profile fields an expert (or an administrator) may change."""

    not_nullable: ClassVar[frozenset[str]] = frozenset(
        {"name", "title", "university", "disciplines", "capacity", "bio"}
    )

    name: Name | None = None
    title: ShortText | None = None
    university: Org | None = None
    department: Org | None = None
    disciplines: TermList | None = None
    cohort_number: CohortNumber | None = None
    cohort_year: CohortYear | None = None
    seconded_district: ShortText | None = None
    seconded_town: ShortText | None = None
    seconded_role: ShortText | None = None
    term_start: date | None = None
    term_end: date | None = None
    capacity: Capacity | None = None
    phone: Phone | None = None
    email: EmailStr | None = None
    bio: Bio | None = None


class ExpertRead(BaseModel):
    """An expert as the API shows it. Contact details are shown to logged-in users only."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    title: str
    university: str
    department: str | None
    disciplines: list[str]
    cohort_number: int | None
    cohort_year: int | None
    seconded_district: str | None
    seconded_town: str | None
    seconded_role: str | None
    term_start: date | None
    term_end: date | None
    capacity: int
    phone: str | None
    email: str | None
    bio: str
    created_at: datetime
    updated_at: datetime
