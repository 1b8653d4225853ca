"""`warnflow import warnings FILE`: a spreadsheet of warnings into the database, in the
terminal, with a progress bar; the same workflows functions as the page 数据导入."""

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlmodel import Session, select

from models import User
from models.db import get_engine, session_scope, writer
from workflows.core.actors import Actor, load_actor
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError
from workflows.imports.runs import error_report_of, open_import, run_import

import_app = typer.Typer(help="数据导入：从 .xlsx、.xls、.csv 文件导入（file import）", no_args_is_help=True)
console = Console(soft_wrap=True)


def _fail(message: str) -> NoReturn:
    Console(stderr=True).print(f"[bold red]错误：[/]{message}")
    raise typer.Exit(2)


def _actor(session: Session, username: str | None) -> Actor:
    if username is None:
        return Actor.system()
    user_id = session.exec(select(User.id).where(User.username == username)).first()
    if user_id is None:
        _fail(f"用户 {username} 不存在")
    return load_actor(session, user_id)


File = Annotated[Path, typer.Argument(help=".xlsx、.xls 或 .csv（UTF-8 或 GBK）", metavar="FILE",
                                     exists=True, dir_okay=False, readable=True)]
Source = Annotated[str | None, typer.Option(help="来源系统（文件中没有“来源系统”列时使用）")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="只检查，不写入")]
AsUser = Annotated[str | None, typer.Option(help="记为此用户的导入，并按其管辖范围检查（默认：系统）")]
Report = Annotated[Path | None, typer.Option(help="错误报告写到这里（默认：文件旁边）")]


@import_app.command("warnings")
def import_warnings_file(file: File, source: Source = None, dry_run: DryRun = False,
                         user: AsUser = None, report: Report = None) -> None:
    """Import warnings from a spreadsheet: counts, and where the error report was written."""
    _import_file("warnings", file, source, dry_run, user, report)


@import_app.command("users")
def import_users_file(file: File, dry_run: DryRun = False, user: AsUser = None,
                      report: Report = None) -> None:
    """Open or change accounts from a spreadsheet (user name, name, unit code, role, …)."""
    _import_file("users", file, None, dry_run, user, report)


def _import_file(kind: str, file: Path, source: str | None, dry_run: bool, user: str | None,
                 report: Path | None) -> None:
    data = file.read_bytes()
    engine = writer(get_engine())
    try:
        with session_scope(engine) as session:
            actor = _actor(session, user)
            run, table = open_import(session, actor=actor, kind=kind, file_name=file.name,
                                     data=data, source=source, dry_run=dry_run, as_of=now_utc())
            import_id, rows = run.id, run.rows
    except DomainError as error:
        _fail(error.message)

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("检查并写入", total=rows)
        finished = run_import(lambda: Session(engine, expire_on_commit=False), import_id, data,
                              actor=actor, table=table, on_progress=lambda r: progress.update(task, completed=r.done))
    if finished.state == "failed":
        _fail(finished.message or "导入失败")
    what = "检查完毕（未写入）" if dry_run else "导入完成"
    console.print(
        f"{what}：共 {finished.rows} 行，新建 {finished.created}，"
        + (f"变更 {finished.updated}，" if kind == "users" else "")
        + f"重复 {finished.duplicates}，白名单 {finished.suppressed}，拒绝 {finished.refused}"
        + (f"；编码 {finished.encoding}" if finished.encoding else "")
        + (f"；删除控制字符 {finished.stripped} 处" if finished.stripped else "")
    )
    if finished.unknown_headers:
        console.print(f"未识别的列（原样保存在其他要素中）：{finished.unknown_headers}")
    if finished.error_report:
        with session_scope(engine) as session:
            name, content = error_report_of(session, import_id)
        target = report or file.with_name(name)
        target.write_bytes(content)
        console.print(f"错误报告：{target}")
        raise typer.Exit(1)
