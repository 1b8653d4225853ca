"""The queue worker both outboxes share: claim due rows, deliver each outside the claiming
transaction, record the outcome, retry with backoff.

Claiming is one conditional UPDATE … RETURNING (ARCHITECTURE.md rule 2); on PostgreSQL the
candidate rows are picked `FOR UPDATE SKIP LOCKED`, so concurrent workers split the work
instead of waiting on each other, and the outer WHERE re-checks the status so no row is
claimed twice. On SQLite the database's single writer gives the same guarantee.
A row stays `sending` only while its worker lives; one claimed longer ago than
`notify_claim_timeout_minutes` is claimed again (at-least-once after a crash mid-send), and
only the claimant records an outcome: a row reclaimed meanwhile is no longer its to record.

The notification outbox (notifications/outbox.py) and the federation push queue
(notifications/federation.py) say what a row is and how to deliver it; this module does the
rest the same way for both.
"""

import os
import socket
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.settings import Settings
from workflows.core.claiming import batch_ids

SessionFactory = Callable[[], AbstractContextManager[Session]]
Item = TypeVar("Item")

# Both queues' status columns take these values (NotificationStatus, PushStatus).
PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"


class DeliveryFailed(Exception):
    """Delivering one row failed; `permanent` says whether another try could succeed."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def backoff(attempts: int, *, cap_minutes: int) -> timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … failed try, capped."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), cap_minutes))


def worker_name() -> str:
    """Who claims: host, process and a random part (two workers in one process differ)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def session_factory(sessions: Engine | SessionFactory) -> SessionFactory:
    return (lambda: Session(sessions)) if isinstance(sessions, Engine) else sessions


@dataclass(frozen=True)
class Ticket:
    """One worker's claim: its name and the instant it claimed at."""

    worker: str
    at: datetime


@dataclass(frozen=True)
class Outbox(Generic[Item]):
    """One queue table as the worker sees it.

    `load` reads what delivering needs for the rows just claimed (inside the claiming
    transaction; default: the (id, try number) pairs themselves). `deliver` sends one item,
    raising DeliveryFailed (or anything else, taken as a temporary failure); what it returns
    is written to the row with its `sent` status.
    """

    table: Any  # a SQLModel table class with the queue columns below
    max_attempts: Callable[[Settings], int]
    deliver: Callable[[SessionFactory, Item, Settings, datetime], dict[str, Any]]
    load: Callable[[Session, Sequence[tuple[int, int]], Settings], list[tuple[Item, int]]] | None = None
    # Whether the table records the claimant's name (else the claim instant alone marks it).
    has_claimant: bool = True

    def due(self, as_of: datetime, settings: Settings) -> sa.ColumnElement[bool]:
        t = self.table
        stale = as_of - timedelta(minutes=settings.notify_claim_timeout_minutes)
        return sa.or_(
            sa.and_(t.status == PENDING, t.next_attempt_at <= as_of),
            sa.and_(t.status == SENDING, t.claimed_at < stale),
        )

    def ours(self, row_id: int, ticket: Ticket) -> sa.ColumnElement[bool]:
        t = self.table
        mine = t.claimed_by == ticket.worker if self.has_claimant else t.claimed_at == ticket.at
        return sa.and_(t.id == row_id, t.status == SENDING, mine)

    def released(self) -> dict[str, Any]:
        return {"claimed_at": None, **({"claimed_by": None} if self.has_claimant else {})}


@dataclass
class QueueReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def claim(
    factory: SessionFactory, outbox: Outbox[Item], *, ticket: Ticket, batch: int, settings: Settings
) -> list[tuple[Item, int]]:
    """Mark up to `batch` due rows as ours (one transaction); each item with its try number."""
    t = outbox.table
    due = outbox.due(ticket.at, settings)
    values: dict[str, Any] = {"status": SENDING, "claimed_at": ticket.at, "attempts": t.attempts + 1}
    if outbox.has_claimant:
        values["claimed_by"] = ticket.worker
    with factory() as session:
        candidates = batch_ids(
            sa.select(t.id).where(due).order_by(t.next_attempt_at, t.id).limit(batch),
            postgres=session.get_bind().dialect.name == "postgresql",
        )
        rows = sorted(
            (row.id, row.attempts)
            for row in session.execute(
                sa.update(t).where(t.id.in_(candidates), due).values(**values).returning(t.id, t.attempts)
            )
        )
        loaded = outbox.load(session, rows, settings) if outbox.load and rows else rows
        session.commit()
    return loaded


def deliver_one(
    factory: SessionFactory, outbox: Outbox[Item], item: Item, attempts: int, *,
    ticket: Ticket, settings: Settings,
) -> str:
    """Deliver one claimed row and record what happened: "sent", "retrying" or "dead"."""
    row_id = _row_id(item)
    try:
        values = {"status": SENT, "sent_at": ticket.at, "last_error": None,
                  **outbox.deliver(factory, item, settings, ticket.at)}
        if not outbox.has_claimant:
            values["claimed_at"] = None
        outcome = "sent"
    except DeliveryFailed as failure:
        values, outcome = _failure(outbox, attempts, failure.message, failure.permanent, ticket, settings)
    except Exception as exc:  # a bug in one delivery must not stop the other rows
        values, outcome = _failure(outbox, attempts, repr(exc), False, ticket, settings)
    with factory() as session:
        session.execute(sa.update(outbox.table).where(outbox.ours(row_id, ticket)).values(**values))
        session.commit()
    return outcome


def _failure(
    outbox: Outbox, attempts: int, error: str, permanent: bool, ticket: Ticket, settings: Settings
) -> tuple[dict[str, Any], str]:
    final = permanent or attempts >= outbox.max_attempts(settings)
    values: dict[str, Any] = {"last_error": error[:2000], **outbox.released()}
    if final:
        values["status"] = DEAD
    else:
        values["status"] = PENDING
        values["next_attempt_at"] = ticket.at + backoff(
            attempts, cap_minutes=settings.notify_backoff_cap_minutes)
    return values, "dead" if final else "retrying"


def run_batch(
    factory: SessionFactory, outbox: Outbox[Item], *, ticket: Ticket, batch: int, settings: Settings,
    report: QueueReport,
) -> int:
    """Claim one batch and deliver it; how many rows were claimed."""
    claimed = claim(factory, outbox, ticket=ticket, batch=batch, settings=settings)
    report.claimed += len(claimed)
    for item, attempts in claimed:
        report.count(deliver_one(factory, outbox, item, attempts, ticket=ticket, settings=settings))
    return len(claimed)


def drain(
    sessions: Engine | SessionFactory, outbox: Outbox[Item], report: QueueReport, *,
    as_of: datetime, settings: Settings, batch: int, max_batches: int, worker: str | None = None,
) -> QueueReport:
    """Batches until nothing is due (or `max_batches`), adding to `report`."""
    factory = session_factory(sessions)
    ticket = Ticket(worker or worker_name(), as_of)
    for _ in range(max_batches):
        if run_batch(factory, outbox, ticket=ticket, batch=batch, settings=settings, report=report) < batch:
            break
    return report


def _row_id(item: Any) -> int:
    # An item is the row's id itself (default `load`) or an object carrying it as `.id`.
    return item if isinstance(item, int) else item.id

