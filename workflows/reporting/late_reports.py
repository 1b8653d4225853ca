"""Late monthly reports escalate like cases (Changchun art. 18, 23).

A report not sent by its due day (the 5th working day of the next month) is escalated by
the job `escalate_late_reports`: level 1 the day after the due day — the region's treasury
and its section head are told; level 2 `escalation_grace_days` working days later — they
and the region's leadership are told. Each level once: the guarded UPDATE only takes
reports still below the level (workflows/core/machine.py advance_all: version + 1 and an
event row each, like every step of the chain), and the messages are deduplicated by key.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.enums import OrgKind, Role
from models.notifications import NotificationKind
from models.reports import MonthlyReport, ReportStatus
from models.settings import get_settings
from workflows.core import machine
from workflows.core.calendar import load_calendar, local_date
from workflows.core.notify import news_for, queue
from workflows.escalation.sweep import last_working_day, working_days_before
from workflows.federation.exchange import month_label
from workflows.reporting.chain import REPORT_MACHINE, ReportEvent
from workflows.reporting.children import send_label

OPEN = (ReportStatus.DRAFTING, ReportStatus.COMPILED, ReportStatus.COUNTERSIGNED)


@dataclass
class LateResult:
    level1: list[int] = field(default_factory=list)
    level2: list[int] = field(default_factory=list)
    notified: int = 0

    @property
    def summary(self) -> str:
        return (
            f"逾期未报月报：一级督办 {len(self.level1)} 份，二级督办 {len(self.level2)} 份，"
            f"排队通知 {self.notified} 条"
        )


def escalate_late_reports(session: Session, *, as_of: datetime) -> LateResult:
    """Raise late reports to level 1, then 2, each once; tell the people responsible."""
    calendar = load_calendar(session)
    passed = last_working_day(calendar, local_date(as_of))
    # Level 1 once the due day has passed; level 2 after the grace in working days.
    level2_cutoff = working_days_before(calendar, passed, get_settings().escalation_grace_days)
    result = LateResult()
    result.level1 = _raise(session, level=1, due_before=passed, as_of=as_of)
    result.level2 = _raise(session, level=2, due_before=level2_cutoff, as_of=as_of)
    result.notified = _tell(session, result, as_of)
    return result


def _raise(session: Session, *, level: int, due_before, as_of: datetime) -> list[int]:
    table = MonthlyReport.__table__
    rows = machine.advance_all(
        session, REPORT_MACHINE,
        where=sa.and_(
            table.c.status.in_([s.value for s in OPEN]),
            table.c.due_on < due_before,
            table.c.escalation_level == level - 1,
        ),
        values={"escalation_level": level, "updated_at": as_of},
        returning=(table.c.due_on,),
    )  # fmt: skip
    machine.record(session, REPORT_MACHINE, [
        machine.event_row(
            REPORT_MACHINE, row_id=r.id, seq=r.version, event=ReportEvent.ESCALATE.value,
            from_state=r.state, to_state=r.state, actor=None, at=as_of,
            data={"level": level, "due_on": r.due_on.isoformat()},
        )
        for r in rows
    ])  # fmt: skip
    return sorted(r.id for r in rows)


def _tell(session: Session, result: LateResult, as_of: datetime) -> int:
    levels = {rid: 1 for rid in result.level1} | {rid: 2 for rid in result.level2}
    if not levels:
        return 0
    reports = session.execute(
        sa.select(
            MonthlyReport.id,
            MonthlyReport.month,
            MonthlyReport.version,
            MonthlyReport.due_on,
            MonthlyReport.region_id,
            Region.name,
            Region.level,
        )
        .join(Region, Region.id == MonthlyReport.region_id)
        .where(MonthlyReport.id.in_(list(levels)))
    ).all()
    treasury = sa.or_(
        User.role == Role.TREASURY,
        sa.and_(User.role == Role.SUPERVISOR, OrgUnit.kind == OrgKind.TREASURY),
    )
    people = session.execute(
        sa.select(User.id, User.role, OrgUnit.region_id)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(
            User.is_active,
            User.revoked_at.is_(None),
            OrgUnit.region_id.in_({r.region_id for r in reports}),
            sa.or_(treasury, User.role == Role.LEADER),
        )
    ).all()
    items = []
    for report in reports:
        level = levels[report.id]
        told = [
            user_id
            for user_id, role, region_id in people
            if region_id == report.region_id and (role != Role.LEADER or level >= 2)
        ]
        items += news_for(
            told,
            kind=NotificationKind.OVERDUE,
            subject=f"{report.name}{month_label(report.month)}月报逾期未报（{level}级督办）",
            body=(
                f"{report.name}{month_label(report.month)}预警情况月报应于"
                f"{report.due_on:%Y年%m月%d日}前{send_label(report.level)}，至今未报送，"
                "请尽快完成汇总、会签和报送。"
            ),
            key=f"report-late:{report.id}:{level}",
            link=f"/reports/{report.id}/chain",
        )
    return queue(session, items=items, as_of=as_of)
