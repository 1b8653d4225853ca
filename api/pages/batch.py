"""One slip for many cases (批量认定 / 批量整改): all of them move, or none does."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from forms.page_forms import SLIP_CHOICES, SLIP_LABELS, errors_of, parse_slip
from models.enums import Event, SlipKind, State
from workflows.cases.actions import act_on_cases
from workflows.cases.queries import CaseFilters, list_cases
from workflows.core.actors import Actor
from workflows.core.calendar import local_date
from workflows.core.clock import now_utc
from workflows.core.errors import BatchRefused, DomainError, RoleNotAllowed
from workflows.core.roles import HANDLERS

from ..deps import SessionDep, SettingsDep, allow
from ..params import Count
from .cases import check_uploads, uploads_of
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)

KINDS = {
    "verification": (SlipKind.VERIFICATION, Event.SUBMIT_VERIFICATION,
                     [State.YELLOW_LIGHT, State.VERIFYING]),
    "rectification": (SlipKind.RECTIFICATION, Event.SUBMIT_RECTIFICATION,
                      [State.RED_LIGHT, State.RECTIFYING]),
}
MAX_BATCH = 200


def _kind(value: str | None) -> str:
    return value if value in KINDS else "verification"


def _page(request: Request, session: Session, actor: Actor, kind: str, *, form=None,
          errors=None, selected=(), refused=None, message=None, flash=None, status_code=200):
    _, _, states = KINDS[kind]
    rows = list_cases(session, actor=actor, filters=CaseFilters(mine=True, state=states),
                      as_of=now_utc(), limit=MAX_BATCH).rows
    return render(request, "batch.html", {
        "kind": kind, "rows": rows, "form": form or {}, "errors": errors or {},
        "selected": set(selected), "refused": refused or [], "message": message, "flash": flash,
        "slip_labels": SLIP_LABELS, "today": local_date(now_utc()), **SLIP_CHOICES,
    }, status_code=status_code)


@router.get("/batch", dependencies=[Depends(allow(HANDLERS))])
def batch_form(request: Request, actor: Viewer, session: SessionDep, kind: str | None = None,
               done: Count | None = None):
    kind = _kind(kind)
    flash = f"已为 {done} 条预警提交一张{KINDS[kind][0].label}" if done else None
    return _page(request, session, actor, kind, flash=flash)


def _picked(form) -> list[tuple[int, int]]:
    """The ticked boxes, each "case id:version"; anything malformed is ignored."""
    picked = []
    for value in form.getlist("case"):
        case_id, _, version = str(value).partition(":")
        if case_id.isdigit() and version.isdigit():
            picked.append((int(case_id), int(version)))
    return picked


@router.post("/batch", dependencies=[Depends(allow(HANDLERS)), CsrfForm])
def file_batch(request: Request, actor: Viewer, session: SessionDep, settings: SettingsDep,
               form: PostedForm):
    now = now_utc()
    kind = _kind(str(form.get("kind") or ""))
    slip_kind, event, _ = KINDS[kind]
    picked = _picked(form)
    parsed = parse_slip(form, slip_kind, today=local_date(now))
    errors = dict(parsed.errors)
    if not picked:
        errors["cases"] = "请至少选择一条预警"
    files = uploads_of(form, settings.upload_max_bytes)
    check_uploads(files, settings.upload_max_bytes, errors)
    selected = [f"{c}:{v}" for c, v in picked]

    def again(message, status, refused=None):
        return _page(request, session, actor, kind, form=parsed.values, errors=errors,
                     selected=selected, refused=refused, message=message, status_code=status)

    if errors:
        return again("填写不完整或有误，请按提示修改后再提交", 422)
    try:
        # All or nothing: every case, the one slip and its attachments.
        results = act_on_cases(session, actor=actor, cases=picked, event=event, as_of=now,
                               slip=parsed.value, uploads=files, files_dir=settings.files_dir,
                               max_bytes=settings.upload_max_bytes)
    except RoleNotAllowed:
        raise
    except BatchRefused as refused:
        return again(refused.message, refused.status, refused=refused.items)
    except DomainError as error:
        errors.update(errors_of(error))
        return again(error.message, error.status)
    return RedirectResponse(f"/batch?kind={kind}&done={len(results)}", status_code=303)
