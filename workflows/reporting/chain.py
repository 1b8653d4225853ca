"""The monthly report's chain as data (Changchun art. 24, Henan art. 17 and 20).

Each responsible department confirms its part → the treasury compiles (figures recomputed)
→ the poverty-alleviation office countersigns (会签: figures recomputed one last time and
frozen with their SHA-256) → the treasury sends it up (a county to the city 报送市局, a city
to the province 报送省厅: inbox, e-mail with the PDF and XLSX, signed pushes to parent
deployments). A city compiles its departments and its counties' sent reports
(workflows/reporting/children.py). A countersigned or sent report may be
resubmitted: a new version (drafting) with a reason; the old one is kept, superseded.

`CHAIN` says for each (status, event) who may do it, whether a reason is required, where
it leads and which small named effects (workflows/reporting/effects.py) run;
`report_transition()` applies it in the caller's transaction through the state-machine core
(workflows/core/machine.py): scope, version, state and role are checked before anything is
written, the write is a guarded UPDATE … WHERE lock_version = :v, and every accepted event
is a row on the report's timeline.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import Region
from models.enums import Role
from models.reports import MonthlyReport, MonthlyReportEvent, MonthlyReportPart, ReportStatus
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.errors import DomainError, InvalidInput, NotFound, OutOfScope, RoleNotAllowed
from workflows.core.machine import Machine, Step, goes
from workflows.reporting.effects import (
    DEPARTMENT_ROLES,
    EVENT_LABELS,
    REGION_ROLES,
    Context,
    ReportEvent,
    check_part_open,
    confirm_part,
    email_report,
    freeze,
    gather_children,
    mark,
    new_version,
    push_to_parents,
    recompute,
    require_parts,
    tell_receiver,
)

__all__ = [
    "CHAIN",
    "DEPARTMENT_ROLES",
    "EVENT_LABELS",
    "REGION_ROLES",
    "ReportEvent",
    "ReportResult",
    "report_transition",
    "resubmit",
]


TREASURY = frozenset({Role.TREASURY})
POVERTY = frozenset({Role.POVERTY_OFFICE})

CHAIN: dict[tuple[ReportStatus, ReportEvent], Step] = {
    (ReportStatus.DRAFTING, ReportEvent.CONFIRM_PART): Step(
        roles=DEPARTMENT_ROLES | TREASURY,
        outcomes=goes(ReportStatus.DRAFTING),
        prepare=(check_part_open,),
        after=(confirm_part,),
    ),
    (ReportStatus.DRAFTING, ReportEvent.COMPILE): Step(
        roles=TREASURY,
        outcomes=goes(ReportStatus.COMPILED),
        prepare=(require_parts, recompute, gather_children(require_list=True), mark("compiled")),
    ),
    (ReportStatus.COMPILED, ReportEvent.RETURN): Step(
        roles=POVERTY | TREASURY, outcomes=goes(ReportStatus.DRAFTING), needs_comment=True
    ),
    (ReportStatus.COMPILED, ReportEvent.COUNTERSIGN): Step(
        roles=POVERTY,
        outcomes=goes(ReportStatus.COUNTERSIGNED),
        prepare=(recompute, gather_children(require_list=False), freeze, mark("countersigned")),
    ),
    (ReportStatus.COUNTERSIGNED, ReportEvent.SEND): Step(
        roles=TREASURY,
        outcomes=goes(ReportStatus.SENT),
        prepare=(mark("sent"),),
        after=(tell_receiver, email_report, push_to_parents),
    ),
    **{
        (status, ReportEvent.RESUBMIT): Step(
            roles=TREASURY, outcomes=goes(ReportStatus.SUPERSEDED), needs_comment=True,
            after=(new_version,),
        )
        for status in (ReportStatus.COUNTERSIGNED, ReportStatus.SENT)
    },
}


REPORT_MACHINE = Machine(
    CHAIN, MonthlyReport.__table__, MonthlyReportEvent.__table__, subject="report_id",
    orm=MonthlyReport, version="lock_version", state="status", states=("from_status", "to_status"),
)  # fmt: skip
WHO = "月报"  # how refusals name a report


# ---------------------------------------------------------------- applying the table


@dataclass(frozen=True)
class ReportResult:
    report_id: int
    event: ReportEvent
    from_status: ReportStatus
    to_status: ReportStatus
    lock_version: int
    new_report_id: int | None = None
    data: dict = field(default_factory=dict)


def parse_event(event: ReportEvent | str) -> ReportEvent:
    try:
        parsed = ReportEvent(event)
    except ValueError:
        parsed = None
    if parsed is None or parsed in (ReportEvent.ESCALATE, ReportEvent.CREATED):
        raise InvalidInput.single("event", "unknown_event", f"未知的月报操作：{event}")
    return parsed


def load_report(session: Session, report_id: int) -> tuple[MonthlyReport, Region]:
    report = session.get(MonthlyReport, report_id)
    if report is None:
        raise NotFound("月报不存在")
    session.refresh(report)  # another request may have moved it on: decide on what is stored
    return report, session.get(Region, report.region_id)


def check_reader(actor: Actor) -> None:
    """Administrators and the integration account never read or act on reports."""
    if actor.role == Role.ADMIN:
        raise RoleNotAllowed("系统管理员不得查看或办理月报（不得混岗）")
    if actor.role in (Role.INTEGRATION, Role.SYSTEM):
        raise RoleNotAllowed("接口账户不能查看或办理月报")


def check_scope(actor: Actor, region: Region) -> None:
    """Who may see a region's report: its region and the regions above; reads answer 404."""
    check_reader(actor)
    if not actor.sees_region(region.path):
        raise OutOfScope(f"{region.name}的月报不在您的管辖范围内")


def check_department(session: Session, actor: Actor, report: MonthlyReport, region: Region) -> None:
    """A department (谁主管、谁负责) sees only the reports that have its part."""
    if (
        actor.role in DEPARTMENT_ROLES
        and not session.execute(
            sa.select(MonthlyReportPart.id).where(
                MonthlyReportPart.report_id == report.id,
                MonthlyReportPart.org_unit_id == actor.org_unit_id,
            )
        ).first()
    ):
        raise OutOfScope(f"{region.name}的月报不在您所在处室的确认范围内")


def refusal(report: MonthlyReport, region: Region, event: ReportEvent, actor: Actor) -> str | None:
    """Why this actor may not fire this event on this report now (None: they may)."""
    try:
        _check_step(report, region, event, actor, report.lock_version)
    except DomainError as refused:
        return refused.message
    return None


def _check_step(report: MonthlyReport, region: Region, event: ReportEvent, actor: Actor, version: int) -> Step:
    """The table's step (version, state, role), then: a region's own roles act only on its own report."""
    status = ReportStatus(report.status)
    step = machine.check(
        REPORT_MACHINE, who=WHO, state=status, event=event, event_label=event.label,
        state_label=status.label, actor=actor, version=version, current=report.lock_version,
    )  # fmt: skip
    if actor.role in REGION_ROLES and actor.region_path != region.path:
        raise OutOfScope(f"“{event.label}”须由{region.name}本级办理")
    return step


def report_transition(
    session: Session,
    *,
    report_id: int,
    event: ReportEvent | str,
    actor: Actor,
    version: int,
    as_of: datetime,
    comment: str | None = None,
    unreported: list[str] | None = None,
) -> ReportResult:
    """Apply one event to one monthly report, or raise a DomainError having written nothing.

    `unreported`: compiling a city's (or the province's) report before every child has
    sent, the region codes of the children named as 未报 in the report."""
    event = parse_event(event)
    report, region = load_report(session, report_id)
    check_scope(actor, region)
    check_department(session, actor, report, region)
    step = _check_step(report, region, event, actor, version)
    from_status = ReportStatus(report.status)
    comment = (comment or "").strip() or None
    if step.needs_comment and not comment:
        field_name = "reason" if event == ReportEvent.RESUBMIT else "comment"
        raise InvalidInput.single(field_name, "required", "请填写原因（必填）")
    ctx = Context(session, report, region, actor, as_of, comment, unreported=unreported)
    for effect in step.prepare:
        effect(ctx)
    with session.begin_nested():
        new_version = machine.advance(
            session, REPORT_MACHINE, row_id=report.id, version=version, state=from_status,
            values={"status": step.to, "updated_at": as_of, **ctx.values}, who=WHO,
        )  # fmt: skip
        for effect in step.after:
            effect(ctx)
        machine.record(session, REPORT_MACHINE, [machine.event_row(
            REPORT_MACHINE, row_id=report.id, seq=new_version, event=event, from_state=from_status,
            to_state=step.to, actor=actor, at=as_of, comment=comment, data=ctx.data,
        )])  # fmt: skip
    return ReportResult(
        report_id=report.id,
        event=event,
        from_status=from_status,
        to_status=step.to,
        lock_version=new_version,
        new_report_id=ctx.new_report_id,
        data=dict(ctx.data),
    )


def resubmit(
    session: Session, *, report_id: int, actor: Actor, version: int, reason: str, as_of: datetime
) -> ReportResult:
    """A new version of a countersigned or sent report, with the reason; both are kept."""
    return report_transition(
        session,
        report_id=report_id,
        event=ReportEvent.RESUBMIT,
        actor=actor,
        version=version,
        as_of=as_of,
        comment=reason,
    )
