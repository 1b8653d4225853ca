"""The administrator's pages: accounts, rules, calendar overrides, whitelist, routing table.

Only administrators reach them, and administrators reach no case page (不得混岗). Each form
posts with a CSRF token; a refused form comes back with the Chinese message next to the
field and what was typed kept. The work is done by workflows.admin (users, rules, calendar)
and workflows.intake (whitelist, routing); these routes only read the form, call one of them
and render.
"""

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from forms.page_forms import errors_of
from models.enums import DayKind, Level, OrgKind, Role, RuleCategory, WarningType, WhitelistKind
from workflows.admin import calendar as admin_calendar
from workflows.admin import rules as admin_rules
from workflows.admin import users as admin_users
from workflows.admin.handover import count_open_cases
from workflows.core.calendar import load_calendar, local_date
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError, InvalidInput, NotFound, OutOfScope, RoleNotAllowed
from workflows.core.roles import ADMINS
from workflows.intake import routing as intake_routing
from workflows.intake import whitelist as intake_whitelist
from workflows.reporting.staffing import chain_gaps

from ..deps import SessionDep, allow
from ..params import Id, IsoDate, Year
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)
READ = [Depends(allow(ADMINS))]
WRITE = [Depends(allow(ADMINS)), CsrfForm]

# What a redirect's ?done= says on the next page.
_DONE = {
    "changed": "已保存修改",
    "unlocked": "账户已解除锁定",
    "rule_created": "规则已添加",
    "rule_changed": "规则已保存",
    "day_set": "工作日历已调整",
    "day_removed": "已删除该日调整，恢复按国家日历计算",
    "notice_saved": "已按国务院办公厅通知保存全年节假日和调休上班日",
    "wl_added": "已加入白名单",
    "wl_withdrawn": "已撤销该白名单条目（记录保留）",
    "wl_restored": "已恢复该白名单条目",
    "route_set": "分派规则已保存，新到预警按新规则分派",
}
# Errors that are not about a field: let the error page say them (403/404).
_NOT_FORM_ERRORS = (RoleNotAllowed, OutOfScope, NotFound)
ROLE_CHOICES = [(r.value, r.label) for r in Role if r != Role.SYSTEM]


def _text(form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _page(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200):
    done = request.query_params.get("done")
    return render(request, f"admin/{name}", {"flash": _DONE.get(done or ""), **context},
                  status_code=status_code)


def _go(path: str, done: str) -> RedirectResponse:
    sep = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{sep}done={done}", status_code=303)


def _as_text(value: Any) -> str:
    """A stored value as a form field holds it: enum values, ISO dates, "1"/"0" for yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _refused(error: DomainError) -> dict[str, str]:
    """Field messages of a refused form; errors that are not about input propagate."""
    if isinstance(error, _NOT_FORM_ERRORS):
        raise error
    return errors_of(error)


# -- index ------------------------------------------------------------------------------


@router.get("/admin", dependencies=READ)
def index(request: Request, actor: Viewer, session: SessionDep):
    year = local_date(now_utc()).year
    users = admin_users.list_users(session, actor=actor)
    counts = {
        "users_active": sum(1 for u in users if u.is_active),
        "users_locked": sum(1 for u in users if u.locked_until and u.locked_until > now_utc()),
        "rules_active": len(admin_rules.list_rules(session, active=True)),
        "days": len(admin_calendar.list_calendar_overrides(session, year=year)),
        "whitelist": len(intake_whitelist.list_whitelist(session, active=True)),
        "routes_changed": sum(1 for r in intake_routing.list_routes(session) if not r.is_default),
    }
    return _page(request, "index.html", {"counts": counts, "year": year,
                                         "chain_gaps": chain_gaps(session)})


# -- accounts ---------------------------------------------------------------------------


@router.get("/admin/users", dependencies=READ)
def users(request: Request, actor: Viewer, session: SessionDep, q: str = "", role: str = "",
          active: str = ""):
    filters = {"q": q, "role": role, "active": active}
    rows = admin_users.list_users(
        session, actor=actor, q=q or None, role=role if role in Role._value2member_map_ else None,
        active={"1": True, "0": False}.get(active),
    )
    return _page(request, "users.html", {"rows": rows, "filters": filters, "roles": ROLE_CHOICES,
                                         "now": now_utc()})


def _user_page(request, session, actor, user_id, *, form=None, errors=None, message=None,
               generated=None, flash=None, status_code=200):
    row = admin_users.get_user(session, actor=actor, user_id=user_id)
    if form is None:
        form = {"email": _as_text(row.email)}
    context = {"user": row, "form": form, "errors": errors or {}, "message": message,
               "generated": generated, "is_self": row.id == actor.user_id, "now": now_utc(),
               "open_cases": count_open_cases(session, row.id)}
    if flash:
        context["flash"] = flash
    return _page(request, "user.html", context, status_code=status_code)


@router.get("/admin/users/{user_id}", dependencies=READ)
def user(request: Request, user_id: Id, actor: Viewer, session: SessionDep):
    return _user_page(request, session, actor, user_id)


# Opening, changing (name, role, unit, position, phone) and revoking an account go by
# application (/account-applications); this page keeps only the e-mail notices go to.
@router.post("/admin/users/{user_id}", dependencies=WRITE)
def change_user_email(request: Request, user_id: Id, actor: Viewer, session: SessionDep,
                      form: PostedForm):
    values = {"email": _text(form, "email")}
    try:
        with session.begin_nested():
            admin_users.change_user(session, actor=actor, user_id=user_id, changes=values,
                                    as_of=now_utc())
    except DomainError as error:
        return _user_page(request, session, actor, user_id, form=values,
                          errors=_refused(error), message=error.message, status_code=error.status)
    return _go(f"/admin/users/{user_id}", "changed")


@router.post("/admin/users/{user_id}/password", dependencies=WRITE)
def reset_password(request: Request, user_id: Id, actor: Viewer, session: SessionDep,
                   form: PostedForm):
    password = str(form.get("password") or "")
    try:
        with session.begin_nested():
            generated = admin_users.reset_password(session, actor=actor, user_id=user_id,
                                                   password=password or None, as_of=now_utc())
    except DomainError as error:
        errors = {("new_password" if k == "password" else k): v for k, v in _refused(error).items()}
        return _user_page(request, session, actor, user_id, errors=errors, message=error.message,
                          status_code=error.status)
    # Not a redirect: a generated password is shown once, on this answer only.
    return _user_page(request, session, actor, user_id, generated=generated,
                      flash="密码已重置，账户同时解除锁定")


@router.post("/admin/users/{user_id}/unlock", dependencies=WRITE)
def unlock_user(request: Request, user_id: Id, actor: Viewer, session: SessionDep):
    admin_users.unlock_user(session, actor=actor, user_id=user_id, as_of=now_utc())
    return _go(f"/admin/users/{user_id}", "unlocked")


# -- rules ------------------------------------------------------------------------------


def _rule_fields() -> list[dict]:
    """The application form's fields, in its order, with how each is entered."""
    kinds = {"text": "text", "long_text": "textarea", "int": "number", "date": "date", "bool": "bool"}
    fields = []
    for name, (label, kind, limit) in admin_rules.FIELDS.items():
        entry = {"name": name, "label": label, "required": name in admin_rules.REQUIRED}
        if isinstance(kind, type):
            members = list(kind)
            if kind is Level:
                members = list(admin_rules.BELL_OUTCOMES if name == "bell_becomes" else admin_rules.RAISED_LEVELS)
            entry.update(input="select", choices=[(m.value, m.label) for m in members])
        else:
            entry["input"] = kinds[kind]
            if kind == "int":
                entry["min"], entry["max"] = limit
            elif kind in ("text", "long_text"):
                entry["maxlength"] = limit
        fields.append(entry)
    return fields


def _rule_form(rule) -> dict[str, str]:
    return {name: _as_text(getattr(rule, name)) for name in admin_rules.FIELDS}


def _rule_values(form) -> dict[str, str]:
    return {name: _text(form, name) for name in admin_rules.FIELDS if name in form}


def _rule_page(request, *, rule=None, form, errors=None, message=None, status_code=200):
    return _page(request, "rule_form.html", {
        "rule": rule, "form": form, "errors": errors or {}, "message": message,
        "fields": _rule_fields(),
    }, status_code=status_code)


@router.get("/admin/rules", dependencies=READ)
def rules(request: Request, actor: Viewer, session: SessionDep, q: str = "", category: str = "",
          active: str = ""):
    rows = admin_rules.list_rules(
        session, q=q or None,
        category=category if category in RuleCategory._value2member_map_ else None,
        active={"1": True, "0": False}.get(active),
    )
    return _page(request, "rules.html", {
        "rows": rows, "filters": {"q": q, "category": category, "active": active},
        "categories": RuleCategory.choices(),
    })


@router.get("/admin/rules/new", dependencies=READ)
def new_rule(request: Request, actor: Viewer):
    today = local_date(now_utc()).isoformat()
    return _rule_page(request, form={"active_from": today, "is_active": "1"})


@router.post("/admin/rules", dependencies=WRITE)
def create_rule(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    values = _rule_values(form)
    try:
        with session.begin_nested():
            rule = admin_rules.create_rule(session, actor=actor, values=values, as_of=now_utc())
    except DomainError as error:
        return _rule_page(request, form=values, errors=_refused(error), message=error.message,
                          status_code=error.status)
    return _go(f"/admin/rules/{rule.id}", "rule_created")


@router.get("/admin/rules/{rule_id}", dependencies=READ)
def rule(request: Request, rule_id: Id, actor: Viewer, session: SessionDep):
    found = admin_rules.get_rule(session, rule_id=rule_id)
    return _rule_page(request, rule=found, form=_rule_form(found))


@router.post("/admin/rules/{rule_id}", dependencies=WRITE)
def change_rule(request: Request, rule_id: Id, actor: Viewer, session: SessionDep, form: PostedForm):
    values = _rule_values(form)
    try:
        with session.begin_nested():
            admin_rules.change_rule(session, actor=actor, rule_id=rule_id, changes=values,
                                    as_of=now_utc())
    except DomainError as error:
        found = admin_rules.get_rule(session, rule_id=rule_id)
        return _rule_page(request, rule=found, form={**_rule_form(found), **values},
                          errors=_refused(error), message=error.message, status_code=error.status)
    return _go(f"/admin/rules/{rule_id}", "rule_changed")


# -- calendar overrides -------------------------------------------------------------------


def _calendar_page(request, session, year, *, form=None, errors=None, message=None, notice=None,
                   status_code=200):
    # `notice`: the notice form's text and errors (admin_notice.py), kept when it is refused.
    moved = _int_or_none(request.query_params.get("moved"))
    return _page(request, "calendar.html", {
        "year": year, "days": admin_calendar.list_calendar_overrides(session, year=year),
        "missing": load_calendar(session).missing_holidays(year),
        "moved": moved if request.query_params.get("done") and moved is not None and moved >= 0 else None,
        "form": form or {}, "errors": errors or {}, "message": message,
        "kinds": DayKind.choices(), "years": range(year - 2, year + 3),
        "notice": notice or {"text": "", "errors": {}},
    }, status_code=status_code)


@router.get("/admin/calendar", dependencies=READ)
def calendar(request: Request, actor: Viewer, session: SessionDep, year: Year | None = None):
    this_year = local_date(now_utc()).year
    year = year if year and 2000 <= year <= 2100 else this_year
    return _calendar_page(request, session, year)


@router.post("/admin/calendar", dependencies=WRITE)
def set_day(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    values = {name: _text(form, name) for name in ("day", "kind", "name")}
    try:
        with session.begin_nested():
            change = admin_calendar.set_calendar_day(session, actor=actor, day=values["day"],
                                                  kind=values["kind"], name=values["name"],
                                                  as_of=now_utc())
    except DomainError as error:
        year = _int_or_none(_text(form, "year")) or local_date(now_utc()).year
        return _calendar_page(request, session, year, form=values, errors=_refused(error),
                              message=error.message, status_code=error.status)
    return _go(f"/admin/calendar?year={change.day.day.year}&moved={change.replanned.moved}", "day_set")


@router.post("/admin/calendar/{day}/remove", dependencies=WRITE)
def remove_day(request: Request, day: IsoDate, actor: Viewer, session: SessionDep):
    replanned = admin_calendar.unset_calendar_day(session, actor=actor, day=day, as_of=now_utc())
    return _go(f"/admin/calendar?year={day.year}&moved={replanned.moved}", "day_removed")


# -- whitelist --------------------------------------------------------------------------

WHITELIST_FIELDS = ("kind", "value", "rule_code", "reason", "approved_by_id", "valid_until")


def _whitelist_page(request, session, actor, *, filters=None, form=None, errors=None,
                    message=None, status_code=200):
    filters = filters or {}
    rows = intake_whitelist.list_whitelist(
        session, q=filters.get("q") or None,
        kind=filters.get("kind") if filters.get("kind") in WhitelistKind._value2member_map_ else None,
        active={"1": True, "0": False}.get(filters.get("active", "")),
    )
    approvers = intake_whitelist.whitelist_approvers(session, actor=actor)
    return _page(request, "whitelist.html", {
        "rows": rows, "filters": filters, "form": form or {"kind": WhitelistKind.PAYEE.value},
        "errors": errors or {}, "message": message, "kinds": WhitelistKind.choices(),
        "rules": admin_rules.list_rules(session), "approvers": approvers,
    }, status_code=status_code)


@router.get("/admin/whitelist", dependencies=READ)
def whitelist(request: Request, actor: Viewer, session: SessionDep, q: str = "", kind: str = "",
              active: str = "1"):
    return _whitelist_page(request, session, actor, filters={"q": q, "kind": kind, "active": active})


@router.post("/admin/whitelist", dependencies=WRITE)
def add_whitelist(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    values = {name: _text(form, name) for name in WHITELIST_FIELDS}
    try:
        with session.begin_nested():
            intake_whitelist.add_whitelist_entry(
                session, actor=actor, kind=values["kind"], value=values["value"],
                reason=values["reason"], rule_code=values["rule_code"] or None,
                approved_by_id=_int_or_none(values["approved_by_id"]),
                valid_until=values["valid_until"] or None, as_of=now_utc(),
            )
    except DomainError as error:
        return _whitelist_page(request, session, actor, filters={"active": "1"}, form=values,
                               errors=_refused(error), message=error.message,
                               status_code=error.status)
    return _go("/admin/whitelist", "wl_added")


def _set_entry(session, actor, entry_id: int, active: bool) -> None:
    intake_whitelist.set_whitelist_entry_active(session, actor=actor, entry_id=entry_id, active=active,
                                           as_of=now_utc())


@router.post("/admin/whitelist/{entry_id}/withdraw", dependencies=WRITE)
def withdraw_whitelist(entry_id: Id, actor: Viewer, session: SessionDep):
    _set_entry(session, actor, entry_id, False)
    return _go("/admin/whitelist", "wl_withdrawn")


@router.post("/admin/whitelist/{entry_id}/restore", dependencies=WRITE)
def restore_whitelist(entry_id: Id, actor: Viewer, session: SessionDep):
    _set_entry(session, actor, entry_id, True)
    return _go("/admin/whitelist?active=", "wl_restored")


# -- routing table ----------------------------------------------------------------------


def _routing_page(request, session, *, errors=None, message=None, status_code=200):
    return _page(request, "routing.html", {
        "rows": intake_routing.list_routes(session), "kinds": OrgKind.choices(),
        "errors": errors or {}, "message": message,
    }, status_code=status_code)


@router.get("/admin/routing", dependencies=READ)
def routing(request: Request, actor: Viewer, session: SessionDep):
    return _routing_page(request, session)


@router.post("/admin/routing", dependencies=WRITE)
def set_route(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    warning_type = _text(form, "warning_type")
    try:
        with session.begin_nested():
            intake_routing.set_route(session, actor=actor, warning_type=warning_type,
                                  org_kind=_text(form, "org_kind"), as_of=now_utc())
    except InvalidInput as error:
        return _routing_page(request, session, errors=_refused(error), message=error.message,
                             status_code=error.status)
    anchor = quote(warning_type) if warning_type in WarningType._value2member_map_ else ""
    return _go("/admin/routing", "route_set" + (f"#{anchor}" if anchor else ""))
