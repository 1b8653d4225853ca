"""The monthly summary's SQL: a few GROUP BY statements over every case of a month at once.

Each statement groups by the case's own region (and department, rule, state), never by
the region asked about: the caller rolls the region tree up in Python (a few hundred
regions), so drafting every region's summary costs what drafting one costs.

"At month end" is read from history: a case untouched since the cut-off (updated_at before
it) is as it is now; otherwise its state and deadline are those written by its last event
before the cut-off (case_event.to_state / due_on).
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from models import CaseEvent, CaseSlip, Slip
from models.enums import Conclusion, Event, Resolution, SlipKind, State

from .queries import CASES, REGIONS, RULES, UNITS, like_prefix

EVENTS = CaseEvent.__table__
SLIPS = Slip.__table__
CASE_SLIPS = CaseSlip.__table__
OPEN = tuple(s.value for s in State if s.is_open)
ESCALATIONS = (Event.ESCALATE, Event.ESCALATE_TO_BUREAU)


@dataclass(frozen=True)
class Window:
    """The month as UTC instants and local dates; `cut` is min(month end, as_of)."""

    start: datetime  # first instant of the month (Asia/Shanghai) in UTC
    cut: datetime  # the moment "month end" describes
    first_day: date
    last_day: date
    ref_day: date  # overdue means due_on < ref_day (the month's last day, or today)


@dataclass(frozen=True)
class GroupRow:
    """Cases of one (region, department, rule, state at month end)."""

    region_id: int
    org_unit_id: int
    rule_id: int
    state: State
    in_scope: int  # open at month start or raised in the month
    raised: int  # raised in the month
    resolved: int  # closed in the month
    overdue: int  # open at month end with due_on < ref_day
    rectified: int  # closed in the month as rectified


@dataclass(frozen=True)
class ClosedCase:
    """A case closed in the month, with the moments its durations are measured between."""

    region_id: int
    org_unit_id: int
    resolution: Resolution
    raised_at: datetime
    closed_at: datetime
    verified_at: datetime | None  # first verification slip submitted
    red_at: datetime | None  # first entered red light
    escalated: bool  # ever escalated by the deadline ladder


@dataclass(frozen=True)
class SlipAmount:
    region_id: int
    org_unit_id: int
    involved: Decimal
    recovered: Decimal


def _subtree(column_path, path: str | None) -> list:
    return [] if path is None else [column_path.like(like_prefix(path), escape="\\")]


def snapshot(window: Window, path: str | None) -> sa.Subquery:
    """Every case raised before the cut-off, with its state and deadline at the cut-off."""
    cut = window.cut
    changed = (
        sa.select(EVENTS.c.case_id, sa.func.max(EVENTS.c.seq).label("seq"))
        .select_from(EVENTS)
        .join(CASES, CASES.c.id == EVENTS.c.case_id)
        .join(REGIONS, REGIONS.c.id == CASES.c.region_id)
        .where(
            EVENTS.c.at < cut,
            CASES.c.updated_at >= cut,
            CASES.c.raised_at < cut,
            *_subtree(REGIONS.c.path, path),
        )
        .group_by(EVENTS.c.case_id)
        .subquery("changed")
    )
    last = (
        sa.select(EVENTS.c.case_id, EVENTS.c.to_state, EVENTS.c.due_on)
        .select_from(EVENTS)
        .join(
            changed, sa.and_(changed.c.case_id == EVENTS.c.case_id, changed.c.seq == EVENTS.c.seq)
        )
        .subquery("last_event")
    )
    untouched = CASES.c.updated_at < cut
    closed_before = sa.and_(CASES.c.closed_at.is_not(None), CASES.c.closed_at < cut)
    return (
        sa.select(
            CASES.c.id,
            CASES.c.number,
            CASES.c.region_id,
            CASES.c.org_unit_id,
            CASES.c.rule_id,
            CASES.c.raised_at,
            sa.case((untouched, CASES.c.state), else_=last.c.to_state).label("state"),
            sa.case((untouched, CASES.c.due_on), else_=last.c.due_on).label("due_on"),
            sa.case((closed_before, CASES.c.closed_at), else_=None).label("closed_at"),
            sa.case((closed_before, CASES.c.resolution), else_=None).label("resolution"),
        )
        .select_from(CASES)
        .join(REGIONS, REGIONS.c.id == CASES.c.region_id)
        .outerjoin(last, last.c.case_id == CASES.c.id)
        .where(CASES.c.raised_at < cut, *_subtree(REGIONS.c.path, path))
        .subquery("snapshot")
    )


def _sum(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def group_rows(session: Session, window: Window, path: str | None) -> list[GroupRow]:
    snap = snapshot(window, path)
    is_open = snap.c.state.in_(OPEN)
    closed_in_month = sa.and_(snap.c.closed_at.is_not(None), snap.c.closed_at >= window.start)
    query = (
        sa.select(
            snap.c.region_id,
            snap.c.org_unit_id,
            snap.c.rule_id,
            snap.c.state,
            sa.func.count().label("in_scope"),
            _sum(snap.c.raised_at >= window.start).label("raised"),
            _sum(closed_in_month).label("resolved"),
            _sum(sa.and_(is_open, snap.c.due_on < window.ref_day)).label("overdue"),
            _sum(sa.and_(closed_in_month, snap.c.resolution == Resolution.RECTIFIED.value)).label(
                "rectified"
            ),
        )
        .where(sa.or_(snap.c.closed_at.is_(None), snap.c.closed_at >= window.start))
        .group_by(snap.c.region_id, snap.c.org_unit_id, snap.c.rule_id, snap.c.state)
    )
    return [
        GroupRow(
            region_id=r.region_id,
            org_unit_id=r.org_unit_id,
            rule_id=r.rule_id,
            state=State(r.state),
            in_scope=int(r.in_scope),
            raised=int(r.raised),
            resolved=int(r.resolved),
            overdue=int(r.overdue),
            rectified=int(r.rectified),
        )
        for r in session.connection().execute(query)
    ]


def closed_cases(session: Session, window: Window, path: str | None) -> list[ClosedCase]:
    """Cases closed in the month, each with its first verification, first red, escalation."""
    first_verified = sa.func.min(
        sa.case((EVENTS.c.event == Event.SUBMIT_VERIFICATION.value, EVENTS.c.at), else_=None)
    )
    first_red = sa.func.min(
        sa.case((EVENTS.c.to_state == State.RED_LIGHT.value, EVENTS.c.at), else_=None)
    )
    escalated = sa.func.max(sa.case((EVENTS.c.event.in_(ESCALATIONS), 1), else_=0))
    query = (
        sa.select(
            CASES.c.id,
            CASES.c.region_id,
            CASES.c.org_unit_id,
            CASES.c.resolution,
            CASES.c.raised_at,
            CASES.c.closed_at,
            first_verified.label("verified_at"),
            first_red.label("red_at"),
            escalated.label("escalated"),
        )
        .select_from(CASES)
        .join(REGIONS, REGIONS.c.id == CASES.c.region_id)
        .join(EVENTS, EVENTS.c.case_id == CASES.c.id)
        .where(
            CASES.c.closed_at >= window.start,
            CASES.c.closed_at < window.cut,
            *_subtree(REGIONS.c.path, path),
        )
        .group_by(
            CASES.c.id,
            CASES.c.region_id,
            CASES.c.org_unit_id,
            CASES.c.resolution,
            CASES.c.raised_at,
            CASES.c.closed_at,
        )  # fmt: skip
    )
    at_type = EVENTS.c.at.type
    dialect = session.get_bind().dialect
    convert = at_type.result_processor(dialect, None)  # min() over a CASE loses the type

    def ts(value):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return convert(value) if convert else value

    return [
        ClosedCase(
            region_id=r.region_id,
            org_unit_id=r.org_unit_id,
            resolution=Resolution(r.resolution),
            raised_at=r.raised_at,
            closed_at=r.closed_at,
            verified_at=ts(r.verified_at),
            red_at=ts(r.red_at),
            escalated=bool(r.escalated),
        )
        for r in session.connection().execute(query)
    ]


def slip_amounts(session: Session, window: Window, path: str | None) -> list[SlipAmount]:
    """Amounts on slips filed in the month: involved (verification slips concluding a
    violation) and recovered (rectification slips). A batch slip counts once, for the
    region and department of the first case it covers."""
    per_slip = (
        sa.select(
            SLIPS.c.id,
            SLIPS.c.kind,
            SLIPS.c.conclusion,
            SLIPS.c.amount_involved,
            SLIPS.c.amount_recovered,
            sa.func.min(CASES.c.id).label("case_id"),
        )
        .select_from(SLIPS)
        .join(CASE_SLIPS, CASE_SLIPS.c.slip_id == SLIPS.c.id)
        .join(CASES, CASES.c.id == CASE_SLIPS.c.case_id)
        .join(REGIONS, REGIONS.c.id == CASES.c.region_id)
        .where(
            SLIPS.c.filed_at >= window.start,
            SLIPS.c.filed_at < window.cut,
            *_subtree(REGIONS.c.path, path),
        )
        .group_by(
            SLIPS.c.id,
            SLIPS.c.kind,
            SLIPS.c.conclusion,
            SLIPS.c.amount_involved,
            SLIPS.c.amount_recovered,
        )  # fmt: skip
        .subquery("per_slip")
    )
    violation = sa.and_(
        per_slip.c.kind == SlipKind.VERIFICATION.value,
        per_slip.c.conclusion == Conclusion.VIOLATION.value,
    )
    rectification = per_slip.c.kind == SlipKind.RECTIFICATION.value
    query = (
        sa.select(
            CASES.c.region_id,
            CASES.c.org_unit_id,
            sa.func.sum(sa.case((violation, per_slip.c.amount_involved), else_=None)).label("inv"),
            sa.func.sum(sa.case((rectification, per_slip.c.amount_recovered), else_=None)).label(
                "rec"
            ),
        )
        .select_from(per_slip)
        .join(CASES, CASES.c.id == per_slip.c.case_id)
        .group_by(CASES.c.region_id, CASES.c.org_unit_id)
    )
    return [
        SlipAmount(
            region_id=r.region_id,
            org_unit_id=r.org_unit_id,
            involved=Decimal(str(r.inv or 0)),
            recovered=Decimal(str(r.rec or 0)),
        )
        for r in session.connection().execute(query)
    ]


def overdue_heads(session: Session, window: Window, path: str | None, limit: int) -> list[sa.Row]:
    """The `limit` longest-overdue open cases of every region (its own cases): a region's
    list is then the first `limit` of its subtree's lists merged."""
    snap = snapshot(window, path)
    rank = (
        sa.func.row_number()
        .over(partition_by=snap.c.region_id, order_by=(snap.c.due_on, snap.c.id))
        .label("rank")
    )
    ranked = (
        sa.select(snap, rank)
        .where(snap.c.state.in_(OPEN), snap.c.due_on < window.ref_day)
        .subquery("ranked")
    )
    query = (
        sa.select(
            ranked.c.id,
            ranked.c.number,
            ranked.c.region_id,
            ranked.c.org_unit_id,
            ranked.c.state,
            ranked.c.due_on,
            RULES.c.code.label("rule_code"),
            RULES.c.name.label("rule_name"),
            UNITS.c.name.label("unit_name"),
        )
        .select_from(ranked)
        .join(RULES, RULES.c.id == ranked.c.rule_id)
        .join(UNITS, UNITS.c.id == ranked.c.org_unit_id)
        .where(ranked.c.rank <= limit)
    )
    return list(session.connection().execute(query))
