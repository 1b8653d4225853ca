"""Periodic jobs: who runs which period (a lease row) and what each run did (a job_run row)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow


class JobLease(SQLModel, table=True):
    """One row per (job, period): the process that inserted it runs that period, nobody else.

    Several `serve` processes fire the same cron tick; INSERT … ON CONFLICT DO NOTHING decides
    which one runs it, so each period runs once however many schedulers are up.
    """

    __tablename__ = "job_lease"

    job_name: str = Field(primary_key=True, max_length=64)
    # The cron tick (UTC) this lease is for.
    period_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    # "host:pid" of an embedded scheduler, or "prefect:<flow run id>": a retry of the same
    # flow run may take its own lease again.
    holder: str = Field(max_length=128)
    acquired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """What one run of a job did; `warnflow jobs list` shows the last one per job."""

    __tablename__ = "job_run"
    __table_args__ = (sa.Index("ix_job_run_job_name_started_at", "job_name", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_name: str = Field(max_length=64)
    # The moment the run is for (`as_of`): the cron tick, or the time given by hand.
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A running run touches this every few seconds (runtime.jobs.HEARTBEAT): a run whose
    # heartbeat stopped died with its process, whatever its job's usual length.
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # running | ok | error | skipped | abandoned. A run whose process died (heartbeat
    # stopped) is closed as "abandoned", a failure, by the next run of its job or the check
    # in `warnflow jobs list`; the next run takes its tick over.
    outcome: str = Field(default="running", max_length=16)
    message: str = Field(default="", sa_type=sa.Text)
    # Who ran it: "host:pid", "prefect:<flow run id>" or "cli".
    runner: str = Field(default="", max_length=128)
