"""The start page by role, and 我的待办: open cases assigned to me or unassigned in my unit."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from models.enums import Role
from workflows.cases.marks import sent_back
from workflows.cases.queries import CaseFilters, list_cases, review_queue
from workflows.core.clock import now_utc
from workflows.core.roles import CASE_ACTORS, EVERYONE
from workflows.escalation.extensions import pending_requests

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
    now = now_utc()
    page = list_cases(
        session, actor=actor, filters=CaseFilters(mine=True, open_only=True),
        as_of=now, limit=PAGE_SIZE, cursor=cursor or None,
    )
    waiting, requests = None, 0
    if actor.role == Role.SUPERVISOR:
        # A supervisor's work is what waits for their review and their decision.
        waiting = review_queue(session, actor=actor, as_of=now)
        requests = len(pending_requests(session, actor=actor))
    shown = [r.id for r in page.rows]
    return render(request, "work.html", {
        "page": page, "cursor": cursor, "waiting": waiting, "requests": requests,
        "sent_back": sent_back(session, case_ids=shown),
    })
