"""A city's (or the province's) summary compiles its own departments and what its counties
(or cities) sent (Changchun art. 24(二)): each child region's line is taken from the child's
latest sent report — frozen figures, version, digest — and a child that has not sent yet is
listed as 未报. Compiling before every child has sent is allowed only when the treasury
names the unreported children, and that list is printed in the report.

One query finds, for every reporting child of the region, its latest sent version of the
month and the status of its latest version.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models import MonthlyReport, Region
from models.enums import RegionLevel
from workflows.core.errors import InvalidInput
from workflows.reporting.figures import REPORT_LEVELS

# Whom a region's report goes to, by the level of the region that sends it.
RECEIVER = {
    RegionLevel.COUNTY: "市局",
    RegionLevel.CITY: "省厅",
    RegionLevel.PROVINCE: "财政部",
}
CHILD_WORD = {RegionLevel.CITY: "区县", RegionLevel.PROVINCE: "地市"}


def send_label(level: RegionLevel | str) -> str:
    """报送市局 for a county, 报送省厅 for a city, 报送财政部 for the province."""
    return f"报送{RECEIVER.get(RegionLevel(level), '上级')}"


def children_reports(session: Session, *, region_id: int, month: date) -> list[dict]:
    """Every reporting child region of the region with its latest sent report of the month
    (None when it has sent none) and its latest version's status."""
    latest_sent = (
        sa.select(MonthlyReport.region_id, sa.func.max(MonthlyReport.version).label("version"))
        .where(
            MonthlyReport.month == month,
            MonthlyReport.sent_at.is_not(None),
        )
        .group_by(MonthlyReport.region_id)
        .subquery()
    )
    sent = aliased(MonthlyReport)
    rows = session.execute(
        sa.select(
            Region.id, Region.code, Region.name, Region.level,
            sent.id.label("report_id"), sent.version, sent.sent_at, sent.figures,
            sent.figures_sha256,
        )  # fmt: skip
        .outerjoin(latest_sent, latest_sent.c.region_id == Region.id)
        .outerjoin(
            sent,
            sa.and_(
                sent.region_id == Region.id,
                sent.month == month,
                sent.version == latest_sent.c.version,
            ),
        )
        .where(
            Region.parent_id == region_id,
            Region.level.in_([level.value for level in REPORT_LEVELS]),
        )
        .order_by(Region.code)
    ).all()
    return [
        {
            "region": {"id": r.id, "code": r.code, "name": r.name, "level": r.level},
            "sent": None
            if r.report_id is None
            else {
                "report_id": r.report_id,
                "version": r.version,
                "sent_at": r.sent_at.isoformat(),
                "figures_sha256": r.figures_sha256,
                "headline": (r.figures or {}).get("headline"),
                "score": ((r.figures or {}).get("assessment") or {}).get("score"),
            },
        }
        for r in rows
    ]


def compile_children(
    session: Session,
    *,
    figures: dict,
    region: Region,
    month: date,
    unreported: list[str] | None,
    require_list: bool,
) -> dict:
    """The figures with each child's line from its sent report and the 未报 list.

    With `require_list` (compiling), children that have not sent must be named exactly in
    `unreported` (their region codes), or nothing is written."""
    children = children_reports(session, region_id=region.id, month=month)
    if not children:
        return figures
    # A child on a deployment of its own reports by a signed push (figures["received"]).
    received = {
        (r.get("region") or {}).get("code")
        for r in (figures.get("received") or {}).get("reports", [])
    }
    missing = [c for c in children if c["sent"] is None and c["region"]["code"] not in received]
    if require_list and missing:
        named = sorted(set(unreported or []))
        expected = sorted(c["region"]["code"] for c in missing)
        if named != expected:
            word = CHILD_WORD.get(RegionLevel(region.level), "下级")
            names = "、".join(c["region"]["name"] for c in missing)
            raise InvalidInput.single(
                "unreported",
                "unreported_children",
                f"尚有{word}未报送本月月报：{names}。提前汇总须在报告中列明未报{word}"
                f"（勾选全部未报{word}后再汇总），或待其报送后再汇总",
            )
    by_code = {c["region"]["code"]: c for c in children}
    lines = []
    for line in figures.get("children", []):
        child = by_code.get(line["region"]["code"])
        if child is None:
            lines.append(line)
            continue
        report = child["sent"]
        if report is None:
            status = "received" if child["region"]["code"] in received else "unreported"
            lines.append({**line, "report": {"status": status}})
        else:
            lines.append({
                **line,
                "headline": report["headline"] or line["headline"],
                "score": report["score"] if report["score"] is not None else line["score"],
                "report": {"status": "sent", "version": report["version"],
                           "sent_at": report["sent_at"],
                           "figures_sha256": report["figures_sha256"]},
            })  # fmt: skip
    return {
        **figures,
        "children": lines,
        "child_word": CHILD_WORD.get(RegionLevel(region.level), "下级"),
        "unreported": [
            {"code": c["region"]["code"], "name": c["region"]["name"]} for c in missing
        ],
    }
