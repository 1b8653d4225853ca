"""`warnflow report monthly ORG YYYY-MM`: a monthly summary as PDF, XLSX or JSON; the PDF and
XLSX are forms.report_files' (a frozen version's stored file, as the pages serve it)."""

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from models.db import session_scope
from models.settings import get_settings
from workflows.core.calendar import parse_month
from workflows.core.clock import now_utc
from workflows.core.errors import DomainError
from workflows.reporting.reads import read_report, resolve_region

report_app = typer.Typer(help="月报：导出财政扶贫资金动态监控预警情况月报（monthly summary）",
                         no_args_is_help=True)  # fmt: skip


class Format(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    JSON = "json"


def _fail(message: str) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(2)


def _describe(error: DomainError) -> str:
    details = "；".join(e.message for e in error.errors if e.message != error.message)
    return f"{error.message}（{details}）" if details else error.message


@report_app.command("monthly")
def monthly(
    org: Annotated[str, typer.Argument(
        help="区划代码（如 410121 安县）或单位代码（如 410121-GK，取其所在区划）",
        metavar="ORG")],
    month: Annotated[str, typer.Argument(help="月份，YYYY-MM（如 2026-11）", metavar="YYYY-MM")],
    format: Annotated[Format, typer.Option("--format", "-f", help="输出格式")] = Format.PDF,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="输出文件（默认：区划代码-月份-版本.格式，写在当前目录；- 为标准输出，仅 json）")] = None,
    version: Annotated[int | None, typer.Option(help="版本号（默认最新版本）", min=1)] = None,
) -> None:  # fmt: skip
    """Write the region's monthly summary: the saved report's latest (or given) version, or,
    before the report is drafted, the figures computed now."""
    try:
        parsed = parse_month(month)
        with session_scope() as session:
            region = resolve_region(session, org, field_name="ORG")
            view = read_report(session, region=region, month=parsed, as_of=now_utc(),
                               version=version)  # fmt: skip
            if format in (Format.PDF, Format.XLSX):
                # The file the pages and the e-mail give: a frozen version from storage.
                # Loaded only when asked for (WeasyPrint takes seconds to import).
                from forms.report_files import report_file

                body = report_file(view, format.value, files_dir=get_settings().files_dir)
            else:
                text = json.dumps(view.figures, ensure_ascii=False, indent=2, sort_keys=True)
                body = (text + "\n").encode()
    except DomainError as error:
        _fail(_describe(error))
    if output is not None and str(output) == "-":
        if format != Format.JSON:
            _fail("只有 json 格式可以写到标准输出（--output -）")
        typer.echo(body.decode(), nl=False)
        return
    target = output or Path(f"{view.slug}.{format.value}")
    target.write_bytes(body)
    typer.echo(f"已写出 {view.title}（{view.month_label}，{view.status_label}）：{target}")
