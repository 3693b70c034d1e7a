"""ORM models for agreements and the work logged under them: consultations, trainings, outcomes, reviews."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin, str_enum, utcnow


class AgreementStatus(StrEnum):
    """草稿 → 待签署 → 已签署/执行中 → 已交付, or 已终止."""

    DRAFT = "draft"
    PENDING_SIGNATURE = "pending_signature"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    TERMINATED = "terminated"


class ConsultationCadence(StrEnum):
    """How often the parties meet under the consultation schedule (工作会商制度)."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class ConsultationKind(StrEnum):
    """技术指导 / 咨询会诊 / 技术交流."""

    GUIDANCE = "guidance"
    DIAGNOSIS = "diagnosis"
    EXCHANGE = "exchange"


class TrainingKind(StrEnum):
    """新型学徒制 / 专家讲师团 / 师带徒."""

    APPRENTICESHIP = "apprenticeship"
    LECTURER_GROUP = "lecturer_group"
    MENTORING = "mentoring"


class OutcomeKind(StrEnum):
    """技术革新 / 发明专利 / 新产品 / 成果转化."""

    INNOVATION = "innovation"
    INVENTION_PATENT = "invention_patent"
    NEW_PRODUCT = "new_product"
    CONVERSION = "conversion"


class AmendmentStatus(StrEnum):
    """An amendment waits for both signatures, then applies; it can be withdrawn before that."""

    PENDING_SIGNATURE = "pending_signature"
    SIGNED = "signed"
    WITHDRAWN = "withdrawn"


class Agreement(TimestampMixin, Base):
    """A cooperation agreement (合作协议) pairing an expert with a studio's enterprise for one order."""

    __tablename__ = "agreements"
    __table_args__ = (
        UniqueConstraint("order_id", "expert_id"),
        CheckConstraint(
            "enterprise_rating IS NULL OR enterprise_rating BETWEEN 1 AND 5", name="enterprise_rating"
        ),
        CheckConstraint("expert_rating IS NULL OR expert_rating BETWEEN 1 AND 5", name="expert_rating"),
        CheckConstraint("funding_amount IS NULL OR funding_amount >= 0", name="funding_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id", ondelete="RESTRICT"), index=True)
    studio_id: Mapped[int] = mapped_column(ForeignKey("studios.id", ondelete="RESTRICT"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    status: Mapped[AgreementStatus] = mapped_column(
        str_enum(AgreementStatus, 30), default=AgreementStatus.DRAFT, index=True
    )
    goals: Mapped[str] = mapped_column(Text, default="")
    deliverables: Mapped[str] = mapped_column(Text, default="")
    duration_months: Mapped[int | None]
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    consultation_cadence: Mapped[ConsultationCadence] = mapped_column(
        str_enum(ConsultationCadence, 20), default=ConsultationCadence.MONTHLY
    )
    funding_amount: Mapped[int | None]
    funding_source: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    enterprise_signed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    enterprise_signed_at: Mapped[datetime | None]
    expert_signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    expert_signed_at: Mapped[datetime | None]
    enterprise_delivery_confirmed_at: Mapped[datetime | None]
    expert_delivery_confirmed_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    enterprise_rating: Mapped[int | None]
    enterprise_comment: Mapped[str | None] = mapped_column(Text)
    expert_rating: Mapped[int | None]
    expert_comment: Mapped[str | None] = mapped_column(Text)
    terminated_at: Mapped[datetime | None]
    termination_reason: Mapped[str | None] = mapped_column(Text)
    # the last 退回修改 (待签署 → 草稿): why, when and by which side; kept until submitted again
    revision_reason: Mapped[str | None] = mapped_column(Text)
    revised_at: Mapped[datetime | None]
    revised_by_side: Mapped[str | None] = mapped_column(String(20))
    catalogued_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Consultation(Base):
    """A consultation (技术指导/咨询会诊/技术交流) held under an agreement."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConsultationKind] = mapped_column(str_enum(ConsultationKind, 20))
    held_on: Mapped[date]
    participants: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Training(Base):
    """A training (新型学徒制/专家讲师团/师带徒) under an agreement, counted in trainees (人次)."""

    __tablename__ = "trainings"
    __table_args__ = (
        CheckConstraint("trainee_count >= 0", name="trainee_count_non_negative"),
        CheckConstraint("hours >= 0", name="hours_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TrainingKind] = mapped_column(str_enum(TrainingKind, 20))
    held_on: Mapped[date]
    trainee_count: Mapped[int]
    hours: Mapped[float] = mapped_column(Numeric(6, 1, asdecimal=False))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outcome(Base):
    """An outcome (技术革新/发明专利/新产品/成果转化) of an agreement."""

    __tablename__ = "outcomes"
    __table_args__ = (CheckConstraint("value_yuan IS NULL OR value_yuan >= 0", name="value_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    kind: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind, 20))
    title: Mapped[str] = mapped_column(String(200))
    value_yuan: Mapped[int | None]
    patent_number: Mapped[str | None] = mapped_column(String(50))
    converted: Mapped[bool] = mapped_column(default=False)
    achieved_on: Mapped[date | None]
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgreementAmendment(Base):
    """A change to the terms of a signed agreement (协议变更): it applies once both sides have signed it."""

    __tablename__ = "agreement_amendments"
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[AmendmentStatus] = mapped_column(
        str_enum(AmendmentStatus, 30), default=AmendmentStatus.PENDING_SIGNATURE
    )
    proposed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    enterprise_signed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    enterprise_signed_at: Mapped[datetime | None]
    expert_signed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    expert_signed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
