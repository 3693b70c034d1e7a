"""API shapes of agreements and the work logged under them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.agreements.models import (
    AgreementStatus,
    AmendmentStatus,
    ConsultationCadence,
    ConsultationKind,
    OutcomeKind,
    TrainingKind,
)
from app.schemas import MAX_INT, InputModel, PatchModel, Text

LongText = Annotated[str, Text(5000, min_length=0, multiline=True)]
Reason = Annotated[str, Text(1000, multiline=True)]
Version = Annotated[int, Field(ge=1, le=MAX_INT, description="读取时的版本号（乐观锁）")]
Yuan = Annotated[int, Field(ge=0, le=MAX_INT, description="金额（元）")]

# the terms of an agreement: what both sides sign, and what an amendment may change
TERM_FIELDS = (
    "goals",
    "deliverables",
    "duration_months",
    "start_date",
    "end_date",
    "consultation_cadence",
    "funding_amount",
    "funding_source",
)


class AgreementTerms(PatchModel):
    """Terms of an agreement (合作协议条款); every field optional so that a change sends only what changes."""

    not_nullable: ClassVar[frozenset[str]] = frozenset({"goals", "deliverables", "consultation_cadence"})

    goals: LongText | None = Field(default=None, description="合作目标")
    deliverables: LongText | None = Field(default=None, description="交付成果")
    duration_months: Annotated[int, Field(ge=1, le=120)] | None = Field(
        default=None, description="合作期限（月）"
    )
    start_date: date | None = None
    end_date: date | None = None
    consultation_cadence: ConsultationCadence | None = Field(default=None, description="会商频次")
    funding_amount: Yuan | None = Field(default=None, description="资助金额（元）")
    funding_source: Annotated[str, Text(200, min_length=0)] | None = Field(
        default=None, description="资金来源"
    )


class AgreementTermsUpdate(AgreementTerms):
    """A change to a draft's terms, with the version the editor read."""

    version: Version


class VersionedAction(InputModel):
    """A step that must act on the version the caller saw."""

    version: Version


class Revision(InputModel):
    """Taking an agreement back from signature (退回修改), on the version the caller saw, with the
    reason the other party reads."""

    version: Version
    reason: Reason = Field(description="退回原因，如“交付成果需要补充测试报告”")


class SignAgreement(InputModel):
    """A signature. ``content_hash`` (optional) is the hash of the terms the signer read."""

    content_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None


class AmendmentCreate(InputModel):
    """A proposed change to a signed agreement's terms, with the reason for it."""

    changes: AgreementTerms
    reason: Reason


class DeliveryConfirmation(InputModel):
    """One side confirms delivery and rates the other side (1–5)."""

    rating: Annotated[int, Field(ge=1, le=5, description="对对方的评分，1–5")]
    comment: LongText = ""


class Termination(InputModel):
    """Ending an agreement early; the reason is required."""

    reason: Reason


class ConsultationCreate(InputModel):
    """A consultation held under an agreement (技术指导/咨询会诊/技术交流)."""

    kind: ConsultationKind
    held_on: date
    participants: Annotated[str, Text(1000)]
    minutes: LongText = ""


class TrainingCreate(InputModel):
    """A training under an agreement (新型学徒制/专家讲师团/师带徒)."""

    kind: TrainingKind
    held_on: date
    trainee_count: Annotated[int, Field(ge=1, le=100_000, description="培训人次")]
    hours: Annotated[float, Field(gt=0, le=10_000, description="学时")]
    note: LongText = ""


class OutcomeCreate(InputModel):
    """An outcome of an agreement (技术革新/发明专利/新产品/成果转化)."""

    kind: OutcomeKind
    title: Annotated[str, Text(200)]
    value_yuan: Yuan | None = None
    patent_number: Annotated[str, Text(50)] | None = None
    converted: bool = False
    achieved_on: date | None = None


class AgreementRead(BaseModel):
    """An agreement with its terms, signatures, delivery and consultation schedule."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    expert_id: int
    studio_id: int
    enterprise_id: int
    status: AgreementStatus
    goals: str
    deliverables: str
    duration_months: int | None
    start_date: date | None
    end_date: date | None
    consultation_cadence: ConsultationCadence
    funding_amount: int | None
    funding_source: str | None
    content_hash: str | None
    enterprise_signed_by_user_id: int | None
    enterprise_signed_at: datetime | None
    expert_signed_by_user_id: int | None
    expert_signed_at: datetime | None
    enterprise_delivery_confirmed_at: datetime | None
    expert_delivery_confirmed_at: datetime | None
    delivered_at: datetime | None
    enterprise_rating: int | None
    enterprise_comment: str | None
    expert_rating: int | None
    expert_comment: str | None
    terminated_at: datetime | None
    termination_reason: str | None
    revision_reason: str | None = None
    revised_at: datetime | None = None
    revised_by_side: str | None = None
    catalogued_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    next_consultation_due: date | None = None
    consultation_overdue: bool = False


class AmendmentRead(BaseModel):
    """An amendment and its signatures."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    agreement_id: int
    number: int
    changes: dict[str, Any]
    reason: str
    content_hash: str
    status: AmendmentStatus
    enterprise_signed_at: datetime | None
    expert_signed_at: datetime | None
    created_at: datetime
    applied_at: datetime | None


class ConsultationRead(BaseModel):
    """A logged consultation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    agreement_id: int
    kind: ConsultationKind
    held_on: date
    participants: str
    minutes: str
    created_at: datetime


class TrainingRead(BaseModel):
    """A logged training."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    agreement_id: int
    kind: TrainingKind
    held_on: date
    trainee_count: int
    hours: float
    note: str
    created_at: datetime


class OutcomeRead(BaseModel):
    """A logged outcome."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    agreement_id: int
    kind: OutcomeKind
    title: str
    value_yuan: int | None
    patent_number: str | None
    converted: bool
    achieved_on: date | None
    created_at: datetime
