"""The categorized ledger 分类台账 as an XLSX workbook: a summary sheet per city/county and
the detailed sheet (region × category × level × state), amounts in 万元 as numbers."""

from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from models.enums import Level, RuleCategory
from workflows.core.letterhead import Letterhead

from .formatting import label, to_wan
from .spreadsheets import COUNT, WAN, _finish, _header, _letterhead, _save, _write_row

TITLE = "财政扶贫资金动态监控预警分类台账"

SUMMARY = [
    ("上级区划", 12, None),
    ("区划", 14, None),
    ("预警总数", 9, COUNT),
    ("未办结", 9, COUNT),
    *[(lv.label, 9, COUNT) for lv in Level],
    *[(cat.label, 9, COUNT) for cat in RuleCategory],
    ("金额（万元）", 14, WAN),
]
DETAIL = [
    ("上级区划", 12, None),
    ("区划", 14, None),
    ("规则分类", 10, None),
    ("预警级别", 10, None),
    ("办理状态", 14, None),
    ("件数", 8, COUNT),
    ("金额（万元）", 14, WAN),
]


def ledger_xlsx(ledger: Any, head: Letterhead | None = None) -> bytes:
    """Both sheets, each with a 合计 row taken from the exact 元 sums, and the letterhead."""
    book = Workbook()
    sheet = book.active
    sheet.title = "分类台账汇总"
    top = _letterhead(sheet, head, TITLE + "（汇总）", len(SUMMARY))
    _header(sheet, SUMMARY, top)
    r = top
    # The lines with each city's subtotal (province); the 合计 sums the lines only.
    for r, line in enumerate(ledger.rows or ledger.regions, start=top + 1):
        _write_row(
            sheet,
            r,
            [
                line.parent_name,
                line.name,
                line.total,
                line.open,
                *[line.by_level[lv] for lv in Level],
                *[line.by_category[c] for c in RuleCategory],
                to_wan(line.amount),
            ],
            SUMMARY,
        )
    _write_row(
        sheet,
        r + 1,
        [
            "合计",
            "",
            ledger.total,
            sum(x.open for x in ledger.regions),
            *[sum(x.by_level[lv] for x in ledger.regions) for lv in Level],
            *[sum(x.by_category[c] for x in ledger.regions) for c in RuleCategory],
            to_wan(ledger.amount),
        ],
        SUMMARY,
    )
    _finish(sheet, SUMMARY, autofilter=False, header_row=top)
    detail = book.create_sheet("分类台账明细")
    top = _letterhead(detail, head, TITLE + "（明细）", len(DETAIL))
    _header(detail, DETAIL, top)
    total = Decimal("0.00")
    r = top
    for r, cell in enumerate(ledger.cells, start=top + 1):
        total += cell.amount
        _write_row(
            detail,
            r,
            [
                cell.parent_name,
                cell.region_name,
                label(cell.category),
                label(cell.level),
                label(cell.state),
                cell.count,
                to_wan(cell.amount),
            ],
            DETAIL,
        )
    _write_row(
        detail,
        r + 1,
        ["合计", "", "", "", "", sum(c.count for c in ledger.cells), to_wan(total)],
        DETAIL,
    )
    _finish(detail, DETAIL, autofilter=False, header_row=top)
    return _save(book)
