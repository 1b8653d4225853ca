"""Periodic jobs: the registry (name → function + cron in Asia/Shanghai) and how one run goes.

Both schedulers call this module and nothing else: the embedded APScheduler
(runtime/scheduler.py) and the Prefect flows (runtime/flows.py, generated from the registry)
are thin wrappers. The runtime sits above workflows and notifications, so the registry
imports the job functions themselves.

The function is called as `fn(session, *, as_of)` (committed by the runner; with
`commit=True` too if it takes a `commit` keyword) when its first parameter is called
`session`, otherwise as `fn(engine, *, as_of)`. Whatever it returns is the run's message (its
`.summary`, or its `.counts()` as "key=n, …").

A tick is the moment a run is for: the cron tick the scheduler fired for (the flow run's
scheduled start in Prefect), never "now" read inside the run. Exactly once per tick: before a
scheduled run, a `job_lease` row for (job, tick) is inserted with ON CONFLICT DO NOTHING; only
the process whose insert went in runs that tick. A running run touches `job_run.heartbeat_at`
every HEARTBEAT; one whose heartbeat stopped (its process was killed) is closed as failed
("abandoned", 中断) and its tick is taken over by the next process that tries it.
"""

import inspect
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.db import session_scope, writer
from models.scheduling import JobLease, JobRun
from models.settings import get_settings
from models.types import utcnow
from notifications import digest, federation
from runtime.mail import dispatch_notifications
from workflows.audit.nightly import nightly_check
from workflows.audit.seal import seal
from workflows.core.calendar import LOCAL_TZ, first_working_day, load_calendar, local_date
from workflows.escalation.sweep import sweep
from workflows.oversight.opening import evaluate_streaks
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.late_reports import escalate_late_reports

log = logging.getLogger("warnflow.jobs")

MAX_MESSAGE = 4000


# How often a running run touches its job_run row, and how long a silent one is presumed dead.
HEARTBEAT = timedelta(seconds=10)
DEAD_AFTER = timedelta(seconds=60)
# APScheduler and Prefect may start a run a little before its tick (Prefect rounds its wait to
# whole seconds): a tick this close ahead of the clock is the one being fired.
FIRE_TOLERANCE = timedelta(seconds=2)


@dataclass(frozen=True)
class Job:
    name: str
    target: Callable
    # Five-field crontab in Asia/Shanghai (day-of-week by name: APScheduler counts from Monday).
    cron: str
    description: str
    # A tick missed by at most this much (process down, busy) is still run once on start.
    grace: timedelta = timedelta(hours=1)
    # Longest gap between two ticks, with margin: how far back to look for the current tick.
    lookback: timedelta = timedelta(days=2)
    # Official working days only (the calendar with its 调休 overrides, not just Mon–Fri).
    working_days_only: bool = False
    # Only on the first working day of the month (monthly jobs: the three-month rule).
    first_working_day_of_month: bool = False

    def trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.cron, timezone=LOCAL_TZ)

    def period(self, around: datetime) -> timedelta:
        """The gap between the tick before `around` and the one after it (the job's period)."""
        trigger = self.trigger()
        before = period_start(self, around)
        if before is None:
            before = trigger.get_next_fire_time(None, around - self.lookback)
        after = trigger.get_next_fire_time(before, before + timedelta(microseconds=1))
        return after - before

    @property
    def calendar_note(self) -> str:
        """What the cron alone does not say: the calendar decides whether a tick does anything."""
        if self.first_working_day_of_month:
            return "仅每月第一个工作日执行（其余日子记为跳过）"
        if self.working_days_only:
            return "仅法定工作日执行（含调休，节假日记为跳过）"
        return ""


def _draft_monthly_reports(session: Session, *, as_of: datetime):
    """The monthly drafting as a job: the runtime has already decided that this tick is the
    month's run (its first working day, or the catch-up after an outage over it)."""
    return draft_monthly_reports(session, as_of=as_of, only_first_working_day=False)


_draft_monthly_reports.__wrapped_job__ = draft_monthly_reports  # what the job runs, for readers


def prune_job_history(session: Session, *, as_of: datetime) -> str:
    """Delete job runs and leases older than the retention (settings.job_history_days)."""
    cutoff = as_of - timedelta(days=get_settings().job_history_days)
    runs = session.execute(sa.delete(JobRun).where(JobRun.started_at < cutoff)).rowcount
    leases = session.execute(sa.delete(JobLease).where(JobLease.period_start < cutoff)).rowcount
    return f"已清理 {runs} 条运行记录、{leases} 条租约（{cutoff:%Y-%m-%d} 之前）"


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "sweep",
            sweep,
            "*/5 * * * *",
            "期限巡检：黄灯转换、逐级督办、生成督办申请和通知",
            grace=timedelta(hours=1),
            lookback=timedelta(minutes=11),
        ),
        Job(
            "dispatch_notifications",
            dispatch_notifications,
            "* * * * *",
            "发送待发通知（站内信、邮件、群机器人），失败按退避重试",
            grace=timedelta(minutes=30),
            lookback=timedelta(minutes=3),
        ),
        Job(
            "daily_digest",
            digest.build_digests,
            "30 8 * * *",
            "工作日 08:30 每日摘要：今日到期、已逾期、待我处理",
            grace=timedelta(hours=3),
            lookback=timedelta(days=2),
            working_days_only=True,
        ),
        Job(
            "evaluate_streaks",
            evaluate_streaks,
            "0 6 * * *",
            "每月第一个工作日 06:00 评估上月各市县是否计入三个月规则，开启专项督查和约谈",
            grace=timedelta(hours=12),
            lookback=timedelta(days=2),
            first_working_day_of_month=True,
        ),
        Job(
            "draft_monthly_reports", _draft_monthly_reports,
            "0 7 * * *",
            "每月第一个工作日 07:00 起草上月各县、市、省的预警情况月报（其余日子跳过）",
            grace=timedelta(hours=10), lookback=timedelta(days=2), first_working_day_of_month=True,
        ),
        Job(
            "escalate_late_reports", escalate_late_reports, "0 9 * * *",
            "逾期未报月报督办：超过第 5 个工作日未报送的月报逐级提醒国库及其负责人",
            grace=timedelta(hours=6), lookback=timedelta(days=2), working_days_only=True,
        ),
        Job(
            "dispatch_federation", federation.drain, "*/2 * * * *",
            "向上级系统推送已报送的月报（签名），失败按退避重试",
            grace=timedelta(minutes=30), lookback=timedelta(minutes=5),
        ),
        Job(
            "audit_seal", seal, "* * * * *",
            "封存审计记录：把新的审计记录接入散列链，并更新链尾文件",
            grace=timedelta(minutes=30), lookback=timedelta(minutes=3),
        ),
        Job(
            "audit_verify", nightly_check, "30 2 * * *",
            "每日 02:30 校验审计链：逐条重算摘要、核对链尾文件，未通过时通知系统管理员",
            grace=timedelta(hours=6), lookback=timedelta(days=2),
        ),
        Job(
            "prune_job_history",
            prune_job_history,
            "15 3 * * *",
            "清理过期的任务运行记录和租约",
            grace=timedelta(hours=12),
            lookback=timedelta(days=2),
        ),
    )
}


def get_job(name: str, jobs: dict[str, Job] | None = None) -> Job:
    jobs = JOBS if jobs is None else jobs
    try:
        return jobs[name]
    except KeyError:
        known = "、".join(jobs)
        raise KeyError(f"没有名为 {name} 的任务（可用：{known}）") from None


def runner_id() -> str:
    """Who runs a job from this process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def period_start(job: Job, as_of: datetime) -> datetime | None:
    """The latest cron tick at or before `as_of` (UTC), or None if none in the lookback."""
    trigger = job.trigger()
    tick = trigger.get_next_fire_time(None, as_of - job.lookback)
    latest = None
    while tick is not None and tick <= as_of:
        latest = tick
        tick = trigger.get_next_fire_time(tick, tick + timedelta(microseconds=1))
    return latest.astimezone(as_of.tzinfo) if latest is not None else None


def next_run(job: Job, after: datetime) -> datetime | None:
    return job.trigger().get_next_fire_time(None, after + timedelta(microseconds=1))


def acquire_lease(
    engine: Engine,
    *,
    job_name: str,
    period: datetime,
    holder: str,
    retake: bool = False,
    now: datetime | None = None,
) -> bool:
    """True if this holder runs (job, period): its insert went in; or, with `retake`, it
    already holds it (a retry of the same Prefect flow run); or the holder's run died (its
    heartbeat stopped, or it never started one) without finishing the period."""
    table = JobLease.__table__
    now = now or utcnow()
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(job_name=job_name, period_start=period, holder=holder, acquired_at=now)
        .on_conflict_do_nothing(index_elements=["job_name", "period_start"])
        .returning(table.c.holder)
    )
    with engine.begin() as connection:
        if connection.execute(statement).first() is not None:
            return True
        this = sa.and_(table.c.job_name == job_name, table.c.period_start == period)
        if _take_over(connection, this, job_name, period, holder, now):
            return True
        if not retake:
            return False
        current = connection.execute(sa.select(table.c.holder).where(this)).scalar_one_or_none()
    return current == holder


def _take_over(connection, this, job_name: str, period: datetime, holder: str, now: datetime) -> bool:
    """Move a dead holder's lease to `holder` (one conditional UPDATE: one taker wins) and
    close the dead run as failed ("abandoned"). Dead: the period has no finished run and no run whose
    heartbeat is recent, and the lease is older than DEAD_AFTER (its run may be starting)."""
    table, runs = JobLease.__table__, JobRun.__table__
    of_period = sa.and_(runs.c.job_name == job_name, runs.c.scheduled_for == period)
    finished = sa.exists().where(of_period, runs.c.outcome.not_in(["running", "abandoned"]))
    alive = sa.exists().where(
        of_period, runs.c.outcome == "running", _last_sign_of_life(runs) >= now - DEAD_AFTER
    )
    taken = connection.execute(
        sa.update(table)
        .where(this, table.c.acquired_at < now - DEAD_AFTER, ~finished, ~alive)
        .values(holder=holder, acquired_at=now)
        .returning(table.c.holder)
    ).first()
    if taken is None:
        return False
    _close_dead(connection, of_period, now, f"已由 {holder} 重新运行")
    return True


def _last_sign_of_life(runs) -> sa.ColumnElement:
    return sa.func.coalesce(runs.c.heartbeat_at, runs.c.started_at)


def _close_dead(connection, where, now: datetime, then: str) -> int:
    runs = JobRun.__table__
    return connection.execute(
        sa.update(runs)
        .where(where, runs.c.outcome == "running", _last_sign_of_life(runs) < now - DEAD_AFTER)
        .values(outcome="abandoned", finished_at=now,
                message=f"运行中断：进程未完成即退出（心跳停止），{then}")
    ).rowcount  # fmt: skip


def close_dead_runs(engine: Engine, *, now: datetime | None = None) -> int:
    """Close every run whose heartbeat stopped as failed ("abandoned": its process was killed)."""
    now = now or utcnow()
    with engine.begin() as connection:
        return _close_dead(connection, sa.true(), now, "等待下一次运行接手")


def _close_dead_runs_of(engine: Engine, job: Job, now: datetime) -> None:
    with engine.begin() as connection:
        _close_dead(connection, JobRun.__table__.c.job_name == job.name, now, "等待下一次运行接手")


class _Heartbeat:
    """Touches one job_run row every HEARTBEAT while its job runs (a thread of its own)."""

    def __init__(self, engine: Engine, run_id: int):
        self.engine, self.run_id = engine, run_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"job-heartbeat-{run_id}", daemon=True)

    def _beat(self) -> None:
        runs = JobRun.__table__
        while not self.stopped.wait(HEARTBEAT.total_seconds()):
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        sa.update(runs)
                        .where(runs.c.id == self.run_id, runs.c.outcome == "running")
                        .values(heartbeat_at=utcnow())
                    )
            except sa.exc.SQLAlchemyError:  # database busy or away: the next beat tries again
                log.warning("heartbeat of job run %s not written", self.run_id, exc_info=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join()


def run_now(engine: Engine, job: Job, *, as_of: datetime, runner: str = "cli") -> JobRun:
    """Run one job for `as_of` now, recording a job_run row; errors are recorded, not raised."""
    with session_scope(engine) as session:
        record = JobRun(job_name=job.name, scheduled_for=as_of, runner=runner, heartbeat_at=utcnow())
        session.add(record)
        session.flush()
        run_id = record.id
    try:
        with _Heartbeat(engine, run_id):
            outcome, message = _call(engine, job, as_of)
    except Exception as error:  # the row says what went wrong; the scheduler keeps going
        outcome, message = "error", f"{type(error).__name__}: {error}"
    with session_scope(engine) as session:
        record = session.get(JobRun, run_id)
        record.finished_at = utcnow()
        record.outcome = outcome
        record.message = message[:MAX_MESSAGE]
        session.add(record)
    return record


@dataclass(frozen=True)
class TickResult:
    """What became of one tick: the run, or why there was none (`skipped`)."""

    tick: datetime
    run: JobRun | None
    skipped: str = ""


def run_tick(
    engine: Engine,
    job: Job,
    *,
    tick: datetime,
    holder: str,
    now: datetime | None = None,
    retake: bool = False,
) -> TickResult:
    """Run the job for `tick` (a scheduled moment) unless that tick was already done.

    Skipped when another holder ran or runs it (a re-run of a tick), or when it is older than
    the job's grace and a later tick of the job is already due (runs piled up while nobody
    ran them: the latest is run, not each one).
    """
    now = now or utcnow()
    _close_dead_runs_of(engine, job, now)
    later = next_run(job, tick)
    if now - tick > job.grace and later is not None and later <= now + FIRE_TOLERANCE:
        return TickResult(tick, None, f"已过宽限期且已有更新的周期（{_local(later)}），未补跑")
    if not acquire_lease(engine, job_name=job.name, period=tick, holder=holder, retake=retake, now=now):
        return TickResult(tick, None, "本周期已由其他进程运行（或正在运行），未重复运行")
    return TickResult(tick, run_now(engine, job, as_of=tick, runner=holder))


def run_period(
    engine: Engine,
    job: Job,
    *,
    as_of: datetime,
    holder: str,
    grace: timedelta | None = None,
    retake: bool = False,
) -> JobRun | None:
    """Run the job's latest tick at or before `as_of` (a fire time: a tick up to
    FIRE_TOLERANCE ahead counts) unless another process already took it.

    None when there is no tick to run: taken by someone else, or older than the grace.
    """
    _close_dead_runs_of(engine, job, utcnow())
    tick = period_start(job, as_of + FIRE_TOLERANCE)
    if tick is None:
        return None
    if as_of - tick > (job.grace if grace is None else grace):
        return None
    if not acquire_lease(engine, job_name=job.name, period=tick, holder=holder, retake=retake):
        return None
    return run_now(engine, job, as_of=tick, runner=holder)


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest job_run per job name."""
    latest = (
        select(JobRun.job_name, sa.func.max(JobRun.id).label("id"))
        .group_by(JobRun.job_name)
        .subquery()
    )
    rows = session.exec(select(JobRun).join(latest, latest.c.id == JobRun.id)).all()
    return {row.job_name: row for row in rows}


def _call(engine: Engine, job: Job, as_of: datetime) -> tuple[str, str]:
    function = job.target
    catch_up = ""
    if job.working_days_only or job.first_working_day_of_month:
        today = local_date(as_of)
        with session_scope(engine) as session:
            calendar = load_calendar(session)
        if job.working_days_only and not calendar.is_working_day(today):
            return "skipped", f"{today:%Y-%m-%d} 不是工作日，未运行"
        if job.first_working_day_of_month:
            first = first_working_day(calendar, today)
            if today < first:
                return "skipped", f"{today:%Y-%m-%d} 不是本月第一个工作日（{first:%m月%d日}），未运行"
            if today > first:
                done = _ran_since(engine, job, first)
                if done is not None:
                    return "skipped", (f"{today:%Y-%m-%d} 不是本月第一个工作日，本月已于 "
                                       f"{_local(done)} 运行，未重复运行")  # fmt: skip
                # The first working day's run was lost (the service was down over it): the
                # month's work is done now rather than a month late.
                catch_up = f"补跑：本月第一个工作日（{first:%m月%d日}）未运行。"
    parameters = list(inspect.signature(function).parameters)
    # A function that can commit its own batches (the sweep) does so: a long run then holds
    # no transaction open and a killed run keeps the batches it finished.
    extra = {"commit": True} if "commit" in parameters else {}
    if parameters and parameters[0] == "session":
        # A job reads, then writes: on SQLite it waits its turn behind a request's write
        # instead of failing with "database is locked" (models.db.writer).
        with session_scope(writer(engine)) as session:
            result = function(session, as_of=as_of, **extra)
    else:
        result = function(engine, as_of=as_of)
    return "ok", catch_up + _describe(result)


def _ran_since(engine: Engine, job: Job, first: date) -> datetime | None:
    """When the job last ran successfully for a tick on or after the local day `first`."""
    since = datetime.combine(first, time(0), LOCAL_TZ)
    with session_scope(engine) as session:
        return session.exec(
            select(sa.func.max(JobRun.scheduled_for)).where(
                JobRun.job_name == job.name, JobRun.outcome == "ok", JobRun.scheduled_for >= since
            )
        ).one()


def _describe(result) -> str:
    if result is None:
        return ""
    if isinstance(result, int):
        return f"处理 {result} 项"
    summary = getattr(result, "summary", None)
    if summary is None and callable(getattr(result, "counts", None)):
        summary = ", ".join(f"{key}={value}" for key, value in result.counts().items())
    return str(summary if summary is not None else result)
