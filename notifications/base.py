"""One transport interface for every channel (after healthchecks' `hc/api/transports.py`).

A transport gets a `Message` and either returns (delivered) or raises `TransportError`,
marked permanent (retrying cannot help: bad address, robot refused the message) or not
(server down, timeout, 4xx SMTP, 5xx HTTP): the outbox worker retries those with backoff.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from models.notifications import Channel, NotificationKind, WebhookKind

from .queue import DeliveryFailed


class TransportError(DeliveryFailed):
    """Sending failed; `permanent` says whether another try could succeed."""


@dataclass(frozen=True)
class Message:
    """What a transport needs, read from the outbox row (and its department robot)."""

    id: int
    channel: Channel
    kind: NotificationKind
    subject: str
    body: str
    # Absolute URL (public base URL + the row's in-app path), or None.
    url: str | None = None
    # E-mail: the address queued with the row.
    to: str | None = None
    # Webhook: the department's robot, read at send time so a changed URL applies.
    webhook_kind: WebhookKind | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    payload: dict[str, Any] | None = None


class Transport(Protocol):
    def send(self, message: Message) -> None:
        """Deliver the message or raise TransportError."""


class InboxTransport:
    """The inbox row is the delivery: queue() writes it sent. A stray pending one is done."""

    def send(self, message: Message) -> None:
        return None
