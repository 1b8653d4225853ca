"""Account applications in the browser: hand one in, review it as department head, approve it
as administrator, print it. The work is done by workflows.admin.applications."""

from contextlib import suppress

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import select

from forms.page_forms import errors_of
from models import User
from models.enums import ApplicationKind, Role
from workflows.admin import applications as account_applications
from workflows.admin import users as admin_users
from workflows.admin.applications import HEAD_ROLES, SUBMITTERS
from workflows.admin.handover import Handover
from workflows.core.actors import active_handlers
from workflows.core.clock import now_utc
from workflows.core.errors import InvalidInput, InvalidState, NotFound, OutOfScope, StaleVersion
from workflows.core.roles import ADMINS
from workflows.reporting.staffing import keeps_chains_staffed

from ..deps import SessionDep, allow
from ..params import Id
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)
READ = [Depends(allow(SUBMITTERS))]
WRITE = [Depends(allow(SUBMITTERS)), CsrfForm]
FIELDS = ("kind", "user_id", "full_name", "id_number", "position", "phone", "role", "username",
          "reason", "handover_to_id", "org_unit_id")
ROLE_CHOICES = [(r.value, r.label) for r in Role if r not in (Role.SYSTEM, Role.INTEGRATION)]
_FORM_ERRORS = (InvalidInput, InvalidState, StaleVersion)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _list_page(request, session, actor, *, form=None, errors=None, message=None, status_code=200):
    colleagues = []
    if actor.org_unit_id is not None:
        colleagues = session.exec(select(User).where(
            User.org_unit_id == actor.org_unit_id, User.is_active.is_(True)).order_by(User.username)).all()
    target = _int((form or {}).get("user_id"))
    if target and actor.role in ADMINS and target not in {u.id for u in colleagues}:
        # An administrator keying in a paper application for another department's account
        # (the account page links here with it chosen).
        with suppress(NotFound, OutOfScope):
            colleagues = [*colleagues, admin_users.get_user(session, actor=actor, user_id=target)]
    return render(request, "applications.html", {
        "rows": account_applications.list_applications(session, actor=actor),
        "form": form or {"kind": "open", "role": Role.HANDLER.value}, "errors": errors or {},
        "message": message, "kinds": ApplicationKind.choices(), "roles": ROLE_CHOICES,
        "colleagues": colleagues, "is_admin": actor.role in ADMINS,
        "done": request.query_params.get("done"),
    }, status_code=status_code)


@router.get("/account-applications", dependencies=READ)
def applications(request: Request, actor: Viewer, session: SessionDep, kind: str = "open",
                 user_id: Id | None = None):
    form = {"kind": kind if kind in ApplicationKind._value2member_map_ else "open",
            "role": Role.HANDLER.value if kind == "open" else "", "user_id": user_id or ""}
    return _list_page(request, session, actor, form=form)


@router.post("/account-applications", dependencies=WRITE)
def submit(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    values = {name: str(form.get(name) or "").strip() for name in FIELDS}
    try:
        with session.begin_nested():
            row = account_applications.submit_application(
                session, actor=actor, as_of=now_utc(), kind=values["kind"],
                org_unit_id=_int(values["org_unit_id"]) or actor.org_unit_id,
                user_id=_int(values["user_id"]), full_name=values["full_name"] or None,
                id_number=values["id_number"], position=values["position"] or None,
                phone=values["phone"] or None, role=values["role"] or None,
                username=values["username"] or None, reason=values["reason"],
                handover_to_id=_int(values["handover_to_id"]),
            )
    except _FORM_ERRORS as error:
        return _list_page(request, session, actor, form={**values, "id_number": ""},
                          errors=errors_of(error), message=error.message, status_code=error.status)
    return RedirectResponse(f"/account-applications/{row.id}?done=submitted", status_code=303)


def _detail(request, session, actor, application_id, *, errors=None, message=None, generated=None,
            status_code=200):
    row = account_applications.get_application(session, actor=actor, application_id=application_id)
    handlers = active_handlers(session, unit_ids=[row.org_unit_id])[row.org_unit_id]
    return render(request, "application.html", {
        "a": row, "errors": errors or {}, "message": message, "generated": generated,
        "may_review": account_applications.may_review(session, actor=actor, application_id=application_id),
        "may_approve": row.status == "head_approved" and actor.role in ADMINS,
        "handlers": [h for h in handlers if h.id != row.user_id],
        "done": request.query_params.get("done"),
    }, status_code=status_code)


@router.get("/account-applications/{application_id}", dependencies=READ)
def application(request: Request, application_id: Id, actor: Viewer, session: SessionDep):
    return _detail(request, session, actor, application_id)


def _decision(form) -> dict:
    return {"version": _int(form.get("version")) or 0, "approve": form.get("approve") == "1",
            "opinion": str(form.get("opinion") or "")}


@router.post("/account-applications/{application_id}/head-decision",
             dependencies=[Depends(allow(HEAD_ROLES)), CsrfForm])
def head_decide(request: Request, application_id: Id, actor: Viewer, session: SessionDep, form: PostedForm):
    try:
        with session.begin_nested():
            account_applications.head_decide(session, actor=actor, application_id=application_id,
                                             as_of=now_utc(), **_decision(form))
    except _FORM_ERRORS as error:
        return _detail(request, session, actor, application_id, errors=errors_of(error),
                       message=error.message, status_code=error.status)
    return RedirectResponse(f"/account-applications/{application_id}?done=reviewed", status_code=303)


@router.post("/account-applications/{application_id}/admin-decision",
             dependencies=[Depends(allow(ADMINS)), CsrfForm])
def admin_decide(request: Request, application_id: Id, actor: Viewer, session: SessionDep, form: PostedForm):
    choice = str(form.get("handover") or "")
    handover = Handover.from_choice(to_user_id=_int(choice), to_queue=choice == "queue")
    try:
        with session.begin_nested(), keeps_chains_staffed(session):
            decided = account_applications.admin_decide(
                session, actor=actor, application_id=application_id, as_of=now_utc(),
                id_number=str(form.get("id_number") or ""), handover=handover, **_decision(form))
    except _FORM_ERRORS as error:
        return _detail(request, session, actor, application_id, errors=errors_of(error),
                       message=error.message, status_code=error.status)
    if decided.generated_password:
        # Shown once, on this answer only.
        return _detail(request, session, actor, application_id, generated=decided.generated_password)
    return RedirectResponse(f"/account-applications/{application_id}?done=decided", status_code=303)
