"""Imports every domain's ORM models so that one metadata holds all tables (for Alembic and mappers)."""

from app.accounts.models import User, UserRole
from app.achievements.models import Achievement, AchievementKind, Maturity
from app.agreements.models import (
    Agreement,
    AgreementStatus,
    Consultation,
    ConsultationCadence,
    ConsultationKind,
    Outcome,
    OutcomeKind,
    ProjectReview,
    ProjectReviewStatus,
    Training,
    TrainingKind,
)
from app.audit.models import AuditEvent
from app.db import Base
from app.enterprises.models import Enterprise
from app.experts.models import Expert
from app.orders.models import NeedKind, Order, OrderStatus
from app.proposals.models import Proposal, ProposalStatus
from app.studios.models import Studio, StudioAssessment, StudioKind, StudioStatus

__all__ = [
    "Achievement",
    "AchievementKind",
    "Agreement",
    "AgreementStatus",
    "AuditEvent",
    "Base",
    "Consultation",
    "ConsultationCadence",
    "ConsultationKind",
    "Enterprise",
    "Expert",
    "Maturity",
    "NeedKind",
    "Order",
    "OrderStatus",
    "Outcome",
    "OutcomeKind",
    "ProjectReview",
    "ProjectReviewStatus",
    "Proposal",
    "ProposalStatus",
    "Studio",
    "StudioAssessment",
    "StudioKind",
    "StudioStatus",
    "Training",
    "TrainingKind",
    "User",
    "UserRole",
]
