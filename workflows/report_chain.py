"""The monthly report's chain as data (Changchun art. 24, Henan art. 17 and 20).

Each responsible department confirms its part → the treasury compiles (figures recomputed)
→ the poverty-alleviation office countersigns (会签: figures recomputed one last time and
frozen with their SHA-256) → the treasury sends it to the province (inbox, e-mail with the
PDF and XLSX, signed pushes to parent deployments). A countersigned or sent report may be
resubmitted: a new version (drafting) with a reason; the old one is kept, superseded.

`CHAIN` says for each (status, event) who may do it, whether a reason is required, where
it leads and which small named effects run; `report_transition()` applies it in the
caller's transaction: scope, version, state and role are checked before anything is
written, the write is a guarded UPDATE … WHERE lock_version = :v, and every accepted event
is a row on the report's timeline.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.enums import Role
from models.notifications import Channel, NotificationKind, NotificationStatus
from models.reports import MonthlyReport, MonthlyReportEvent, MonthlyReportPart, ReportStatus
from models.settings import get_settings

from .actors import Actor
from .errors import InvalidInput, InvalidState, NotFound, OutOfScope, RoleNotAllowed, StaleVersion
from .federation import month_label, province_recipients, queue_pushes, received_summary
from .federation_keys import sha256_of
from .monthly_figures import compute_figures
from .notify import NotificationItem, insert_rows, queue


class ReportEvent(StrEnum):
    CONFIRM_PART = "confirm_part"
    COMPILE = "compile"
    RETURN = "return"
    COUNTERSIGN = "countersign"
    SEND = "send"
    RESUBMIT = "resubmit"
    # Written by the late-report job (workflows/late_reports.py), not by report_transition().
    ESCALATE = "escalate"
    CREATED = "created"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS = {
    ReportEvent.CONFIRM_PART: "处室确认",
    ReportEvent.COMPILE: "国库汇总",
    ReportEvent.RETURN: "退回重新汇总",
    ReportEvent.COUNTERSIGN: "脱贫办会签",
    ReportEvent.SEND: "报送省厅",
    ReportEvent.RESUBMIT: "重新报送（生成新版本）",
    ReportEvent.ESCALATE: "逾期未报督办",
    ReportEvent.CREATED: "生成月报",
}
# Roles that act for their whole region (not a department): only their own region's report.
REGION_ROLES = frozenset({Role.TREASURY, Role.POVERTY_OFFICE})
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.SUPERVISOR})


@dataclass
class Context:
    """What an effect sees and may add to: the report, the act, and the columns to set."""

    session: Session
    report: MonthlyReport
    region: Region
    actor: Actor
    as_of: datetime
    comment: str | None
    values: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    new_report_id: int | None = None


Effect = Callable[[Context], None]


@dataclass(frozen=True)
class ReportStep:
    roles: frozenset[Role]
    to: ReportStatus
    needs_comment: bool = False
    # Before the guarded write (may refuse, may set columns) and after it.
    prepare: tuple[Effect, ...] = ()
    after: tuple[Effect, ...] = ()


# ---------------------------------------------------------------- effects


def _own_part(ctx: Context) -> MonthlyReportPart:
    part = ctx.session.execute(
        sa.select(MonthlyReportPart).where(
            MonthlyReportPart.report_id == ctx.report.id,
            MonthlyReportPart.org_unit_id == ctx.actor.org_unit_id,
        )
    ).scalar_one_or_none()
    if part is None:
        raise OutOfScope("您所在处室不在本月报的确认范围内")
    return part


def check_part_open(ctx: Context) -> None:
    if _own_part(ctx).confirmed_at is not None:
        raise InvalidState("本处室已确认过本月报的本处室部分")


def confirm_part(ctx: Context) -> None:
    part = _own_part(ctx)
    ctx.session.execute(
        sa.update(MonthlyReportPart)
        .where(MonthlyReportPart.id == part.id, MonthlyReportPart.confirmed_at.is_(None))
        .values(confirmed_by=ctx.actor.user_id, confirmed_at=ctx.as_of, comment=ctx.comment)
    )
    ctx.data["org_unit_id"] = part.org_unit_id


def require_parts(ctx: Context) -> None:
    missing = (
        ctx.session.execute(
            sa.select(OrgUnit.name)
            .join(MonthlyReportPart, MonthlyReportPart.org_unit_id == OrgUnit.id)
            .where(
                MonthlyReportPart.report_id == ctx.report.id,
                MonthlyReportPart.confirmed_at.is_(None),
            )
            .order_by(OrgUnit.code)
        )
        .scalars()
        .all()
    )
    if missing:
        raise InvalidState(f"尚有处室未确认：{'、'.join(missing)}，不能汇总")


def recompute(ctx: Context) -> None:
    """The month's figures as of now, with what child deployments sent (a parent's report
    to the level above is built from what it received)."""
    figures = compute_figures(
        ctx.session, region_id=ctx.report.region_id, month=ctx.report.month, as_of=ctx.as_of
    )
    received = received_summary(ctx.session, region_path=ctx.region.path, month=ctx.report.month)
    if received is not None:
        figures = {**figures, "received": received}
    ctx.values.update(figures=figures, figures_at=ctx.as_of)


def freeze(ctx: Context) -> None:
    digest = sha256_of(ctx.values["figures"])
    ctx.values["figures_sha256"] = digest
    ctx.data["figures_sha256"] = digest


def mark(role_column: str) -> Effect:
    def effect(ctx: Context) -> None:
        ctx.values[f"{role_column}_by"] = ctx.actor.user_id
        ctx.values[f"{role_column}_at"] = ctx.as_of

    effect.__name__ = f"mark_{role_column}"
    return effect


def tell_province(ctx: Context) -> None:
    report, region = ctx.report, ctx.region
    subject = f"{region.name}{month_label(report.month)}预警情况月报已报送（第{report.version}版）"
    users = province_recipients(ctx.session, region_path=region.path)
    queue(
        ctx.session,
        as_of=ctx.as_of,
        items=[
            NotificationItem(
                user_id=user_id,
                kind=NotificationKind.OTHER,
                subject=subject,
                body=f"{region.name}财政局已完成会签并报送{month_label(report.month)}月报，请查阅。",
                dedupe_key=f"report-sent:{report.id}:{user_id}",
                link=f"/reports/{report.id}/chain",
            )
            for user_id in users
        ],
    )
    ctx.data["told"] = len(users)


def email_report(ctx: Context) -> None:
    """One e-mail per configured address, the PDF and XLSX attached when it is sent."""
    report, region = ctx.report, ctx.region
    title = f"{region.name}{month_label(report.month)}财政扶贫资金动态监控预警情况月报"
    attachments = [
        {"kind": "monthly_report", "report_id": report.id, "format": f} for f in ("pdf", "xlsx")
    ]
    rows = [
        {
            "user_id": None,
            "org_unit_id": None,
            "channel": Channel.EMAIL,
            "kind": NotificationKind.OTHER,
            "subject": f"{title}（第{report.version}版）",
            "body": f"{title}已经会签，现予报送，详见附件（PDF、XLSX）。",
            "link": f"/reports/monthly/{region.code}/{report.month:%Y-%m}?version={report.version}",
            "case_id": None,
            "payload": {"to": address, "attachments": attachments},
            "dedupe_key": f"report-sent:{report.id}:{address}:email"[:200],
            "status": NotificationStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": ctx.as_of,
            "created_at": ctx.as_of,
            "sent_at": None,
            "claimed_at": None,
            "claimed_by": None,
            "last_error": None,
            "read_at": None,
        }
        for address in get_settings().report_email_to
    ]
    ctx.data["emails"] = insert_rows(ctx.session, rows)


def push_to_parents(ctx: Context) -> None:
    ctx.data["pushes"] = queue_pushes(
        ctx.session, report_id=ctx.report.id, region_code=ctx.region.code, as_of=ctx.as_of
    )


def new_version(ctx: Context) -> None:
    """Version n+1, drafting, with the reason; the departments confirm their parts again."""
    old = ctx.report
    report = MonthlyReport(
        region_id=old.region_id,
        month=old.month,
        version=old.version + 1,
        status=ReportStatus.DRAFTING,
        reason=ctx.comment,
        due_on=old.due_on,
        created_at=ctx.as_of,
        updated_at=ctx.as_of,
        lock_version=1,
    )
    ctx.session.add(report)
    ctx.session.flush()
    recompute_for = Context(ctx.session, report, ctx.region, ctx.actor, ctx.as_of, ctx.comment)
    recompute(recompute_for)
    report.figures, report.figures_at = recompute_for.values["figures"], ctx.as_of
    parts = (
        ctx.session.execute(
            sa.select(MonthlyReportPart.org_unit_id).where(MonthlyReportPart.report_id == old.id)
        )
        .scalars()
        .all()
    )
    ctx.session.add_all([MonthlyReportPart(report_id=report.id, org_unit_id=u) for u in parts])
    ctx.session.add(
        MonthlyReportEvent(
            report_id=report.id,
            seq=1,
            event=ReportEvent.CREATED,
            from_status=None,
            to_status=ReportStatus.DRAFTING,
            actor_id=ctx.actor.user_id,
            actor_role=ctx.actor.role,
            at=ctx.as_of,
            comment=ctx.comment,
            data={"replaces": old.id, "version": report.version},
        )
    )
    ctx.session.flush()
    ctx.new_report_id = report.id
    ctx.data["new_report_id"] = report.id


TREASURY = frozenset({Role.TREASURY})
POVERTY = frozenset({Role.POVERTY_OFFICE})

CHAIN: dict[tuple[ReportStatus, ReportEvent], ReportStep] = {
    (ReportStatus.DRAFTING, ReportEvent.CONFIRM_PART): ReportStep(
        roles=DEPARTMENT_ROLES | TREASURY,
        to=ReportStatus.DRAFTING,
        prepare=(check_part_open,),
        after=(confirm_part,),
    ),
    (ReportStatus.DRAFTING, ReportEvent.COMPILE): ReportStep(
        roles=TREASURY,
        to=ReportStatus.COMPILED,
        prepare=(require_parts, recompute, mark("compiled")),
    ),
    (ReportStatus.COMPILED, ReportEvent.RETURN): ReportStep(
        roles=POVERTY | TREASURY, to=ReportStatus.DRAFTING, needs_comment=True
    ),
    (ReportStatus.COMPILED, ReportEvent.COUNTERSIGN): ReportStep(
        roles=POVERTY,
        to=ReportStatus.COUNTERSIGNED,
        prepare=(recompute, freeze, mark("countersigned")),
    ),
    (ReportStatus.COUNTERSIGNED, ReportEvent.SEND): ReportStep(
        roles=TREASURY,
        to=ReportStatus.SENT,
        prepare=(mark("sent"),),
        after=(tell_province, email_report, push_to_parents),
    ),
    **{
        (status, ReportEvent.RESUBMIT): ReportStep(
            roles=TREASURY, to=ReportStatus.SUPERSEDED, needs_comment=True, after=(new_version,)
        )
        for status in (ReportStatus.COUNTERSIGNED, ReportStatus.SENT)
    },
}


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
    status = ReportStatus(report.status)
    step = CHAIN.get((status, event))
    if step is None:
        return f"月报当前状态为“{status.label}”，不能执行“{event.label}”"
    if actor.role not in step.roles:
        allowed = "、".join(r.label for r in sorted(step.roles))
        return f"“{event.label}”只能由{allowed}办理，您的角色是{actor.role.label}"
    if actor.role in REGION_ROLES and actor.region_path != region.path:
        return f"“{event.label}”须由{region.name}本级办理"
    return None


def report_transition(
    session: Session,
    *,
    report_id: int,
    event: ReportEvent | str,
    actor: Actor,
    version: int,
    as_of: datetime,
    comment: str | None = None,
) -> ReportResult:
    """Apply one event to one monthly report, or raise a DomainError having written nothing."""
    event = parse_event(event)
    report, region = load_report(session, report_id)
    check_scope(actor, region)
    check_department(session, actor, report, region)
    if version != report.lock_version:
        raise StaleVersion(f"月报已被他人办理（版本 {report.lock_version}），请刷新后重试")
    why = refusal(report, region, event, actor)
    if why is not None:
        status = ReportStatus(report.status)
        if (status, event) not in CHAIN:
            raise InvalidState(why)
        raise (OutOfScope if actor.role in CHAIN[(status, event)].roles else RoleNotAllowed)(why)
    step = CHAIN[(ReportStatus(report.status), event)]
    comment = (comment or "").strip() or None
    if step.needs_comment and not comment:
        field_name = "reason" if event == ReportEvent.RESUBMIT else "comment"
        raise InvalidInput.single(field_name, "required", "请填写原因（必填）")
    ctx = Context(session, report, region, actor, as_of, comment)
    for effect in step.prepare:
        effect(ctx)
    with session.begin_nested():
        new_version = _write(session, report, step, ctx, version)
        for effect in step.after:
            effect(ctx)
        session.add(
            MonthlyReportEvent(
                report_id=report.id,
                seq=new_version,
                event=event,
                from_status=report.status,
                to_status=step.to,
                actor_id=actor.user_id,
                actor_role=actor.role,
                at=as_of,
                comment=comment,
                data=ctx.data,
            )
        )
        session.flush()
    from_status = ReportStatus(report.status)
    session.refresh(report)
    return ReportResult(
        report_id=report.id,
        event=event,
        from_status=from_status,
        to_status=step.to,
        lock_version=new_version,
        new_report_id=ctx.new_report_id,
        data=dict(ctx.data),
    )


def _write(
    session: Session, report: MonthlyReport, step: ReportStep, ctx: Context, version: int
) -> int:
    table = MonthlyReport.__table__
    new_version = session.execute(
        sa.update(table)
        .where(
            table.c.id == report.id,
            table.c.lock_version == version,
            table.c.status == report.status,
        )
        .values(
            status=step.to,
            lock_version=table.c.lock_version + 1,
            updated_at=ctx.as_of,
            **ctx.values,
        )
        .returning(table.c.lock_version)
    ).scalar_one_or_none()
    if new_version is None:
        raise StaleVersion("月报已被他人办理，请刷新后重试")
    return new_version


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


def user_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all())
