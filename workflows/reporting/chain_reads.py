"""Reading monthly reports: 我的月报 (the list in one's scope) and one report's chain page —
its parts with who confirmed them, its timeline, what this user may do next, its pushes."""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.federation import FederationPeer, FederationPush
from models.reports import MonthlyReport, MonthlyReportPart, ReportStatus
from workflows.cases.queries import like_prefix
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.machine import TimelineEntry
from workflows.reporting.chain import (
    CHAIN,
    DEPARTMENT_ROLES,
    REPORT_MACHINE,
    ReportEvent,
    check_department,
    check_reader,
    check_scope,
    load_report,
    refusal,
)
from workflows.reporting.children import children_reports, send_label

# Timeline rows written outside the chain table (workflows/reporting/drafts.py).
OTHER_EVENTS = {"draft": "系统起草月报"}


@dataclass(frozen=True)
class ReportLine:
    id: int
    region_code: str
    region_name: str
    month: date
    version: int
    status: ReportStatus
    due_on: date | None
    escalation_level: int
    lock_version: int
    parts_total: int
    parts_confirmed: int


def list_reports(
    session: Session, *, actor: Actor, month: date | None = None, limit: int = 500
) -> list[ReportLine]:
    """The reports of the actor's region and below (departments: those with their part)."""
    check_reader(actor)
    parts = (
        sa.select(
            MonthlyReportPart.report_id,
            sa.func.count().label("total"),
            sa.func.count(MonthlyReportPart.confirmed_at).label("confirmed"),
        )
        .group_by(MonthlyReportPart.report_id)
        .subquery()
    )
    query = (
        sa.select(
            MonthlyReport.id,
            Region.code,
            Region.name,
            MonthlyReport.month,
            MonthlyReport.version,
            MonthlyReport.status,
            MonthlyReport.due_on,
            MonthlyReport.escalation_level,
            MonthlyReport.lock_version,
            sa.func.coalesce(parts.c.total, 0),
            sa.func.coalesce(parts.c.confirmed, 0),
        )
        .join(Region, Region.id == MonthlyReport.region_id)
        .outerjoin(parts, parts.c.report_id == MonthlyReport.id)
        .where(Region.path.like(like_prefix(actor.region_path), escape="\\"))
        .order_by(MonthlyReport.month.desc(), Region.path, MonthlyReport.version.desc())
        .limit(limit)
    )
    if actor.role in DEPARTMENT_ROLES:
        mine = sa.select(MonthlyReportPart.report_id).where(
            MonthlyReportPart.org_unit_id == actor.org_unit_id
        )
        query = query.where(MonthlyReport.id.in_(mine))
    if month is not None:
        query = query.where(MonthlyReport.month == month)
    return [ReportLine(*row) for row in session.execute(query).all()]


@dataclass(frozen=True)
class PartLine:
    org_unit_id: int
    org_unit_name: str
    confirmed_by: str | None
    confirmed_at: object
    comment: str | None
    org_unit_code: str = ""
    # The department's own part of the report's figures (section 各部门情况), what its head
    # confirms, and the list of its cases raised in the month.
    headline: dict | None = None
    cases_link: str = ""


@dataclass(frozen=True)
class Action:
    event: ReportEvent
    label: str
    needs_comment: bool
    # Why the step cannot be taken yet (shown beside a disabled button), None when it can.
    waiting: str | None = None
    # Compiling early: the children that have not sent, to be named as 未报 (code, name).
    unreported: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ReportChain:
    report: MonthlyReport
    region: Region
    parts: list[PartLine]
    events: list[TimelineEntry]
    actions: list[Action]
    pushes: list
    versions: list  # (id, version, status) of every version of this region and month
    names: dict[int, str]


def report_chain(session: Session, *, actor: Actor, report_id: int) -> ReportChain:
    report, region = load_report(session, report_id)
    check_scope(actor, region)
    check_department(session, actor, report, region)
    confirmer = aliased(User)
    # The department's own part (a city's line also counts its counties'; reports frozen
    # before that kept only the own figures, as "headline").
    own = {
        (d.get("org_unit") or {}).get("id"): d.get("own") or d.get("headline")
        for d in (report.figures or {}).get("departments", [])
    }
    parts = [
        PartLine(
            *row[:5], org_unit_code=row[5], headline=own.get(row[0]),
            cases_link="/cases?" + urlencode({"department": row[5], "month": f"{report.month:%Y-%m}"}),
        )  # fmt: skip
        for row in session.execute(
            sa.select(
                OrgUnit.id,
                OrgUnit.name,
                confirmer.full_name,
                MonthlyReportPart.confirmed_at,
                MonthlyReportPart.comment,
                OrgUnit.code,
            )
            .join(OrgUnit, OrgUnit.id == MonthlyReportPart.org_unit_id)
            .outerjoin(confirmer, confirmer.id == MonthlyReportPart.confirmed_by)
            .where(MonthlyReportPart.report_id == report.id)
            .order_by(OrgUnit.code)
        ).all()
    ]
    events = machine.timeline(
        session, REPORT_MACHINE, report.id, label=lambda row: _event_label(row, region),
        state_of=ReportStatus,
    )  # fmt: skip
    pushes = session.execute(
        sa.select(
            FederationPush.status,
            FederationPush.attempts,
            FederationPush.last_error,
            FederationPush.sent_at,
            FederationPeer.name,
        )
        .join(FederationPeer, FederationPeer.id == FederationPush.peer_id)
        .where(FederationPush.report_id == report.id)
        .order_by(FederationPush.id)
    ).all()
    versions = session.execute(
        sa.select(MonthlyReport.id, MonthlyReport.version, MonthlyReport.status)
        .where(MonthlyReport.region_id == report.region_id, MonthlyReport.month == report.month)
        .order_by(MonthlyReport.version)
    ).all()
    names = dict(
        session.execute(
            sa.select(User.id, User.full_name).where(
                User.id.in_(
                    [i for i in (report.compiled_by, report.countersigned_by, report.sent_by) if i]
                )
            )
        ).all()
    )
    return ReportChain(
        report=report,
        region=region,
        parts=parts,
        events=events,
        actions=actions_for(session, report, region, actor),
        pushes=pushes,
        versions=versions,
        names=names,
    )


def _event_label(row, region: Region) -> str:
    try:
        label = ReportEvent(row.event).label
    except ValueError:
        label = OTHER_EVENTS.get(row.event, row.event)
    if row.event == ReportEvent.SEND:
        label = send_label(region.level)
    if row.event == ReportEvent.ESCALATE:
        label = f"{label}（{(row.data or {}).get('level')}级）"
    return label


def actions_for(
    session: Session, report: MonthlyReport, region: Region, actor: Actor
) -> list[Action]:
    """The buttons: events of the table this actor may fire on the report now."""
    actions = []
    for (status, event), step in CHAIN.items():
        if status != report.status or refusal(report, region, event, actor) is not None:
            continue
        if event == ReportEvent.CONFIRM_PART:
            open_part = session.execute(
                sa.select(MonthlyReportPart.id).where(
                    MonthlyReportPart.report_id == report.id,
                    MonthlyReportPart.org_unit_id == actor.org_unit_id,
                    MonthlyReportPart.confirmed_at.is_(None),
                )
            ).first()
            if open_part is None:
                continue
        waiting, unreported = None, ()
        label = send_label(region.level) if event == ReportEvent.SEND else event.label
        if event == ReportEvent.COMPILE:
            unreported = tuple(
                (c["region"]["code"], c["region"]["name"])
                for c in children_reports(session, region_id=region.id, month=report.month)
                if c["sent"] is None
            )
            confirmed, total = session.execute(
                sa.select(
                    sa.func.count(MonthlyReportPart.confirmed_at), sa.func.count(MonthlyReportPart.id)
                ).where(MonthlyReportPart.report_id == report.id)
            ).one()
            if confirmed < total:
                waiting = f"各主管处室确认后方可汇总（已确认 {confirmed} / {total}）"
        actions.append(Action(event, label, step.needs_comment, waiting, unreported))
    return actions
