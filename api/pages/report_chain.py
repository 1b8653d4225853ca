"""我的月报 and one report's chain page: parts with who confirmed them, the next action this
user may take (with the reason/comment form), the timeline, the versions, the renderings."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from forms.page_forms import errors_of
from models.enums import Role
from models.reports import ReportStatus
from workflows.core.actors import Actor
from workflows.core.calendar import parse_month
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError, InvalidInput, NotFound, OutOfScope, RoleNotAllowed
from workflows.core.roles import CASE_READERS, OFFICE_READERS
from workflows.reporting.chain import ReportEvent, report_transition
from workflows.reporting.chain_reads import list_reports, report_chain
from workflows.reporting.children import send_label

from ..deps import SessionDep, allow
from ..params import Id
from .cases import parse_int
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)
READERS = [Depends(allow(CASE_READERS))]
_NOT_A_FORM_PROBLEM = (RoleNotAllowed, OutOfScope, NotFound)
_DONE = {e.value: f"已办理：{e.label}" for e in ReportEvent}


@router.get("/reports", dependencies=READERS)
def reports_page(request: Request, actor: Viewer, session: SessionDep):
    month_text = request.query_params.get("month", "")
    errors = {}
    try:
        month = parse_month(month_text, optional=True)
    except InvalidInput as error:
        month, errors = None, errors_of(error)
    rows = list_reports(session, actor=actor, month=month)
    return render(
        request,
        "report_chain_list.html",
        {
            "rows": rows,
            "month": month_text,
            "errors": errors,
            "ReportStatus": ReportStatus,
            "may_read_documents": actor.role in OFFICE_READERS,
        },
    )


def document_links(chain) -> dict[str, str]:
    """The report's renderings (api/pages/reports.py, api/routes/reports.py), this version."""
    base = f"/reports/monthly/{chain.region.code}/{chain.report.month:%Y-%m}"
    query = f"?version={chain.report.version}"
    return {
        "page": base + query,
        "pdf": f"{base}/report.pdf{query}",
        "xlsx": f"{base}/report.xlsx{query}",
        "json": f"/api/v1{base}{query}",
    }


def chain_page(
    request: Request,
    session: Session,
    actor: Actor,
    report_id: int,
    *,
    form: dict | None = None,
    errors: dict | None = None,
    message: str | None = None,
    status_code: int = 200,
):
    chain = report_chain(session, actor=actor, report_id=report_id)
    done = request.query_params.get("done")
    flash = _DONE.get(done) if done and not message else None
    if flash and done == ReportEvent.SEND:
        flash = f"已办理：{send_label(chain.region.level)}"
    return render(
        request,
        "report_chain.html",
        {
            "c": chain,
            "r": chain.report,
            "documents": document_links(chain) if actor.role in OFFICE_READERS else None,
            "ReportStatus": ReportStatus,
            "Role": Role,
            "form": form or {},
            "errors": errors or {},
            "message": message,
            "flash": flash,
        },
        status_code=status_code,
    )


@router.get("/reports/{report_id}/chain", dependencies=READERS)
def chain_view(report_id: Id, request: Request, actor: Viewer, session: SessionDep):
    return chain_page(request, session, actor, report_id)


@router.post("/reports/{report_id}/chain", dependencies=[Depends(allow(CASE_READERS)), CsrfForm])
def chain_act(
    report_id: Id, request: Request, actor: Viewer, session: SessionDep, form: PostedForm
):
    values = {k: str(form.get(k) or "").strip() for k in ("event", "version", "comment")}
    unreported = [str(v) for v in form.getlist("unreported") if isinstance(v, str) and v]
    version = parse_int(values["version"])
    if version is None:
        return chain_page(
            request,
            session,
            actor,
            report_id,
            form=values,
            errors={"version": "页面缺少版本信息，请刷新后重试"},
            message="页面缺少版本信息，请刷新后重试",
            status_code=422,
        )
    try:
        with session.begin_nested():
            result = report_transition(
                session,
                report_id=report_id,
                event=values["event"],
                actor=actor,
                version=version,
                as_of=now_utc(),
                comment=values["comment"] or None,
                unreported=unreported,
            )
    except _NOT_A_FORM_PROBLEM:
        raise
    except DomainError as error:
        errors = errors_of(error)
        if "reason" in errors:
            errors["comment"] = errors.pop("reason")
        return chain_page(
            request,
            session,
            actor,
            report_id,
            form={**values, "unreported": unreported},
            errors=errors,
            message=error.message,
            status_code=error.status,
        )
    target = result.new_report_id or report_id
    return RedirectResponse(f"/reports/{target}/chain?done={result.event.value}", status_code=303)
