"""China's official working-day calendar: holidays, adjusted working days (调休), overrides.

Deadlines count working days. The official schedule comes from `chinesecalendar`, which
only knows the years the State Council has published; admins fill gaps and corrections
in `calendar_day`. For any other year we fall back to Monday–Friday and say so loudly,
because a deadline computed that way may be off by a whole holiday week.
"""

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple, overload
from zoneinfo import ZoneInfo

import chinese_calendar
import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from models.calendar import CalendarDay, CalendarStamp
from models.enums import DayKind
from models.types import utcnow
from workflows.core.errors import InvalidInput

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NAME_MAX = 64
Source = Literal["override", "official", "fallback"]

log = logging.getLogger("warnflow.calendar")

_ONE_DAY = timedelta(days=1)
# The holidays every State Council notice schedules (国务院办公厅关于部分节假日安排的通知).
STATUTORY_HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def chinese_date(day: date) -> str:
    """date(2026, 11, 23) → "2026年11月23日", as official documents and messages write it."""
    return f"{day.year}年{day.month}月{day.day}日"


def local_date(ts: datetime) -> date:
    """The Shanghai calendar date of an aware timestamp."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("naive datetime: cannot tell which day it is in Asia/Shanghai")
    return ts.astimezone(LOCAL_TZ).date()


def parse_date(value: object, field: str, label: str) -> date:
    """A date from a form or JSON value (a date or "YYYY-MM-DD"); InvalidInput naming `field`."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput.single(field, "date_parsing", f"{label}应为日期（YYYY-MM-DD）") from None


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@overload
def parse_month(text: str | None, field: str = "month", *, optional: Literal[False] = False) -> date: ...
@overload
def parse_month(text: str | None, field: str = "month", *, optional: Literal[True]) -> date | None: ...
def parse_month(text: str | None, field: str = "month", *, optional: bool = False) -> date | None:
    """ "2026-11" → date(2026, 11, 1) (months are named by their first day). Anything else is
    refused naming `field`; an empty value too, unless `optional` (then None: every month)."""
    text = (text or "").strip()
    if not text and optional:
        return None
    match = _MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput.single(field, "invalid_month", "月份格式应为 YYYY-MM，例如 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_start(day: date) -> date:
    """The first day of `day`'s month (months are named by their first day)."""
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    """The first day of the month n months after `month`'s (n may be negative)."""
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s."""
    return add_months(month_start(day), -1)


def first_working_day(calendar: "WorkingCalendar", month: date) -> date:
    """The first working day of `month`'s month (monthly jobs run then)."""
    return calendar.next_working_day(month_start(month))


def is_first_working_day(calendar: "WorkingCalendar", day: date) -> bool:
    return day == first_working_day(calendar, day)


def _chinese_name(english: str | None) -> str | None:
    if english is None:
        return None
    return _HOLIDAY_NAMES.get(english, english)


def _probe_official_years() -> frozenset[int]:
    # Ask the library itself rather than trusting its dicts' extent: it is the library's
    # NotImplementedError that decides whether a year is really covered.
    known = [d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)]
    covered = set()
    for year in range(min(known) - 1, max(known) + 2):
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            continue
        covered.add(year)
    return frozenset(covered)


_OFFICIAL_YEARS = _probe_official_years()
# date -> is it a working day; only the days that differ from Monday–Friday. Lookups go
# here directly: chinese_calendar.is_workday scans all its keys on every call.
_OFFICIAL: dict[date, bool] = {
    **{d: False for d in chinese_calendar.holidays},
    **{d: True for d in chinese_calendar.workdays},
}
_OFFICIAL_NAMES: dict[date, str] = {
    d: _chinese_name(str(n)) or ""
    for d, n in (*chinese_calendar.holidays.items(), *chinese_calendar.workdays.items())
}
_warned_years: set[int] = set()


def _note_fallback(year: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    first, last = min(_OFFICIAL_YEARS), max(_OFFICIAL_YEARS)
    log.warning(
        "No official holiday data for %d (chinesecalendar covers %d-%d); counting Monday-Friday"
        " as working days unless overridden (%d 年法定节假日数据缺失，按周一至周五计算工作日)."
        " Enter the schedule with `warnflow calendar set`.",
        year,
        first,
        last,
        year,
    )


class DayEntry(NamedTuple):
    day: date
    kind: DayKind
    name: str
    source: Source
    official_kind: DayKind | None  # what the official calendar says, when it says anything


class WorkingCalendar:
    """Answers working-day questions in O(1) per day; immutable once built."""

    def __init__(self, overrides: Mapping[date, tuple[DayKind, str]] | None = None):
        self._overrides = {d: (DayKind(k), n) for d, (k, n) in (overrides or {}).items()}
        self._days = dict(_OFFICIAL)
        self._days.update({d: k == DayKind.WORKDAY for d, (k, _) in self._overrides.items()})

    # -- single days ----------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        answer = self._days.get(d)
        if answer is not None:
            return answer
        if d.year not in _OFFICIAL_YEARS and d.year not in _warned_years:
            _note_fallback(d.year)
        return d.weekday() < 5

    def source_of(self, d: date) -> Source:
        if d in self._overrides:
            return "override"
        return "official" if d.year in _OFFICIAL_YEARS else "fallback"

    def holiday_name(self, d: date) -> str | None:
        """The override's name, or the official holiday's Chinese name (None on 调休 workdays)."""
        if d in self._overrides:
            return self._overrides[d][1] or None
        if _OFFICIAL.get(d) is False:
            return _OFFICIAL_NAMES.get(d) or None
        return None

    # -- deadlines ------------------------------------------------------------------

    def next_working_day(self, d: date) -> date:
        _refuse_datetime(d)
        is_working = self.is_working_day
        while not is_working(d):
            d += _ONE_DAY
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (not counting `start`); n == 0: next working day."""
        _refuse_datetime(start)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return self.next_working_day(start)
        is_working = self.is_working_day
        d = start
        while n:
            d += _ONE_DAY
            if is_working(d):
                n -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative, -(working days in (b, a]), when b < a."""
        _refuse_datetime(a)
        _refuse_datetime(b)
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        is_working = self.is_working_day
        count = 0
        d = a
        while d < b:
            d += _ONE_DAY
            if is_working(d):
                count += 1
        return sign * count

    # -- coverage and listings ------------------------------------------------------

    def missing_holidays(self, year: int) -> list[str]:
        """For a year without official data, the statutory holidays (国务院 schedule) no
        override names yet; [] for an official year or one entered in full."""
        if year in _OFFICIAL_YEARS:
            return []
        names = "".join(
            name for d, (kind, name) in self._overrides.items()
            if d.year == year and kind == DayKind.HOLIDAY
        )  # fmt: skip
        return [h for h in STATUTORY_HOLIDAYS if h.removesuffix("节") not in names]

    def is_provisional(self, start: date, end: date) -> bool:
        """Whether a deadline counted over [start, end] crosses a year whose holidays nobody
        has entered: it may then be off by a whole holiday week."""
        return any(self.missing_holidays(y) for y in range(start.year, end.year + 1))

    def provisional_note(self, start: date, end: date) -> str | None:
        """The case page's and the API's warning for such a deadline."""
        years = [y for y in range(start.year, end.year + 1) if self.missing_holidays(y)]
        if not years:
            return None
        listed = "、".join(str(y) for y in years)
        return (f"{listed} 年尚无法定节假日安排，此期限暂按周一至周五计算，"
                "节假日录入后将自动调整")

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        return sorted({y for y in years if y not in _OFFICIAL_YEARS})

    def coverage(self, today: date) -> dict:
        fallback = self.uncovered_years(range(today.year, today.year + 2))
        warning = None
        if fallback:
            entered = sum(1 for d in self._overrides if d.year in fallback)
            years = "、".join(str(y) for y in fallback)
            warning = (
                f"{years} 年没有法定节假日数据，工作日按周一至周五计算"
                f"（已录入调整 {entered} 天），期限可能不准确；"
                "请按国务院办公厅放假通知录入节假日和调休上班日（warnflow calendar set）。"
            )
        return {
            "official_first_year": min(_OFFICIAL_YEARS),
            "official_last_year": max(_OFFICIAL_YEARS),
            "override_days": len(self._overrides),
            "fallback_years": fallback,
            "warning": warning,
        }

    def year_entries(self, year: int) -> list[DayEntry]:
        """The year's days that differ from plain Monday–Friday, official and overridden."""
        entries: dict[date, DayEntry] = {}
        for d, working in _OFFICIAL.items():
            if d.year == year:
                kind = DayKind.WORKDAY if working else DayKind.HOLIDAY
                name = _OFFICIAL_NAMES.get(d, "") + ("调休上班" if working else "")
                entries[d] = DayEntry(d, kind, name, "official", kind)
        for d, (kind, name) in self._overrides.items():
            if d.year == year:
                official = entries[d].kind if d in entries else None
                entries[d] = DayEntry(d, kind, name, "override", official)
        return sorted(entries.values())


def _refuse_datetime(d: date) -> None:
    # A datetime is a date subclass that never equals a date key: holidays would vanish.
    if isinstance(d, datetime):
        raise TypeError("pass a date (use local_date(ts) for timestamps), not a datetime")


# -- loading from the database, cached per process until the stamp moves ----------------

_cache: dict[object, tuple[int, WorkingCalendar]] = {}
_cache_lock = threading.Lock()
_DIRTY = "warnflow.calendar.dirty"
_STAMP = CalendarStamp.__table__
_READ_STAMP = sa.select(_STAMP.c.version).where(_STAMP.c.id == 1)
_BUMP_STAMP = _STAMP.update().where(_STAMP.c.id == 1).values(version=_STAMP.c.version + 1)


def invalidate_calendar_cache() -> None:
    with _cache_lock:
        _cache.clear()


def calendar_version(session: Session) -> int:
    """The database's calendar version: every committed change bumps it (0: no stamp row)."""
    return session.connection().execute(_READ_STAMP).scalar() or 0


def load_calendar(session: Session, *, max_age: float | None = None) -> WorkingCalendar:
    """The calendar with this database's overrides. Cached per process while the database's
    stamp stays the same: one primary-key read per call, and a change made by any process is
    seen by the next request or job everywhere. max_age=0 skips the cache."""
    # The engine itself, not its URL: rendering the URL costs more than the lookup saves.
    key = session.get_bind().engine
    # A session that edited overrides must see its own edits, and must not publish them
    # to other sessions before they are committed.
    private = session.info.get(_DIRTY, False)
    version = calendar_version(session)
    if not private and max_age != 0:
        hit = _cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
    rows = session.connection().execute(
        sa.select(CalendarDay.day, CalendarDay.kind, CalendarDay.name)
    )
    calendar = WorkingCalendar({r.day: (DayKind(r.kind), r.name or "") for r in rows})
    if not private:
        with _cache_lock:
            _cache[key] = (version, calendar)
    return calendar


def _mark_dirty(session: Session) -> None:
    # Bumped inside the editing transaction: other processes see the new version exactly
    # when they can see the new rows.
    session.connection().execute(_BUMP_STAMP)
    # Stays set through rollbacks (a savepoint's rollback says nothing about the outer
    # transaction); the only cost is that this session skips the cache until it commits.
    session.info[_DIRTY] = True
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)


def _after_commit(session: Session) -> None:
    session.info[_DIRTY] = False


def set_day(
    session: Session, *, day: date, kind: DayKind, name: str, actor_id: int | None
) -> CalendarDay:
    """Mark `day` a holiday or a working day, replacing any earlier override."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise InvalidInput.single("day", "invalid_date", "日期无效，应为 YYYY-MM-DD 格式的日期")
    try:
        kind = DayKind(kind)
    except ValueError:
        raise InvalidInput.single(
            "kind", "invalid_kind", "类别无效，应为 holiday（节假日）或 workday（调休上班）"
        ) from None
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise InvalidInput.single("name", "too_long", f"名称不能超过 {NAME_MAX} 个字符")
    row = session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, kind=kind, name=name, set_by_id=actor_id, set_at=utcnow())
        session.add(row)
    else:
        row.kind, row.name, row.set_by_id, row.set_at = kind, name, actor_id, utcnow()
    session.flush()
    _mark_dirty(session)
    return row


def unset_day(session: Session, *, day: date) -> bool:
    """Drop the override for `day`; False when there was none."""
    row = session.get(CalendarDay, day)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    _mark_dirty(session)
    return True


def list_overrides(session: Session, *, year: int | None = None) -> list[CalendarDay]:
    query = sa.select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
    return list(session.scalars(query))
