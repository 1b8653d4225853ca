"""A slip in the browser: print it (PDF), download its attachments, amend it (history kept)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from forms.page_forms import SLIP_CHOICES, SLIP_LABELS, errors_of, parse_slip
from forms.pdf import slip_pdf
from workflows.cases.amend import amend_slip
from workflows.cases.attachments import open_attachment, store_attachments
from workflows.cases.slip_reads import check_printable, get_slip
from workflows.core.calendar import local_date
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError, InvalidInput, NotFound, OutOfScope, RoleNotAllowed
from workflows.core.roles import CASE_ACTORS, CASE_READERS

from ..deps import SessionDep, SettingsDep, allow
from ..params import Id
from ..routes.slips import attachment_file, content_disposition
from .cases import check_uploads, parse_int, uploads_of
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)


@router.get("/slips/{slip_id}/pdf", dependencies=[Depends(allow(CASE_READERS))])
def print_slip(slip_id: Id, actor: Viewer, session: SessionDep, case_id: Id | None = None,
               version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None):
    number = check_printable(session, actor=actor, slip_id=slip_id, case_id=case_id,
                             version=version).number
    return Response(slip_pdf(session, slip_id, case_id=case_id, version=version),
                    media_type="application/pdf",
                    headers={"Content-Disposition": content_disposition(f"{number}.pdf", "inline"),
                             "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "private, no-store"})


@router.get("/attachments/{attachment_id}", dependencies=[Depends(allow(CASE_READERS))])
def download(attachment_id: Id, actor: Viewer, session: SessionDep, settings: SettingsDep):
    attachment, path = open_attachment(session, actor=actor, attachment_id=attachment_id,
                                       files_dir=settings.files_dir)
    return attachment_file(attachment, path)


def _amend_page(request, slip, *, form=None, errors=None, message=None, status_code=200):
    if form is None:
        form = {name: _as_text(value) for name, value in slip.fields.items()}
    # The conclusion moved the case; only a re-verification (重新核实) changes it, so the
    # form offers the one it has.
    conclusions = [c for c in SLIP_CHOICES["conclusion_choices"] if c[0] == form.get("conclusion")]
    return render(request, "slip_amend.html", {
        "slip": slip, "form": form, "errors": errors or {}, "message": message,
        "slip_labels": SLIP_LABELS, "today": local_date(now_utc()), **SLIP_CHOICES,
        "conclusion_choices": conclusions,
        "signed": any(g.slip_version == slip.version and g.voided_at is None for g in slip.signoffs),
    }, status_code=status_code)


def _as_text(value):
    """A stored field as a form shows it (enum values, ISO dates, plain amounts)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return [str(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@router.get("/slips/{slip_id}/amend", dependencies=[Depends(allow(CASE_ACTORS))])
def amend_form(request: Request, slip_id: Id, actor: Viewer, session: SessionDep):
    return _amend_page(request, get_slip(session, actor=actor, slip_id=slip_id))


@router.post("/slips/{slip_id}/amend", dependencies=[Depends(allow(CASE_ACTORS)), CsrfForm])
def amend(request: Request, slip_id: Id, actor: Viewer, session: SessionDep,
          settings: SettingsDep, form: PostedForm):
    now = now_utc()
    slip = get_slip(session, actor=actor, slip_id=slip_id)
    parsed = parse_slip(form, slip.kind, today=local_date(now))
    values = {**parsed.values, "reason": str(form.get("reason") or "").strip()}
    errors = dict(parsed.errors)
    if not values["reason"]:
        errors["reason"] = "请填写修改原因"
    version = parse_int(form.get("version"))
    if version is None:
        raise InvalidInput.single("version", "required", "页面缺少版本信息，请刷新后重试")
    files = uploads_of(form, settings.upload_max_bytes)
    check_uploads(files, settings.upload_max_bytes, errors)
    if errors:
        return _amend_page(request, slip, form=values, errors=errors,
                           message="填写不完整或有误，请按提示修改后再提交", status_code=422)
    try:
        with session.begin_nested():
            amend_slip(session, slip_id=slip_id, version=version, changes=parsed.value,
                       reason=values["reason"], actor=actor, as_of=now)
            if files:
                store_attachments(session, files_dir=settings.files_dir, slip_id=slip_id,
                                  actor=actor, files=files, max_bytes=settings.upload_max_bytes,
                                  as_of=now)
    except (RoleNotAllowed, OutOfScope, NotFound):
        raise
    except DomainError as error:
        errors.update(errors_of(error))
        slip = get_slip(session, actor=actor, slip_id=slip_id)
        return _amend_page(request, slip, form=values, errors=errors, message=error.message,
                           status_code=error.status)
    target = f"/cases/{slip.cases[0].number}?done=amended#slips" if slip.cases else "/work"
    return RedirectResponse(target, status_code=303)
