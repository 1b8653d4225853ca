"""Monthly summaries (Changchun art. 24, Henan art. 17 and 20) and their reporting chain.

One `monthly_report` row per (region, month, version): departments confirm their parts, the
treasury compiles, the poverty-alleviation office countersigns (会签) — from then on `figures`
is frozen — and it is sent to the province by the 5th working day. A resubmission is a new
version with a reason; earlier versions are kept and marked superseded.
"""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import _LABELS, Labeled, Role
from .types import UTCDateTime, enum_column, utcnow


class ReportStatus(Labeled):
    DRAFTING = "drafting"  # departments confirming their parts
    COMPILED = "compiled"  # the treasury compiled it
    COUNTERSIGNED = "countersigned"  # 会签 done: figures frozen
    SENT = "sent"  # delivered to the province
    SUPERSEDED = "superseded"  # a later version replaced it


_LABELS[ReportStatus] = {
    ReportStatus.DRAFTING: "编制中",
    ReportStatus.COMPILED: "已汇总",
    ReportStatus.COUNTERSIGNED: "已会签",
    ReportStatus.SENT: "已报送",
    ReportStatus.SUPERSEDED: "已被新版本替代",
}


class MonthlyReport(SQLModel, table=True):
    __tablename__ = "monthly_report"
    __table_args__ = (
        sa.UniqueConstraint(
            "region_id", "month", "version", name="uq_monthly_report_region_month_version"
        ),
        sa.Index("ix_monthly_report_month_status", "month", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="region.id")
    # The first day of the month reported on.
    month: date
    version: int = 1
    status: ReportStatus = Field(sa_type=enum_column(ReportStatus))
    # Why a version > 1 was made (required then).
    reason: str | None = Field(default=None, sa_type=sa.Text)
    # The whole report as data (workflows/reporting/figures.py); recomputed while drafting or
    # compiled, frozen from countersigning on.
    figures: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    figures_sha256: str | None = Field(default=None, max_length=64)
    figures_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Sent to the province by this working day (the 5th of the next month); late reports
    # escalate like cases.
    due_on: date | None = None
    escalation_level: int = 0
    compiled_by: int | None = Field(default=None, foreign_key="app_user.id")
    compiled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    countersigned_by: int | None = Field(default=None, foreign_key="app_user.id")
    countersigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_by: int | None = Field(default=None, foreign_key="app_user.id")
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Optimistic lock, as on cases.
    lock_version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MonthlyReportPart(SQLModel, table=True):
    """A responsible department's confirmation of its part of the region's report."""

    __tablename__ = "monthly_report_part"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "org_unit_id", name="uq_monthly_report_part_report_unit"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="monthly_report.id")
    org_unit_id: int = Field(foreign_key="org_unit.id")
    confirmed_by: int | None = Field(default=None, foreign_key="app_user.id")
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    comment: str | None = Field(default=None, sa_type=sa.Text)


class MonthlyReportEvent(SQLModel, table=True):
    """The report's timeline (append-only; seq = lock_version after the event)."""

    __tablename__ = "monthly_report_event"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "seq", name="uq_monthly_report_event_report_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="monthly_report.id")
    seq: int
    event: str = Field(max_length=32)
    from_status: ReportStatus | None = Field(default=None, sa_type=enum_column(ReportStatus))
    to_status: ReportStatus = Field(sa_type=enum_column(ReportStatus))
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_role: Role = Field(sa_type=enum_column(Role))
    at: datetime = Field(sa_type=UTCDateTime)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
