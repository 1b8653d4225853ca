"""The per-rule summary table (规则汇总) for the reader's scope, and its XLSX export."""

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from forms.spreadsheets import rule_summary_xlsx
from models.settings import get_settings
from workflows.cases.summary import SUMMARY_COLUMNS, rule_summary, totals
from workflows.core.clock import now_utc
from workflows.core.letterhead import letterhead_for
from workflows.core.roles import CASE_READERS
from workflows.oversight.streaks import latest_evaluated_month, streak_board

from ..deps import SessionDep, allow
from .cases import XLSX, filter_options
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)


@router.get("/summary", dependencies=[Depends(allow(CASE_READERS))])
def summary(request: Request, actor: Viewer, session: SessionDep, region: str | None = None):
    region = (region or "").strip() or None
    rows = rule_summary(session, actor=actor, as_of=now_utc(), region=region)
    return render(request, "summary.html", {
        "rows": rows, "totals": totals(rows), "region": region or "",
        # The columns in the table's order; each count links to the list of exactly its cases.
        "buckets": list(SUMMARY_COLUMNS),
        "regions": filter_options(session, actor)["regions"],
        # The three-month rule's warnings (regions on streaks of 2 and more).
        "streaks": streak_board(session, actor=actor), "streak_month": latest_evaluated_month(session),
        "rule_months": get_settings().streak_months,
    })


@router.get("/summary/export.xlsx", dependencies=[Depends(allow(CASE_READERS))])
def summary_export(actor: Viewer, session: SessionDep, region: str | None = None):
    now = now_utc()
    rows = rule_summary(session, actor=actor, as_of=now, region=(region or "").strip() or None)
    name = f"规则汇总_{now:%Y%m%d}.xlsx"
    return Response(rule_summary_xlsx(rows, letterhead_for(session, actor, as_of=now)), media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"summary.xlsx\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    })
