"""The federation push worker: deliver sent monthly reports to parent deployments.

Claims due `federation_push` rows with one conditional UPDATE … RETURNING (SKIP LOCKED on
PostgreSQL), exactly as the notification outbox does; signs each report, posts it outside
the claiming transaction, and records: delivered with the parent's verified receipt, retried
with backoff after a temporary failure (connection, timeout, 5xx, 429), or dead with the
parent's reason after a refusal (4xx) or the last try. Admins see dead pushes and may
send them again (workflows.federation.exchange.retry_push).
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.federation import FederationPush, PushStatus
from models.settings import Settings, get_settings
from workflows.core.claiming import batch_ids
from workflows.core.errors import DomainError
from workflows.federation.exchange import PushRequest, backoff, check_receipt, push_token

SessionFactory = Callable[[], AbstractContextManager[Session]]
Poster = Callable[[str, str, float], httpx.Response]


class PushFailed(Exception):
    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass
class PushReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def summary(self) -> str:
        return (
            f"取出 {self.claimed} 条报送：已送达 {self.sent}，稍后重试 {self.retrying}，"
            f"推送失败 {self.dead}"
        )


def post(url: str, token: str, timeout: float) -> httpx.Response:
    return httpx.post(url, json={"token": token}, timeout=timeout)


def _factory(sessions: Engine | SessionFactory) -> SessionFactory:
    return (lambda: Session(sessions)) if isinstance(sessions, Engine) else sessions


def drain(
    sessions: Engine | SessionFactory,
    *,
    as_of: datetime,
    batch: int = 50,
    settings: Settings | None = None,
    poster: Poster = post,
) -> PushReport:
    """The scheduled job: deliver every push due at `as_of`; what happened to them."""
    settings = settings or get_settings()
    factory = _factory(sessions)
    report = PushReport()
    while True:
        claimed = claim(factory, as_of=as_of, batch=batch, settings=settings)
        report.claimed += len(claimed)
        for push_id, attempts in claimed:
            outcome = deliver(
                factory, push_id, attempts, as_of=as_of, settings=settings, poster=poster
            )
            setattr(report, outcome, getattr(report, outcome) + 1)
        if len(claimed) < batch:
            return report


def claim(
    factory: SessionFactory, *, as_of: datetime, batch: int, settings: Settings
) -> list[tuple[int, int]]:
    """Mark up to `batch` due pushes as ours; (push id, try number) of each."""
    p = FederationPush
    stale = as_of - timedelta(minutes=settings.notify_claim_timeout_minutes)
    due = sa.or_(
        sa.and_(p.status == PushStatus.PENDING, p.next_attempt_at <= as_of),
        sa.and_(p.status == PushStatus.SENDING, p.claimed_at < stale),
    )
    with factory() as session:
        candidates = batch_ids(
            sa.select(p.id).where(due).order_by(p.next_attempt_at, p.id).limit(batch),
            postgres=session.get_bind().dialect.name == "postgresql",
        )
        rows = session.execute(
            sa.update(p)
            .where(p.id.in_(candidates), due)
            .values(status=PushStatus.SENDING, claimed_at=as_of, attempts=p.attempts + 1)
            .returning(p.id, p.attempts)
        ).all()
        session.commit()
    return sorted((row[0], row[1]) for row in rows)


def deliver(
    factory: SessionFactory,
    push_id: int,
    attempts: int,
    *,
    as_of: datetime,
    settings: Settings,
    poster: Poster = post,
) -> str:
    """Sign, post and record one claimed push: "sent", "retrying" or "dead"."""
    try:
        with factory() as session:
            request = push_token(session, push_id=push_id, as_of=as_of)  # reads only
        receipt, claims = _send(request, settings, poster)
    except PushFailed as failure:
        return _failed(factory, push_id, attempts, failure, as_of=as_of, settings=settings)
    except DomainError as error:  # no signing key yet: an admin can still make one
        return _failed(
            factory,
            push_id,
            attempts,
            PushFailed(error.message, permanent=False),
            as_of=as_of,
            settings=settings,
        )
    with factory() as session:
        session.execute(
            sa.update(FederationPush)
            .where(_ours(push_id, as_of))
            .values(
                status=PushStatus.SENT,
                receipt=receipt,
                sent_at=as_of,
                last_error=None,
                claimed_at=None,
            )
        )
        session.commit()
    return "sent"


def _send(request: PushRequest, settings: Settings, poster: Poster) -> tuple[str, dict]:
    try:
        response = poster(request.url, request.token, settings.federation_timeout_seconds)
    except httpx.HTTPError as exc:
        raise PushFailed(f"连接上级系统失败：{exc!r}", permanent=False) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise PushFailed(f"上级系统暂时不可用（HTTP {response.status_code}）", permanent=False)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400:
        reason = body.get("message") if isinstance(body, dict) else None
        code = body.get("code") if isinstance(body, dict) else None
        raise PushFailed(
            f"上级系统拒收（HTTP {response.status_code} {code}）：{reason or response.text[:300]}",
            permanent=True,
        )
    receipt = body.get("receipt") if isinstance(body, dict) else None
    if not isinstance(receipt, str):
        raise PushFailed("上级系统的应答没有签名回执", permanent=True)
    try:
        claims = check_receipt(request, receipt)
    except DomainError as error:
        raise PushFailed(f"回执校验失败：{error.message}", permanent=True) from None
    return receipt, claims


def _ours(push_id: int, claimed_at: datetime) -> sa.ColumnElement[bool]:
    # Only the claimant records the outcome; a push reclaimed after a timeout is not ours.
    p = FederationPush
    return sa.and_(p.id == push_id, p.status == PushStatus.SENDING, p.claimed_at == claimed_at)


def _failed(
    factory: SessionFactory,
    push_id: int,
    attempts: int,
    failure: PushFailed,
    *,
    as_of: datetime,
    settings: Settings,
) -> str:
    final = failure.permanent or attempts >= settings.federation_max_attempts
    values: dict = {"last_error": failure.message[:2000], "claimed_at": None}
    if final:
        values["status"] = PushStatus.DEAD
    else:
        values["status"] = PushStatus.PENDING
        values["next_attempt_at"] = as_of + backoff(
            attempts, cap_minutes=settings.notify_backoff_cap_minutes
        )
    with factory() as session:
        session.execute(sa.update(FederationPush).where(_ours(push_id, as_of)).values(**values))
        session.commit()
    return "dead" if final else "retrying"
