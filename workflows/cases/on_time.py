"""What "on time" means, once, for the monthly figures (workflows/reporting) and the list of
slow regions (workflows/oversight/slow_regions.py): a case is handled on time when it was
closed by its deadline, that is, the Shanghai calendar day it was closed is not after the
deadline of the step it was closed from (the due date set by its last event before closing).
A step without a deadline (a verified yellow light's confirmation, say) is on time.

One SQL expression, `closed_on_time`, over the case table; both callers select it.
"""

from datetime import date

import sqlalchemy as sa

from models import CaseEvent
from workflows.cases.queries import CASES

EVENTS = CaseEvent.__table__
_SHANGHAI_OFFSET_SECONDS = 8 * 3600
_NEVER = 10**7  # days since 1970: the year 29349


# Asia/Shanghai has kept UTC+8 without daylight saving since 1991: a local day is a UTC
# timestamp shifted by eight hours, counted in whole days since 1970-01-01.
def local_day(column, dialect: str) -> sa.ColumnElement[int]:
    """The Shanghai calendar day of a UTC timestamp column, as days since 1970-01-01."""
    if dialect == "postgresql":
        seconds = sa.extract("epoch", column) + _SHANGHAI_OFFSET_SECONDS
        return sa.cast(sa.func.floor(seconds / 86400), sa.Integer)
    # SQLite stores the UTC wall clock as text; julianday() of the epoch is 2440587.5.
    return sa.cast(sa.func.julianday(column) - 2440587.5 + 8 / 24, sa.Integer)


def day_number(column, dialect: str) -> sa.ColumnElement[int]:
    """A date column as days since 1970-01-01."""
    if dialect == "postgresql":
        return column - sa.cast(sa.literal(date(1970, 1, 1)), sa.Date)
    return sa.cast(sa.func.julianday(column) - 2440587.5, sa.Integer)


def closing_deadline(cases: sa.Table = CASES) -> sa.ScalarSelect:
    """The deadline in force when the case was closed: the one its last event before
    closing set (NULL: that step had none)."""
    before = EVENTS.alias("before_close")
    return (
        sa.select(before.c.due_on)
        .where(before.c.case_id == cases.c.id, before.c.at < cases.c.closed_at)
        .order_by(before.c.seq.desc())
        .limit(1)
        .correlate(cases)
        .scalar_subquery()
    )


def closed_on_time(dialect: str, cases: sa.Table = CASES) -> sa.ColumnElement[bool]:
    """True for a closed case closed by its deadline (see the module docstring)."""
    # No deadline: on time, written as a day no closing reaches, so the subquery runs once.
    deadline_day = sa.func.coalesce(day_number(closing_deadline(cases), dialect), _NEVER)
    return local_day(cases.c.closed_at, dialect) <= deadline_day
