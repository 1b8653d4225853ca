"""The spreadsheets an import gives back: the template of a kind and the error report.

Written with openpyxl (calamine only reads). The error report puts, for every refused row,
its number in the file, the columns at fault, their values and the reasons in Chinese, then
the row itself under the file's own headers: fixed and uploaded again as it is, it imports
(the report's four columns are known to the importer and ignored).
"""

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from workflows.imports.kinds import REPORT_COLUMNS, Kind
from workflows.intake.imports import strip_controls

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
_REQUIRED_FILL = PatternFill("solid", fgColor="F6D5D5")


@dataclass
class ReportRow:
    number: int
    columns: list[str]
    values: list[str]
    reasons: list[str]
    cells: list[Any]


def _safe(value: Any) -> Any:
    """A value openpyxl can write: control characters removed from text (XML cannot hold
    them), everything else as it came (numbers, dates)."""
    if isinstance(value, str):
        return strip_controls(value)[0]
    if value is None or isinstance(value, int | float | date | datetime):
        return value
    return strip_controls(str(value))[0]


def error_report(header: list[str], rows: list[ReportRow]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("被拒绝的行")
    heads = [*REPORT_COLUMNS, *header]
    cells = []
    for text in heads:
        cell = WriteOnlyCell(sheet, value=_safe(text))
        cell.font, cell.fill = _BOLD, _HEAD_FILL
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([
            row.number, "、".join(row.columns), _safe("、".join(row.values)), _safe("；".join(row.reasons)),
            *(_safe(v) for v in row.cells),
        ])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template(kind: Kind) -> bytes:
    """The kind's template: the header (required columns marked), one example row, and a sheet
    explaining every column and its allowed values."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{kind.label}导入"
    for position, column in enumerate(kind.columns, start=1):
        head = sheet.cell(row=1, column=position, value=column.label)
        head.font = _BOLD
        head.fill = _REQUIRED_FILL if column.required else _HEAD_FILL
        example = sheet.cell(row=2, column=position, value=column.example or None)
        # Codes and accounts as text, so Excel keeps leading zeros and long digits.
        if column.parse == "text":
            example.number_format = "@"
        sheet.column_dimensions[head.column_letter].width = max(12, len(column.label) * 2 + 4)
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "也可写作", "说明"])
    for cell in notes[1]:
        cell.font, cell.fill = _BOLD, _HEAD_FILL
    for column in kind.columns:
        notes.append([column.label, "必填" if column.required else "选填",
                      "、".join(column.synonyms), column.help])
    notes.append([])
    notes.append(["说明", "", "", "表头可在标题行之下；列的顺序不限。"
                  + kind.roles_note])
    for letter, width in zip("ABCD", (16, 10, 36, 70), strict=True):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=2):
        row[3].alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
