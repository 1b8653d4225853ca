"""督查约谈: the list of special inspections and interviews with the streak warnings, one case's
page (record, timeline, the form of each step the reader may take) and the page explaining
the three-month rule with the current settings."""

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from forms.oversight_pdf import available_documents, notice_pdf
from models.enums import Level
from models.oversight import OversightKind, OversightState
from models.settings import get_settings
from workflows.core.actors import Actor
from workflows.core.calendar import add_months, local_date
from workflows.core.clock import now_utc
from workflows.core.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    NotFound,
    OutOfScope,
    RoleNotAllowed,
)
from workflows.core.roles import CASE_READERS, OFFICE_READERS, OVERSIGHT_ACTORS
from workflows.oversight.attachments import add_oversight_attachments, list_oversight_attachments
from workflows.oversight.cases import (
    LIFECYCLES,
    actions_for,
    find_oversight,
    list_oversight,
    timeline,
    transition_oversight,
)
from workflows.oversight.evidence import streak_warnings
from workflows.oversight.forms import COMMITMENT_FIELDS, LABELS
from workflows.oversight.slow_regions import (
    ISSUERS,
    get_notice,
    issue_notice,
    list_notices,
    may_issue,
    slow_regions,
)
from workflows.oversight.spot_checks import (
    CHECKERS,
    draw_sample,
    get_draw,
    list_draws,
    record_check,
)
from workflows.oversight.streaks import latest_evaluated_month, streak_board

from ..deps import SessionDep, SettingsDep, allow
from ..params import Id
from .cases import parse_int, uploads_of
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)

# Empty commitment rows the form offers beyond those already recorded.
SPARE_COMMITMENTS = 3
_NOT_A_FORM_PROBLEM = (RoleNotAllowed, OutOfScope, NotFound)


@router.get("/oversight", dependencies=[Depends(allow(OFFICE_READERS))])
def oversight_list(request: Request, actor: Viewer, session: SessionDep, kind: str = "",
                   open_only: str = ""):  # fmt: skip
    chosen = kind if kind in {k.value for k in OversightKind} else ""
    rows = list_oversight(session, actor=actor, kind=OversightKind(chosen) if chosen else None,
                          open_only=bool(open_only))  # fmt: skip
    return render(request, "oversight.html", {
        "rows": rows, "streaks": streak_board(session, actor=actor),
        "month": latest_evaluated_month(session), "kind": chosen, "open_only": bool(open_only),
        "kinds": OversightKind.choices(), "rule_months": get_settings().streak_months,
        "today": local_date(now_utc()),
    })  # fmt: skip


@router.get("/oversight/rule", dependencies=[Depends(allow(CASE_READERS))])
def rule_page(request: Request, actor: Viewer):
    settings = get_settings()
    return render(request, "oversight_rule.html", {
        "s": settings, "levels": [Level(v).label for v in settings.streak_levels],
        "inspection_steps": _steps(OversightKind.INSPECTION),
        "interview_steps": _steps(OversightKind.INTERVIEW),
    })  # fmt: skip


def _steps(kind: OversightKind) -> list[dict]:
    return [
        {"from": state.label, "label": step.label, "to": step.to.label,
         "roles": "、".join(r.label for r in sorted(step.roles)),
         "requires": "、".join(LABELS[f] for f in step.requires)}
        for (state, _), step in LIFECYCLES[kind].items()
    ]  # fmt: skip


def oversight_page(request: Request, session: Session, actor: Actor, oversight_id: int, *,
                   form: dict | None = None, errors: dict | None = None, event: str | None = None,
                   message: str | None = None, status_code: int = 200):  # fmt: skip
    row = find_oversight(session, actor=actor, oversight_id=oversight_id)
    allowed = actions_for(session, actor=actor, row=row) if actor.role in OVERSIGHT_ACTORS else []
    steps = {
        e: LIFECYCLES[OversightKind(row.kind)][(OversightState(row.state), e)] for e in allowed
    }
    record = row.record or {}
    shown = {**record, **(form or {})} if form else record
    # The rows people filled in (blank rows of a refused form are offered again as spares).
    commitments = [c for c in shown.get("commitments") or [] if c.get("content") or c.get("due_on")]
    inspection = None
    if row.inspection_id:
        inspection = find_oversight(session, actor=actor, oversight_id=row.inspection_id)
    flash = {"1": "已办理"}.get(request.query_params.get("done", ""))
    # Dates as dates for display (the record keeps them as ISO text).
    dated = {
        "interview_date": _as_date(record.get("interview_date")),
        "commitments": [
            {**c, "due_on": _as_date(c.get("due_on"))} for c in record.get("commitments") or []
        ],
    }
    return render(request, "oversight_case.html", {
        "row": row, "kind": OversightKind(row.kind), "state": OversightState(row.state),
        "record": record, "form": shown, "commitments": commitments,
        "spare": range(len(commitments), len(commitments) + SPARE_COMMITMENTS),
        "timeline": timeline(session, oversight_id=row.id), "steps": steps,
        "labels": LABELS, "commitment_labels": COMMITMENT_FIELDS, "errors": errors or {},
        "active_event": event, "message": message, "flash": flash, "inspection": inspection,
        "shown": dated,
        "streak_warnings": streak_warnings(
            session, region_id=row.region_id, first=row.streak_start, last=row.streak_end,
        ) if row.kind == OversightKind.INSPECTION else None,
        "documents": available_documents(row),
        "attachments": list_oversight_attachments(session, oversight_id=row.id),
        "may_attach": bool(allowed) and row.state != OversightState.CLOSED,
    }, status_code=status_code)  # fmt: skip


def _as_date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/oversight/slow", dependencies=[Depends(allow(OFFICE_READERS))])
def slow_page(request: Request, actor: Viewer, session: SessionDep, month: str = ""):
    """The month's slow regions (default: last month), with the 通报 button for the province."""
    try:
        chosen = date.fromisoformat(f"{month}-01") if month else None
    except ValueError:
        chosen = None
    chosen = chosen or add_months(local_date(now_utc()).replace(day=1), -1)
    return _slow_page(request, session, actor, chosen)


def _slow_page(request, session, actor, month, *, message=None, status_code=200):
    return render(request, "oversight_slow.html", {
        "month": month, "rows": slow_regions(session, actor=actor, month=month),
        "threshold": get_settings().slow_on_time_rate, "may_issue": may_issue(actor),
        "notices": list_notices(session, actor=actor), "message": message,
    }, status_code=status_code)  # fmt: skip


@router.post("/oversight/notices", dependencies=[Depends(allow(ISSUERS)), CsrfForm])
def issue_page(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    try:
        month = date.fromisoformat(f"{form.get('month')}-01")
    except (TypeError, ValueError):
        month = None
    if month is None:
        return _slow_page(request, session, actor, add_months(local_date(now_utc()).replace(day=1), -1),
                          message="请选择通报的月份", status_code=422)
    try:
        with session.begin_nested():
            notice = issue_notice(session, actor=actor, month=month, as_of=now_utc())
    except (InvalidInput, AlreadyExists) as error:
        return _slow_page(request, session, actor, month, message=error.message, status_code=error.status)
    return RedirectResponse(f"/oversight/notices/{notice.id}", status_code=303)


@router.get("/oversight/notices/{notice_id}", dependencies=[Depends(allow(OFFICE_READERS))])
def notice_page(notice_id: Id, actor: Viewer, session: SessionDep):
    notice = get_notice(session, actor=actor, notice_id=notice_id)
    return Response(notice_pdf(session, notice), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{notice.number}.pdf"'})


@router.get("/oversight/spot-checks", dependencies=[Depends(allow(OFFICE_READERS))])
def spot_checks_page(request: Request, actor: Viewer, session: SessionDep):
    return _spot_page(request, session, actor)


def _spot_page(request, session, actor, *, form=None, errors=None, message=None, status_code=200):
    return render(request, "oversight_spot_checks.html", {
        "draws": list_draws(session, actor=actor), "may_draw": actor.role in CHECKERS,
        "form": form or {}, "errors": errors or {}, "message": message,
    }, status_code=status_code)  # fmt: skip


@router.post("/oversight/spot-checks", dependencies=[Depends(allow(CHECKERS)), CsrfForm])
def draw_page(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    values = {k: str(form.get(k) or "").strip() for k in ("sample_size", "closed_from", "closed_until", "seed")}
    try:
        closed_from = date.fromisoformat(values["closed_from"])
        closed_until = date.fromisoformat(values["closed_until"])
    except ValueError:
        return _spot_page(request, session, actor, form=values, message="请填写整改办结日期的起止",
                          errors={"closed_from": "请填写日期"}, status_code=422)
    try:
        with session.begin_nested():
            drawn = draw_sample(session, actor=actor, sample_size=parse_int(values["sample_size"]) or 0,
                                closed_from=closed_from, closed_until=closed_until,
                                seed=values["seed"] or None, as_of=now_utc())
    except InvalidInput as error:
        return _spot_page(request, session, actor, form=values, errors=form_errors(error),
                          message=error.message, status_code=error.status)
    return RedirectResponse(f"/oversight/spot-checks/{drawn.id}", status_code=303)


@router.get("/oversight/spot-checks/{draw_id}", dependencies=[Depends(allow(OFFICE_READERS))])
def draw_detail(request: Request, draw_id: Id, actor: Viewer, session: SessionDep):
    return _draw_page(request, session, actor, draw_id)


def _draw_page(request, session, actor, draw_id, *, message=None, status_code=200):
    return render(request, "oversight_spot_check.html", {
        "d": get_draw(session, actor=actor, draw_id=draw_id), "may_check": actor.role in CHECKERS,
        "message": message,
    }, status_code=status_code)  # fmt: skip


@router.post("/oversight/spot-checks/{draw_id}/checks/{check_id}", dependencies=[Depends(allow(CHECKERS)), CsrfForm])
def check_page(request: Request, draw_id: Id, check_id: Id, actor: Viewer, session: SessionDep,
               form: PostedForm):  # fmt: skip
    try:
        with session.begin_nested():
            record_check(session, actor=actor, check_id=check_id, version=parse_int(form.get("version")) or 0,
                         passed=form.get("passed") == "1", findings=str(form.get("findings") or ""),
                         as_of=now_utc())  # fmt: skip
    except _NOT_A_FORM_PROBLEM:
        raise
    except DomainError as error:
        return _draw_page(request, session, actor, draw_id, message=error.message, status_code=error.status)
    return RedirectResponse(f"/oversight/spot-checks/{draw_id}", status_code=303)


@router.get("/oversight/{oversight_id}", dependencies=[Depends(allow(OFFICE_READERS))])
def show_oversight(request: Request, oversight_id: Id, actor: Viewer, session: SessionDep):
    return oversight_page(request, session, actor, oversight_id)


def parse_record(form, fields: tuple[str, ...]) -> dict:
    """The step's record fields as typed in the form (commitments from their numbered rows)."""
    record: dict = {}
    for name in fields:
        if name != "commitments":
            record[name] = str(form.get(name) or "").strip()
            continue
        rows = []
        indexes = sorted({int(k.rsplit("_", 1)[1]) for k in form
                          if k.startswith("commitment_content_") and k.rsplit("_", 1)[1].isdigit()})  # fmt: skip
        for n in indexes:
            rows.append({
                "content": str(form.get(f"commitment_content_{n}") or "").strip(),
                "due_on": str(form.get(f"commitment_due_on_{n}") or "").strip(),
                "done": bool(form.get(f"commitment_done_{n}")),
            })  # fmt: skip
        record["commitments"] = rows
    return record


def form_errors(error: DomainError) -> dict[str, str]:
    """Field messages keyed by form field: "record.commitments.0.done" → "commitments"."""
    found: dict[str, str] = {}
    for e in error.errors:
        parts = e.field.split(".")
        name = parts[1] if parts[0] == "record" and len(parts) > 1 else parts[0]
        found.setdefault(name, e.message)
    return found


@router.post("/oversight/{oversight_id}/transitions",
             dependencies=[Depends(allow(OVERSIGHT_ACTORS)), CsrfForm])  # fmt: skip
def act_on_oversight(request: Request, oversight_id: Id, actor: Viewer, session: SessionDep,
                     form: PostedForm):  # fmt: skip
    row = find_oversight(session, actor=actor, oversight_id=oversight_id)
    event = str(form.get("event") or "")
    step = LIFECYCLES[OversightKind(row.kind)].get((OversightState(row.state), event))
    values = parse_record(form, step.fields) if step else {}
    comment = str(form.get("comment") or "").strip()

    def again(message: str, status: int, errors: dict):
        return oversight_page(request, session, actor, oversight_id, form=values, errors=errors,
                              event=event, message=message, status_code=status)  # fmt: skip

    version = parse_int(form.get("version"))
    if version is None:
        return again("页面缺少版本信息，请刷新后重试", 422, {"version": "页面缺少版本信息"})
    if step is None:
        return again("当前状态不能进行该操作，请刷新后重试", 409, {})
    try:
        with session.begin_nested():
            transition_oversight(
                session, oversight_id=row.id, event=event, actor=actor, expected_version=version,
                record=values, comment=comment or None, as_of=now_utc(),
            )  # fmt: skip
    except _NOT_A_FORM_PROBLEM:
        raise
    except InvalidInput as error:
        return again(error.message, error.status, form_errors(error))
    except DomainError as error:
        return again(error.message, error.status, {})
    return RedirectResponse(f"/oversight/{quote(str(row.id))}?done=1", status_code=303)


@router.post("/oversight/{oversight_id}/attachments",
             dependencies=[Depends(allow(OVERSIGHT_ACTORS)), CsrfForm])  # fmt: skip
def attach_to_oversight(request: Request, oversight_id: Id, actor: Viewer, session: SessionDep,
                        settings: SettingsDep, form: PostedForm):  # fmt: skip
    files = uploads_of(form, settings.upload_max_bytes)
    try:
        with session.begin_nested():
            add_oversight_attachments(session, actor=actor, oversight_id=oversight_id, files=files,
                                      files_dir=settings.files_dir, max_bytes=settings.upload_max_bytes,
                                      as_of=now_utc())  # fmt: skip
    except _NOT_A_FORM_PROBLEM:
        raise
    except DomainError as error:
        return oversight_page(request, session, actor, oversight_id, errors={"attachments": error.message},
                              message=error.message, status_code=error.status)  # fmt: skip
    return RedirectResponse(f"/oversight/{quote(str(oversight_id))}?done=1#attachments", status_code=303)
