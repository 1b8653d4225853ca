"""The working-day calendar: official schedule, 调休, fallback years, overrides, CLI."""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session
from typer.testing import CliRunner

import workflows.core.calendar as calendar_module
from api.cli_calendar import calendar_app
from models.calendar import CalendarDay
from models.db import get_engine
from models.enums import DayKind
from workflows.core.calendar import (
    WorkingCalendar,
    invalidate_calendar_cache,
    list_overrides,
    load_calendar,
    local_date,
    set_day,
    unset_day,
)
from workflows.core.errors import InvalidInput

OFFICIAL = WorkingCalendar({})
# chinesecalendar 1.11.0 (pinned in uv.lock) stops at 2026; bump this when it learns 2027.
NO_DATA_YEAR = 2027


@pytest.fixture(autouse=True)
def fresh_cache():
    # The cache is process-wide and keyed by URL; rolled-back test data must not leak.
    invalidate_calendar_cache()
    yield
    invalidate_calendar_cache()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(i) for i in range((end - start).days + 1)]


# -- local dates -------------------------------------------------------------------------


def test_local_date_is_the_shanghai_day():
    assert local_date(datetime(2026, 9, 30, 16, 30, tzinfo=UTC)) == date(2026, 10, 1)
    assert local_date(datetime(2026, 9, 30, 15, 59, tzinfo=UTC)) == date(2026, 9, 30)


def test_local_date_refuses_naive_timestamps():
    with pytest.raises(ValueError):
        local_date(datetime(2026, 10, 1, 9, 0))


def test_datetimes_are_refused_where_dates_are_expected():
    # A datetime never equals a date key, so holidays would silently vanish.
    with pytest.raises(TypeError):
        OFFICIAL.add_working_days(datetime(2026, 9, 29, 9, 0, tzinfo=UTC), 3)


# -- the official 2026 schedule, as chinesecalendar has it ---------------------------------


def test_national_day_2026():
    # The State Council's 2026 notice: 10-01..10-07 off (not 10-08: Mid-autumn is 09-25..27,
    # a separate break), with 09-20 (Sun) and 10-10 (Sat) worked.
    for d in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert not OFFICIAL.is_working_day(d), d
        assert OFFICIAL.holiday_name(d) == "国庆节"
        assert OFFICIAL.source_of(d) == "official"
    assert OFFICIAL.is_working_day(date(2026, 10, 8))
    assert OFFICIAL.is_working_day(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert OFFICIAL.is_working_day(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert OFFICIAL.holiday_name(date(2026, 9, 20)) is None
    for d in days(date(2026, 9, 25), date(2026, 9, 27)):
        assert not OFFICIAL.is_working_day(d)
        assert OFFICIAL.holiday_name(d) == "中秋节"


def test_spring_festival_2026():
    for d in days(date(2026, 2, 15), date(2026, 2, 23)):
        assert not OFFICIAL.is_working_day(d), d
        assert OFFICIAL.holiday_name(d) == "春节"
    assert OFFICIAL.is_working_day(date(2026, 2, 14))  # Saturday
    assert OFFICIAL.is_working_day(date(2026, 2, 28))  # Saturday
    assert OFFICIAL.is_working_day(date(2026, 2, 24))


def test_other_2026_names_and_adjusted_days():
    assert OFFICIAL.holiday_name(date(2026, 1, 1)) == "元旦"
    assert OFFICIAL.holiday_name(date(2026, 4, 5)) == "清明节"
    assert OFFICIAL.holiday_name(date(2026, 5, 1)) == "劳动节"
    assert OFFICIAL.holiday_name(date(2026, 6, 19)) == "端午节"
    assert OFFICIAL.holiday_name(date(2026, 3, 7)) is None  # an ordinary Saturday
    assert OFFICIAL.is_working_day(date(2026, 1, 4))  # Sunday worked for New Year
    assert OFFICIAL.is_working_day(date(2026, 5, 9))  # Saturday worked for Labour Day
    assert not OFFICIAL.is_working_day(date(2026, 3, 7))


def test_deadlines_across_national_day():
    # 09-30 is day 1; 10-01..10-07 off; 10-08 day 2; 10-09 day 3.
    assert OFFICIAL.add_working_days(date(2026, 9, 29), 3) == date(2026, 10, 9)
    assert OFFICIAL.add_working_days(date(2026, 9, 24), 1) == date(2026, 9, 28)
    assert OFFICIAL.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
    assert OFFICIAL.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)


def test_deadlines_across_spring_festival():
    assert OFFICIAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert OFFICIAL.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert OFFICIAL.add_working_days(date(2026, 2, 10), 5) == date(2026, 2, 24)


def test_deadline_on_a_holiday_moves_to_the_next_working_day():
    assert OFFICIAL.next_working_day(date(2026, 10, 3)) == date(2026, 10, 8)
    assert OFFICIAL.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 8)
    assert OFFICIAL.next_working_day(date(2026, 2, 15)) == date(2026, 2, 24)
    assert OFFICIAL.next_working_day(date(2026, 9, 20)) == date(2026, 9, 20)


def test_negative_day_counts_are_refused():
    with pytest.raises(ValueError):
        OFFICIAL.add_working_days(date(2026, 1, 5), -1)


def test_working_days_between_across_holidays():
    assert OFFICIAL.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert OFFICIAL.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == -3
    assert OFFICIAL.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert OFFICIAL.working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == -2
    assert OFFICIAL.working_days_between(date(2026, 10, 1), date(2026, 10, 1)) == 0
    # Overdue by one working day: the deadline was 09-30, today is 10-08.
    assert OFFICIAL.working_days_between(date(2026, 10, 8), date(2026, 9, 30)) == -1


# -- years without official data ---------------------------------------------------------


def test_year_without_data_falls_back_to_monday_friday():
    friday, saturday = date(NO_DATA_YEAR, 1, 1), date(NO_DATA_YEAR, 1, 2)
    assert OFFICIAL.is_working_day(friday)  # no data: New Year's Day is not known
    assert not OFFICIAL.is_working_day(saturday)
    assert OFFICIAL.source_of(friday) == "fallback"
    assert OFFICIAL.holiday_name(friday) is None
    assert OFFICIAL.add_working_days(date(2026, 12, 31), 1) == friday
    assert OFFICIAL.uncovered_years([2003, 2004, 2026, NO_DATA_YEAR, NO_DATA_YEAR]) == [
        2003,
        NO_DATA_YEAR,
    ]


def test_coverage_reports_fallback_years_with_a_warning():
    info = OFFICIAL.coverage(date(2026, 6, 1))
    assert info["official_first_year"] == 2004
    assert info["official_last_year"] == 2026
    assert info["override_days"] == 0
    assert info["fallback_years"] == [NO_DATA_YEAR]
    assert str(NO_DATA_YEAR) in info["warning"] and "周一至周五" in info["warning"]
    calm = OFFICIAL.coverage(date(2025, 6, 1))
    assert calm["fallback_years"] == [] and calm["warning"] is None
    assert OFFICIAL.coverage(date(NO_DATA_YEAR, 3, 1))["fallback_years"] == [2027, 2028]


def test_overrides_change_a_fallback_year_but_do_not_cover_it():
    calendar = WorkingCalendar({date(NO_DATA_YEAR, 1, 1): (DayKind.HOLIDAY, "元旦")})
    assert not calendar.is_working_day(date(NO_DATA_YEAR, 1, 1))
    assert calendar.holiday_name(date(NO_DATA_YEAR, 1, 1)) == "元旦"
    assert calendar.source_of(date(NO_DATA_YEAR, 1, 1)) == "override"
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(NO_DATA_YEAR, 1, 4)
    assert calendar.uncovered_years([NO_DATA_YEAR]) == [NO_DATA_YEAR]
    assert calendar.coverage(date(2026, 6, 1))["override_days"] == 1


def test_overrides_beat_the_official_schedule():
    calendar = WorkingCalendar(
        {
            date(2026, 10, 8): (DayKind.HOLIDAY, "补休"),
            date(2026, 10, 10): (DayKind.HOLIDAY, "取消调休"),
        }
    )
    assert calendar.add_working_days(date(2026, 9, 29), 3) == date(2026, 10, 12)
    assert calendar.holiday_name(date(2026, 10, 8)) == "补休"
    entries = {e.day: e for e in calendar.year_entries(2026)}
    assert entries[date(2026, 10, 10)].source == "override"
    assert entries[date(2026, 10, 10)].official_kind == DayKind.WORKDAY
    assert entries[date(2026, 9, 20)].name == "国庆节调休上班"


def test_fallback_is_logged_once_per_year(monkeypatch, caplog):
    monkeypatch.setattr(calendar_module, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="warnflow.calendar"):
        OFFICIAL.add_working_days(date(2031, 1, 1), 40)
        OFFICIAL.is_working_day(date(2031, 6, 1))
        OFFICIAL.is_working_day(date(2026, 6, 1))
    records = [r for r in caplog.records if r.name == "warnflow.calendar"]
    assert len(records) == 1
    assert "2031" in records[0].getMessage() and "周一至周五" in records[0].getMessage()


def test_add_working_days_is_fast_enough():
    import time

    started = time.perf_counter()
    for i in range(1000):
        OFFICIAL.add_working_days(date(2026, 1, 1) + timedelta(i % 365), 60)
    assert time.perf_counter() - started < 0.5


# -- properties ----------------------------------------------------------------------------

any_day = st.dates(min_value=date(2004, 1, 1), max_value=date(2030, 12, 31))
overrides = st.dictionaries(
    any_day, st.tuples(st.sampled_from(list(DayKind)), st.just("x")), max_size=12
)


@settings(max_examples=300, deadline=None)
@given(start=any_day, n=st.integers(0, 40), extra=overrides)
def test_add_working_days_properties(start, n, extra):
    calendar = WorkingCalendar(extra)
    result = calendar.add_working_days(start, n)
    assert calendar.is_working_day(result)
    if n == 0:
        assert result == calendar.next_working_day(start)
    else:
        assert result > start
        assert calendar.working_days_between(start, result) == n
        assert calendar.working_days_between(start, result - timedelta(1)) == n - 1


@settings(max_examples=300, deadline=None)
@given(a=any_day, b=any_day, extra=overrides)
def test_working_days_between_is_antisymmetric(a, b, extra):
    calendar = WorkingCalendar(extra)
    assert calendar.working_days_between(a, b) == -calendar.working_days_between(b, a)


@given(d=any_day, extra=overrides)
def test_next_working_day_is_idempotent(d, extra):
    calendar = WorkingCalendar(extra)
    once = calendar.next_working_day(d)
    assert once >= d and calendar.is_working_day(once)
    assert calendar.next_working_day(once) == once


# -- overrides in the database (SQLite and PostgreSQL) ------------------------------------


def test_set_day_overrides_a_year_without_data(session):
    new_year = date(NO_DATA_YEAR, 1, 1)
    assert load_calendar(session).is_working_day(new_year)
    row = set_day(session, day=new_year, kind=DayKind.HOLIDAY, name="元旦", actor_id=None)
    assert row.set_at.tzinfo is not None
    calendar = load_calendar(session)  # set_day dropped the cached calendar
    assert not calendar.is_working_day(new_year)
    assert calendar.holiday_name(new_year) == "元旦"
    assert calendar.source_of(new_year) == "override"
    info = calendar.coverage(date(2026, 11, 1))
    assert info["override_days"] == 1 and info["fallback_years"] == [NO_DATA_YEAR]


def test_set_day_replaces_and_unset_day_removes(session):
    d = date(2026, 10, 8)
    set_day(session, day=d, kind=DayKind.HOLIDAY, name="补休", actor_id=None)
    set_day(session, day=d, kind=DayKind.WORKDAY, name="照常上班", actor_id=None)
    rows = list_overrides(session, year=2026)
    assert [(r.day, r.kind, r.name) for r in rows] == [(d, DayKind.WORKDAY, "照常上班")]
    assert list_overrides(session, year=2025) == []
    assert len(list_overrides(session)) == 1
    assert unset_day(session, day=d) is True
    assert unset_day(session, day=d) is False
    assert load_calendar(session).source_of(d) == "official"


def test_set_day_validates_the_name(session):
    with pytest.raises(InvalidInput) as caught:
        set_day(session, day=date(2027, 1, 1), kind=DayKind.HOLIDAY, name="节" * 65, actor_id=None)
    assert caught.value.errors[0].field == "name"
    assert list_overrides(session) == []


def test_load_calendar_caches_per_database(session):
    first = load_calendar(session)
    assert load_calendar(session) is first
    assert load_calendar(session, max_age=0) is not first
    # Rows written behind the service's back stay invisible until the cache is dropped.
    session.add(CalendarDay(day=date(2026, 3, 9), kind=DayKind.HOLIDAY, name="测试"))
    session.flush()
    cached = load_calendar(session)
    assert cached.is_working_day(date(2026, 3, 9))
    invalidate_calendar_cache()
    assert not load_calendar(session).is_working_day(date(2026, 3, 9))


def test_uncommitted_overrides_stay_private(session, engine):
    set_day(session, day=date(2026, 3, 9), kind=DayKind.HOLIDAY, name="未提交", actor_id=None)
    assert not load_calendar(session).is_working_day(date(2026, 3, 9))
    with Session(engine) as other:
        assert load_calendar(other).is_working_day(date(2026, 3, 9))
    # After commit, the editing session is back on the shared cache.
    session.commit()
    calendar = load_calendar(session)
    assert not calendar.is_working_day(date(2026, 3, 9))
    assert load_calendar(session) is calendar


# -- CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def stored_days(url: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(CalendarDay.day, CalendarDay.kind))]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["set", "2027-13-01", "holiday", "--name", "元旦"], "日期（DATE）"),
        (["set", "2027/01/01", "holiday"], "日期（DATE）"),
        (["set", "2027-01-01", "vacation"], "类别（KIND）"),
        (["set", "2027-01-01", "holiday", "--name", "节" * 65], "名称（--name）"),
        (["unset", "tomorrow"], "日期（DATE）"),
        (["show", "20x7"], "年份（YEAR）"),
    ],
)
def test_cli_refuses_bad_input(cli_db, args, field):
    result = runner.invoke(calendar_app, args)
    assert result.exit_code == 2, result.output
    assert "错误" in result.output and field in result.output
    assert stored_days(cli_db) == []


def test_cli_set_show_unset(cli_db):
    result = runner.invoke(calendar_app, ["set", "2027-01-01", "holiday", "--name", "元旦"])
    assert result.exit_code == 0, result.output
    assert "已设置 2027-01-01（周五）为节假日：元旦" in result.output
    assert stored_days(cli_db) == [(date(2027, 1, 1), DayKind.HOLIDAY)]

    result = runner.invoke(calendar_app, ["set", "2027-01-01", "节假日", "--name", "元旦节"])
    assert result.exit_code == 0 and "替换了原设置" in result.output

    result = runner.invoke(calendar_app, ["show", "2027"])
    assert result.exit_code == 0, result.output
    assert "元旦节" in result.output and "管理员设置" in result.output
    assert "警告" in result.output and "周一至周五" in result.output

    assert runner.invoke(calendar_app, ["unset", "2027-01-01"]).exit_code == 0
    assert stored_days(cli_db) == []
    assert runner.invoke(calendar_app, ["unset", "2027-01-01"]).exit_code == 1


def test_cli_show_official_year(cli_db):
    result = runner.invoke(calendar_app, ["show", "2026"])
    assert result.exit_code == 0, result.output
    assert "国庆节" in result.output and "国庆节调休上班" in result.output
    assert "2026-09-20" in result.output and "2026-10-10" in result.output
    assert "警告" not in result.output


# -- month parsing (one parse_month for the report, ledger and chain doors) ----------------


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=12))
def test_a_month_written_yyyy_mm_is_its_first_day(year, month):
    from workflows.core.calendar import parse_month

    assert parse_month(f"{year:04d}-{month:02d}") == date(year, month, 1)
    assert parse_month(f" {year:04d}-{month} ", "month") == date(year, month, 1)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026/11", "202611", "2026-11-01", "11-2026", "", None])
def test_anything_else_is_refused_naming_the_field(text):
    from workflows.core.calendar import parse_month

    with pytest.raises(InvalidInput) as refused:
        parse_month(text, "period")
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("period", "月份格式应为 YYYY-MM，例如 2026-11")
    ]


def test_an_empty_month_means_every_month_where_the_door_allows_it():
    from workflows.core.calendar import parse_month

    assert parse_month("", optional=True) is None
    assert parse_month(None, optional=True) is None
    with pytest.raises(InvalidInput):
        parse_month("2026-1x", optional=True)
