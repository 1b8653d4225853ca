"""审计日志 (/admin/audit): the audit trail for administrators, auditors and the supervision
bureau; filters, keyset pages and the XLSX export with its manifest (GET /api/v1/audit/...).
The reads are workflows.audit.trail's, the same as the API's."""

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from workflows.audit.seal import chain_head
from workflows.audit.trail import AUDIT_READERS, TrailFilter, TrailPage, kind_choices, trail_page
from workflows.audit.verify import last_checks
from workflows.core.errors import InvalidInput
from workflows.core.roles import ADMINS

from ..deps import SessionDep, allow
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)
FIELDS = ("person", "kind", "case", "date_from", "date_to")


def _date(field: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        label = "起始日期" if field == "date_from" else "截止日期"
        raise InvalidInput.single(field, "invalid", f"{label}格式不正确，请按 2026-12-01 填写") from None


@router.get("/admin/audit", dependencies=[Depends(allow(AUDIT_READERS))])
def audit_page(request: Request, actor: Viewer, session: SessionDep, cursor: str | None = None):
    form = {name: (request.query_params.get(name) or "").strip()[:80] for name in FIELDS}
    page, message, status = TrailPage(), None, 200
    try:
        wanted = TrailFilter(person=form["person"] or None, kind=form["kind"] or None,
                             case=form["case"] or None, date_from=_date("date_from", form["date_from"]),
                             date_to=_date("date_to", form["date_to"]))
        page = trail_page(session, actor=actor, wanted=wanted, cursor=cursor or None)
    except InvalidInput as refused:
        message, status = refused.message, refused.status
    query = urlencode({k: v for k, v in form.items() if v})
    checks = last_checks(session)
    return render(request, "audit.html", {
        "form": form, "rows": page.rows, "message": message, "kinds": kind_choices(actor),
        "next_href": f"/admin/audit?{urlencode({**{k: v for k, v in form.items() if v}, 'cursor': page.next_cursor})}"
        if page.next_cursor else None,
        "first_href": f"/admin/audit?{query}" if cursor else None,
        "export_href": f"/api/v1/audit/export.xlsx?{query}",
        "is_admin": actor.role in ADMINS, "head": chain_head(session), "check": checks.last,
    }, status_code=status)
