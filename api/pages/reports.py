"""The monthly summary page, with its PDF and XLSX downloads (read-only)."""

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from forms.report_charts import report_charts
from forms.report_files import report_file
from forms.report_tables import printable
from workflows.core.calendar import local_date, parse_month, previous_month
from workflows.core.clock import now_utc
from workflows.core.roles import OFFICE_READERS
from workflows.reporting.figures import REPORT_LEVELS
from workflows.reporting.reads import monthly_report, resolve_region

from ..deps import SessionDep, SettingsDep, allow
from ..params import Id
from ..routes.slips import content_disposition
from .cases import XLSX, filter_options
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)
READERS = [Depends(allow(OFFICE_READERS))]
_LEVELS = {level.value for level in REPORT_LEVELS}


@router.get("/reports/monthly", dependencies=READERS)
def choose(actor: Viewer, session: SessionDep, region: str | None = None,
           month: str | None = None):  # fmt: skip
    """The chooser's target: the reader's own region and last month unless asked otherwise."""
    month = (month or "").strip() or f"{previous_month(local_date(now_utc())):%Y-%m}"
    parse_month(month)
    region = (region or "").strip() or actor.region_path.rstrip("/").rsplit("/", 1)[-1]
    resolve_region(session, region)
    return RedirectResponse(f"/reports/monthly/{region}/{month}", status_code=303)


@router.get("/reports/monthly/{region_code}/{month}", dependencies=READERS)
def report_page(request: Request, region_code: str, month: str, actor: Viewer,
                session: SessionDep, version: Id | None = None):  # fmt: skip
    view = monthly_report(session, actor=actor, org=region_code, month=month, as_of=now_utc(),
                          version=version)  # fmt: skip
    regions = [r for r in filter_options(session, actor)["regions"] if r.level in _LEVELS]
    return render(request, "report_monthly.html", {
        "view": view, "f": view.figures, "t": printable(view.figures),
        "charts": report_charts(view.figures), "regions": regions,
        "generated": datetime.fromisoformat(view.figures["generated_at"]),
        "query": f"?version={view.version}" if version else "",
    })  # fmt: skip


def _download(body: bytes, media_type: str, filename: str, kind: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": content_disposition(filename, kind),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
    })  # fmt: skip


@router.get("/reports/monthly/{region_code}/{month}/report.pdf", dependencies=READERS)
def report_pdf(region_code: str, month: str, actor: Viewer, session: SessionDep,
               settings: SettingsDep, version: Id | None = None):  # fmt: skip
    view = monthly_report(session, actor=actor, org=region_code, month=month, as_of=now_utc(),
                          version=version)  # fmt: skip
    name = f"{view.region_name}{view.month_label}预警情况月报_{view.slug}.pdf"
    body = report_file(view, "pdf", files_dir=settings.files_dir)
    return _download(body, "application/pdf", name, "inline")


@router.get("/reports/monthly/{region_code}/{month}/report.xlsx", dependencies=READERS)
def report_xlsx(region_code: str, month: str, actor: Viewer, session: SessionDep,
                settings: SettingsDep, version: Id | None = None):  # fmt: skip
    view = monthly_report(session, actor=actor, org=region_code, month=month, as_of=now_utc(),
                          version=version)  # fmt: skip
    name = f"{view.region_name}{view.month_label}预警情况月报_{view.slug}.xlsx"
    body = report_file(view, "xlsx", files_dir=settings.files_dir)
    return _download(body, XLSX, name, "attachment")
