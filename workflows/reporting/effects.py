"""The small named effects the monthly report's chain table points to
(workflows/reporting/chain.py): checks and column values before the guarded write, and what
follows an accepted step (departments' confirmations, the province told, the e-mail, the
pushes to parent deployments, a new version)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.enums import RegionLevel, Role
from models.notifications import Channel, NotificationKind, NotificationStatus
from models.reports import MonthlyReport, MonthlyReportEvent, MonthlyReportPart, ReportStatus
from models.settings import get_settings
from workflows.core.actors import Actor
from workflows.core.errors import InvalidState, OutOfScope
from workflows.core.notify import insert_rows, news_for, queue
from workflows.core.roles import CASE_ACTORS
from workflows.federation.exchange import (
    month_label,
    province_recipients,
    queue_pushes,
    received_summary,
)
from workflows.federation.keys import sha256_of
from workflows.reporting.children import compile_children, send_label
from workflows.reporting.figures import compute_figures


class ReportEvent(StrEnum):
    CONFIRM_PART = "confirm_part"
    COMPILE = "compile"
    RETURN = "return"
    COUNTERSIGN = "countersign"
    SEND = "send"
    RESUBMIT = "resubmit"
    # Written by the late-report job (workflows/reporting/late_reports.py), not by report_transition().
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
    ReportEvent.SEND: "报送上级",  # by level on the page: workflows/reporting/children.send_label
    ReportEvent.RESUBMIT: "重新报送（生成新版本）",
    ReportEvent.ESCALATE: "逾期未报督办",
    ReportEvent.CREATED: "生成月报",
}
# Roles that act for their whole region (not a department): only their own region's report.
REGION_ROLES = frozenset({Role.TREASURY, Role.POVERTY_OFFICE})
DEPARTMENT_ROLES = CASE_ACTORS


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
    # Compiling early: the region codes of the children the treasury names as 未报.
    unreported: list[str] | None = None


Effect = Callable[[Context], None]


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


def gather_children(*, require_list: bool) -> Effect:
    """The children's lines from their sent reports and the 未报 list (children.py);
    compiling early needs the treasury to name the unreported children."""

    def effect(ctx: Context) -> None:
        figures = compile_children(
            ctx.session, figures=ctx.values["figures"], region=ctx.region,
            month=ctx.report.month, unreported=ctx.unreported, require_list=require_list,
        )  # fmt: skip
        ctx.values["figures"] = figures
        if figures.get("unreported"):
            ctx.data["unreported"] = [c["code"] for c in figures["unreported"]]

    effect.__name__ = "gather_children"
    return effect


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


def _receivers(ctx: Context) -> list[int]:
    """Who is told a report was sent: for a county, its city's treasury and poverty office;
    above, the province's offices (workflows/federation/exchange.py)."""
    region = ctx.region
    if RegionLevel(region.level) == RegionLevel.COUNTY and region.parent_id is not None:
        return list(
            ctx.session.execute(
                sa.select(User.id)
                .join(OrgUnit, OrgUnit.id == User.org_unit_id)
                .where(
                    OrgUnit.region_id == region.parent_id,
                    User.is_active,
                    User.revoked_at.is_(None),
                    User.role.in_([Role.TREASURY, Role.POVERTY_OFFICE]),
                )
                .order_by(User.id)
            ).scalars()
        )
    return province_recipients(ctx.session, region_path=region.path)


def tell_receiver(ctx: Context) -> None:
    report, region = ctx.report, ctx.region
    sent = send_label(region.level)
    subject = f"{region.name}{month_label(report.month)}预警情况月报已{sent}（第{report.version}版）"
    users = _receivers(ctx)
    queue(
        ctx.session,
        as_of=ctx.as_of,
        items=news_for(
            users,
            kind=NotificationKind.OTHER,
            subject=subject,
            body=f"{region.name}财政局已完成会签并{sent}{month_label(report.month)}月报，请查阅。",
            key=f"report-sent:{report.id}",
            link=f"/reports/{report.id}/chain",
        ),
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
