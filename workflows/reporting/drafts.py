"""Drafting last month's summaries: version 1 for every county, city and province, or fresh
figures for drafts nobody has countersigned yet. Countersigned and sent reports are frozen.

Idempotent: a second run finds the reports and only refreshes the unfrozen ones' figures.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import MonthlyReport, MonthlyReportEvent, MonthlyReportPart, OrgUnit
from models.enums import OrgKind, Role
from models.reports import ReportStatus
from workflows.core.calendar import is_first_working_day, load_calendar, local_date, previous_month
from workflows.reporting.figures import DEPARTMENT_KINDS, fifth_working_day, figures_for_all

REFRESHABLE = (ReportStatus.DRAFTING, ReportStatus.COMPILED)


@dataclass(frozen=True)
class DraftResult:
    month: str  # "YYYY-MM" reported on
    created: int = 0
    refreshed: int = 0
    frozen: int = 0  # countersigned, sent or superseded: left alone
    skipped_reason: str | None = None

    @property
    def summary(self) -> str:
        if self.skipped_reason:
            return self.skipped_reason
        return (
            f"{self.month} 月报：新建 {self.created} 份，刷新数据 {self.refreshed} 份，"
            f"已会签或已报送未改动 {self.frozen} 份"
        )


def figures_digest(figures: dict) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces): what the chain freezes."""
    text = json.dumps(figures, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def draft_monthly_reports(
    session: Session, *, as_of: datetime, only_first_working_day: bool = True
) -> DraftResult:
    """The job: draft (or refresh) last month's summary of every county, city and province
    on the first working day of the month."""
    calendar = load_calendar(session)
    today = local_date(as_of)
    month = previous_month(today)
    label = f"{month:%Y-%m}"
    if only_first_working_day and not is_first_working_day(calendar, today):
        return DraftResult(
            label, skipped_reason=f"{today:%Y-%m-%d} 不是本月第一个工作日，未起草月报"
        )
    due_on = fifth_working_day(calendar, today)
    everything = figures_for_all(session, month=month, as_of=as_of)

    latest = (
        sa.select(MonthlyReport.region_id, sa.func.max(MonthlyReport.version).label("version"))
        .where(MonthlyReport.month == month)
        .group_by(MonthlyReport.region_id)
        .subquery()
    )
    existing = {
        r.region_id: r
        for r in session.connection().execute(
            sa.select(MonthlyReport.id, MonthlyReport.region_id, MonthlyReport.status)
            .join(
                latest,
                sa.and_(
                    latest.c.region_id == MonthlyReport.region_id,
                    latest.c.version == MonthlyReport.version,
                ),
            )
            .where(MonthlyReport.month == month)
        )
    }
    refresh, frozen, new_regions = [], 0, []
    for region_id, figures in everything.items():
        row = existing.get(region_id)
        if row is None:
            new_regions.append(region_id)
        elif ReportStatus(row.status) in REFRESHABLE:
            refresh.append({"id": row.id, "figures": figures, "figures_sha256": figures_digest(figures),
                            "figures_at": as_of, "updated_at": as_of})  # fmt: skip
        else:
            frozen += 1
    if refresh:
        session.execute(sa.update(MonthlyReport), refresh)

    if new_regions:
        reports = [
            MonthlyReport(
                region_id=rid, month=month, version=1, status=ReportStatus.DRAFTING,
                figures=everything[rid], figures_sha256=figures_digest(everything[rid]),
                figures_at=as_of, due_on=due_on, created_at=as_of, updated_at=as_of,
            )
            for rid in new_regions
        ]  # fmt: skip
        session.add_all(reports)
        session.flush()
        units = session.connection().execute(
            sa.select(OrgUnit.id, OrgUnit.region_id).where(
                OrgUnit.region_id.in_(new_regions),
                OrgUnit.kind.in_([OrgKind(k).value for k in DEPARTMENT_KINDS]),
            )
        )
        report_of = {r.region_id: r.id for r in reports}
        session.add_all(
            MonthlyReportPart(report_id=report_of[u.region_id], org_unit_id=u.id) for u in units
        )
        session.add_all(
            MonthlyReportEvent(
                report_id=r.id, seq=1, event="draft", from_status=None,
                to_status=ReportStatus.DRAFTING, actor_role=Role.SYSTEM, at=as_of,
                comment="系统按月起草", data={"due_on": due_on.isoformat()},
            )
            for r in reports
        )  # fmt: skip
        session.flush()
    return DraftResult(label, created=len(new_regions), refreshed=len(refresh), frozen=frozen)
