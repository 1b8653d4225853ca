"""The monthly summary as JSON (read-only): the saved report's figures, or the live figures
before it is drafted. The chain's actions (confirm, compile, countersign, send) live elsewhere."""

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from workflows.core.clock import now_utc
from workflows.core.roles import OFFICE_READERS
from workflows.reporting.reads import monthly_report

from ..deps import CurrentActor, SessionDep, allow
from ..params import Count

router = APIRouter(tags=["月报"])
READERS = [Depends(allow(OFFICE_READERS))]


class MonthlyReportOut(BaseModel):
    region_code: str
    region_name: str
    month: str
    version: int | None
    status: str | None
    status_label: str
    live: bool
    due_on: date | None
    reason: str | None
    figures_sha256: str | None
    figures_at: datetime | None
    versions: list[dict[str, Any]]
    links: dict[str, str]
    figures: dict[str, Any]


@router.get("/reports/monthly/{region_code}/{month}", response_model=MonthlyReportOut,
            summary="月报数据（JSON）", dependencies=READERS)  # fmt: skip
def monthly_report_json(
    region_code: str, month: str, actor: CurrentActor, session: SessionDep,
    version: Count | None = None,
) -> MonthlyReportOut:  # fmt: skip
    """The report of a region (code like 410121, or an org unit code) for a month (YYYY-MM);
    its latest version unless `version` is given."""
    view = monthly_report(session, actor=actor, org=region_code, month=month, as_of=now_utc(),
                          version=version)  # fmt: skip
    base = f"/reports/monthly/{view.region_code}/{view.month:%Y-%m}"
    query = f"?version={view.version}" if view.version else ""
    return MonthlyReportOut(
        region_code=view.region_code, region_name=view.region_name, month=f"{view.month:%Y-%m}",
        version=view.version, status=view.status.value if view.status else None,
        status_label=view.status_label, live=view.live, due_on=view.due_on, reason=view.reason,
        figures_sha256=view.figures_sha256, figures_at=view.figures_at,
        versions=[{"version": v, "status": s.value, "status_label": s.label} for v, s in view.versions],
        links={"page": base + query, "pdf": f"{base}/report.pdf{query}",
               "xlsx": f"{base}/report.xlsx{query}"},
        figures=view.figures,
    )  # fmt: skip
