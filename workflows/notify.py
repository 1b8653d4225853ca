"""Queue notifications from the domain (sweeps, decisions, digests) into the outbox.

Sending is not done here: `notifications.outbox.dispatch` claims the queued rows later, in
another process or job. This module only decides who gets what on which channel, and writes
the rows in one set-based INSERT … ON CONFLICT (dedupe_key) DO NOTHING, so a re-run sweep or
digest queues nothing new.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models import User
from models.notifications import (
    Channel,
    DepartmentWebhook,
    Notification,
    NotificationKind,
    NotificationPreference,
    NotificationStatus,
)

_CHUNK = 500


@dataclass(frozen=True)
class NotificationItem:
    """One message for one person; `queue` fans it out to that person's channels.

    `dedupe_key` names the occurrence ("overdue:<case_id>:<level>:<user_id>"); the same key
    queued again is ignored. Each channel's row gets the key plus ":<channel>".
    """

    user_id: int
    kind: NotificationKind
    subject: str
    body: str
    dedupe_key: str
    case_id: int | None = None
    link: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def queue(session: Session, *, items: Sequence[NotificationItem], as_of: datetime) -> int:
    """Queue items to the inbox (always), e-mail and the department robot (if chosen); rows added."""
    if not items:
        return 0
    targets = _targets(session, {i.user_id for i in items})
    rows: list[dict[str, Any]] = []
    for item in items:
        target = targets.get(item.user_id)
        if target is None:  # inactive or revoked: nobody to tell
            continue
        email, org_unit_id, wants_email, webhook_id = target
        base = {
            "kind": NotificationKind(item.kind), "subject": item.subject[:255], "body": item.body,
            "link": item.link, "case_id": item.case_id, "attempts": 0,
            "next_attempt_at": as_of, "created_at": as_of, "claimed_at": None,
            "claimed_by": None, "last_error": None, "read_at": None,
        }
        # The inbox row is the delivery itself: written sent, nothing for the worker to do.
        rows.append(base | {
            "user_id": item.user_id, "org_unit_id": None, "channel": Channel.INBOX,
            "payload": dict(item.payload), "dedupe_key": f"{item.dedupe_key}:inbox",
            "status": NotificationStatus.SENT, "sent_at": as_of,
        })
        if wants_email and email:
            rows.append(base | {
                "user_id": item.user_id, "org_unit_id": None, "channel": Channel.EMAIL,
                "payload": dict(item.payload) | {"to": email},
                "dedupe_key": f"{item.dedupe_key}:email",
                "status": NotificationStatus.PENDING, "sent_at": None,
            })
        if webhook_id is not None:
            rows.append(base | {
                "user_id": item.user_id, "org_unit_id": org_unit_id, "channel": Channel.WEBHOOK,
                "payload": dict(item.payload), "dedupe_key": f"{item.dedupe_key}:webhook",
                "status": NotificationStatus.PENDING, "sent_at": None,
            })
    return insert_rows(session, rows)


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """INSERT the outbox rows, skipping any whose dedupe_key exists; the count inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Notification.__table__
    added = 0
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start:start + _CHUNK]
        stmt = insert(table).values(list(chunk)).on_conflict_do_nothing(
            index_elements=["dedupe_key"]).returning(table.c.id)
        # RETURNING counts what went in on both databases (rowcount is -1 on psycopg here).
        added += len(session.execute(stmt).all())
    return added


def _targets(session: Session, user_ids: set[int]) -> dict[int, tuple]:
    """user id → (email, org_unit_id, wants e-mail, department robot id if the user wants it)."""
    pref = NotificationPreference
    hook = DepartmentWebhook
    found: dict[int, tuple] = {}
    ids = sorted(user_ids)
    for start in range(0, len(ids), _CHUNK):
        query = (
            sa.select(User.id, User.email, User.org_unit_id,
                      sa.func.coalesce(pref.email_enabled, False),
                      sa.case((pref.webhook_enabled, hook.id), else_=None))
            .outerjoin(pref, pref.user_id == User.id)
            .outerjoin(hook, sa.and_(hook.org_unit_id == User.org_unit_id, hook.enabled))
            .where(User.id.in_(ids[start:start + _CHUNK]), User.is_active,
                   User.revoked_at.is_(None))
        )
        for user_id, email, org_unit_id, wants_email, webhook_id in session.execute(query):
            found[user_id] = (email, org_unit_id, bool(wants_email), webhook_id)
    return found
