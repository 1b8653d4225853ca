"""Calendar overrides entered by administrators (节假日与调休), each change audited and
followed, in the same transaction, by the re-plan of every open deadline it moves
(workflows/escalation/replan.py).

The working-day arithmetic itself lives in workflows.core.calendar; this module is the
administrators' door to it.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from sqlmodel import Session

from models import CalendarDay
from models.enums import AuditKind, DayKind
from workflows.core.actors import Actor
from workflows.core.audit import record
from workflows.core.calendar import list_overrides, parse_date, set_day, unset_day
from workflows.core.errors import NotFound
from workflows.escalation.replan import ReplanResult, replan_deadlines


def list_calendar_overrides(session: Session, *, year: int | None = None) -> list[CalendarDay]:
    """The admin-entered days, optionally of one year, by date."""
    return list_overrides(session, year=year)


class CalendarChange(NamedTuple):
    day: CalendarDay
    replanned: ReplanResult  # the open deadlines the change moved


def set_calendar_day(
    session: Session, *, actor: Actor, day: date | str, kind: DayKind | str, name: str = "", as_of: datetime
) -> CalendarChange:
    """Mark a day a holiday or a working day (调休), replacing any earlier override."""
    row = _set(session, actor, day, kind, name, as_of)
    replanned = replan_deadlines(session, changed=[row.day], actor=actor, as_of=as_of)
    return CalendarChange(row, replanned)


def set_calendar_days(
    session: Session, *, actor: Actor, days: Iterable[tuple[date, DayKind, str]], as_of: datetime
) -> ReplanResult:
    """Several days at once (a State Council notice): each saved and audited, then one
    re-plan for all of them."""
    changed = [_set(session, actor, day, kind, name, as_of).day for day, kind, name in days]
    return replan_deadlines(session, changed=changed, actor=actor, as_of=as_of)


def _set(session: Session, actor: Actor, day, kind, name: str, as_of: datetime) -> CalendarDay:
    day = parse_date(day, "day", "日期")
    before = session.get(CalendarDay, day)
    old = [DayKind(before.kind).value if before else None, before.name if before else None]
    row = set_day(session, day=day, kind=kind, name=name, actor_id=actor.user_id)
    record(session, AuditKind.CALENDAR_CHANGED, as_of=as_of, actor=actor, action="set",
           day=day.isoformat(), day_kind=[old[0], DayKind(row.kind).value], name=[old[1], row.name])
    return row


def unset_calendar_day(session: Session, *, actor: Actor, day: date | str, as_of: datetime) -> ReplanResult:
    """Drop a day's override so the official calendar applies again (NotFound if none)."""
    day = parse_date(day, "day", "日期")
    before = session.get(CalendarDay, day)
    if before is None:
        raise NotFound(f"{day.isoformat()} 没有调整记录")
    kind, name = DayKind(before.kind).value, before.name
    unset_day(session, day=day)
    replanned = replan_deadlines(session, changed=[day], actor=actor, as_of=as_of)
    record(session, AuditKind.CALENDAR_CHANGED, as_of=as_of, actor=actor, action="unset",
           day=day.isoformat(), day_kind=[kind, None], name=[name, None],
           cases_replanned=replanned.moved)  # fmt: skip
    return replanned

