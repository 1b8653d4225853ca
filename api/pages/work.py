"""The start page by role, and 我的待办: open cases assigned to me or unassigned in my unit."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from models.enums import Role
from workflows.cases.queries import CaseFilters, list_cases
from workflows.core.clock import now_utc
from workflows.core.roles import CASE_ACTORS, EVERYONE

from ..deps import CurrentActor, SessionDep, allow
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/", dependencies=[Depends(allow(EVERYONE))])
def home(actor: CurrentActor):
    if actor.role == Role.ADMIN:
        target = "/admin"
    elif actor.role in CASE_ACTORS:
        target = "/work"
    else:
        target = "/cases"
    return RedirectResponse(target, status_code=303)


@router.get("/work", dependencies=[Depends(allow(CASE_ACTORS))])
def my_work(request: Request, actor: Viewer, session: SessionDep, cursor: str | None = None):
    page = list_cases(
        session, actor=actor, filters=CaseFilters(mine=True, open_only=True),
        as_of=now_utc(), limit=PAGE_SIZE, cursor=cursor or None,
    )
    return render(request, "work.html", {"page": page, "cursor": cursor})
