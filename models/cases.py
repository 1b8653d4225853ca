"""Warning cases and their append-only event history."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .enums import STATE_LEVEL, Event, Level, Resolution, Role, State, WarningType
from .types import MONEY, UTCDateTime, enum_column, utcnow


class CaseFacts(SQLModel):
    """The monitored facts people filter on (Changchun art. 6); the rest goes in payload."""

    fund_name: str | None = Field(default=None, max_length=128)  # 资金名称
    indicator_doc_no: str | None = Field(default=None, max_length=64)  # 指标文件号
    payer_name: str | None = Field(default=None, max_length=128)  # 付款人名称
    payee_name: str | None = Field(default=None, max_length=128)  # 收款人名称
    payee_account: str | None = Field(default=None, max_length=64)  # 收款人账户
    amount: Decimal | None = Field(default=None, sa_type=MONEY)  # 金额（元）
    payment_date: date | None = None  # 支付日期
    purpose: str | None = Field(default=None, max_length=255)  # 用途


class Case(CaseFacts, table=True):
    __tablename__ = "warning_case"
    __table_args__ = (
        sa.UniqueConstraint("source", "external_id", name="uq_case_source_external_id"),
        # The deadline sweep and "overdue" filters: open states by deadline.
        sa.Index("ix_case_state_due_on", "state", "due_on"),
        sa.Index("ix_case_org_unit_state", "org_unit_id", "state"),
        sa.Index("ix_case_region_state", "region_id", "state"),
        # The lists' keyset order (sort column, id): the first page is read off the index
        # instead of sorting every case in scope (bench/RESULTS.md).
        sa.Index("ix_case_due_on_id", "due_on", "id"),
        sa.Index("ix_case_org_unit_due_on_id", "org_unit_id", "due_on", "id"),
        sa.Index("ix_case_raised_at_id", "raised_at", "id"),
        sa.Index("ix_case_entered_step_at_id", "entered_step_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)  # YJ-YYYYMM-NNNNNN
    rule_id: int = Field(foreign_key="rule.id", index=True)
    raised_level: Level = Field(sa_type=enum_column(Level))
    state: State = Field(sa_type=enum_column(State))
    region_id: int = Field(foreign_key="region.id")
    org_unit_id: int = Field(foreign_key="org_unit.id")
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    source: str = Field(max_length=32)
    external_id: str = Field(max_length=64)
    raised_at: datetime = Field(sa_type=UTCDateTime)
    # The warning type (预警类型) the platform sent with the warning; empty when it sent none
    # (the case was then routed by its rule's type).
    warning_type: WarningType | None = Field(default=None, sa_type=enum_column(WarningType))
    # A yellow bell's duty deadline (local date).
    duty_due_on: date | None = None
    # The current step's deadline, a local date in Asia/Shanghai; empty once closed.
    due_on: date | None = None
    # What due_on was counted from: `due_days` working days after `due_from` (0: the next
    # working day on or after it). A calendar change re-plans open deadlines from these
    # (workflows/cases/replan.py); None: a date someone chose, never moved.
    due_from: date | None = None
    due_days: int | None = None
    entered_step_at: datetime = Field(sa_type=UTCDateTime)
    escalation_level: int = 0
    resolution: Resolution | None = Field(default=None, sa_type=enum_column(Resolution))
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Optimistic lock: every accepted event increments it; a stale write is refused.
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def level(self) -> Level:
        """The signal colour now, derived from the state (STATE_LEVEL)."""
        return STATE_LEVEL[self.state]


class CaseEvent(SQLModel, table=True):
    """One accepted event. Append-only; `seq` is the case's version after the event."""

    __tablename__ = "case_event"
    __table_args__ = (sa.UniqueConstraint("case_id", "seq", name="uq_case_event_case_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="warning_case.id")
    seq: int
    event: Event = Field(sa_type=enum_column(Event))
    from_state: State | None = Field(default=None, sa_type=enum_column(State))
    to_state: State = Field(sa_type=enum_column(State))
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_role: Role = Field(sa_type=enum_column(Role))
    at: datetime = Field(sa_type=UTCDateTime)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    slip_id: int | None = Field(default=None, foreign_key="slip.id")
    due_on: date | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class CaseNumberCounter(SQLModel, table=True):
    """The last number handed out per prefix and month (YJ-YYYYMM-NNNNNN, HS-…, ZG-…)."""

    __tablename__ = "case_number_counter"

    # e.g. "YJ-202611" for cases raised in November 2026, "HS-202611" for verification slips.
    key: str = Field(primary_key=True, max_length=16)
    last: int = 0
