"""The audit trail (审计日志): one append-only row per administrative act or login attempt."""

from datetime import datetime

from sqlmodel import Session

from models import AuditEvent
from models.enums import AuditKind


def record(
    session: Session,
    kind: AuditKind,
    *,
    as_of: datetime,
    user_id: int | None = None,
    username: str = "",
    actor_id: int | None = None,
    client: str = "",
    **data,
) -> None:
    """Append an audit row (flushes, never commits)."""
    session.add(AuditEvent(kind=kind, at=as_of, user_id=user_id, username=username[:64],
                           actor_id=actor_id, client=client[:64], data=data))
    session.flush()
