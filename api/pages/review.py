"""The supervisor's review queue: rectifications, re-verification requests, normal conclusions
and bells cleared on a person's word waiting for a sign-off, each with its note, oldest
deadline first."""

from fastapi import APIRouter, Depends, Request

from workflows.cases.amend import REREVIEW, amended_in_review
from workflows.cases.marks import review_notes
from workflows.cases.queries import review_queue
from workflows.core.clock import now_utc
from workflows.core.roles import SUPERVISORS

from ..deps import SessionDep, allow
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)


@router.get("/review", dependencies=[Depends(allow(SUPERVISORS))])
def review(request: Request, actor: Viewer, session: SessionDep):
    rows = review_queue(session, actor=actor, as_of=now_utc())
    amended = amended_in_review(session, case_ids=[r.id for r in rows])
    notes = review_notes(session, case_ids=[r.id for r in rows])
    return render(request, "review.html", {"rows": rows, "amended": amended, "rereview": REREVIEW,
                                           "notes": notes})  # fmt: skip
