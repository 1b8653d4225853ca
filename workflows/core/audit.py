"""The audit trail (审计日志): one append-only row per administrative act or login attempt."""

from datetime import datetime

from sqlmodel import Session

from models import AuditEvent
from models.enums import AuditKind
from workflows.core.actors import Actor

# The `client` of an act done at the server's command line (the operator is in `data`).
COMMAND_LINE = "cli"


def record(
    session: Session,
    kind: AuditKind,
    *,
    as_of: datetime,
    actor: Actor | None = None,
    user_id: int | None = None,
    username: str = "",
    actor_id: int | None = None,
    client: str = "",
    **data,
) -> None:
    """Append an audit row (flushes, never commits). `actor` says who acted: an account
    (actor_id), or the command line's operator (client "cli", data["operator"])."""
    if actor is not None:
        actor_id = actor.user_id
        if actor.is_operator:
            client, data = client or COMMAND_LINE, {**data, "operator": actor.name}
    session.add(AuditEvent(kind=kind, at=as_of, user_id=user_id, username=username[:64],
                           actor_id=actor_id, client=client[:64], data=data))
    session.flush()
