"""The outbox worker: claim due rows, send each outside the claiming transaction, record.

Claiming is one conditional UPDATE … RETURNING (ARCHITECTURE.md rule 2); on PostgreSQL the
candidate rows are picked `FOR UPDATE SKIP LOCKED`, so concurrent workers split the work
instead of waiting on each other, and the outer WHERE re-checks the status so no row is
claimed twice. On SQLite the database's single writer gives the same guarantee.
A row stays `sending` only while its worker lives; one claimed longer ago than
`notify_claim_timeout_minutes` is claimed again (at-least-once after a crash mid-send).
"""

import os
import socket
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.notifications import (
    Channel,
    DepartmentWebhook,
    Notification,
    NotificationStatus,
)
from models.settings import Settings, get_settings
from workflows.core.claiming import batch_ids

from .base import InboxTransport, Message, Transport, TransportError
from .email import EmailTransport
from .webhook import WebhookTransport

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def summary(self) -> str:
        """What `warnflow jobs list` shows for the run."""
        return (f"取出 {self.claimed} 条：已发送 {self.sent}，稍后重试 {self.retrying}，"
                f"发送失败 {self.dead}")


def default_transports(settings: Settings) -> dict[Channel, Transport]:
    return {Channel.INBOX: InboxTransport(), Channel.EMAIL: EmailTransport(settings),
            Channel.WEBHOOK: WebhookTransport(settings)}


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempts: int, *, cap_minutes: int) -> timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … failed try, capped."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), cap_minutes))


def dispatch(
    sessions: Engine | SessionFactory,
    *,
    as_of: datetime,
    batch: int = 100,
    worker: str | None = None,
    transports: Mapping[Channel, Transport] | None = None,
    settings: Settings | None = None,
) -> DispatchReport:
    """Send the outbox rows due at `as_of` (at most `batch`); what happened to them."""
    settings = settings or get_settings()
    factory: SessionFactory = (
        (lambda: Session(sessions)) if isinstance(sessions, Engine) else sessions)
    worker = worker or worker_name()
    transports = transports if transports is not None else default_transports(settings)
    report = DispatchReport()
    messages = claim(factory, as_of=as_of, batch=batch, worker=worker, settings=settings)
    report.claimed = len(messages)
    for message, attempts in messages:
        transport = transports.get(message.channel)
        try:
            if transport is None:
                raise TransportError(f"没有 {message.channel} 渠道的发送方式", permanent=True)
            transport.send(message)
        except TransportError as exc:
            outcome = _failed(factory, message.id, attempts, exc.message, exc.permanent,
                              as_of=as_of, worker=worker, settings=settings)
        except Exception as exc:  # a bug in a transport must not stop the other rows
            outcome = _failed(factory, message.id, attempts, repr(exc), False,
                              as_of=as_of, worker=worker, settings=settings)
        else:
            outcome = _sent(factory, message.id, as_of=as_of, worker=worker)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def drain(
    sessions: Engine | SessionFactory,
    *,
    as_of: datetime,
    batch: int = 100,
    max_batches: int = 50,
    transports: Mapping[Channel, Transport] | None = None,
    settings: Settings | None = None,
) -> DispatchReport:
    """The scheduled job: dispatch batches until nothing is due (or max_batches); totals."""
    total = DispatchReport()
    worker = worker_name()
    for _ in range(max_batches):
        report = dispatch(sessions, as_of=as_of, batch=batch, worker=worker,
                          transports=transports, settings=settings)
        for name in ("claimed", "sent", "retrying", "dead"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.claimed < batch:
            break
    return total


def claim(
    factory: SessionFactory, *, as_of: datetime, batch: int, worker: str, settings: Settings,
) -> list[tuple[Message, int]]:
    """Mark up to `batch` due rows as ours (one transaction); their messages and try numbers."""
    n = Notification
    stale = as_of - timedelta(minutes=settings.notify_claim_timeout_minutes)
    due = sa.or_(
        sa.and_(n.status == NotificationStatus.PENDING, n.next_attempt_at <= as_of),
        sa.and_(n.status == NotificationStatus.SENDING, n.claimed_at < stale),
    )
    with factory() as session:
        candidates = batch_ids(
            sa.select(n.id).where(due).order_by(n.next_attempt_at, n.id).limit(batch),
            postgres=session.get_bind().dialect.name == "postgresql",
        )
        claimed = session.execute(
            sa.update(n).where(n.id.in_(candidates), due)
            .values(status=NotificationStatus.SENDING, claimed_at=as_of, claimed_by=worker,
                    attempts=n.attempts + 1)
            .returning(n.id)
        ).scalars().all()
        if not claimed:
            session.commit()
            return []
        hook = DepartmentWebhook
        rows = session.execute(
            sa.select(n.id, n.channel, n.kind, n.subject, n.body, n.link, n.payload, n.attempts,
                      hook.kind, hook.url, hook.secret)
            .outerjoin(hook, sa.and_(hook.org_unit_id == n.org_unit_id, hook.enabled))
            .where(n.id.in_(claimed)).order_by(n.id)
        ).all()
        session.commit()
    base = settings.public_base_url.rstrip("/")
    out = []
    for (id_, channel, kind, subject, body, link, payload, attempts,
         hook_kind, hook_url, hook_secret) in rows:
        payload = payload or {}
        out.append((Message(
            id=id_, channel=channel, kind=kind, subject=subject, body=body,
            url=f"{base}{link}" if link else None, to=payload.get("to"),
            webhook_kind=hook_kind if channel == Channel.WEBHOOK else None,
            webhook_url=hook_url if channel == Channel.WEBHOOK else None,
            webhook_secret=hook_secret if channel == Channel.WEBHOOK else None,
            payload=payload,
        ), attempts))
    return out


def _ours(message_id: int, worker: str) -> sa.ColumnElement[bool]:
    # Only the claimant records the outcome; a row reclaimed after a timeout is not ours.
    n = Notification
    return sa.and_(n.id == message_id, n.claimed_by == worker,
                   n.status == NotificationStatus.SENDING)


def _sent(factory: SessionFactory, message_id: int, *, as_of: datetime, worker: str) -> str:
    with factory() as session:
        session.execute(sa.update(Notification).where(_ours(message_id, worker)).values(
            status=NotificationStatus.SENT, sent_at=as_of, last_error=None))
        session.commit()
    return "sent"


def _failed(
    factory: SessionFactory, message_id: int, attempts: int, error: str, permanent: bool, *,
    as_of: datetime, worker: str, settings: Settings,
) -> str:
    final = permanent or attempts >= settings.notify_max_attempts
    values: dict = {"last_error": error[:2000], "claimed_at": None, "claimed_by": None}
    if final:
        values["status"] = NotificationStatus.DEAD
    else:
        values["status"] = NotificationStatus.PENDING
        values["next_attempt_at"] = as_of + backoff(
            attempts, cap_minutes=settings.notify_backoff_cap_minutes)
    with factory() as session:
        session.execute(sa.update(Notification).where(_ours(message_id, worker)).values(**values))
        session.commit()
    return "dead" if final else "retrying"
