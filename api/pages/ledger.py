"""分类台账: the province's (and a city's) ledger of warnings by city/county × category ×
level × state with drill-down links to the tracking list, its XLSX export, and the monthly
reports received from child deployments."""

import json
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from forms.ledger_xlsx import ledger_xlsx
from forms.page_forms import errors_of
from forms.report_charts import report_charts
from forms.report_tables import printable
from models.enums import Level, RuleCategory
from workflows.core.calendar import parse_month
from workflows.core.clock import now_utc
from workflows.core.errors import InvalidInput
from workflows.core.letterhead import letterhead_for
from workflows.core.roles import OFFICE_READERS
from workflows.federation.exchange import received_report, received_reports
from workflows.reporting.figures import SCHEMA as MONTHLY_SCHEMA
from workflows.reporting.ledger import build_ledger

from ..deps import SessionDep, allow
from ..params import Id
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)
READERS = [Depends(allow(OFFICE_READERS))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/ledger", dependencies=READERS)
def ledger_page(request: Request, actor: Viewer, session: SessionDep):
    month_text = request.query_params.get("month", "")
    errors = {}
    try:
        month = parse_month(month_text, optional=True)
    except InvalidInput as error:
        month, errors = None, errors_of(error)
    ledger = build_ledger(session, actor=actor, month=month)
    received = received_reports(session, region_path=actor.region_path, month=month)
    return render(
        request,
        "ledger.html",
        {
            "ledger": ledger,
            "month": month_text if month else "",
            "errors": errors,
            "levels": list(Level),
            "categories": list(RuleCategory),
            "received": received,
        },
    )


@router.get("/ledger/export.xlsx", dependencies=READERS)
def ledger_export(request: Request, actor: Viewer, session: SessionDep):
    month = parse_month(request.query_params.get("month"), optional=True)
    ledger = build_ledger(session, actor=actor, month=month)
    name = (
        f"分类台账_{ledger.region.name}_{month:%Y%m}.xlsx"
        if month
        else f"分类台账_{ledger.region.name}_{now_utc():%Y%m%d}.xlsx"
    )
    return Response(
        ledger_xlsx(ledger, letterhead_for(session, actor, as_of=now_utc())),
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=\"ledger.xlsx\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


def _tables(figures: dict) -> tuple[dict | None, dict | None]:
    """The report's tables and charts as the report page shows them, if the child sent the
    monthly schema this version reads; (None, None) and the raw data shown otherwise."""
    if not isinstance(figures, dict) or figures.get("schema") != MONTHLY_SCHEMA:
        return None, None
    try:
        return printable(figures), report_charts(figures)
    except (KeyError, TypeError, ValueError, AttributeError):  # another version's layout
        return None, None


@router.get("/ledger/received/{received_id}", dependencies=READERS)
def received_page(received_id: Id, request: Request, actor: Viewer, session: SessionDep):
    row = received_report(session, actor=actor, received_id=received_id)
    figures = row[0].payload.get("figures") or {}
    tables, charts = _tables(figures)
    return render(
        request,
        "ledger_received.html",
        {
            "row": row,
            "f": figures,
            "t": tables,
            "charts": charts,
            "raw": json.dumps(figures, ensure_ascii=False, indent=2, sort_keys=True),
        },
    )
