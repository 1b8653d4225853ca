"""Several `serve` processes, one database: each job's tick runs once, missed ticks once on start."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.db import make_engine
from models.migrate import upgrade
from models.scheduling import JobLease, JobRun
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from workflows.calendar import LOCAL_TZ
from workflows.jobs import Job
from workflows.scheduler import EmbeddedScheduler, start_embedded

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
