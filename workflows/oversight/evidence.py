"""What made a streak: the warnings that were unresolved at a counting level at the end of
each of its months (Henan art. 17), for the inspection page and the 督查通知书.

The same reading as the monthly evaluation (workflows/oversight/streaks.py): a case belongs to
the nearest city or county at or above its region, its state is the one it had at the month's
last instant, and it counts when that state's signal is one of settings.streak_levels.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, OrgUnit, Rule
from models.enums import Level
from models.settings import get_settings
from models.types import UTCDateTime
from workflows.core.calendar import add_months
from workflows.oversight.streaks import month_boundary, owners, state_at, state_level

CASES = Case.__table__


@dataclass(frozen=True)
class StreakWarning:
    month: date
    case_id: int
    number: str
    level: Level
    level_label: str
    rule_name: str
    org_unit_name: str
    raised_at: object


def streak_warnings(session: Session, *, region_id: int, first: date, last: date) -> list[StreakWarning]:
    """Per month from `first` to `last`, the region's warnings that made it count."""
    levels = list(get_settings().streak_levels)
    found: list[StreakWarning] = []
    month = first
    owner = owners()
    while month <= last:
        boundary = sa.bindparam("boundary", month_boundary(month), type_=UTCDateTime())
        level = state_level(state_at(boundary)).label("level")
        query = (
            sa.select(CASES.c.id, CASES.c.number, level, Rule.name, OrgUnit.name, CASES.c.raised_at)
            .join(owner, owner.c.region_id == CASES.c.region_id)
            .join(Rule, Rule.id == CASES.c.rule_id)
            .join(OrgUnit, OrgUnit.id == CASES.c.org_unit_id)
            .where(owner.c.owner_id == region_id, CASES.c.raised_at < boundary,
                   sa.or_(CASES.c.closed_at.is_(None), CASES.c.closed_at >= boundary))
            .order_by(CASES.c.raised_at, CASES.c.id)
        )
        for r in session.connection().execute(query):
            if r.level in levels:
                lv = Level(r.level)
                found.append(StreakWarning(month, r.id, r.number, lv, lv.label, r[3], r[4], r.raised_at))
        month = add_months(month, 1)
    return found
