"""XLSX exports: the case tracking list and the per-rule summary table (DOMAIN.md).

Both take the rows the lists show (workflows.cases.queries.CaseRow, workflows.cases.summary.
RuleSummaryRow) and only read their attributes. Amounts are numbers in 万元 (two decimals,
half-up, from Decimal), dates are real dates in Shanghai local time, headers are Chinese,
bold and frozen, so a finance office can sort, filter and sum without retyping anything.
Given a letterhead, a sheet starts as a bureau's own does (issue 18): a title row
("中原省财政扶贫资金动态监控预警跟踪表"), a line with 填报单位, "单位：万元" and 制表日期, then the
header, which repeats on every printed A4 landscape page.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from workflows.core.calendar import LOCAL_TZ
from workflows.core.letterhead import Letterhead

from .formatting import label, to_wan

WAN = "#,##0.00"
DATE = 'yyyy"年"m"月"d"日"'
DATETIME = 'yyyy"年"m"月"d"日" hh:mm'
COUNT = "0"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E7E6E6")
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_OVERDUE = Font(color="C00000", bold=True)
_TITLE_FONT = Font(bold=True, size=16)
TRACKING_TITLE = "财政扶贫资金动态监控预警跟踪表"
SUMMARY_TITLE = "财政扶贫资金动态监控预警规则汇总表"

# (header, width in characters, number format)
TRACKING_COLUMNS = [
    ("预警编号", 18, None),
    ("区划", 14, None),
    ("预警级别", 10, None),
    ("规则", 22, None),
    ("当前节点", 13, None),
    ("当前经办人", 11, None),
    ("到达本节点时间", 20, DATETIME),
    ("在本节点天数", 8, COUNT),
    ("办理期限", 15, DATE),
    ("剩余工作日", 8, COUNT),
    ("收款人", 26, None),
    ("金额（万元）", 14, WAN),
]

SUMMARY_COLUMNS = [
    ("规则编码", 10, None),
    ("规则名称", 24, None),
    ("规则分类", 10, None),
    ("红灯未整改", 8, COUNT),
    ("红灯已整改", 8, COUNT),
    ("黄灯疑点", 8, COUNT),
    ("黄灯认定正常", 8, COUNT),
    ("黄灯违规未整改", 8, COUNT),
    ("黄灯违规已整改", 8, COUNT),
    ("黄色警铃未解除", 8, COUNT),
    ("黄色警铃已解除", 8, COUNT),
    ("已移交", 8, COUNT),
    ("预警总数", 8, COUNT),
    ("金额（万元）", 14, WAN),
]
SUMMARY_COUNTS = [
    "red_open",
    "red_rectified",
    "yellow_suspicious",
    "yellow_normal",
    "yellow_violation_open",
    "yellow_violation_rectified",
    "bell_open",
    "bell_rectified",
    "transferred",
    "total",
]


def tracking_xlsx(rows: Iterable[Any], head: Letterhead | None = None) -> bytes:
    """The case tracking list (预警跟踪清单) as an XLSX file."""
    book = Workbook()
    sheet = book.active
    sheet.title = "预警跟踪清单"
    top = _letterhead(sheet, head, TRACKING_TITLE, len(TRACKING_COLUMNS))
    _header(sheet, TRACKING_COLUMNS, top)
    for r, row in enumerate(rows, start=top + 1):
        values = [
            row.number,
            row.region_name,
            label(row.level, empty=""),
            row.rule_name,
            label(row.state, empty=""),
            row.assignee_name or "",
            _local_naive(row.entered_step_at),
            row.days_at_step,
            row.due_on,
            row.working_days_left,
            row.payee_name or "",
            to_wan(row.amount),
        ]
        _write_row(sheet, r, values, TRACKING_COLUMNS)
        if getattr(row, "overdue", False):
            sheet.cell(row=r, column=10).font = _OVERDUE
    _finish(sheet, TRACKING_COLUMNS, autofilter=True, header_row=top)
    return _save(book)


def rule_summary_xlsx(rows: Sequence[Any], head: Letterhead | None = None) -> bytes:
    """The per-rule summary table (规则汇总表) with a 合计 row, as an XLSX file."""
    book = Workbook()
    sheet = book.active
    sheet.title = "规则汇总表"
    top = _letterhead(sheet, head, SUMMARY_TITLE, len(SUMMARY_COLUMNS))
    _header(sheet, SUMMARY_COLUMNS, top)
    totals = dict.fromkeys(SUMMARY_COUNTS, 0)
    amount_total = Decimal("0.00")
    r = top
    for r, row in enumerate(rows, start=top + 1):
        counts = [int(getattr(row, name, 0) or 0) for name in SUMMARY_COUNTS]
        for name, n in zip(SUMMARY_COUNTS, counts, strict=True):
            totals[name] += n
        amount = row.amount_total or Decimal("0.00")
        amount_total += amount
        values = [row.rule_code, row.rule_name, label(row.category, empty=""), *counts, to_wan(amount)]
        _write_row(sheet, r, values, SUMMARY_COLUMNS)
    # The total is taken from the exact 元 sum, then rounded once to 万元.
    total_row = r + 1
    values = ["合计", "", "", *totals.values(), to_wan(amount_total)]
    _write_row(sheet, total_row, values, SUMMARY_COLUMNS)
    for column in range(1, len(SUMMARY_COLUMNS) + 1):
        sheet.cell(row=total_row, column=column).font = _HEADER_FONT
    # No filter: sorting would move the 合计 row in among the rules.
    _finish(sheet, SUMMARY_COLUMNS, autofilter=False, header_row=top)
    return _save(book)


def _local_naive(value: datetime | date | None) -> datetime | date | None:
    """Excel has no time zones: store the Shanghai wall-clock time users read."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def _letterhead(sheet: Worksheet, head: Letterhead | None, subject: str, width: int) -> int:
    """The title row and the 填报单位 / 单位 / 制表日期 line; returns the header's row."""
    if head is None:
        return 1
    last = get_column_letter(width)
    sheet.merge_cells(f"A1:{last}1")
    title = sheet.cell(row=1, column=1, value=head.title(subject))
    title.font = _TITLE_FONT
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 32
    # Left, middle and right of the line, as on a paper form; amounts here are in 万元.
    third = width // 3
    parts = [(1, third, f"填报单位：{head.unit}", "left"),
             (third + 1, width - third, "单位：万元", "center"),
             (width - third + 1, width, f"制表日期：{head.made_on.year}年{head.made_on.month}月{head.made_on.day}日", "right")]
    for first, end, text, align in parts:
        sheet.merge_cells(start_row=2, start_column=first, end_row=2, end_column=end)
        sheet.cell(row=2, column=first, value=ILLEGAL_CHARACTERS_RE.sub("", text)).alignment = Alignment(horizontal=align)
    return 3


def _header(sheet: Worksheet, columns: list[tuple[str, int, str | None]], row: int = 1) -> None:
    for c, (title, _, _) in enumerate(columns, start=1):
        cell = sheet.cell(row=row, column=c, value=title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[row].height = 30


def _write_row(sheet: Worksheet, r: int, values: list, columns: list[tuple[str, int, str | None]]) -> None:
    for c, (value, (_, _, number_format)) in enumerate(zip(values, columns, strict=True), start=1):
        if isinstance(value, str):
            # Text stored before imports stripped control characters: XML cannot hold them,
            # and one such case must not make the whole export fail.
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = sheet.cell(row=r, column=c, value=value)
        cell.border = _BORDER
        if number_format:
            cell.number_format = number_format


def _finish(sheet: Worksheet, columns: list[tuple[str, int, str | None]], *, autofilter: bool,
            header_row: int = 1) -> None:
    for c, (_, width, _) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width + 2
    sheet.freeze_panes = f"A{header_row + 1}"
    if autofilter:
        sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns))}{max(sheet.max_row, header_row)}"
    sheet.print_options.gridLines = False
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    # The header (not the letterhead) repeats at the top of every printed page.
    sheet.print_title_rows = f"{header_row}:{header_row}"


def _save(book: Workbook) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
