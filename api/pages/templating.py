"""Rendering pages: one Jinja2 environment (autoescape on, Chinese formatting filters) and
`render()`, which gives every page the acting user, the navigation and the CSRF token."""

from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from forms.formatting import register_filters
from models import OrgUnit
from models.enums import Conclusion, Level, Measure, Role, VerifyMethod, ViolationType
from notifications.inbox import unread_count
from workflows.audit.trail import AUDIT_READERS
from workflows.core.actors import Actor
from workflows.core.roles import (
    ADMINS,
    CASE_ACTORS,
    CASE_READERS,
    EVERYONE,
    HANDLERS,
    IMPORTERS,
    OFFICE_READERS,
    SUPERVISORS,
)

from ..deps import CurrentActor, SessionDep
from .csrf import csrf_token, remember_nonce

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "forms" / "templates" / "pages"
STATIC_DIR = Path(__file__).resolve().parents[2] / "forms" / "static"

# Autoescape everywhere: text people typed (findings, reasons) is shown as text, never markup.
templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)
)
register_filters(templates.env)
# A level is shown as a coloured badge everywhere; the CSS class follows the level value.
templates.env.globals.update(
    Level=Level, VerifyMethod=VerifyMethod, Measure=Measure, Conclusion=Conclusion,
    ViolationType=ViolationType,
)

PRODUCT_NAME = "财政扶贫资金动态监控预警处理"

# (path, label, roles that see it). Administrators never see case pages (不得混岗).
_NAV: list[tuple[str, str, frozenset[Role]]] = [
    ("/work", "我的待办", CASE_ACTORS),
    ("/cases", "预警跟踪", CASE_READERS),
    ("/batch", "批量处理", HANDLERS),
    ("/review", "审核队列", SUPERVISORS),
    ("/escalations", "督办申请", SUPERVISORS),
    ("/summary", "规则汇总", CASE_READERS),
    # One entry for the monthly summaries: the list links to each report and to any
    # region and month (/reports/monthly).
    ("/reports", "月报", CASE_READERS),
    ("/ledger", "分类台账", OFFICE_READERS),
    ("/oversight", "督查约谈", OFFICE_READERS),
    ("/admin", "系统管理", ADMINS),
    # Administrators reach it from the admin tabs.
    ("/admin/audit", "审计日志", AUDIT_READERS - ADMINS),
    ("/imports", "数据导入", IMPORTERS),
    ("/account-applications", "账户申请", EVERYONE - {Role.INTEGRATION}),
    ("/inbox", "站内消息", EVERYONE),
]

# Pages hold personal and financial data: never cached, never framed.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def nav_for(actor: Actor | None, path: str) -> list[dict]:
    if actor is None:
        return []
    items = [(href, label) for href, label, roles in _NAV if actor.role in roles]
    # The longest matching entry is the active one (/cases/… is 预警跟踪 even if a shorter
    # entry's path were a prefix of it).
    matches = [href for href, _ in items if path == href or path.startswith(href + "/")]
    active = max(matches, key=len, default=None)
    return [{"href": href, "label": label, "active": href == active} for href, label in items]


def page_actor(request: Request, actor: CurrentActor, session: SessionDep) -> Actor:
    """The acting user, with what the page header shows about them (name, role, unit)."""
    unit = session.get(OrgUnit, actor.org_unit_id) if actor.org_unit_id else None
    request.state.header = {
        "name": actor.name,
        "role": actor.role.label,
        "unit": unit.name if unit else "",
        "unread": unread_count(session, user_id=actor.user_id),
    }
    return actor


Viewer = Annotated[Actor, Depends(page_actor)]


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    actor: Actor | None = getattr(request.state, "actor", None)
    header = getattr(request.state, "header", None)
    if header is None and actor is not None:
        header = {"name": actor.name, "role": actor.role.label, "unit": ""}
    ctx = {
        "product_name": PRODUCT_NAME,
        "actor": actor,
        "header": header,
        "nav": nav_for(actor, request.url.path),
        "csrf_token": csrf_token(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers.update(_PAGE_HEADERS)
    remember_nonce(request, response)
    return response
