"""Is anything running the jobs? Each job's last successful run against its period.

A job is late when its last successful run (ok, or skipped by the calendar: the run happened
and decided there was nothing to do) finished longer ago than twice its period. That is what
a scheduler that runs nothing looks like from the database, whichever scheduler it is
(embedded, Prefect, or none because WARNFLOW_SCHEDULER=off was left on every process).

A job that never succeeded is late once the database has job runs older than twice its
period (the schedulers have been at work that long); on a database where no job ever ran,
nothing is late yet. Read-only: `warnflow jobs list` and /healthz call it; /healthz also
shows the last audit-chain verification (`audit_health`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models.scheduling import JobRun
from runtime.jobs import DEAD_AFTER, JOBS, Job
from workflows.audit.verify import last_checks

SUCCESS = ("ok", "skipped")


@dataclass(frozen=True)
class JobHealth:
    name: str
    period: timedelta
    last_success: datetime | None  # when the last successful run finished
    late: bool
    # A run still marked running whose heartbeat stopped: its process died.
    dead_runs: int

    @property
    def late_by(self) -> str:
        return f"超过 {_span(2 * self.period)} 未成功运行"


def job_health(session: Session, *, now: datetime, jobs: dict[str, Job] | None = None) -> list[JobHealth]:
    jobs = JOBS if jobs is None else jobs
    runs = JobRun.__table__
    last_success = dict(
        session.execute(
            sa.select(runs.c.job_name, sa.func.max(runs.c.finished_at))
            .where(runs.c.outcome.in_(SUCCESS))
            .group_by(runs.c.job_name)
        ).all()
    )
    last_sign = sa.func.coalesce(runs.c.heartbeat_at, runs.c.started_at)
    dead = dict(
        session.execute(
            sa.select(runs.c.job_name, sa.func.count())
            .where(runs.c.outcome == "running", last_sign < now - DEAD_AFTER)
            .group_by(runs.c.job_name)
        ).all()
    )
    first_run = session.execute(sa.select(sa.func.min(runs.c.started_at))).scalar()
    health = []
    for job in jobs.values():
        period = job.period(now)
        since = last_success.get(job.name) or first_run
        late = since is not None and now - since > 2 * period
        health.append(JobHealth(job.name, period, last_success.get(job.name), late, dead.get(job.name, 0)))
    return health


def late_jobs(session: Session, *, now: datetime) -> list[JobHealth]:
    return [job for job in job_health(session, now=now) if job.late]


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)} 天"
    if minutes % 60 == 0:
        return f"{minutes // 60} 小时"
    return f"{minutes} 分钟"


def audit_health(session: Session) -> dict:
    """The latest audit-chain verification (`warnflow audit verify` or the nightly job)."""
    checks = last_checks(session)
    last = checks.last
    return {
        "last_verified_at": last.at.isoformat() if last else None,
        "passed": last.passed if last else None,
        "last_passed_at": checks.last_passed_at.isoformat() if checks.last_passed_at else None,
        "links": last.links if last else 0,
        "message": last.message if last and not last.passed else "",
    }
