"""The notification outbox: what a row is and how it is sent; the queue worker
(notifications/queue.py) claims, retries and records, as it does for the federation pushes.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.notifications import Channel, DepartmentWebhook, Notification
from models.settings import Settings, get_settings

from . import queue
from .base import InboxTransport, Message, Transport, TransportError
from .email import AttachmentLoader, EmailTransport
from .queue import SessionFactory, Ticket
from .webhook import WebhookTransport


@dataclass
class DispatchReport(queue.QueueReport):
    @property
    def summary(self) -> str:
        """What `warnflow jobs list` shows for the run."""
        return (f"取出 {self.claimed} 条：已发送 {self.sent}，稍后重试 {self.retrying}，"
                f"发送失败 {self.dead}")


def default_transports(
    settings: Settings, attachments: AttachmentLoader | None = None
) -> dict[Channel, Transport]:
    return {Channel.INBOX: InboxTransport(),
            Channel.EMAIL: EmailTransport(settings, attachments=attachments),
            Channel.WEBHOOK: WebhookTransport(settings)}


def outbox(transports: Mapping[Channel, Transport]) -> queue.Outbox[Message]:
    """The notification table as the queue worker sees it, sending through `transports`."""

    def deliver(factory: SessionFactory, message: Message, settings: Settings, as_of: datetime) -> dict:
        transport = transports.get(message.channel)
        if transport is None:
            raise TransportError(f"没有 {message.channel} 渠道的发送方式", permanent=True)
        transport.send(message)
        return {}

    return queue.Outbox(Notification, max_attempts=lambda s: s.notify_max_attempts,
                        deliver=deliver, load=_messages)


def dispatch(
    sessions: Engine | SessionFactory,
    *,
    as_of: datetime,
    batch: int = 100,
    worker: str | None = None,
    transports: Mapping[Channel, Transport] | None = None,
    settings: Settings | None = None,
    attachments: AttachmentLoader | None = None,
) -> DispatchReport:
    """Send the outbox rows due at `as_of` (at most `batch`, one claim); what happened to them."""
    return drain(sessions, as_of=as_of, batch=batch, max_batches=1, worker=worker,
                 transports=transports, settings=settings, attachments=attachments)


def drain(
    sessions: Engine | SessionFactory,
    *,
    as_of: datetime,
    batch: int = 100,
    max_batches: int = 50,
    worker: str | None = None,
    transports: Mapping[Channel, Transport] | None = None,
    settings: Settings | None = None,
    attachments: AttachmentLoader | None = None,
) -> DispatchReport:
    """The scheduled job: dispatch batches until nothing is due (or max_batches); totals.

    `attachments` renders the files a mail names (runtime/mail.py hands in the report renderers).
    """
    settings = settings or get_settings()
    if transports is None:
        transports = default_transports(settings, attachments)
    return queue.drain(sessions, outbox(transports), DispatchReport(), as_of=as_of,
                       settings=settings, batch=batch, max_batches=max_batches, worker=worker)


def claim(
    factory: SessionFactory, *, as_of: datetime, batch: int, worker: str, settings: Settings,
) -> list[tuple[Message, int]]:
    """Mark up to `batch` due rows as ours (one transaction); their messages and try numbers."""
    return queue.claim(factory, outbox({}), ticket=Ticket(worker, as_of), batch=batch,
                       settings=settings)


def _messages(
    session: Session, claimed: Sequence[tuple[int, int]], settings: Settings
) -> list[tuple[Message, int]]:
    """The claimed rows as messages (with each department's robot), in the claiming transaction."""
    n, hook = Notification, DepartmentWebhook
    rows = session.execute(
        sa.select(n.id, n.channel, n.kind, n.subject, n.body, n.link, n.payload, n.attempts,
                  hook.kind, hook.url, hook.secret)
        .outerjoin(hook, sa.and_(hook.org_unit_id == n.org_unit_id, hook.enabled))
        .where(n.id.in_([row_id for row_id, _ in claimed])).order_by(n.id)
    ).all()
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
