"""Several `serve` processes, one database: each job's tick runs once, missed ticks once on start."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.db import make_engine
from models.migrate import upgrade
from models.scheduling import JobLease, JobRun
from runtime.jobs import Job
from runtime.scheduler import EmbeddedScheduler, start_embedded
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from workflows.core.calendar import LOCAL_TZ

TEN_O_CLOCK = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Shanghai, a Monday


@pytest.fixture(scope="module")
def shared_pg_url():
    require_postgres()
    url = create_pg_database("warnflow_scheduler")
    upgrade(url)
    yield url
    drop_pg_database(url)


@pytest.fixture
def three_engines(shared_pg_url):
    engines = [make_engine(shared_pg_url) for _ in range(3)]
    yield engines
    with engines[0].begin() as connection:
        connection.execute(sa.delete(JobRun.__table__))
        connection.execute(sa.delete(JobLease.__table__))
    for engine in engines:
        engine.dispose()


class Counter:
    """A job function that remembers every moment it ran for."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ran_for: list[datetime] = []

    def __call__(self, engine, *, as_of):
        with self.lock:
            self.ran_for.append(as_of)
        return "counted"


def schedulers(engines, job, clock):
    return [
        EmbeddedScheduler(engine, jobs={job.name: job}, holder=f"serve-{i}", clock=clock)
        for i, engine in enumerate(engines)
    ]


def fire_together(procs, name):
    barrier = threading.Barrier(len(procs))

    def fire(proc):
        barrier.wait()
        proc.fire(name)

    threads = [threading.Thread(target=fire, args=(proc,)) for proc in procs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_three_schedulers_on_one_postgresql_run_each_sweep_tick_once(three_engines):
    counter = Counter()
    job = Job("sweep_like", counter, "*/5 * * * *", "test", lookback=timedelta(minutes=11))
    now = {"t": TEN_O_CLOCK}
    procs = schedulers(three_engines, job, lambda: now["t"])
    ticks = [TEN_O_CLOCK + timedelta(minutes=5 * k) for k in range(4)]
    for tick in ticks:
        # Each process fires on the tick, a little late, and again later in the period.
        for delay in (timedelta(0), timedelta(seconds=2), timedelta(minutes=3)):
            now["t"] = tick + delay
            fire_together(procs, job.name)
    assert sorted(counter.ran_for) == ticks
    with Session(three_engines[0]) as session:
        runs = session.exec(select(JobRun).order_by(JobRun.scheduled_for)).all()
        leases = session.exec(select(JobLease)).all()
    assert [run.scheduled_for for run in runs] == ticks
    assert {run.outcome for run in runs} == {"ok"}
    assert len(leases) == 4 and {lease.holder for lease in leases} <= {"serve-0", "serve-1", "serve-2"}


def test_a_tick_missed_while_every_process_was_down_is_caught_up_once_on_start(three_engines):
    counter = Counter()
    job = Job("sweep_like", counter, "*/5 * * * *", "test", lookback=timedelta(minutes=11))
    now = {"t": TEN_O_CLOCK}
    procs = schedulers(three_engines, job, lambda: now["t"])
    procs[0].fire(job.name)  # 10:00 ran; then all processes stop until 10:17
    now["t"] = TEN_O_CLOCK + timedelta(minutes=17)
    starters = [threading.Thread(target=proc.start) for proc in procs]
    try:
        for thread in starters:
            thread.start()
        for thread in starters:
            thread.join()
        # 10:05, 10:10 and 10:15 were missed: caught up once, as the latest tick (coalesced).
        assert counter.ran_for == [TEN_O_CLOCK, TEN_O_CLOCK + timedelta(minutes=15)]
        next_runs = procs[0].next_runs()
        assert next_runs["sweep_like"].tzinfo is not None
        assert str(next_runs["sweep_like"].tzinfo) == str(LOCAL_TZ)
    finally:
        for proc in procs:
            proc.shutdown()


def test_on_sqlite_one_process_runs_its_jobs_and_records_them(engine):
    counter = Counter()
    job = Job("minutely", counter, "* * * * *", "test", lookback=timedelta(minutes=3))
    proc = EmbeddedScheduler(engine, jobs={job.name: job}, holder="solo",
                             clock=lambda: TEN_O_CLOCK + timedelta(seconds=30))
    try:
        assert [run.outcome for run in proc.catch_up()] == ["ok"]
        assert proc.fire(job.name) is None  # the same minute: already done
        assert counter.ran_for == [TEN_O_CLOCK]
    finally:
        with engine.begin() as connection:
            connection.execute(sa.delete(JobRun.__table__))
            connection.execute(sa.delete(JobLease.__table__))


@pytest.mark.parametrize("mode", ["prefect", "off"])
def test_prefect_or_off_mode_starts_no_embedded_scheduler(mode, engine):
    from models.settings import Settings

    assert start_embedded(Settings(scheduler=mode), engine) is None


def test_an_operator_lists_the_jobs_and_runs_the_sweep_by_hand(cli_db):
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    before = runner.invoke(app, ["jobs", "list"])
    assert before.exit_code == 0, before.output
    for name in ("sweep", "dispatch_notifications", "daily_digest", "*/5 * * * *", "从未运行"):
        assert name in before.output
    ran = runner.invoke(app, ["jobs", "run", "sweep", "--as-of", "2026-11-23T09:05"])
    with Session(make_engine(cli_db)) as session:
        run = session.exec(select(JobRun)).one()
    assert run.scheduled_for == datetime(2026, 11, 23, 1, 5, tzinfo=UTC)  # 09:05 Shanghai
    assert run.runner == "cli"
    # A job that failed exits non-zero with its message; one that ran prints what it did.
    assert ran.exit_code == (0 if run.outcome == "ok" else 1), ran.output
    after = runner.invoke(app, ["jobs", "list"])
    assert "2026-11-23 09:05" in after.output


def test_running_an_unknown_job_names_the_known_ones(cli_db):
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, ["jobs", "run", "sweeep"])
    assert result.exit_code == 2
    assert "sweeep" in result.output and "daily_digest" in result.output


def test_serve_starts_the_embedded_scheduler_and_stops_it_with_the_server(cli_db, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from api.cli import app
    from models.settings import get_settings
    from runtime import scheduler as scheduler_module
    seen = {}
    real_start = scheduler_module.start_embedded

    def start(settings, engine):
        seen["scheduler"] = real_start(settings, engine)
        return seen["scheduler"]

    def fake_run(app_, host, port):
        from fastapi.testclient import TestClient

        # The app's lifespan as uvicorn drives it: started, serving, then shut down (SIGTERM).
        with TestClient(app_):
            seen["running_while_serving"] = seen["scheduler"].scheduler.running

    monkeypatch.setenv("WARNFLOW_DEMO", "1")
    get_settings.cache_clear()
    monkeypatch.setattr(scheduler_module, "start_embedded", start)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert seen["running_while_serving"] is True
    assert seen["scheduler"].scheduler.running is False


def test_on_sqlite_jobs_run_one_at_a_time(engine):
    proc = EmbeddedScheduler(engine, jobs={}, holder="solo")
    expected = 1 if engine.dialect.name == "sqlite" else 4
    assert proc.scheduler._executors["default"]._pool._max_workers == expected
