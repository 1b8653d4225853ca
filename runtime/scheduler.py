"""The embedded scheduler: APScheduler 3 inside `warnflow serve`, cron ticks in Asia/Shanghai.

Every `serve` process runs one; the job_lease table (runtime/jobs.py) makes each tick run in
one process only. Jobs live in APScheduler's memory store: the database, not APScheduler, is
what several processes share. A tick missed while the process was down is run once on start
(`catch_up`), if it is within the job's grace; a tick APScheduler fires late (busy pool) is
coalesced and still run within the same grace.

No Prefect import here: importing prefect costs seconds and ~100 MB.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine

from models.scheduling import JobRun
from runtime.jobs import JOBS, Job, run_period, runner_id
from workflows.core.calendar import LOCAL_TZ
from workflows.core.clock import now_utc

log = logging.getLogger("warnflow.scheduler")


class EmbeddedScheduler:
    """APScheduler firing the registry's jobs through the lease; start() catches up first."""

    def __init__(
        self,
        engine: Engine,
        *,
        jobs: dict[str, Job] | None = None,
        holder: str | None = None,
        clock: Callable[[], datetime] = now_utc,
    ):
        self.engine = engine
        self.jobs = JOBS if jobs is None else jobs
        self.holder = holder or runner_id()
        self.clock = clock
        # SQLite: one job at a time. Two jobs writing at once (the sweep and the outbox at the
        # same tick) made SQLite answer "database is locked" to the one whose read snapshot
        # went stale, without waiting (seen with `warnflow serve`).
        workers = 1 if engine.dialect.name == "sqlite" else 4
        # The catch-up thread and the pool take turns on SQLite for the same reason.
        self._one_at_a_time = threading.Lock() if engine.dialect.name == "sqlite" else None
        self.scheduler = BackgroundScheduler(
            timezone=LOCAL_TZ,
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        for job in self.jobs.values():
            self.scheduler.add_job(
                self.fire,
                trigger=job.trigger(),
                args=[job.name],
                id=job.name,
                name=job.description,
                misfire_grace_time=int(job.grace.total_seconds()),
                replace_existing=True,
            )

    def fire(self, name: str) -> JobRun | None:
        """One tick of one job, as APScheduler calls it (and as tests drive it)."""
        job = self.jobs[name]
        try:
            if self._one_at_a_time is not None:
                with self._one_at_a_time:
                    run = run_period(self.engine, job, as_of=self.clock(), holder=self.holder)
            else:
                run = run_period(self.engine, job, as_of=self.clock(), holder=self.holder)
        except Exception:  # database away: log and let the next tick try again
            log.exception("job %s could not be started", name)
            return None
        if run is not None:
            level = logging.WARNING if run.outcome == "error" else logging.INFO
            log.log(
                level, "job %s for %s: %s %s", name, run.scheduled_for, run.outcome, run.message
            )
        return run

    def catch_up(self) -> list[JobRun]:
        """Run, once, each job's latest tick that nobody ran (within its grace)."""
        return [run for name in self.jobs if (run := self.fire(name)) is not None]

    def start(self, *, catch_up: bool = True) -> None:
        if catch_up:
            self.catch_up()
        self.scheduler.start()
        log.info("embedded scheduler started (%s): %s", self.holder, ", ".join(self.jobs))

    def shutdown(self) -> None:
        if self.scheduler.running:
            # Waiting lets a running job record its outcome before the process exits.
            self.scheduler.shutdown(wait=True)

    def next_runs(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs()}


def start_embedded(settings, engine: Engine) -> EmbeddedScheduler | None:
    """The scheduler `serve` runs, unless settings hand the jobs to Prefect or to nobody."""
    if settings.scheduler != "embedded":
        log.info("embedded scheduler off (WARNFLOW_SCHEDULER=%s)", settings.scheduler)
        return None
    scheduler = EmbeddedScheduler(engine)
    # Catching up may run a sweep: do it beside the app, not before it answers. A thread of
    # its own rather than a one-off APScheduler job, which a quick shutdown could remove
    # while APScheduler was about to (JobLookupError in the scheduler's thread).
    scheduler.start(catch_up=False)
    threading.Thread(target=scheduler.catch_up, name="warnflow-catch-up", daemon=True).start()
    return scheduler
