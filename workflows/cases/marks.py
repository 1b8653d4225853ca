"""Marks a list puts beside a case, read for the rows on the page only (one query each)."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from models import CaseEvent, EscalationRequest, Slip
from models.enums import Event

EVENTS = CaseEvent.__table__
# The events that send a case back to its handler: the step it is in began with one of them.
SENDING_BACK = (Event.REJECT_RECTIFICATION, Event.REJECT_REVERIFY, Event.REJECT_CLEARANCE)
SENT_BACK = "已退回"


def _moved(case_ids: list[int]):
    """The event that moved each case into its current state (later ones, e.g. escalations,
    keep the state)."""
    return (
        sa.select(EVENTS.c.case_id, sa.func.max(EVENTS.c.seq).label("seq"))
        .where(EVENTS.c.case_id.in_(case_ids), EVENTS.c.from_state != EVENTS.c.to_state)
        .group_by(EVENTS.c.case_id)
        .subquery()
    )


def sent_back(session: Session, *, case_ids: list[int]) -> set[int]:
    """The cases among `case_ids` whose current step began with a send-back (已退回)."""
    if not case_ids:
        return set()
    moved = _moved(case_ids)
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


@dataclass(frozen=True)
class ReviewNote:
    """What the handler said when sending a case to review: the note, and for a verification
    its slip's findings (核实情况), for a duty the day it was done and how many files."""

    event: Event
    note: str
    findings: str
    done_at: str | None
    evidence: int


def review_notes(session: Session, *, case_ids: list[int]) -> dict[int, ReviewNote]:
    """For each case among `case_ids`, the note of the event that brought it to its current
    step (the supervisor's queue shows it beside the case)."""
    if not case_ids:
        return {}
    moved = _moved(case_ids)
    slips = Slip.__table__
    rows = session.connection().execute(
        sa.select(EVENTS.c.case_id, EVENTS.c.event, EVENTS.c.comment, EVENTS.c.data, slips.c.findings)
        .join(moved, sa.and_(moved.c.case_id == EVENTS.c.case_id, moved.c.seq == EVENTS.c.seq))
        .outerjoin(slips, slips.c.id == EVENTS.c.slip_id)
    ).all()  # fmt: skip
    return {
        r.case_id: ReviewNote(
            event=Event(r.event), note=r.comment or "", findings=r.findings or "",
            done_at=(r.data or {}).get("done_at"), evidence=len((r.data or {}).get("evidence", [])),
        )  # fmt: skip
        for r in rows
    }
