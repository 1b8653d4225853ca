"""The monthly summary's SQL: a few GROUP BY statements over every case of a month at once.

Each statement groups by the case's own region (and department, rule, state), never by
the region asked about: the caller rolls the region tree up in Python (a few hundred
regions), so drafting every region's summary costs what drafting one costs.

"At month end" is read from history: a case untouched since the cut-off (updated_at before
it) is as it is now; otherwise its state and deadline are those written by its last event
before the cut-off (case_event.to_state / due_on).
"""

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from models import CaseEvent, CaseSlip, Slip
from models.enums import AmountBasis, Conclusion, Event, Resolution, SlipKind, State
from workflows.cases.on_time import closed_on_time, local_day
from workflows.cases.queries import CASES, REGIONS, RULES, UNITS, like_prefix

EVENTS = CaseEvent.__table__
SLIPS = Slip.__table__
CASE_SLIPS = CaseSlip.__table__
# The same table again, to count the cases a slip covers beside the join that picks one.
COVERED = CaseSlip.__table__.alias("covered")
OPEN = tuple(s.value for s in State if s.is_open)


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
    paid: Decimal = Decimal(0)  # the warnings' own payment amounts (元), cases in scope


@dataclass(frozen=True)
class ClosedCase:
    """A case closed in the month, with the local days its durations are measured between
    (days since 1970-01-01 in Asia/Shanghai: integers, cheap to read and subtract)."""

    region_id: int
    org_unit_id: int
    rectified: bool  # closed as rectified
    raised_day: int
    closed_day: int
    verified_day: int | None  # first verification slip submitted
    red_day: int | None  # first entered red light
    # Closed by its deadline (workflows/cases/on_time.py, the one definition).
    on_time: bool = True


@dataclass(frozen=True)
class SlipAmount:
    region_id: int
    org_unit_id: int
    involved: Decimal
    recovered: Decimal


# The state and deadline at the cut-off of the cases changed since: their last event before
# it. Kept in a temporary table for the statements of one computation, so the events are
# read once (one window-function pass) instead of once per statement.
LAST_EVENTS = sa.Table(
    "monthly_last_event",
    sa.MetaData(),
    sa.Column("case_id", sa.Integer, primary_key=True),
    sa.Column("to_state", sa.String(32)),
    sa.Column("due_on", sa.Date),
    prefixes=["TEMPORARY"],
)


def _joined_regions(select: sa.Select, path: str | None, via_cases: bool = False) -> sa.Select:
    """Limit a statement over cases to a region's subtree (nothing to join for all regions);
    `via_cases`: the statement reads case_slip, so the case is joined first."""
    if path is None:
        return select
    if via_cases:
        select = select.join(CASES, CASES.c.id == CASE_SLIPS.c.case_id)
    return select.join(REGIONS, REGIONS.c.id == CASES.c.region_id).where(
        REGIONS.c.path.like(like_prefix(path), escape="\\")
    )


# The month's statements group and sort hundreds of thousands of rows: on PostgreSQL they
# get this much memory per sort/hash (for their transaction only) instead of spilling to disk.
REPORT_WORK_MEM = "64MB"


@contextmanager
def month_end_events(session: Session, window: Window, path: str | None) -> Iterator[sa.Table]:
    """Fill LAST_EVENTS for the computation inside the block; dropped after it."""
    cut = window.cut
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    ranked = _joined_regions(
        sa.select(
            EVENTS.c.case_id,
            EVENTS.c.to_state,
            EVENTS.c.due_on,
            sa.func.row_number()
            .over(partition_by=EVENTS.c.case_id, order_by=EVENTS.c.seq.desc())
            .label("rank"),
        )
        .select_from(EVENTS)
        .join(CASES, CASES.c.id == EVENTS.c.case_id)
        .where(EVENTS.c.at < cut, CASES.c.updated_at >= cut, CASES.c.raised_at < cut),
        path,
    ).subquery("ranked")
    # A table left on this connection by a computation that died half-way goes first.
    LAST_EVENTS.drop(connection, checkfirst=True)
    LAST_EVENTS.create(connection)
    try:
        connection.execute(
            LAST_EVENTS.insert().from_select(
                ["case_id", "to_state", "due_on"],
                sa.select(ranked.c.case_id, ranked.c.to_state, ranked.c.due_on).where(
                    ranked.c.rank == 1
                ),
            )
        )
        yield LAST_EVENTS
    finally:
        # If the transaction failed already, its rollback drops the table.
        with suppress(sa.exc.DBAPIError):
            LAST_EVENTS.drop(connection)


def snapshot(window: Window, path: str | None, last: sa.Table) -> sa.Subquery:
    """Every case raised before the cut-off, with its state and deadline at the cut-off."""
    cut = window.cut
    untouched = CASES.c.updated_at < cut
    closed_before = sa.and_(CASES.c.closed_at.is_not(None), CASES.c.closed_at < cut)
    return _joined_regions(
        sa.select(
            CASES.c.id,
            CASES.c.number,
            CASES.c.region_id,
            CASES.c.org_unit_id,
            CASES.c.rule_id,
            CASES.c.raised_at,
            CASES.c.amount,
            # Imported after the cut-off although raised before it (the platform's time):
            # no event yet at the cut-off, so it stood as raised (a level's value is the
            # state it is raised in), without a deadline of its own yet.
            sa.type_coerce(
                sa.case(
                    (untouched, CASES.c.state),
                    (last.c.case_id.is_(None), CASES.c.raised_level),
                    else_=last.c.to_state,
                ),
                sa.String(32),
            ).label("state"),
            sa.case(
                (untouched, CASES.c.due_on),
                (last.c.case_id.is_(None), None),
                else_=last.c.due_on,
            ).label("due_on"),  # fmt: skip
            sa.case((closed_before, CASES.c.closed_at), else_=None).label("closed_at"),
            sa.case((closed_before, CASES.c.resolution), else_=None).label("resolution"),
        )
        .select_from(CASES)
        .outerjoin(last, last.c.case_id == CASES.c.id)
        .where(CASES.c.raised_at < cut),
        path,
    ).subquery("snapshot")


def _sum(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def group_rows(
    session: Session, window: Window, path: str | None, last: sa.Table
) -> list[GroupRow]:
    snap = snapshot(window, path, last)
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
            sa.func.coalesce(sa.func.sum(snap.c.amount), 0).label("paid"),
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
            paid=Decimal(str(r.paid or 0)),
        )
        for r in session.connection().execute(query)
    ]


def closed_cases(session: Session, window: Window, path: str | None) -> list[ClosedCase]:
    """Cases closed in the month, each with its first verification, first red, and whether
    it was closed by its deadline."""
    dialect = session.get_bind().dialect.name
    at_day = local_day(EVENTS.c.at, dialect)
    first_verified = sa.func.min(
        sa.case((EVENTS.c.event == Event.SUBMIT_VERIFICATION.value, at_day), else_=None)
    )
    first_red = sa.func.min(
        sa.case((EVENTS.c.to_state == State.RED_LIGHT.value, at_day), else_=None)
    )
    query = _joined_regions(
        sa.select(
            CASES.c.region_id,
            CASES.c.org_unit_id,
            sa.case((CASES.c.resolution == Resolution.RECTIFIED.value, 1), else_=0),
            local_day(CASES.c.raised_at, dialect),
            local_day(CASES.c.closed_at, dialect),
            first_verified,
            first_red,
            # Closed by its deadline: the one definition the slow-regions list uses too.
            closed_on_time(dialect),
        )
        .select_from(CASES)
        # Only the events measured here; a case without any still counts (closed on time).
        .outerjoin(
            EVENTS,
            sa.and_(
                EVENTS.c.case_id == CASES.c.id,
                sa.or_(
                    EVENTS.c.event == Event.SUBMIT_VERIFICATION.value,
                    EVENTS.c.to_state == State.RED_LIGHT.value,
                ),
            ),
        )
        .where(CASES.c.closed_at >= window.start, CASES.c.closed_at < window.cut)
        .group_by(
            CASES.c.id,
            CASES.c.region_id,
            CASES.c.org_unit_id,
            CASES.c.resolution,
            CASES.c.raised_at,
            CASES.c.closed_at,
        ),  # fmt: skip
        path,
    )
    return [
        ClosedCase(region, unit, bool(rectified), raised, closed, verified, red, bool(on_time))
        for region, unit, rectified, raised, closed, verified, red, on_time in session.execute(query)
    ]


def _basis_factor() -> sa.ColumnElement:
    """How many times a slip's amounts count: the cases it covers when they are per case."""
    covered = (
        sa.select(sa.func.count()).select_from(COVERED)
        .where(COVERED.c.slip_id == SLIPS.c.id).scalar_subquery()
    )  # fmt: skip
    return sa.case((SLIPS.c.amount_basis == AmountBasis.PER_CASE.value, covered), else_=1)


def slip_amounts(session: Session, window: Window, path: str | None) -> list[SlipAmount]:
    """Amounts on slips filed in the month: involved (verification slips concluding a
    violation) and recovered (rectification slips). A batch slip counts for the region and
    department of the first case it covers, the way it says its amounts are meant: a total
    once, an amount per case once for each case it covers."""
    per_slip = _joined_regions(
        sa.select(
            SLIPS.c.id,
            SLIPS.c.kind,
            SLIPS.c.conclusion,
            (SLIPS.c.amount_involved * _basis_factor()).label("amount_involved"),
            (SLIPS.c.amount_recovered * _basis_factor()).label("amount_recovered"),
            sa.func.min(CASE_SLIPS.c.case_id).label("case_id"),
        )
        .select_from(SLIPS)
        .join(CASE_SLIPS, CASE_SLIPS.c.slip_id == SLIPS.c.id)
        .where(SLIPS.c.filed_at >= window.start, SLIPS.c.filed_at < window.cut)
        .group_by(
            SLIPS.c.id,
            SLIPS.c.kind,
            SLIPS.c.conclusion,
            SLIPS.c.amount_involved,
            SLIPS.c.amount_recovered,
        ),  # fmt: skip
        path,
        via_cases=True,
    ).subquery("per_slip")
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


def overdue_heads(
    session: Session, window: Window, path: str | None, limit: int, last: sa.Table
) -> list[sa.Row]:
    """The `limit` longest-overdue open cases of every region (its own cases): a region's
    list is then the first `limit` of its subtree's lists merged."""
    snap = snapshot(window, path, last)
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
