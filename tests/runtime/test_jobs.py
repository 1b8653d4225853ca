"""The job registry and one run of a job: ticks in Shanghai time, job_run rows, clear failures."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.scheduling import JobLease, JobRun
from models.types import utcnow
from runtime.jobs import (
    DEAD_AFTER,
    JOBS,
    Job,
    acquire_lease,
    close_dead_runs,
    get_job,
    last_runs,
    next_run,
    period_start,
    run_now,
    run_period,
    run_tick,
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


def test_every_registered_job_names_its_function_itself_not_a_string():
    assert all(callable(job.target) for job in JOBS.values())


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


def test_a_month_end_job_whose_process_died_is_taken_over_once_its_heartbeat_stopped(
    committing_engine,
):
    """Process a:1 took the 06:00 tick on 1 December and was killed mid-run: its job_run stays
    "running" and its heartbeat stops. While the heartbeat is fresh nobody may take the tick;
    once it is older than DEAD_AFTER exactly one process reruns it, the dead run is closed as
    failed, and nobody runs it a third time."""
    job = Job("monthly", greet, "0 6 * * *", "test", grace=timedelta(days=60))
    tick = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    now = utcnow()
    assert acquire_lease(committing_engine, job_name="monthly", period=tick, holder="a:1",
                         now=now - DEAD_AFTER * 3)
    with Session(committing_engine) as session:
        dead = JobRun(job_name="monthly", scheduled_for=tick, runner="a:1",
                      started_at=now - DEAD_AFTER * 3, heartbeat_at=now - DEAD_AFTER / 2)
        session.add(dead)
        session.commit()
        dead_id = dead.id

    assert run_tick(committing_engine, job, tick=tick, holder="b:2", now=now).run is None, (
        "its heartbeat is fresh: it is alive"
    )
    later = now + DEAD_AFTER
    rerun = run_tick(committing_engine, job, tick=tick, holder="b:2", now=later).run
    assert rerun is not None and rerun.outcome == "ok" and rerun.runner == "b:2"
    again = run_tick(committing_engine, job, tick=tick, holder="c:3", now=later)
    assert again.run is None and "已由其他进程运行" in again.skipped
    with Session(committing_engine) as session:
        closed = session.get(JobRun, dead_id)
        assert closed.outcome == "abandoned" and "心跳停止" in closed.message
        assert closed.finished_at is not None
        lease = session.exec(select(JobLease).where(JobLease.job_name == "monthly")).one()
        assert lease.holder == "b:2"


def test_a_flow_run_started_a_second_before_its_tick_runs_that_tick(committing_engine):
    """Prefect rounds its wait to whole seconds: the 09:05 run may start at 09:04:59. The tick is
    the scheduled time, not the clock, so 09:05 is done (not 09:00 again, nor nothing)."""
    job = Job("greet", greet, "*/5 * * * *", "test", lookback=timedelta(minutes=11))
    tick = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
    early = tick - timedelta(seconds=1)
    done = run_tick(committing_engine, job, tick=tick, holder="prefect:1", now=early)
    assert done.run is not None and done.run.scheduled_for == tick
    assert done.run.message == "hello at 01:05"


def test_the_embedded_scheduler_fired_a_second_early_runs_the_coming_tick(committing_engine):
    job = Job("greet", greet, "*/5 * * * *", "test", lookback=timedelta(minutes=11))
    tick = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
    run = run_period(committing_engine, job, as_of=tick - timedelta(seconds=1), holder="a:1")
    assert run is not None and run.scheduled_for == tick


def test_a_rerun_of_a_tick_that_ran_is_skipped_and_says_why(committing_engine):
    job = Job("greet", greet, "*/5 * * * *", "test", lookback=timedelta(minutes=11))
    tick = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
    assert run_tick(committing_engine, job, tick=tick, holder="prefect:1", now=tick).run
    rerun = run_tick(committing_engine, job, tick=tick, holder="prefect:2", now=tick)
    assert rerun.run is None and "未重复运行" in rerun.skipped
    # A retry of the same flow run (Prefect's retries) may run it again.
    retry = run_tick(committing_engine, job, tick=tick, holder="prefect:1", now=tick, retake=True)
    assert retry.run is not None


def test_runs_piled_up_past_their_grace_leave_the_work_to_the_latest_tick(committing_engine):
    """The worker was down from 09:00 to 11:00: Prefect hands it 25 late sweeps at once. Those
    past the grace with a later tick due are skipped; the ticks within the grace run."""
    calls = []
    job = Job("sweep_like", lambda engine, *, as_of: calls.append(as_of), "*/5 * * * *", "test",
              grace=timedelta(minutes=30), lookback=timedelta(minutes=11))
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    now = start + timedelta(hours=2)
    ticks = [start + timedelta(minutes=5 * k) for k in range(25)]
    results = [run_tick(committing_engine, job, tick=tick, holder=f"prefect:{i}", now=now)
               for i, tick in enumerate(ticks)]
    ran = [r.tick for r in results if r.run is not None]
    assert ran == [t for t in ticks if now - t <= timedelta(minutes=30)] == calls
    assert all("宽限期" in r.skipped for r in results if r.run is None)


def test_a_running_job_keeps_its_heartbeat_fresh(committing_engine, monkeypatch):
    from runtime import jobs as jobs_module

    monkeypatch.setattr(jobs_module, "HEARTBEAT", timedelta(milliseconds=50))
    seen = []

    def slow(engine, *, as_of):
        first = _heartbeat(engine)
        time.sleep(0.4)
        seen.extend([first, _heartbeat(engine)])

    run_now(committing_engine, Job("slow", slow, "* * * * *", "test"), as_of=MONDAY_0902)
    assert seen[1] > seen[0]


def _heartbeat(engine) -> datetime:
    with Session(engine) as session:
        return session.exec(select(JobRun).where(JobRun.outcome == "running")).one().heartbeat_at


def test_a_dead_run_is_closed_as_failed_and_a_live_one_is_left_alone(committing_engine):
    now = utcnow()
    with Session(committing_engine) as session:
        session.add(JobRun(job_name="sweep", scheduled_for=now, runner="a:1",
                           started_at=now - DEAD_AFTER * 2, heartbeat_at=now - DEAD_AFTER * 2))
        session.add(JobRun(job_name="sweep", scheduled_for=now, runner="b:2",
                           started_at=now - DEAD_AFTER * 2, heartbeat_at=now))
        session.commit()
    assert close_dead_runs(committing_engine, now=now) == 1
    with Session(committing_engine) as session:
        outcomes = {r.runner: r.outcome for r in session.exec(select(JobRun))}
    assert outcomes == {"a:1": "abandoned", "b:2": "running"}
