"""`warnflow jobs ...`: the periodic jobs — list them (and which are late), run one now, wait for one.

Exit codes: 0 fine, 1 a job failed, 2 bad input, 3 `list` found a late job, 4 `wait` timed out.
"""

import time
from datetime import datetime
from typing import Annotated, NoReturn

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import select

from models.db import get_engine, session_scope
from models.scheduling import JobRun
from models.settings import get_settings
from models.types import utcnow
from runtime.health import job_health
from runtime.jobs import JOBS, get_job, last_runs, next_run, run_now
from workflows.core.calendar import LOCAL_TZ
from workflows.core.clock import now_utc
from workflows.reporting.staffing import chain_gaps

jobs_app = typer.Typer(help="定时任务：巡检、通知发送、每日摘要（periodic jobs）", no_args_is_help=True)

console = Console(soft_wrap=True)
err = Console(stderr=True)

_OUTCOMES = {"ok": "成功", "error": "失败", "skipped": "跳过", "running": "运行中", "abandoned": "中断"}
_MODES = {"embedded": "内置调度（warnflow serve）", "prefect": "Prefect 调度", "off": "已关闭"}


def _fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]错误：[/]{escape(message)}")
    raise typer.Exit(code)


def _local(ts: datetime | None) -> str:
    return ts.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if ts else "—"


def parse_as_of(value: str | None) -> datetime:
    """An ISO time; without an offset it is Shanghai time (what operators type)."""
    if value is None:
        return now_utc()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of：无法识别的时间 {value}（例如 2026-12-01T09:00+08:00）")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


LATE_EXIT = 3
TIMEOUT_EXIT = 4


@jobs_app.command("list")
def jobs_list() -> None:
    """Each job: its cron (Asia/Shanghai), next run, its last run, and whether it is late.

    Late: no successful run for more than twice the job's period (nothing is running the
    jobs). Exits 3 when a job is late, so a monitoring check can run this command.
    """
    settings = get_settings()
    now = now_utc()
    with session_scope() as session:
        last = last_runs(session)
        health = {row.name: row for row in job_health(session, now=now)}
        gaps = chain_gaps(session)
    # One block per job: a table with descriptions and messages folds every cell in 80 columns.
    console.print(f"定时任务（{_MODES[settings.scheduler]}，时区 Asia/Shanghai）")
    for job in JOBS.values():
        run = last.get(job.name)
        upcoming = _local(next_run(job, now)) if settings.scheduler != "off" else "—"
        if run is None:
            last_line = "从未运行"
        else:
            outcome = _OUTCOMES.get(run.outcome, run.outcome)
            last_line = f"{_local(run.scheduled_for)} {outcome}"
            if run.message:
                last_line += f"：{run.message[:120]}"
        state = health[job.name]
        console.print(f"\n[bold]{job.name}[/]  {escape(job.description)}")
        note = f"（{job.calendar_note}）" if job.calendar_note else ""
        console.print(f"  计划 {escape(job.cron)}{escape(note)}   下次运行 {upcoming}")
        console.print(f"  上次运行 {escape(last_line)}")
        if state.dead_runs:
            console.print(f"  [bold red]有 {state.dead_runs} 次运行已中断[/]（心跳停止，进程已退出）")
        if state.late:
            console.print(f"  [bold red]已延误：{escape(state.late_by)}[/]"
                          f"（上次成功 {_local(state.last_success)}）")
    # The monthly report job drafts every region's report; say which ones nobody can move.
    if gaps:
        console.print(f"\n[bold red]以下 {len(gaps)} 个报送月报的区划缺少办理人员，月报无法流转：[/]")
        for gap in gaps:
            console.print(f"  {escape(gap.line)}")
    late = [name for name, state in health.items() if state.late]
    if late:
        err.print(f"[bold red]延误的任务：[/]{'、'.join(late)}（检查调度：warnflow serve 或 Prefect worker 是否在运行）")
        raise typer.Exit(LATE_EXIT)


@jobs_app.command("run")
def jobs_run(
    name: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="按此时刻运行 (ISO, 默认现在)")] = None,
) -> None:
    """Run one job now (for `--as-of`), whatever the schedule; the run is recorded."""
    try:
        job = get_job(name)
    except KeyError as error:
        _fail(error.args[0])
    moment = parse_as_of(as_of)
    run = run_now(get_engine(), job, as_of=moment, runner="cli")
    label = _OUTCOMES.get(run.outcome, run.outcome)
    line = f"{job.name}（{_local(moment)}）：{label}"
    if run.outcome == "error":
        _fail(f"{line}。{run.message}", code=1)
    console.print(escape(f"{line}。{run.message}" if run.message else line))


@jobs_app.command("wait")
def jobs_wait(
    name: str,
    timeout: Annotated[int, typer.Option("--timeout", help="最多等待秒数")] = 180,
    since: Annotated[
        str | None, typer.Option("--since", help="只算此时刻之后开始的运行 (ISO, 默认现在)")
    ] = None,
) -> None:
    """Wait until a run of the job that started after `--since` has finished; print it.

    The smoke test of a set-up: `warnflow jobs wait dispatch_notifications` returns once the
    scheduler (embedded or Prefect) has run the next tick. Exits 1 if that run failed, 4 if
    none finished within the timeout.
    """
    try:
        job = get_job(name)
    except KeyError as error:
        _fail(error.args[0])
    after = parse_as_of(since) if since else utcnow()
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            run = session.exec(
                select(JobRun)
                .where(JobRun.job_name == job.name, JobRun.started_at >= after,
                       JobRun.outcome != "running")
                .order_by(sa.desc(JobRun.id))
            ).first()
        if run is not None:
            break
        if time.monotonic() > deadline:
            _fail(f"{timeout} 秒内没有 {job.name} 的运行完成（调度是否在运行？warnflow jobs list）",
                  code=TIMEOUT_EXIT)
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
    label = _OUTCOMES.get(run.outcome, run.outcome)
    line = f"{job.name}（{_local(run.scheduled_for)}，{run.runner}）：{label}"
    if run.outcome in ("error", "abandoned"):
        _fail(f"{line}。{run.message}", code=1)
    console.print(escape(f"{line}。{run.message}" if run.message else line))
