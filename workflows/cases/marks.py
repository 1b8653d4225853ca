"""Marks a list puts beside a case, read for the rows on the page only (one query each)."""

import sqlalchemy as sa
from sqlmodel import Session

from models import CaseEvent, EscalationRequest
from models.enums import Event

EVENTS = CaseEvent.__table__
# The events that send a case back to its handler: the step it is in began with one of them.
SENDING_BACK = (Event.REJECT_RECTIFICATION, Event.REJECT_REVERIFY)
SENT_BACK = "已退回"


def sent_back(session: Session, *, case_ids: list[int]) -> set[int]:
    """The cases among `case_ids` whose current step began with a send-back (已退回)."""
    if not case_ids:
        return set()
    # The event that moved each case into its current state (later ones, e.g. escalations,
    # keep the state).
    moved = (
        sa.select(EVENTS.c.case_id, sa.func.max(EVENTS.c.seq).label("seq"))
        .where(EVENTS.c.case_id.in_(case_ids), EVENTS.c.from_state != EVENTS.c.to_state)
        .group_by(EVENTS.c.case_id)
        .subquery()
    )
    return set(session.connection().execute(
        sa.select(EVENTS.c.case_id)
        .join(moved, sa.and_(moved.c.case_id == EVENTS.c.case_id, moved.c.seq == EVENTS.c.seq))
        .where(EVENTS.c.event.in_(SENDING_BACK))
    ).scalars())  # fmt: skip


def waiting_requests(session: Session, *, case_id: int) -> list:
    """The case's requests waiting for the supervisor (an extension asked for, a level-2
    escalation), oldest first: the case page shows them."""
    requests = EscalationRequest.__table__
    return session.connection().execute(
        sa.select(requests.c.id, requests.c.kind, requests.c.level, requests.c.reason,
                  requests.c.requested_due_on, requests.c.requested_at)
        .where(requests.c.case_id == case_id, requests.c.decided_at.is_(None))
        .order_by(requests.c.requested_at, requests.c.id)
    ).all()  # fmt: skip
