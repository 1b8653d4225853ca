"""`warnflow jobs ...`: the periodic jobs — list them, run one now, serve them with Prefect."""

from datetime import datetime
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from models.db import get_engine, session_scope
from models.settings import get_settings
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


@jobs_app.command("list")
def jobs_list() -> None:
    """Each job: its cron (Asia/Shanghai), next run and the outcome of its last run."""
    settings = get_settings()
    with session_scope() as session:
        last = last_runs(session)
        gaps = chain_gaps(session)
    now = now_utc()
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
        console.print(f"\n[bold]{job.name}[/]  {escape(job.description)}")
        console.print(f"  计划 {escape(job.cron)}   下次运行 {upcoming}")
        console.print(f"  上次运行 {escape(last_line)}")
    # The monthly report job drafts every region's report; say which ones nobody can move.
    if gaps:
        console.print(f"\n[bold red]以下 {len(gaps)} 个报送月报的区划缺少办理人员，月报无法流转：[/]")
        for gap in gaps:
            console.print(f"  {escape(gap.line)}")


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


@jobs_app.command("prefect-serve")
def jobs_prefect_serve() -> None:
    """Register every job as a Prefect deployment with its cron and run them (flow.serve).

    Needs PREFECT_API_URL; the embedded scheduler should be off (WARNFLOW_SCHEDULER=prefect).
    """
    # Prefect is imported by this command only (the other commands and the web app never need it).
    from runtime.flows import serve_deployments

    serve_deployments()
