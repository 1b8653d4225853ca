"""The deadline ladder's rows: reminders sent and requests waiting for a supervisor.

Both are keyed by the step and deadline they are about, so a sweep that runs twice (or in
two processes at once) cannot remind or ask twice: the unique constraints refuse the copy.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .cases import Case
from .enums import RequestDecision, RequestKind
from .types import UTCDateTime, enum_column

# The sweep's ladder steps ask "escalation level N, deadline before X": a range scan of this
# index, so a sweep with nothing to do reads a few index pages instead of every open case.
sa.Index(
    "ix_case_escalation_level_due_on", Case.__table__.c.escalation_level, Case.__table__.c.due_on
)


class DeadlineReminder(SQLModel, table=True):
    """A reminder queued before a step's deadline: one per (case, step, deadline)."""

    __tablename__ = "deadline_reminder"
    __table_args__ = (
        sa.UniqueConstraint(
            "case_id", "step_entered_at", "due_on", name="uq_deadline_reminder_case_step_due"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="warning_case.id")
    step_entered_at: datetime = Field(sa_type=UTCDateTime)
    due_on: date
    at: datetime = Field(sa_type=UTCDateTime)


class EscalationRequest(SQLModel, table=True):
    """A request in a supervisor's queue: the sweep's level-2 escalation or a handler's
    extension request. Undecided while `decided_at` is empty.

    Escalations are unique per (case, level, step, deadline); extension requests carry no
    level (NULLs never collide), so a handler may ask again after a refusal.
    """

    __tablename__ = "escalation_request"
    __table_args__ = (
        sa.UniqueConstraint(
            "case_id",
            "level",
            "step_entered_at",
            "step_due_on",
            name="uq_escalation_request_case_level_step",
        ),  # fmt: skip
        sa.Index("ix_escalation_request_pending", "decided_at", "case_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="warning_case.id")
    kind: RequestKind = Field(sa_type=enum_column(RequestKind))
    level: int | None = None
    step_entered_at: datetime = Field(sa_type=UTCDateTime)
    step_due_on: date | None = None
    requested_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    requested_at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    # What a handler asks for (extension requests).
    requested_due_on: date | None = None
    decision: RequestDecision | None = Field(default=None, sa_type=enum_column(RequestDecision))
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, sa_type=sa.Text)
    new_due_on: date | None = None
    new_assignee_id: int | None = Field(default=None, foreign_key="app_user.id")
