"""`warnflow calendar ...`: view the working-day calendar and manage admin overrides."""

import re
from datetime import date
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from models.calendar import CalendarDay
from models.db import session_scope
from models.enums import DayKind
from models.types import utcnow
from workflows.admin.calendar import set_calendar_day, unset_calendar_day
from workflows.admin.notice import (
    ParsedNotice,
    apply_notice,
    decode_notice,
    existing_overrides,
    parse_notice,
)
from workflows.core.calendar import (
    NAME_MAX,
    WorkingCalendar,
    load_calendar,
    local_date,
)
from workflows.core.errors import InvalidInput, NotFound

from .operator import operator

calendar_app = typer.Typer(
    help="工作日历：法定节假日与调休（calendar overrides）", no_args_is_help=True
)

_KINDS = {
    "holiday": DayKind.HOLIDAY,
    "节假日": DayKind.HOLIDAY,
    "放假": DayKind.HOLIDAY,
    "workday": DayKind.WORKDAY,
    "工作日": DayKind.WORKDAY,
    "上班": DayKind.WORKDAY,
}
_SOURCES = {"official": "官方放假安排", "override": "管理员设置", "fallback": "周一至周五推定"}
_WEEKDAYS = "一二三四五六日"


def _fail(message: str) -> NoReturn:
    # Exit code 2 is what click uses for usage errors; scripts can tell them from failures.
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(2)


def _day_label(d: date) -> str:
    return f"{d.isoformat()}（周{_WEEKDAYS[d.weekday()]}）"


def _kind_label(working: bool) -> str:
    return "工作日" if working else "休息日"


def _without_override(d: date) -> str:
    """What the day is when no admin setting applies, in words."""
    calendar = WorkingCalendar()
    if calendar.source_of(d) == "fallback":
        # Said here in Chinese instead of via is_working_day's English log line.
        return f"{_kind_label(d.weekday() < 5)}（{d.year} 年无官方数据，按周一至周五推定）"
    return _kind_label(calendar.is_working_day(d))


def _parse_date(text: str) -> date:
    text = text.strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"日期（DATE）无效：“{text}”不是有效日期，应为 YYYY-MM-DD 格式，例如 2027-01-01")


def _parse_kind(text: str) -> DayKind:
    kind = _KINDS.get(text.strip().lower())
    if kind is None:
        _fail(f"类别（KIND）无效：“{text}”，应为 holiday（节假日）或 workday（调休上班）")
    return kind


def _parse_year(text: str | None) -> int:
    if text is None:
        return local_date(utcnow()).year
    if not re.fullmatch(r"\d{4}", text.strip()) or not 1900 <= int(text) <= 2100:
        _fail(f"年份（YEAR）无效：“{text}”，应为四位数年份，例如 2027")
    return int(text)


@calendar_app.command("show")
def show(
    year: str | None = typer.Argument(None, metavar="[YEAR]", help="年份，默认今年"),
) -> None:
    """列出某年的节假日和调休上班日（官方安排与管理员设置）。"""
    year_no = _parse_year(year)
    with session_scope() as session:
        calendar = load_calendar(session, max_age=0)
    entries = calendar.year_entries(year_no)
    console = Console()
    table = Table(title=f"{year_no} 年工作日历：节假日与调休上班日")
    for column in ("日期", "类别", "名称", "来源"):
        table.add_column(column, overflow="fold")
    for e in entries:
        source = _SOURCES[e.source]
        if e.source == "override" and e.official_kind not in (None, e.kind):
            source += f"（官方为{_kind_label(e.official_kind == DayKind.WORKDAY)}）"
        table.add_row(_day_label(e.day), e.kind.label, escape(e.name) or "—", source)
    console.print(table)
    if not entries:
        console.print(f"{year_no} 年没有节假日或调休记录。")
    info = calendar.coverage(date(year_no, 1, 1))
    console.print(
        f"官方放假安排覆盖 {info['official_first_year']}–{info['official_last_year']} 年；"
        f"管理员设置共 {info['override_days']} 天。"
    )
    if calendar.uncovered_years([year_no]):
        entered = sum(1 for e in entries if e.source == "override")
        missing = calendar.missing_holidays(year_no)
        console.print(
            f"[bold yellow]警告：{year_no} 年没有官方放假安排数据，除已录入的 {entered} 天外，"
            "工作日按周一至周五计算，期限可能不准确。请按国务院办公厅放假通知录入节假日和"
            "调休上班日：warnflow calendar import-notice 通知全文.txt（或逐日 warnflow calendar "
            "set 日期 holiday|workday --name 名称）[/]"
        )
        if missing:
            console.print(f"[bold yellow]尚未录入：{'、'.join(missing)}。[/]")


@calendar_app.command("set")
def set_(
    day: str = typer.Argument(..., metavar="DATE", help="日期，YYYY-MM-DD"),
    kind: str = typer.Argument(..., metavar="KIND", help="holiday（节假日）或 workday（调休上班）"),
    name: str = typer.Option("", "--name", help=f"名称，如“元旦”“春节调休上班”（≤{NAME_MAX} 字）"),
) -> None:
    """把某天设为节假日或调休上班日（替换该日已有的设置）。"""
    the_day, the_kind = _parse_date(day), _parse_kind(kind)
    name = name.strip()
    if len(name) > NAME_MAX:
        _fail(f"名称（--name）不能超过 {NAME_MAX} 个字符，现为 {len(name)} 个")
    default = _without_override(the_day)
    try:
        with session_scope() as session:
            previous = session.get(CalendarDay, the_day)
            replaced = previous and previous.kind.label + (
                f"：{previous.name}" if previous.name else ""
            )
            change = set_calendar_day(session, actor=operator(), day=the_day, kind=the_kind,
                                      name=name, as_of=utcnow())
    except InvalidInput as exc:
        _fail(exc.message)
    typer.echo(f"已设置 {_day_label(the_day)}为{the_kind.label}" + (f"：{name}" if name else ""))
    if replaced:
        typer.echo(f"（替换了原设置：{replaced}）")
    typer.echo(f"不设置时该日为{default}。")
    typer.echo(change.replanned.summary + "。")


@calendar_app.command("unset")
def unset(day: str = typer.Argument(..., metavar="DATE", help="日期，YYYY-MM-DD")) -> None:
    """取消某天的管理员设置，恢复官方安排（无数据的年份按周一至周五）。"""
    the_day = _parse_date(day)
    try:
        with session_scope() as session:
            replanned = unset_calendar_day(session, actor=operator(), day=the_day, as_of=utcnow())
    except NotFound:
        typer.echo(f"{_day_label(the_day)}没有管理员设置，未作更改。", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"已取消 {_day_label(the_day)}的设置；该日现为{_without_override(the_day)}。")
    typer.echo(replanned.summary + "。")


def _read_notice(path: Path) -> str:
    """The notice file's text; each way it can fail is said in Chinese (exit 2)."""
    if not path.exists():
        _fail(f"文件（FILE）不存在：{path}")
    if not path.is_file():
        _fail(f"文件（FILE）不是普通文件：{path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        _fail(f"无法读取文件（FILE）{path}：{exc.strerror or exc}")
    try:
        return decode_notice(data)
    except InvalidInput as exc:
        _fail(f"文件（FILE）{path}：{exc.message}")


def _notice_table(notice: ParsedNotice, existing: dict[date, CalendarDay]) -> Table:
    table = Table(title=f"{notice.year} 年节假日安排（国务院办公厅通知）")
    for column in ("日期", "类别", "名称", "原有设置"):
        table.add_column(column, overflow="fold")
    for e in notice.entries:
        before = existing.get(e.day)
        was = "—" if before is None else before.kind.label + (f"：{escape(before.name)}" if before.name else "")
        table.add_row(_day_label(e.day), e.kind.label, escape(e.name), was)
    return table


@calendar_app.command("import-notice")
def import_notice(
    file: Path = typer.Argument(..., metavar="FILE", help="通知全文的文本文件（UTF-8 或 GB18030/GBK）"),
    yes: bool = typer.Option(False, "--yes", "-y", help="不询问，直接保存"),
) -> None:
    """按国务院办公厅《关于YYYY年部分节假日安排的通知》录入全年节假日和调休上班日。"""
    try:
        notice = parse_notice(_read_notice(file))
    except InvalidInput as exc:
        _fail(f"通知无法识别：{exc.message}")
    console = Console()
    with session_scope() as session:
        existing = existing_overrides(session, notice)
    console.print(_notice_table(notice, existing))
    console.print(f"共放假 {len(notice.holidays)} 天、调休上班 {len(notice.workdays)} 天"
                  + (f"；其中 {len(existing)} 天已有设置，将被替换" if existing else "") + "。")
    for warning in notice.warnings:
        console.print(f"[bold yellow]注意：{escape(warning)}[/]")
    if not yes and not typer.confirm("确认按以上安排保存到工作日历？", default=False):
        typer.echo("已取消，未作更改。", err=True)
        raise typer.Exit(1)
    try:
        with session_scope() as session:
            result = apply_notice(session, actor=operator(), notice=notice, as_of=utcnow())
    except InvalidInput as exc:
        _fail(exc.message)
    typer.echo(f"已保存 {result.year} 年节假日安排：放假 {result.holidays} 天，调休上班 {result.workdays} 天"
               + (f"（替换原有设置 {result.replaced} 天）" if result.replaced else "") + "。")
    typer.echo(f"已按新的工作日历调整 {result.cases_replanned} 件在办案件的办理期限。"
               if result.cases_replanned else "没有在办案件的办理期限受此调整影响。")
