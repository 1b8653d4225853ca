"""Which months count for the three-month rule (Henan art. 17), at the month's last instant in
Asia/Shanghai — Li Na's Anxian cases moved through the real lifecycle by time travel."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.enums import Event
from models.oversight import RegionMonth
from tests.factories import new_case, verification_slip
from workflows.cases.slips import SlipInput
from workflows.cases.transition import transition
from workflows.oversight.streaks import (
    add_months,
    evaluate_month,
    month_before,
    month_boundary,
    streak_board,
    streaks_for_month,
)

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)
LATER = datetime(2027, 3, 2, 0, 0, tzinfo=UTC)  # after every month the tests evaluate


def at(y, m, d, hour=9, minute=0) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(y, m, d, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def version(session, case_id) -> int:
    from models import Case

    c = session.get(Case, case_id)
    session.refresh(c)
    return c.version


def rectify(session, world, case_id, when: datetime) -> None:
    """Li Na files the rectification slip, Zhang Wei approves it at `when`: the case is green."""
    slip = SlipInput(
        kind="rectification", measures=["corrected"], measures_detail="已按批复用途重新拨付。",
        completed_on=(when + timedelta(hours=8)).date(), filler_name="李娜",
    )  # fmt: skip
    transition(
        session,
        case_id=case_id,
        event=Event.SUBMIT_RECTIFICATION,
        actor=world.actors["li_na"],
        version=version(session, case_id),
        as_of=when - timedelta(minutes=5),
        slip=slip,
    )
    transition(
        session,
        case_id=case_id,
        event=Event.APPROVE_RECTIFICATION,
        actor=world.actors["zhang_wei"],
        version=version(session, case_id),
        as_of=when,
    )


def month_row(session, world, month: date, region: str = "anxian") -> RegionMonth | None:
    return session.exec(
        sa.select(RegionMonth).where(
            RegionMonth.region_id == world.regions[region].id, RegionMonth.month == month
        )
    ).scalar_one_or_none()


def test_month_boundary_is_midnight_in_shanghai():
    assert month_boundary(OCT) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert month_boundary(date(2026, 12, 1)) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert month_before(at(2026, 12, 1, 6)) == NOV
    # 1 December 07:00 in Shanghai is still 30 November in UTC: the month before is November.
    assert month_before(datetime(2026, 11, 30, 23, 0, tzinfo=UTC)) == NOV


def test_li_nas_red_rectified_on_the_last_day_of_october_does_not_count(session, world):
    case_id = new_case(session, world, "red", at=at(2026, 10, 5))
    rectify(session, world, case_id, at(2026, 10, 31, 23, 50))
    evaluate_month(session, month=OCT, as_of=LATER)
    row = month_row(session, world, OCT)
    assert (row.counts, row.open_red, row.streak) == (False, 0, 0)


def test_li_nas_red_rectified_on_the_first_of_november_counts_for_october(session, world):
    case_id = new_case(session, world, "red", at=at(2026, 10, 5))
    rectify(session, world, case_id, at(2026, 11, 1, 0, 10))
    evaluate_month(session, month=OCT, as_of=LATER)
    row = month_row(session, world, OCT)
    assert (row.counts, row.open_red, row.open_yellow, row.streak) == (True, 1, 0, 1)
    # November: it was rectified, nothing left at the month's end.
    evaluate_month(session, month=NOV, as_of=LATER)
    assert month_row(session, world, NOV).counts is False


def test_a_bell_that_turned_red_during_the_month_counts(session, world):
    case_id = new_case(session, world, "bell_red", at=at(2026, 10, 5))
    transition(
        session,
        case_id=case_id,
        event=Event.BELL_DEADLINE_PASSED,
        actor=world.actors["system"],
        version=version(session, case_id),
        as_of=at(2026, 10, 20),
    )
    evaluate_month(session, month=OCT, as_of=LATER)
    row = month_row(session, world, OCT)
    assert (row.counts, row.open_red) == (True, 1)


def test_a_bell_still_ringing_at_the_months_end_does_not_count(session, world):
    case_id = new_case(session, world, "bell_red", at=at(2026, 10, 5))
    # It turns red only in November: October's end saw a ringing bell.
    transition(
        session,
        case_id=case_id,
        event=Event.BELL_DEADLINE_PASSED,
        actor=world.actors["system"],
        version=version(session, case_id),
        as_of=at(2026, 11, 3),
    )
    evaluate_month(session, month=OCT, as_of=LATER)
    evaluate_month(session, month=NOV, as_of=LATER)
    assert month_row(session, world, OCT).counts is False
    assert month_row(session, world, NOV).counts is True


def test_a_case_raised_and_resolved_within_the_month_does_not_count(session, world):
    case_id = new_case(session, world, "yellow", at=at(2026, 10, 5))
    transition(
        session,
        case_id=case_id,
        event=Event.SUBMIT_VERIFICATION,
        actor=world.actors["li_na"],
        version=version(session, case_id),
        as_of=at(2026, 10, 9),
        slip=verification_slip(conclusion="normal"),
    )
    evaluate_month(session, month=OCT, as_of=LATER)
    assert month_row(session, world, OCT).counts is False


def test_a_yellow_light_open_at_the_months_end_counts_as_yellow(session, world):
    new_case(session, world, "yellow", at=at(2026, 10, 31, 23, 59))
    new_case(session, world, "yellow", at=at(2026, 11, 1, 0, 1))  # November's, not October's
    evaluate_month(session, month=OCT, as_of=LATER)
    row = month_row(session, world, OCT)
    assert (row.counts, row.open_yellow, row.open_red) == (True, 1, 0)


def test_a_yellow_light_ruled_a_violation_is_red_at_the_months_end(session, world):
    case_id = new_case(session, world, "yellow", at=at(2026, 10, 5))
    transition(
        session,
        case_id=case_id,
        event=Event.SUBMIT_VERIFICATION,
        actor=world.actors["li_na"],
        version=version(session, case_id),
        as_of=at(2026, 11, 4),
        slip=verification_slip(),
    )
    evaluate_month(session, month=OCT, as_of=LATER)
    evaluate_month(session, month=NOV, as_of=LATER)
    assert (
        month_row(session, world, OCT).open_yellow,
        month_row(session, world, OCT).open_red,
    ) == (1, 0)
    assert (
        month_row(session, world, NOV).open_yellow,
        month_row(session, world, NOV).open_red,
    ) == (0, 1)


def test_township_cases_belong_to_their_county_and_the_city_answers_only_for_its_own(
    session, world
):
    new_case(session, world, "red", region="town", at=at(2026, 10, 5))
    evaluate_month(session, month=OCT, as_of=LATER)
    assert month_row(session, world, OCT, "anxian").counts is True
    assert month_row(session, world, OCT, "city").counts is False
    assert month_row(session, world, OCT, "city_own").counts is False
    assert month_row(session, world, OCT, "ningxian").counts is False
    # Every city and county has its row; the province and townships have none.
    assert month_row(session, world, OCT, "province") is None
    assert month_row(session, world, OCT, "town") is None


def test_streaks_run_over_consecutive_months_and_reset(session, world):
    new_case(session, world, "red", at=at(2026, 8, 10))  # open from August on
    ningxian = new_case(
        session,
        world,
        "red",
        region="ningxian",
        unit="ningxian_agri",
        assignee="zhao_lei",
        at=at(2026, 9, 10),
    )
    evaluate_month(session, month=OCT, as_of=LATER)  # evaluates the missing months first
    streaks = streaks_for_month(session, month=OCT)
    assert streaks[world.regions["anxian"].id] == 3
    assert streaks[world.regions["ningxian"].id] == 2
    assert streaks[world.regions["city"].id] == 0
    assert month_row(session, world, date(2026, 8, 1)).streak == 1
    assert ningxian


def test_re_evaluating_a_month_is_idempotent_and_fixes_later_streaks(session, world):
    case_id = new_case(session, world, "red", at=at(2026, 9, 10))
    evaluate_month(session, month=OCT, as_of=LATER)
    evaluate_month(session, month=NOV, as_of=LATER)
    rows = (
        session.connection()
        .execute(sa.select(sa.func.count()).select_from(RegionMonth))
        .scalar_one()
    )
    evaluate_month(session, month=OCT, as_of=LATER)
    again = (
        session.connection()
        .execute(sa.select(sa.func.count()).select_from(RegionMonth))
        .scalar_one()
    )
    assert rows == again
    assert month_row(session, world, NOV).streak == 3  # Sep, Oct, Nov
    # October re-decided as not counting (here: its row rewritten by hand, as a data correction
    # would): re-evaluating September recomputes the streaks of the months after it.
    session.connection().execute(
        sa.update(RegionMonth).where(RegionMonth.month == OCT).values(counts=False, streak=0)
    )
    evaluate_month(session, month=date(2026, 9, 1), as_of=LATER)
    assert month_row(session, world, NOV).streak == 1
    assert case_id


def test_a_month_that_has_not_ended_is_refused(session, world):
    import pytest

    with pytest.raises(ValueError):
        evaluate_month(session, month=NOV, as_of=at(2026, 11, 30, 23, 59))


def test_the_streak_board_shows_two_month_streaks_in_scope(session, world):
    new_case(session, world, "red", at=at(2026, 9, 10))
    new_case(
        session,
        world,
        "red",
        region="ningxian",
        unit="ningxian_agri",
        assignee="zhao_lei",
        at=at(2026, 9, 10),
    )
    evaluate_month(session, month=OCT, as_of=LATER)
    province = streak_board(session, actor=world.actors["gao_jun"])
    assert [(r.region_name, r.streak) for r in province] == [("安县", 2), ("宁县", 2)]
    assert province[0].streak_start == date(2026, 9, 1)
    assert [r.region_name for r in streak_board(session, actor=world.actors["li_na"])] == ["安县"]


def test_the_monthly_job_runs_only_on_the_first_working_day(cli_db):
    """1–7 October 2026 is the National Day holiday: October's first working day is Thursday
    8 October."""
    from models.db import get_engine
    from runtime.jobs import JOBS, run_now

    engine = get_engine(cli_db)
    job = JOBS["evaluate_streaks"]
    early = run_now(engine, job, as_of=at(2026, 10, 1, 6))  # a holiday, before the 8th
    assert early.outcome == "skipped" and "不是本月第一个工作日（10月08日）" in early.message
    ran = run_now(engine, job, as_of=at(2026, 10, 8, 6))
    assert ran.outcome == "ok", ran.message
    assert "2026年09月" in ran.message and "补跑" not in ran.message
    skipped = run_now(engine, job, as_of=at(2026, 10, 9, 6))
    assert skipped.outcome == "skipped" and "本月已于 2026-10-08 06:00 运行" in skipped.message
    assert run_now(engine, job, as_of=at(2026, 11, 2, 6)).outcome == "ok"  # Monday 2 November
    assert run_now(engine, job, as_of=at(2026, 11, 3, 6)).outcome == "skipped"


def test_a_month_whose_first_working_day_was_missed_runs_at_the_next_tick(cli_db):
    """The service was down from Sunday 1 to Tuesday 3 November 2026 (the first working day
    is Monday 2 November): the three-month rule runs on the 3rd instead of a month late."""
    from models.db import get_engine
    from runtime.jobs import JOBS, run_now

    engine = get_engine(cli_db)
    job = JOBS["evaluate_streaks"]
    late = run_now(engine, job, as_of=at(2026, 11, 3, 6))
    assert late.outcome == "ok", late.message
    assert late.message.startswith("补跑：本月第一个工作日（11月02日）未运行。") and "2026年10月" in late.message
    again = run_now(engine, job, as_of=at(2026, 11, 4, 6))
    assert again.outcome == "skipped" and "本月已于 2026-11-03 06:00 运行" in again.message
    # The monthly drafting catches up the same way (its own first-working-day check is the
    # runtime's now).
    drafted = run_now(engine, JOBS["draft_monthly_reports"], as_of=at(2026, 11, 3, 7))
    assert drafted.outcome == "ok" and drafted.message.startswith("补跑") and "未起草" not in drafted.message


# -- the month boundary as a property ----------------------------------------------------------

# Moments around the ends of August, September and October 2026 (Shanghai wall clock), where
# an off-by-one in the boundary or the time zone would show.
MOMENTS = [
    at(2026, 8, 5), at(2026, 8, 31, 23, 59), at(2026, 9, 1, 0, 0), at(2026, 9, 1, 7, 59),
    at(2026, 9, 15), at(2026, 9, 30, 23, 59), at(2026, 10, 1, 0, 1), at(2026, 10, 20),
    at(2026, 10, 31, 23, 0), at(2026, 11, 1, 8, 30),
]  # fmt: skip
MONTHS = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spans=st.lists(
        st.tuples(
            st.integers(0, len(MOMENTS) - 1), st.one_of(st.none(), st.integers(0, len(MOMENTS) - 1))
        ),
        min_size=1,
        max_size=4,
    )
)
# Resolved at the very first instant of September: it was still open at August's last one.
@example(spans=[(0, 2)])
@example(spans=[(1, None), (4, 6)])
def test_a_month_counts_exactly_when_a_case_was_open_at_its_last_instant(session, world, spans):
    """Li Na's red lights raised and resolved at random moments around month ends: the stored
    months agree with the rule read literally."""
    from models import Case
    from models.enums import Resolution, State

    savepoint = session.begin_nested()
    try:
        cases = []
        for raised, closed in spans:
            raised_at = MOMENTS[raised]
            closed_at = MOMENTS[closed] if closed is not None and closed > raised else None
            case_id = new_case(session, world, "red", at=raised_at)
            if closed_at is not None:
                session.connection().execute(
                    sa.update(Case).where(Case.id == case_id).values(
                        state=State.GREEN, resolution=Resolution.RECTIFIED, closed_at=closed_at,
                        updated_at=closed_at,
                    )
                )  # fmt: skip
            cases.append((raised_at, closed_at))
        evaluate_month(session, month=MONTHS[-1], as_of=LATER)
        for month in MONTHS:
            end = month_boundary(month)
            expected = sum(1 for r, c in cases if r < end and (c is None or c >= end))
            row = month_row(session, world, month)
            assert (row.counts, row.open_red) == (expected > 0, expected), (month, cases)
    finally:
        savepoint.rollback()
