"""`warnflow`: the operator's command line (demo, serve, migrate, users, calendar, sweep, report, audit)."""

import os
import sys
from datetime import UTC
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.db import get_engine, session_scope
from models.enums import Role
from models.migrate import upgrade
from models.settings import ConfigError, get_settings
from workflows.admin.accounts import find_unit, get_user_by_username, list_users
from workflows.admin.handover import Handover
from workflows.admin.users import open_user, reset_password, revoke_user
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError
from workflows.demo import NAMED_LOGINS, demo_logins, load_demo
from workflows.escalation.sweep import sweep as run_sweep
from workflows.reporting.staffing import keeps_chains_staffed

from .cli_audit import audit_app
from .cli_backup import backup, restore
from .cli_calendar import calendar_app
from .cli_federation import federation_app
from .cli_import import import_app
from .cli_jobs import jobs_app, parse_as_of
from .cli_report import report_app
from .operator import operator

app = typer.Typer(
    help="warnflow：财政扶贫资金动态监控预警处理系统（fund-monitoring warning handling）",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(calendar_app, name="calendar")
app.add_typer(jobs_app, name="jobs")
app.add_typer(federation_app, name="federation")
app.add_typer(report_app, name="report")
app.add_typer(import_app, name="import")
app.add_typer(audit_app, name="audit")
# Top-level verbs rather than a group: an operator types `warnflow backup /srv/backups`.
app.command("backup")(backup)
app.command("restore")(restore)
users_app = typer.Typer(help="用户管理：开通、变更、停用账户（user accounts）", no_args_is_help=True)
app.add_typer(users_app, name="users")

# soft_wrap: a URL or a login must never be broken across lines, even in a log file.
console = Console(soft_wrap=True)
err = Console(stderr=True)

Host = Annotated[str | None, typer.Option(help="监听地址 (default: settings, 127.0.0.1)")]
Port = Annotated[int | None, typer.Option(help="端口 (default: settings, 8000)")]


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]错误：[/]{message}")
    raise typer.Exit(code)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic upgrade head)."""
    settings = get_settings()
    upgrade(settings.resolved_database_url)
    console.print(f"数据库已更新到最新结构（{settings.database_kind}）。")


@app.command()
def serve(host: Host = None, port: Port = None) -> None:
    """Serve the web app and API (refuses to start with default secrets outside the demo)."""
    # The web stack and the scheduler load only for the commands that serve, so that
    # `warnflow users …` and the other quick commands start at once.
    import uvicorn

    from runtime.scheduler import start_embedded

    from .app import create_app

    settings = get_settings()
    try:
        settings.check_can_serve()
    except ConfigError as error:
        fail(str(error), code=1)
    upgrade(settings.resolved_database_url)
    # Periodic jobs run inside this process unless WARNFLOW_SCHEDULER hands them to Prefect.
    scheduler = start_embedded(settings, get_engine(settings.resolved_database_url))
    # uvicorn re-raises SIGTERM once it has shut down, so the scheduler stops in the app's
    # shutdown (waiting for a running job), not after uvicorn.run returns.
    app = create_app(settings, on_shutdown=scheduler.shutdown if scheduler is not None else None)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port)


@app.command()
def demo(
    host: Host = None,
    port: Port = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="装载后启动服务")] = True,
) -> None:
    """Migrate the database, load the demo province once, print the logins, then serve.

    The database is WARNFLOW_DATABASE_URL's (PostgreSQL too), else a SQLite file under ./var/.
    With --no-serve it stops after loading: demo data for a set-up whose `serve` runs elsewhere.
    """
    os.environ["WARNFLOW_DEMO"] = "1"
    get_settings.cache_clear()
    settings = get_settings()
    upgrade(settings.resolved_database_url)
    try:
        with session_scope() as session:
            report = load_demo(session, password=settings.demo_password)
            logins = demo_logins(session)
    except DomainError as error:
        fail(f"演示数据未装载：{_describe(error)}（检查 WARNFLOW_DEMO_PASSWORD）")
    if report.created:
        console.print(f"已装载演示数据：{report.summary}")
    else:
        console.print("演示数据已存在，保留原有数据（未重复装载）。")
    url = f"http://{host or settings.host}:{port or settings.port}"
    table = Table(title=f"演示账户（密码均为 {settings.demo_password}，可用 WARNFLOW_DEMO_PASSWORD 修改）")
    for column in ("用户名", "角色", "姓名", "单位"):
        table.add_column(column)
    tutorial = {username for username, *_ in NAMED_LOGINS}
    for row in logins:
        if row[0] in tutorial:
            table.add_row(*row)
    console.print(table)
    # Agricultural-finance sections receive most warnings: show their people first.
    others = sorted((row for row in logins if row[0] not in tutorial),
                    key=lambda row: not row[0].startswith("nc"))
    if others:
        console.print(
            f"另有 {len(others)} 个各市县经办人、处室负责人账户（密码相同），例如："
            + "、".join(f"{u}（{unit}{role}）" for u, role, _, unit in others[:4])
            + "；完整名单：warnflow users list"
        )
    console.print(f"warnflow 演示已就绪：{url}  （健康检查 {url}/healthz）")
    if serve_after:
        serve(host=host, port=port)


@users_app.command("list")
def users_list() -> None:
    """List accounts with role, unit and status."""
    with session_scope() as session:
        rows = list_users(session)
    table = Table()
    for column in ("用户名", "姓名", "角色", "单位", "状态"):
        table.add_column(column)
    for user, unit in rows:
        status = "正常" if user.is_active else "已停用"
        table.add_row(user.username, user.full_name, Role(user.role).label, unit.name, status)
    console.print(table)


@users_app.command("add")
def users_add(
    username: str,
    full_name: Annotated[str, typer.Option("--name", help="姓名")],
    role: Annotated[Role, typer.Option(help="角色")],
    unit: Annotated[str, typer.Option(help="所属单位编码 (org unit code)")],
    id_number: Annotated[str, typer.Option("--id-number", help="身份证号（只保存散列值）")],
    password: Annotated[str, typer.Option(prompt="一次性密码", hide_input=True, confirmation_prompt=True)],
    phone: Annotated[str | None, typer.Option(help="联系电话")] = None,
    position: Annotated[str | None, typer.Option(help="职务")] = None,
) -> None:
    """Open an account (audited, as the admin API does it)."""
    try:
        with session_scope() as session:
            # An unknown unit is reported with the other mistakes, not instead of them.
            org_unit = find_unit(session, unit)
            open_user(
                session, actor=operator(), username=username, full_name=full_name, role=role,
                org_unit_id=org_unit.id if org_unit else 0, password=password, phone=phone,
                position=position, id_number=id_number, as_of=now_utc(),
            )
    except DomainError as error:
        fail(_describe(error).replace("org_unit_id：所属单位不存在", f"unit：单位编码 {unit} 不存在"))
    console.print(f"已开通账户 {username}（{role.label}，{org_unit.name}），首次登录须修改密码。")


@users_app.command("set-password")
def users_set_password(
    username: str,
    password: Annotated[str, typer.Option(prompt="一次性密码", hide_input=True, confirmation_prompt=True)],
) -> None:
    """Reset to a one-time password, to be changed at first login (also clears a lock; audited)."""
    try:
        with session_scope() as session:
            user = get_user_by_username(session, username)
            reset_password(session, actor=operator(), user_id=user.id, password=password, as_of=now_utc())
    except DomainError as error:
        fail(_describe(error))
    console.print(f"已重置 {username} 的密码（一次性密码，首次登录须修改）。")


@users_app.command("revoke")
def users_revoke(
    username: str,
    cases_to: Annotated[str | None, typer.Option(
        "--cases-to", help="名下未办结预警的去向：本处室经办人的用户名，或 queue（退回处室待分派队列）")] = None,
) -> None:
    """Revoke (deactivate) an account; its history stays (audited). Its open cases go to
    --cases-to, in the same transaction."""
    try:
        with session_scope() as session:
            user = get_user_by_username(session, username)
            handover = None
            if cases_to == "queue":
                handover = Handover(None)
            elif cases_to:
                handover = Handover(get_user_by_username(session, cases_to).id)
            with keeps_chains_staffed(session):
                revoke_user(session, actor=operator(), user_id=user.id, as_of=now_utc(),
                            handover=handover)
    except DomainError as error:
        fail(_describe(error))
    console.print(f"已停用账户 {username}。")


_SWEEP_ACTIONS = (
    ("reminders", "到期提醒"),
    ("bells_converted", "黄色警铃到期转为预警"),
    ("level1", "逾期一级督办（告知经办人和处室负责人）"),
    ("level2", "逾期二级督办（提交处室负责人决定）"),
    ("requests", "新增升级请求"),
    ("notifications_queued", "排队通知"),
)


@app.command()
def sweep(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="按此时刻执行（ISO 时间，如 2026-12-01T09:00；不带时区按北京时间；默认现在）"),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="每批处理的案件数")] = 20_000,
) -> None:
    """Run the deadline sweep once (reminders, overdue bells, escalations) and print what it did."""
    # Without an offset the time is Shanghai time, as for `warnflow jobs run --as-of`.
    moment = parse_as_of(as_of).astimezone(UTC)
    with session_scope() as session:
        result = run_sweep(session, as_of=moment, batch_size=batch_size, commit=True)
    counts = result.counts()
    table = Table(title=f"期限巡检（{moment.isoformat()}）")
    table.add_column("动作")
    table.add_column("数量", justify="right")
    for key, label in _SWEEP_ACTIONS:
        table.add_row(label, str(counts[key]))
    console.print(table)


def _describe(error: DomainError) -> str:
    details = "；".join(f"{e.field}：{e.message}" for e in error.errors)
    return f"{error.message}（{details}）" if details else error.message


def main() -> None:  # pragma: no cover - console entry for `python -m api.cli`
    app(prog_name="warnflow")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
