"""站内消息 page: the user's messages, marking them read, and choosing e-mail / the robot."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from notifications import inbox
from workflows.core.clock import now_utc
from workflows.core.errors import InvalidInput
from workflows.core.roles import EVERYONE

from ..deps import SessionDep, allow
from .cases import parse_int
from .csrf import CsrfForm, PostedForm
from .templating import Viewer, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
_DONE = {"read": "已标为已读", "prefs": "通知方式已保存"}


def _page(request, session, actor, *, flash=None, message=None, errors=None, status_code=200):
    return render(request, "inbox.html", {
        "items": inbox.list_inbox(session, user_id=actor.user_id, limit=PAGE_SIZE),
        "unread": inbox.unread_count(session, user_id=actor.user_id),
        "prefs": inbox.get_preferences(session, user_id=actor.user_id),
        "flash": flash, "message": message, "errors": errors or {},
    }, status_code=status_code)


@router.get("/inbox", dependencies=[Depends(allow(EVERYONE))])
def inbox_page(request: Request, actor: Viewer, session: SessionDep, done: str | None = None):
    return _page(request, session, actor, flash=_DONE.get(done or ""))


@router.post("/inbox/read", dependencies=[Depends(allow(EVERYONE)), CsrfForm])
def mark_read(actor: Viewer, session: SessionDep, form: PostedForm):
    # One message (its "已读" button) or, without an id, all of them.
    message_id = parse_int(form.get("id"))
    inbox.mark_read(session, user_id=actor.user_id,
                    ids=[message_id] if message_id is not None else None, as_of=now_utc())
    return RedirectResponse("/inbox?done=read", status_code=303)


@router.post("/inbox/preferences", dependencies=[Depends(allow(EVERYONE)), CsrfForm])
def preferences(request: Request, actor: Viewer, session: SessionDep, form: PostedForm):
    try:
        with session.begin_nested():
            inbox.set_preferences(session, user_id=actor.user_id, as_of=now_utc(),
                                  email_enabled=form.get("email_enabled") == "on",
                                  webhook_enabled=form.get("webhook_enabled") == "on")
    except InvalidInput as exc:
        return _page(request, session, actor, message=exc.message,
                     errors={e.field: e.message for e in exc.errors}, status_code=422)
    return RedirectResponse("/inbox?done=prefs", status_code=303)
