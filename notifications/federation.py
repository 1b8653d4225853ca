"""The federation push worker: deliver sent monthly reports to parent deployments.

The queue worker (notifications/queue.py) claims due `federation_push` rows as it does the
notification outbox's; this module signs each report, posts it outside the claiming
transaction, and says what happened: delivered with the parent's verified receipt, retried
with backoff after a temporary failure (connection, timeout, 5xx, 429), or dead with the
parent's reason after a refusal (4xx) or the last try. Admins see dead pushes and may
send them again (workflows.federation.exchange.retry_push).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.engine import Engine

from models.federation import FederationPush
from models.settings import Settings, get_settings
from workflows.core.errors import DomainError
from workflows.federation.exchange import PushRequest, check_receipt, push_token

from . import queue
from .queue import DeliveryFailed, SessionFactory, Ticket

Poster = Callable[[str, str, float], httpx.Response]


class PushFailed(DeliveryFailed):
    """The parent did not take the report (`permanent` when trying again cannot help)."""


@dataclass
class PushReport(queue.QueueReport):
    @property
    def summary(self) -> str:
        return (
            f"取出 {self.claimed} 条报送：已送达 {self.sent}，稍后重试 {self.retrying}，"
            f"推送失败 {self.dead}"
        )


def post(url: str, token: str, timeout: float) -> httpx.Response:
    return httpx.post(url, json={"token": token}, timeout=timeout)


def pushes(poster: Poster = post) -> queue.Outbox[int]:
    """The federation_push table as the queue worker sees it, posting through `poster`.
    Its rows carry no claimant name: the claim instant marks whose they are."""

    def deliver(factory: SessionFactory, push_id: int, settings: Settings, as_of: datetime) -> dict:
        try:
            with factory() as session:
                request = push_token(session, push_id=push_id, as_of=as_of)  # reads only
        except DomainError as error:  # no signing key yet: an admin can still make one
            raise PushFailed(error.message, permanent=False) from None
        receipt, _ = _send(request, settings, poster)
        return {"receipt": receipt}

    return queue.Outbox(FederationPush, max_attempts=lambda s: s.federation_max_attempts,
                        deliver=deliver, has_claimant=False)


def drain(
    sessions: Engine | SessionFactory,
    *,
    as_of: datetime,
    batch: int = 50,
    max_batches: int = 50,
    settings: Settings | None = None,
    poster: Poster = post,
) -> PushReport:
    """The scheduled job: deliver every push due at `as_of` (up to max_batches batches)."""
    return queue.drain(sessions, pushes(poster), PushReport(), as_of=as_of,
                       settings=settings or get_settings(), batch=batch, max_batches=max_batches)


def claim(
    factory: SessionFactory, *, as_of: datetime, batch: int, settings: Settings
) -> list[tuple[int, int]]:
    """Mark up to `batch` due pushes as ours; (push id, try number) of each."""
    return queue.claim(factory, pushes(), ticket=Ticket("", as_of), batch=batch, settings=settings)


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
