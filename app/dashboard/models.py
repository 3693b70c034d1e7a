"""ORM model of the nightly dashboard snapshots (管理驾驶舱快照)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class DashboardSnapshot(Base):
    """The dashboard's KPIs as they stood on one day (China time), kept for the year-on-year record.

    One row per day: the nightly job replaces the day's row if it runs again, so a retried or
    repeated job leaves one snapshot per day.
    """

    __tablename__ = "dashboard_snapshots"
    __table_args__ = (UniqueConstraint("taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the day the snapshot stands for, in China time: what makes the job idempotent per day
    taken_on: Mapped[date]
    year: Mapped[int]
    # {"kpis": [...KpiCard], "funnel": {...Funnel}}, as the dashboard API returns them
    payload: Mapped[dict[str, Any]]
