"""The case tracking list (预警跟踪) with its export, and the case page with its action forms."""

from datetime import date, datetime
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile

from forms.page_forms import SLIP_CHOICES, SLIP_LABELS, errors_of, parse_case_filters, parse_slip
from forms.spreadsheets import tracking_xlsx
from models import Region, User
from models.enums import Event, Level, RuleCategory, SlipKind, State
from workflows.admin.rules import list_rules
from workflows.cases.actions import act_on_case
from workflows.cases.attachments import Upload, check_upload
from workflows.cases.detail import FACT_LABELS, CaseDetail, find_case, get_case_detail
from workflows.cases.duties import open_duty_evidence
from workflows.cases.lifecycle import ladder_events_allowed
from workflows.cases.marks import sent_back, waiting_requests
from workflows.cases.queries import count_cases, iter_cases, list_cases
from workflows.cases.slip_reads import slips_of_case
from workflows.cases.summary import SUMMARY_COLUMNS
from workflows.core.actors import Actor, active_handlers
from workflows.core.calendar import local_date
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError, InvalidInput, NotFound, OutOfScope, RoleNotAllowed
from workflows.core.letterhead import letterhead_for
from workflows.core.roles import CASE_ACTORS, CASE_READERS

from ..deps import SessionDep, SettingsDep, allow
from ..routes.slips import attachment_file
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filter_options(session: Session, actor: Actor) -> dict:
    """Choices for the filter form: regions in the actor's scope, rules, levels, steps."""
    regions = session.connection().execute(
        sa.select(Region.code, Region.name, Region.level)
        .where(Region.path.startswith(actor.region_path))
        .order_by(Region.path)
    ).all()
    return {
        "regions": regions,
        "rules": list_rules(session),
        "levels": Level.choices(),
        "states": State.choices(),
        "categories": RuleCategory.choices(),
        "buckets": SUMMARY_COLUMNS,
    }


@router.get("/cases", dependencies=[Depends(allow(CASE_READERS))])
def tracking_list(request: Request, actor: Viewer, session: SessionDep):
    parsed = parse_case_filters(request.query_params)
    cursor = request.query_params.get("cursor") or None
    now = now_utc()
    page = list_cases(session, actor=actor, filters=parsed.value, as_of=now,
                      limit=PAGE_SIZE, cursor=cursor)
    total = count_cases(session, actor=actor, filters=parsed.value, as_of=now)
    # The same filters without the cursor: for "next page" and the export link.
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "cursor"])
    return render(request, "cases.html", {
        "page": page, "total": total, "form": parsed.values, "errors": parsed.errors, "query": query,
        "cursor": cursor, **filter_options(session, actor),
        "sent_back": sent_back(session, case_ids=[r.id for r in page.rows]),
    })


@router.get("/cases/export.xlsx", dependencies=[Depends(allow(CASE_READERS))])
def tracking_export(request: Request, actor: Viewer, session: SessionDep):
    now = now_utc()
    parsed = parse_case_filters(request.query_params)
    rows = iter_cases(session, actor=actor, filters=parsed.value, as_of=now)
    name = f"预警跟踪_{now:%Y%m%d}.xlsx"
    return Response(tracking_xlsx(rows, letterhead_for(session, actor, as_of=now)), media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"tracking.xlsx\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store",
    })



# ---------------------------------------------------------------- the case page

SLIP_EVENTS = {Event.SUBMIT_VERIFICATION: SlipKind.VERIFICATION,
               Event.SUBMIT_RECTIFICATION: SlipKind.RECTIFICATION}
# Refusals that are about who is asking, not about what they typed: an error page.
_NOT_A_FORM_PROBLEM = (RoleNotAllowed, OutOfScope, NotFound)


def handlers_for_reassign(session: Session, detail: CaseDetail) -> list[User]:
    """Active handlers of the case's unit other than the current one (the reassign choices)."""
    unit = detail.row.org_unit_id
    return [user for user in active_handlers(session, unit_ids=[unit])[unit]
            if user.id != detail.row.assignee_id]


def case_page(
    request: Request, session: Session, actor: Actor, number: str, *, as_of: datetime,
    form: dict | None = None, errors: dict | None = None, event: str | None = None,
    message: str | None = None, status_code: int = 200,
):
    detail = get_case_detail(session, actor=actor, number=number, as_of=as_of)
    slips = slips_of_case(session, actor=actor, case_id=detail.row.id)
    done = request.query_params.get("done")
    flash = None
    if done == "amended":
        flash = "处理单已修改，原版本已保留"
    elif done in Event._value2member_map_ and not message:
        flash = f"已办理：{Event(done).label}"
    return render(request, "case.html", {
        "detail": detail, "row": detail.row, "slips": slips, "fact_labels": FACT_LABELS,
        "allowed": {e.value for e in detail.allowed_events},
        # The ladder's requests are asked for on their own form (api/pages/escalations.py).
        "may_request_extension": Event.REQUEST_EXTENSION in ladder_events_allowed(detail.row.state, actor.role),
        "handlers": handlers_for_reassign(session, detail)
        if Event.REASSIGN in detail.allowed_events else [],
        "form": form or {}, "errors": errors or {}, "active_event": event,
        "message": message, "flash": flash, "today": local_date(as_of),
        "raised_on": local_date(detail.row.raised_at),
        "waiting_requests": waiting_requests(session, case_id=detail.row.id),
        "sent_back": sent_back(session, case_ids=[detail.row.id]),
        **SLIP_CHOICES, "slip_labels": SLIP_LABELS,
    }, status_code=status_code)


@router.get("/cases/{number}", dependencies=[Depends(allow(CASE_READERS))])
def show_case(request: Request, number: str, actor: Viewer, session: SessionDep):
    return case_page(request, session, actor, number, as_of=now_utc())


@router.get("/cases/{number}/evidence/{sha256}", dependencies=[Depends(allow(CASE_READERS))])
def duty_evidence(number: str, sha256: str, actor: Viewer, session: SessionDep, settings: SettingsDep):
    evidence, path = open_duty_evidence(session, actor=actor, number=number, sha256=sha256,
                                        files_dir=settings.files_dir)
    return attachment_file(evidence, path)


def uploads_of(form: FormData, max_bytes: int, field: str = "attachments") -> list[Upload]:
    """The files chosen in a file input (browsers send an empty part when none is chosen).
    One byte past the limit is enough to refuse a file without holding all of it."""
    files = []
    for item in form.getlist(field):
        if isinstance(item, StarletteUploadFile) and item.filename:
            item.file.seek(0)
            files.append(Upload(filename=item.filename, data=item.file.read(max_bytes + 1),
                                content_type=item.content_type or ""))
    return files


def check_uploads(files: list[Upload], max_bytes: int, errors: dict) -> None:
    for upload in files:
        try:
            check_upload(filename=upload.filename, data=upload.data, max_bytes=max_bytes)
        except InvalidInput as refused:
            errors.setdefault("attachments", refused.message)


def parse_date(text: str, errors: dict, field: str = "done_at") -> date | None:
    """A date field: empty is left to the workflow to refuse; a malformed one is refused here."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = "履职完成日期格式应为 YYYY-MM-DD"
        return None


def parse_int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


@router.post("/cases/{number}/transitions",
             dependencies=[Depends(allow(CASE_ACTORS)), CsrfForm])
def act_on_case_form(request: Request, number: str, actor: Viewer, session: SessionDep,
                     settings: SettingsDep, form: PostedForm):
    now = now_utc()
    event = Event._value2member_map_.get(str(form.get("event") or ""))
    version = parse_int(form.get("version"))
    if event is None or version is None:
        # Who is asking comes before what they sent: a case not theirs is refused as such.
        find_case(session, actor=actor, number=number)
        if event is None:
            raise InvalidInput.single("event", "unknown_event", "未知的操作，请刷新后重试")
        raise InvalidInput.single("version", "required", "页面缺少版本信息，请刷新后重试")
    values = {"comment": str(form.get("comment") or ""), "assignee_id": str(form.get("assignee_id") or "")}
    errors: dict[str, str] = {}
    slip = None
    files: list[Upload] = []
    done_at = None
    if event == Event.COMPLETE_DUTY:
        values["done_at"] = str(form.get("done_at") or "").strip()
        done_at = parse_date(values["done_at"], errors)
        files = uploads_of(form, settings.upload_max_bytes)
        check_uploads(files, settings.upload_max_bytes, errors)
    if event in SLIP_EVENTS:
        parsed = parse_slip(form, SLIP_EVENTS[event], today=local_date(now))
        values.update(parsed.values)
        errors.update(parsed.errors)
        slip = parsed.value
        files = uploads_of(form, settings.upload_max_bytes)
        check_uploads(files, settings.upload_max_bytes, errors)

    def again(message: str, status: int):
        return case_page(request, session, actor, number, as_of=now, form=values, errors=errors,
                         event=event.value, message=message, status_code=status)

    if errors:
        return again("填写不完整或有误，请按提示修改后再提交", 422)
    try:
        # All or nothing: the transition, its slip and the slip's attachments.
        act_on_case(
            session, actor=actor, number=number, event=event, version=version, as_of=now,
            slip=slip, comment=values["comment"] or None, assignee_id=parse_int(values["assignee_id"]),
            uploads=files, files_dir=settings.files_dir, max_bytes=settings.upload_max_bytes,
            done_at=done_at,
        )
    except _NOT_A_FORM_PROBLEM:
        raise
    except DomainError as error:
        errors.update(errors_of(error))
        return again(error.message, 409 if error.status == 409 else error.status)
    return RedirectResponse(f"/cases/{quote(number)}?done={event.value}", status_code=303)
