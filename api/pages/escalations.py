"""督办申请: the supervisor's queue of extension and escalation requests with a decision form
per row, and the handler's "申请延期" form on the case page."""

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from forms.page_forms import errors_of
from models.enums import Event, RequestKind
from workflows.core.actors import Actor, active_handlers
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError
from workflows.core.roles import HANDLERS, SUPERVISORS
from workflows.escalation.extensions import pending_requests, request_extension

from ..deps import SessionDep, allow
from ..params import Id
from ..routes.escalations import case_in_scope, decide, pending_request
from .cases import _NOT_A_FORM_PROBLEM, case_page, parse_int
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)


# What the supervisor may decide, by kind of request (labels as on the form).
CHOICES = {
    RequestKind.EXTENSION: [("approve", "批准延期"), ("reject", "驳回")],
    RequestKind.ESCALATION: [("reassign", "改派经办人"), ("extend", "延长期限"),
                             ("escalate", "提交督查部门"), ("reject", "驳回")],
}


def parse_date(value, field: str, errors: dict) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = "请填写日期（YYYY-MM-DD）"
        return None


def unit_handlers(session: Session, rows) -> dict[int, list]:
    """Active handlers per department of the queued escalations (the reassign choices)."""
    return active_handlers(session, unit_ids={r.org_unit_id for r in rows if r.kind == RequestKind.ESCALATION})


def queue_page(request: Request, session: Session, actor: Actor, *, forms: dict | None = None,
               errors: dict | None = None, message: str | None = None, status_code: int = 200):
    rows = pending_requests(session, actor=actor)
    flash = "已处理申请" if request.query_params.get("done") and not message else None
    return render(request, "escalations.html", {
        "rows": rows, "choices": CHOICES, "handlers": unit_handlers(session, rows),
        "forms": forms or {}, "errors": errors or {}, "message": message, "flash": flash,
        "RequestKind": RequestKind,
    }, status_code=status_code)


@router.get("/escalations", dependencies=[Depends(allow(SUPERVISORS))])
def queue(request: Request, actor: Viewer, session: SessionDep):
    return queue_page(request, session, actor)


@router.post("/escalations/{request_id}/decision", dependencies=[Depends(allow(SUPERVISORS)), CsrfForm])
def decide_on_page(request: Request, actor: Viewer, session: SessionDep, form: PostedForm,
                   row=Depends(pending_request)):
    values = {k: str(form.get(k) or "").strip()
              for k in ("version", "decision", "reason", "new_due_on", "assignee_id")}
    errors: dict[str, str] = {}
    version = parse_int(values["version"])
    if version is None:
        errors["version"] = "页面缺少版本信息，请刷新后重试"
    allowed = {value for value, _ in CHOICES[RequestKind(row.kind)]}
    if values["decision"] not in allowed:
        errors["decision"] = "请选择处理方式"
    new_due_on = parse_date(values["new_due_on"], "new_due_on", errors)

    def again(message: str, status: int):
        return queue_page(request, session, actor, forms={row.id: values}, errors={row.id: errors},
                          message=message, status_code=status)

    if errors:
        return again("填写不完整或有误，请按提示修改后再提交", 422)
    try:
        decide(session, row, actor, version=version, decision=values["decision"],
               reason=values["reason"] or None, new_due_on=new_due_on,
               assignee_id=parse_int(values["assignee_id"]))
    except _NOT_A_FORM_PROBLEM:
        raise
    except DomainError as error:
        errors.update(errors_of(error))
        return again(error.message, error.status)
    return RedirectResponse("/escalations?done=1", status_code=303)


@router.post("/cases/{number}/extension-requests", dependencies=[Depends(allow(HANDLERS)), CsrfForm])
def ask_on_page(request: Request, number: str, actor: Viewer, session: SessionDep, form: PostedForm,
                case_id: Id = Depends(case_in_scope)):
    now = now_utc()
    values = {k: str(form.get(k) or "").strip() for k in ("reason", "requested_due_on")}
    errors: dict[str, str] = {}
    version = parse_int(form.get("version"))
    if version is None:
        errors["version"] = "页面缺少版本信息，请刷新后重试"
    if not values["reason"]:
        errors["reason"] = "请填写申请延期的理由"
    requested = parse_date(values["requested_due_on"], "requested_due_on", errors)

    def again(message: str, status: int):
        return case_page(request, session, actor, number, as_of=now, form=values, errors=errors,
                         event=Event.REQUEST_EXTENSION.value, message=message, status_code=status)

    if errors:
        return again("填写不完整或有误，请按提示修改后再提交", 422)
    try:
        request_extension(session, case_id=case_id, actor=actor, version=version, as_of=now,
                          reason=values["reason"], requested_due_on=requested)
    except _NOT_A_FORM_PROBLEM:
        raise
    except DomainError as error:
        errors.update(errors_of(error))
        return again(error.message, error.status)
    return RedirectResponse(f"/cases/{quote(number)}?done={Event.REQUEST_EXTENSION.value}", status_code=303)
