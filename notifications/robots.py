"""Department robots (admins) and the undeliverable messages, within the admin's region."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import OrgUnit, Region, User
from models.notifications import (
    Channel,
    DepartmentWebhook,
    Notification,
    NotificationKind,
    NotificationStatus,
    WebhookKind,
)
from workflows.cases.queries import like_prefix
from workflows.core.actors import Actor
from workflows.core.errors import FieldError, InvalidInput, NotFound


@dataclass(frozen=True)
class Robot:
    org_unit_id: int
    org_unit_name: str
    kind: WebhookKind
    url: str
    has_secret: bool  # the secret itself is never shown again
    enabled: bool


def _unit_in_scope(session: Session, actor: Actor, org_unit_id: int) -> OrgUnit:
    row = session.execute(sa.select(OrgUnit, Region.path).join(
        Region, Region.id == OrgUnit.region_id).where(OrgUnit.id == org_unit_id)).first()
    if row is None or not actor.sees_region(row[1]):
        raise NotFound("处室不存在或不在您的管理范围内")
    return row[0]


def list_robots(session: Session, *, actor: Actor) -> list[Robot]:
    """The robots of the departments in the admin's region."""
    hook = DepartmentWebhook
    rows = session.execute(
        sa.select(hook.org_unit_id, OrgUnit.name, hook.kind, hook.url, hook.secret, hook.enabled)
        .join(OrgUnit, OrgUnit.id == hook.org_unit_id).join(Region, Region.id == OrgUnit.region_id)
        .where(Region.path.like(like_prefix(actor.region_path), escape="\\"))
        .order_by(OrgUnit.code))
    return [Robot(u, n, k, url, bool(s), e) for u, n, k, url, s, e in rows]


def set_robot(
    session: Session, *, actor: Actor, org_unit_id: int, kind: WebhookKind, url: str,
    secret: str | None, enabled: bool, as_of: datetime,
) -> Robot:
    """Set (or replace) a department's WeCom/DingTalk robot."""
    unit = _unit_in_scope(session, actor, org_unit_id)
    url = url.strip()
    errors = []
    if not url.startswith(("https://", "http://")) or len(url) > 500:
        errors.append(FieldError("url", "invalid", "机器人地址须以 https:// 开头，且不超过 500 个字符"))
    if secret is not None and len(secret) > 128:
        errors.append(FieldError("secret", "too_long", "加签密钥不超过 128 个字符"))
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)
    hook = session.scalar(sa.select(DepartmentWebhook).where(
        DepartmentWebhook.org_unit_id == org_unit_id))
    if hook is None:
        hook = DepartmentWebhook(org_unit_id=org_unit_id, kind=kind, url=url, created_at=as_of)
    hook.kind, hook.url, hook.enabled = kind, url, enabled
    hook.secret = secret or None
    session.add(hook)
    session.flush()
    return Robot(unit.id, unit.name, hook.kind, hook.url, bool(hook.secret), hook.enabled)


@dataclass(frozen=True)
class DeadLetter:
    id: int
    channel: Channel
    kind: NotificationKind
    subject: str
    username: str | None
    attempts: int
    last_error: str | None
    created_at: datetime


def dead_letters(session: Session, *, actor: Actor, limit: int = 100) -> list[DeadLetter]:
    """Messages not delivered after the last try, newest first, for people in the admin's region."""
    n = Notification
    unit_id = sa.func.coalesce(User.org_unit_id, n.org_unit_id)
    rows = session.execute(
        sa.select(n.id, n.channel, n.kind, n.subject, User.username, n.attempts, n.last_error,
                  n.created_at)
        .outerjoin(User, User.id == n.user_id)
        .join(OrgUnit, OrgUnit.id == unit_id).join(Region, Region.id == OrgUnit.region_id)
        .where(n.status == NotificationStatus.DEAD,
               Region.path.like(like_prefix(actor.region_path), escape="\\"))
        .order_by(n.id.desc()).limit(max(1, min(limit, 500))))
    return [DeadLetter(*row) for row in rows]
