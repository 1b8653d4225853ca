"""The job registry and one run of a job: ticks in Shanghai time, job_run rows, clear failures."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.scheduling import JobLease, JobRun
from runtime.jobs import (
    JOBS,
    Job,
    acquire_lease,
    get_job,
    last_runs,
    next_run,
    period_start,
    run_now,
    run_period,
)

# Monday 2026-11-23 09:02 in Shanghai.
MONDAY_0902 = datetime(2026, 11, 23, 1, 2, tzinfo=UTC)


@pytest.fixture
def committing_engine(engine):
    """The session-wide engine; job runs commit, so this test's rows are deleted afterwards."""
    yield engine
    with engine.begin() as connection:
        connection.execute(sa.delete(JobRun.__table__))
        connection.execute(sa.delete(JobLease.__table__))


def greet(session: Session, *, as_of: datetime) -> str:
    return f"hello at {as_of:%H:%M}"


def explode(engine, *, as_of: datetime) -> None:
    raise ValueError("数据库里没有这个县")


def test_the_registry_has_the_sweep_notifications_and_digest_on_shanghai_crons():
    assert {"sweep", "dispatch_notifications", "daily_digest"} <= set(JOBS)
    after = MONDAY_0902
    assert next_run(JOBS["sweep"], after) == datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
    assert next_run(JOBS["dispatch_notifications"], after) == datetime(
        2026, 11, 23, 1, 3, tzinfo=UTC
    )
    # 08:30 Shanghai is 00:30 UTC; 09:02 is past it, so the next digest is Tuesday's.
    assert next_run(JOBS["daily_digest"], after) == datetime(2026, 11, 24, 0, 30, tzinfo=UTC)


def test_the_period_of_a_moment_is_the_latest_tick_at_or_before_it():
    assert period_start(JOBS["sweep"], MONDAY_0902) == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    on_the_tick = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
    assert period_start(JOBS["sweep"], on_the_tick) == on_the_tick
    assert period_start(JOBS["daily_digest"], MONDAY_0902) == datetime(
        2026, 11, 23, 0, 30, tzinfo=UTC
    )


def test_an_unknown_job_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="sweep"):
        get_job("sweeep")


def test_a_run_records_when_it_was_for_and_what_it_did(committing_engine):
    job = Job("greet", greet, "*/5 * * * *", "test")
    run = run_now(committing_engine, job, as_of=MONDAY_0902, runner="cli")
    assert (run.outcome, run.message) == ("ok", "hello at 01:02")
    assert run.scheduled_for == MONDAY_0902 and run.finished_at >= run.started_at
    with Session(committing_engine) as session:
        assert last_runs(session)["greet"].id == run.id


def test_a_failing_job_is_recorded_as_an_error_with_its_message(committing_engine):
    run = run_now(
        committing_engine, Job("explode", explode, "* * * * *", "test"), as_of=MONDAY_0902
    )
    assert run.outcome == "error"
    assert "数据库里没有这个县" in run.message


def test_a_job_whose_function_is_not_in_the_tree_says_so_and_does_not_pretend(committing_engine):
    job = Job("ghost", "workflows.no_such_module:sweep", "* * * * *", "test")
    run = run_now(committing_engine, job, as_of=MONDAY_0902)
    assert run.outcome == "error"
    assert "workflows.no_such_module" in run.message and "尚未实现" in run.message


def test_the_digest_does_not_run_on_a_public_holiday(committing_engine, monkeypatch):
    calls = []
    digest = Job(
        "digest",
        lambda engine, *, as_of: calls.append(as_of),
        "30 8 * * *",
        "test",
        working_days_only=True,
    )
    national_day = datetime(2026, 10, 1, 0, 30, tzinfo=UTC)
    assert run_now(committing_engine, digest, as_of=national_day).outcome == "skipped"
    assert (
        run_now(committing_engine, digest, as_of=datetime(2026, 11, 23, 0, 30, tzinfo=UTC)).outcome
        == "ok"
    )
    assert len(calls) == 1


def test_a_tick_is_run_by_the_first_holder_only_and_a_retry_of_that_holder_may_run_it_again(
    committing_engine,
):
    tick = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert acquire_lease(committing_engine, job_name="sweep", period=tick, holder="a:1")
    assert not acquire_lease(committing_engine, job_name="sweep", period=tick, holder="b:2")
    assert not acquire_lease(committing_engine, job_name="sweep", period=tick, holder="a:1")
    assert acquire_lease(
        committing_engine, job_name="sweep", period=tick, holder="a:1", retake=True
    )
    assert not acquire_lease(
        committing_engine, job_name="sweep", period=tick, holder="b:2", retake=True
    )


def test_a_tick_older_than_the_grace_is_not_caught_up(committing_engine):
    job = Job("greet", greet, "30 8 * * *", "test", grace=timedelta(hours=3))
    late = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 Shanghai, 3.5 h after the tick
    assert run_period(committing_engine, job, as_of=late, holder="a:1") is None
    in_time = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    run = run_period(committing_engine, job, as_of=in_time, holder="a:1")
    assert run.scheduled_for == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    with Session(committing_engine) as session:
        assert len(session.exec(select(JobLease)).all()) == 1


def test_a_month_end_job_whose_process_died_is_taken_over_once_after_its_timeout(committing_engine):
    """Process a:1 took the 06:00 tick and was killed mid-run (its job_run stays "running").
    Before the timeout nobody may take it; after, exactly one process reruns it and the dead
    run is marked abandoned."""
    job = Job(
        "monthly", greet, "0 6 * * *", "test", grace=timedelta(days=3), timeout=timedelta(hours=1)
    )
    tick = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # 06:00 Shanghai on 1 December
    assert acquire_lease(committing_engine, job_name="monthly", period=tick, holder="a:1", now=tick)
    with Session(committing_engine) as session:
        session.add(JobRun(job_name="monthly", scheduled_for=tick, runner="a:1", started_at=tick))
        session.commit()

    soon = tick + timedelta(minutes=30)
    assert run_period(committing_engine, job, as_of=soon, holder="b:2") is None
    later = tick + timedelta(hours=2)
    run = run_period(committing_engine, job, as_of=later, holder="b:2")
    assert run is not None and run.outcome == "ok" and run.runner == "b:2"
    assert run_period(committing_engine, job, as_of=later, holder="c:3") is None, (
        "finished: nobody reruns it"
    )
    with Session(committing_engine) as session:
        outcomes = sorted(
            r.outcome for r in session.exec(select(JobRun).where(JobRun.job_name == "monthly"))
        )
        assert outcomes == ["abandoned", "ok"]
        assert (
            session.exec(select(JobLease).where(JobLease.job_name == "monthly")).one().holder
            == "b:2"
        )
