"""The in-app inbox and preferences (/api/v1/inbox); for admins, department robots and
undeliverable messages (/api/v1/notifications/...)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from models.notifications import WebhookKind
from notifications import inbox, robots
from workflows.core.clock import now_utc
from workflows.core.roles import ADMINS, EVERYONE

from ..deps import CurrentActor, SessionDep, allow
from ..params import Bool, Id
from .answers import Answer

router = APIRouter(tags=["站内消息"])


class InboxItemOut(Answer):
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    case_number: str | None
    created_at: datetime
    read_at: datetime | None


class InboxOut(BaseModel):
    unread: int
    items: list[InboxItemOut]


class MarkRead(BaseModel):
    # Omitted or null: mark everything read.
    ids: list[int] | None = None


class UnreadOut(BaseModel):
    unread: int


class PreferencesIn(BaseModel):
    email_enabled: bool
    webhook_enabled: bool


class PreferencesOut(PreferencesIn, Answer):
    email: str | None
    department_robot: str | None


class DeadLetterOut(Answer):
    id: int
    channel: str
    kind: str
    subject: str
    username: str | None
    attempts: int
    last_error: str | None
    created_at: datetime


@router.get("/inbox", response_model=InboxOut, summary="站内消息",
            dependencies=[Depends(allow(EVERYONE))])
def read_inbox(actor: CurrentActor, session: SessionDep, unread_only: bool = False,
               limit: Annotated[int, Query(ge=1, le=200)] = 50, before_id: Id | None = None):
    items = inbox.list_inbox(session, user_id=actor.user_id, unread_only=unread_only,
                             limit=limit, before_id=before_id)
    return InboxOut(unread=inbox.unread_count(session, user_id=actor.user_id),
                    items=[InboxItemOut.model_validate(i) for i in items])


@router.post("/inbox/read", response_model=UnreadOut, summary="标为已读",
             dependencies=[Depends(allow(EVERYONE))])
def mark_read(body: MarkRead, actor: CurrentActor, session: SessionDep):
    inbox.mark_read(session, user_id=actor.user_id, ids=body.ids, as_of=now_utc())
    return UnreadOut(unread=inbox.unread_count(session, user_id=actor.user_id))


@router.get("/inbox/preferences", response_model=PreferencesOut, summary="通知方式",
            dependencies=[Depends(allow(EVERYONE))])
def read_preferences(actor: CurrentActor, session: SessionDep):
    return PreferencesOut.model_validate(inbox.get_preferences(session, user_id=actor.user_id))


@router.put("/inbox/preferences", response_model=PreferencesOut, summary="设置通知方式",
            dependencies=[Depends(allow(EVERYONE))])
def change_preferences(body: PreferencesIn, actor: CurrentActor, session: SessionDep):
    prefs = inbox.set_preferences(session, user_id=actor.user_id, as_of=now_utc(),
                                  **body.model_dump())
    return PreferencesOut.model_validate(prefs)


@router.get("/notifications/dead", response_model=list[DeadLetterOut], summary="发送失败的通知",
            dependencies=[Depends(allow(ADMINS))])
def dead_notifications(actor: CurrentActor, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100):
    return [DeadLetterOut.model_validate(d) for d in robots.dead_letters(session, actor=actor, limit=limit)]


class RobotIn(BaseModel):
    org_unit_id: int
    kind: WebhookKind
    url: str
    # DingTalk 加签 secret; empty for none.
    secret: str | None = None
    enabled: Bool = True


class RobotOut(Answer):
    org_unit_id: int
    org_unit_name: str
    kind: WebhookKind
    url: str
    has_secret: bool
    enabled: bool


@router.get("/notifications/robots", response_model=list[RobotOut], summary="处室群机器人",
            dependencies=[Depends(allow(ADMINS))])
def list_robots(actor: CurrentActor, session: SessionDep):
    return [RobotOut.model_validate(r) for r in robots.list_robots(session, actor=actor)]


@router.put("/notifications/robots", response_model=RobotOut, summary="设置处室群机器人",
            dependencies=[Depends(allow(ADMINS))])
def set_robot(body: RobotIn, actor: CurrentActor, session: SessionDep):
    robot = robots.set_robot(session, actor=actor, as_of=now_utc(), **body.model_dump())
    return RobotOut.model_validate(robot)
