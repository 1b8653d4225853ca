"""The in-app inbox (the outbox's channel=inbox rows) and each user's channel preferences."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, User
from models.notifications import (
    Channel,
    DepartmentWebhook,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from workflows.core.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class InboxEntry:
    id: int
    kind: NotificationKind
    title: str
    body: str
    link: str | None
    case_number: str | None
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class Preferences:
    email_enabled: bool
    webhook_enabled: bool
    # What the choices depend on, so the page can say why a choice has no effect.
    email: str | None
    department_robot: str | None  # the robot's kind ("wecom"/"dingtalk") or None


def _mine(user_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(Notification.user_id == user_id, Notification.channel == Channel.INBOX)


def unread_count(session: Session, *, user_id: int) -> int:
    """How many inbox messages the user has not read (the header's badge)."""
    return session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        _mine(user_id), Notification.read_at.is_(None))) or 0


def list_inbox(
    session: Session, *, user_id: int, unread_only: bool = False, limit: int = 50,
    before_id: int | None = None,
) -> list[InboxEntry]:
    """The user's inbox, newest first; `before_id` pages on."""
    n = Notification
    query = (sa.select(n.id, n.kind, n.subject, n.body, n.link, Case.number, n.created_at,
                       n.read_at)
             .outerjoin(Case, Case.id == n.case_id).where(_mine(user_id))
             .order_by(n.id.desc()).limit(max(1, min(limit, 200))))
    if unread_only:
        query = query.where(n.read_at.is_(None))
    if before_id is not None:
        query = query.where(n.id < before_id)
    return [InboxEntry(*row) for row in session.execute(query)]


def mark_read(session: Session, *, user_id: int, ids: list[int] | None, as_of: datetime) -> int:
    """Mark these (or, with None, all) of the user's unread messages read; how many changed."""
    query = sa.update(Notification).where(_mine(user_id), Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    return session.execute(query.values(read_at=as_of)).rowcount or 0


def get_preferences(session: Session, *, user_id: int) -> Preferences:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    pref = session.get(NotificationPreference, user_id)
    robot = session.scalar(sa.select(DepartmentWebhook.kind).where(
        DepartmentWebhook.org_unit_id == user.org_unit_id, DepartmentWebhook.enabled))
    return Preferences(email_enabled=bool(pref and pref.email_enabled),
                       webhook_enabled=bool(pref and pref.webhook_enabled),
                       email=user.email, department_robot=robot.value if robot else None)


def set_preferences(
    session: Session, *, user_id: int, email_enabled: bool, webhook_enabled: bool,
    as_of: datetime,
) -> Preferences:
    """Choose e-mail and/or the department robot besides the inbox."""
    current = get_preferences(session, user_id=user_id)
    if email_enabled and not current.email:
        raise InvalidInput.single("email_enabled", "no_email",
                                  "您的账户没有登记电子邮箱，请联系管理员登记后再开启邮件通知")
    pref = session.get(NotificationPreference, user_id) or NotificationPreference(user_id=user_id)
    pref.email_enabled = email_enabled
    pref.webhook_enabled = webhook_enabled
    pref.updated_at = as_of
    session.add(pref)
    session.flush()
    return get_preferences(session, user_id=user_id)
