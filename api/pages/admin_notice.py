"""按国务院办公厅通知录入 (/admin/calendar/notice): paste or upload the year's notice, check
it on a month grid, then save it as calendar overrides.

The preview carries only the notice's text (a hidden field); saving reads that text again,
so what is saved is what the notice says, never what a posted form claims it said. A refused
text comes back on the calendar page with the message and what was typed kept.
"""

import calendar as month_calendar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile

from models.enums import DayKind
from workflows.admin import calendar as admin_calendar
from workflows.admin import notice as admin_notice
from workflows.core.calendar import local_date
from workflows.core.clock import now_utc
from workflows.core.errors import InvalidInput
from workflows.core.roles import ADMINS

from ..deps import SessionDep, allow
from .admin import _calendar_page, _page
from .csrf import CsrfForm, PostedForm
from .templating import Viewer

router = APIRouter(include_in_schema=False)
WRITE = [Depends(allow(ADMINS)), CsrfForm]
FILE_MAX_BYTES = 256 * 1024  # a notice is a few kilobytes


def _typed(form: FormData) -> str:
    value = form.get(admin_notice.FIELD)
    return value if isinstance(value, str) else ""


def _notice_text(form: FormData) -> str:
    """The uploaded file's text when one was chosen, else what was typed."""
    upload = form.get(admin_notice.FILE_FIELD)
    if not isinstance(upload, StarletteUploadFile) or not upload.filename:
        return _typed(form)
    data = upload.file.read(FILE_MAX_BYTES + 1)
    if len(data) > FILE_MAX_BYTES:
        raise InvalidInput.single(admin_notice.FILE_FIELD, "too_large",
                                  f"文件超过 {FILE_MAX_BYTES // 1024} KB，不像是节假日安排通知；请上传通知的文本文件")
    if not data:
        raise InvalidInput.single(admin_notice.FILE_FIELD, "empty", "上传的文件是空的")
    return admin_notice.decode_notice(data)


def _refused(request, session, error: InvalidInput, text: str):
    year = local_date(now_utc()).year
    errors = {e.field: e.message for e in error.errors} or {admin_notice.FIELD: error.message}
    return _calendar_page(request, session, year, notice={"text": text, "errors": errors},
                          message=error.message, status_code=error.status)


def month_grid(notice: admin_notice.ParsedNotice) -> list[dict]:
    """The notice's year as 12 month tables (weeks from Monday), each day with its kind:
    holiday, workday (调休上班), weekend (an ordinary Saturday or Sunday) or ""."""
    days = notice.by_day()
    months = []
    for month in range(1, 13):
        weeks = []
        for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(notice.year, month):
            row = []
            for day in week:
                if day.month != month:
                    row.append(None)
                    continue
                entry = days.get(day)
                kind = entry.kind.value if entry else ("weekend" if day.weekday() >= 5 else "")
                row.append({"day": day, "kind": kind, "name": entry.name if entry else ""})
            weeks.append(row)
        months.append({"month": month, "weeks": weeks})
    return months


def _preview(request, session, notice: admin_notice.ParsedNotice, text: str):
    replaced = admin_notice.existing_overrides(session, notice)
    noticed = notice.by_day()
    kept = [d for d in admin_calendar.list_calendar_overrides(session, year=notice.year)
            if d.day not in noticed]
    return _page(request, "calendar_notice.html", {
        "notice": notice, "text": text, "months": month_grid(notice), "replaced": replaced,
        "kept": kept, "differences": admin_notice.official_differences(notice),
        "outside": [e for e in notice.entries if e.day.year != notice.year],
        "holiday": DayKind.HOLIDAY, "workday": DayKind.WORKDAY,
    })


@router.post("/admin/calendar/notice", dependencies=WRITE)
def preview_notice(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    typed = _typed(form)
    try:
        text = _notice_text(form)
        notice = admin_notice.parse_notice(text)
    except InvalidInput as error:
        return _refused(request, session, error, typed)
    return _preview(request, session, notice, text)


@router.post("/admin/calendar/notice/edit", dependencies=WRITE)
def edit_notice(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    """Back from the preview to the form, the text kept."""
    year = local_date(now_utc()).year
    return _calendar_page(request, session, year, notice={"text": _typed(form), "errors": {}})


@router.post("/admin/calendar/notice/save", dependencies=WRITE)
def save_notice(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    text = _typed(form)
    try:
        with session.begin_nested():
            notice = admin_notice.parse_notice(text)
            result = admin_notice.apply_notice(session, actor=actor, notice=notice, as_of=now_utc())
    except InvalidInput as error:
        return _refused(request, session, error, text)
    return RedirectResponse(
        f"/admin/calendar?year={notice.year}&done=notice_saved&moved={result.cases_replanned}", status_code=303
    )
