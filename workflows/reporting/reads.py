"""Reading a monthly summary: the saved report (its latest or a given version), or, before
one is drafted, the figures computed now. Who may read it: the treasury, poverty office,
supervision, leaders, the province and auditors whose region contains the report's region.
Department-bound roles (handlers, supervisors) confirm their part in the chain instead.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import MonthlyReport, OrgUnit, Region, User
from models.enums import RegionLevel
from models.reports import ReportStatus
from workflows.core.actors import Actor
from workflows.core.calendar import parse_month
from workflows.core.errors import InvalidInput, NotFound, RoleNotAllowed
from workflows.core.roles import OFFICE_READERS
from workflows.reporting.children import send_label
from workflows.reporting.figures import REPORT_LEVELS, compute_figures


@dataclass(frozen=True)
class ReportView:
    region_code: str
    region_name: str
    region_level: RegionLevel
    month: date
    figures: dict
    live: bool  # no report saved yet: figures computed at `as_of`
    version: int | None = None
    status: ReportStatus | None = None
    due_on: date | None = None
    reason: str | None = None
    figures_sha256: str | None = None
    figures_at: datetime | None = None
    versions: list[tuple[int, ReportStatus]] = field(default_factory=list)
    # Who compiled (the treasury) and countersigned (the poverty office) it, and when.
    compiled_by: str | None = None
    compiled_at: datetime | None = None
    countersigned_by: str | None = None
    countersigned_at: datetime | None = None
    sent_by: str | None = None
    sent_at: datetime | None = None
    # The region in words with the regions above it (中原省平川市安县), for the masthead.
    region_words: str = ""
    # Who filled it in (the treasury that compiled it) and their phone, for the foot.
    compiled_phone: str | None = None

    @property
    def frozen(self) -> bool:
        """Countersigned, sent or superseded after that: figures and signatures are final."""
        return (
            not self.live
            and self.figures_sha256 is not None
            and self.status in (ReportStatus.COUNTERSIGNED, ReportStatus.SENT)
        )

    @property
    def send_label(self) -> str:
        return send_label(self.region_level)

    @property
    def title(self) -> str:
        return f"{self.region_name}财政扶贫资金动态监控预警情况月报"

    @property
    def month_label(self) -> str:
        return f"{self.month.year}年{self.month.month}月"

    @property
    def status_label(self) -> str:
        return self.status.label if self.status else "未起草（实时数据）"

    @property
    def slug(self) -> str:
        """ "410121-2026-11-v1": for file names."""
        suffix = f"-v{self.version}" if self.version else "-live"
        return f"{self.region_code}-{self.month:%Y-%m}{suffix}"


def _in_words(names: list[str]) -> str:
    """中原省 + 平川市 + 安县; a city's own level reads 中原省平川市本级, not 平川市平川市本级."""
    result = ""
    for name in names:
        for cut in range(len(name), 1, -1):
            # Drop the part of a child's name that repeats its parent's (平川市本级 under 平川市).
            if result.endswith(name[:cut]):
                name = name[cut:]
                break
        result += name
    return result


def resolve_region(session: Session, org: str, field_name: str = "region") -> Region:
    """A region by its code (410121), or the region of an org unit by the unit's code
    (410121-GK)."""
    org = (org or "").strip()
    region = session.exec(sa.select(Region).where(Region.code == org)).scalar_one_or_none()
    if region is None:
        region = session.exec(
            sa.select(Region)
            .join(OrgUnit, OrgUnit.region_id == Region.id)
            .where(OrgUnit.code == org)
        ).scalar_one_or_none()
    if region is None:
        raise InvalidInput.single(
            field_name, "unknown_region", f"找不到区划或单位 {org}（请填写区划代码或单位代码）"
        )
    if RegionLevel(region.level) not in REPORT_LEVELS:
        raise InvalidInput.single(
            field_name, "no_monthly_report", f"{region.name}不单独编制月报（月报编制到县级）"
        )
    return region


def read_report(
    session: Session,
    *,
    region: Region,
    month: date,
    as_of: datetime,
    version: int | None = None,
) -> ReportView:
    """The report of `region` for `month` (no scope check: the CLI, and `monthly_report`)."""
    rows = list(
        session.exec(
            sa.select(MonthlyReport)
            .where(MonthlyReport.region_id == region.id, MonthlyReport.month == month)
            .order_by(MonthlyReport.version)
        ).scalars()
    )
    codes = [code for code in region.path.split("/") if code]
    above = dict(
        session.exec(sa.select(Region.code, Region.name).where(Region.code.in_(codes))).all()
    )
    base = {
        "region_code": region.code,
        "region_name": region.name,
        "region_level": RegionLevel(region.level),
        "month": month,
        "region_words": _in_words([above.get(code, "") for code in codes]),
    }
    if not rows:
        if version is not None:
            raise NotFound(f"{region.name}{month.year}年{month.month}月的月报尚未起草")
        figures = compute_figures(session, region_id=region.id, month=month, as_of=as_of)
        return ReportView(**base, figures=figures, live=True)
    chosen = rows[-1] if version is None else next((r for r in rows if r.version == version), None)
    if chosen is None:
        raise NotFound(f"{region.name}{month.year}年{month.month}月的月报没有第 {version} 版")
    people = {
        row.id: row
        for row in session.exec(
            sa.select(User.id, User.full_name, User.phone).where(
                User.id.in_(
                    [chosen.compiled_by or 0, chosen.countersigned_by or 0, chosen.sent_by or 0]
                )
            )
        ).all()
    }
    names = {uid: row.full_name for uid, row in people.items()}
    compiler = people.get(chosen.compiled_by)
    return ReportView(
        **base,
        compiled_by=names.get(chosen.compiled_by),
        compiled_at=chosen.compiled_at,
        countersigned_by=names.get(chosen.countersigned_by),
        countersigned_at=chosen.countersigned_at,
        sent_by=names.get(chosen.sent_by),
        sent_at=chosen.sent_at,
        compiled_phone=compiler.phone if compiler else None,
        figures=chosen.figures,
        live=False,
        version=chosen.version,
        status=ReportStatus(chosen.status),
        due_on=chosen.due_on,
        reason=chosen.reason,
        figures_sha256=chosen.figures_sha256,
        figures_at=chosen.figures_at,
        versions=[(r.version, ReportStatus(r.status)) for r in rows],
    )


def monthly_report(
    session: Session,
    *,
    actor: Actor,
    org: str,
    month: str | date,
    as_of: datetime,
    version: int | None = None,
) -> ReportView:
    """The report as `actor` may read it: refused for other roles, 404 outside their region."""
    if actor.role not in OFFICE_READERS:
        raise RoleNotAllowed("您的角色无权查阅月报")
    month = month if isinstance(month, date) else parse_month(month)
    region = resolve_region(session, org)
    if not actor.sees_region(region.path):
        raise NotFound("月报不存在或不在您的查阅范围内")
    return read_report(session, region=region, month=month, as_of=as_of, version=version)
