"""Imports every domain's ORM models so that one metadata holds all tables (for Alembic and mappers)."""

from app.accounts.models import LoginAttempt, SessionEnd, User, UserRole, UserSession
from app.achievements.models import Achievement, AchievementKind, Maturity
from app.agreements.models import (
    Agreement,
    AgreementAmendment,
    AgreementStatus,
    AmendmentStatus,
    Consultation,
    ConsultationCadence,
    ConsultationKind,
    Outcome,
    OutcomeKind,
    Training,
    TrainingKind,
)
from app.audit.models import AuditAnchor, AuditEvent
from app.dashboard.models import DashboardSnapshot
from app.db import Base
from app.enterprises.models import Enterprise
from app.experts.models import Expert
from app.idempotency.models import IdempotencyRecord
from app.notifications.models import Notification, NotificationKind
from app.orders.models import NeedKind, Order, OrderStatus, OrderTaking, TakingSource, TakingStatus
from app.projects.models import (
    FundingDecision,
    ProjectFunding,
    ProjectReview,
    ProjectReviewStatus,
    ReviewRound,
    ReviewRoundStatus,
)
from app.proposals.models import (
    MatcherBuild,
    MatcherBuildChunk,
    MatcherBuildStatus,
    MatcherChange,
    Proposal,
    ProposalStatus,
)
from app.studios.models import AssessmentKind, Studio, StudioAssessment, StudioKind, StudioStatus

__all__ = [
    "Achievement",
    "AchievementKind",
    "Agreement",
    "AgreementAmendment",
    "AgreementStatus",
    "AmendmentStatus",
    "AssessmentKind",
    "AuditAnchor",
    "AuditEvent",
    "Base",
    "Consultation",
    "ConsultationCadence",
    "ConsultationKind",
    "DashboardSnapshot",
    "Enterprise",
    "Expert",
    "FundingDecision",
    "IdempotencyRecord",
    "LoginAttempt",
    "MatcherBuild",
    "MatcherBuildChunk",
    "MatcherBuildStatus",
    "MatcherChange",
    "Maturity",
    "NeedKind",
    "Notification",
    "NotificationKind",
    "Order",
    "OrderStatus",
    "OrderTaking",
    "Outcome",
    "OutcomeKind",
    "ProjectFunding",
    "ProjectReview",
    "ProjectReviewStatus",
    "Proposal",
    "ProposalStatus",
    "ReviewRound",
    "ReviewRoundStatus",
    "SessionEnd",
    "Studio",
    "StudioAssessment",
    "StudioKind",
    "StudioStatus",
    "TakingSource",
    "TakingStatus",
    "Training",
    "TrainingKind",
    "User",
    "UserRole",
    "UserSession",
]
