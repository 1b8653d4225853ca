"""The deadline ladder's rows: reminders sent and requests waiting for a supervisor.

Both are keyed by the step and deadline they are about, so a sweep that runs twice (or in
two processes at once) cannot remind or ask twice: the unique constraints refuse the copy.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import RequestDecision, RequestKind
from .types import UTCDateTime, enum_column

# No index covers `warning_case.escalation_level` on purpose: the sweep's writes change only
# it, `version` and `updated_at`, so on PostgreSQL they are HOT updates (no index entry
# rewritten; the table keeps 15 % of each page free, fillfactor 85, migration 7e2a9c4d1b6f).
# The ladder reads through ix_case_state_due_on and checks the level on the row
# (bench/RESULTS.md §5).


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
