"""The monthly summary as an XLSX workbook: one sheet per table, Chinese headers, numbers as
numbers (counts as integers, rates in %, amounts in 万元 with two decimals), so the sums a
finance office takes in Excel are the report's own (tests compare them with the JSON).
"""

from decimal import Decimal

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from workflows.reporting.reads import ReportView

from .report_tables import (
    HEADLINE,
    HEADLINE_SHORT,
    MATRIX,
    OVERDUE,
    OVERSIGHT,
    RULE_SUMS,
    RULES,
    Column,
    child_status,
    streak_rows,
)
from .report_tables import value as cell_value
from .spreadsheets import _HEADER_FONT, _finish, _header, _save, _write_row

WAN = "#,##0.00"
PERCENT = '0.00"%"'
DAYS = "0.0"
COUNT = "0"
DATE = 'yyyy"年"m"月"d"日"'
FORMATS = {"count": COUNT, "rate": PERCENT, "wan": WAN, "days": DAYS, "date": DATE, "score": WAN}


def _spec(columns: list[Column], widths: dict[str, int] | None = None) -> list:
    widths = widths or {}
    return [
        (c.header, widths.get(c.key, 12 if c.numeric else 16), FORMATS.get(c.kind)) for c in columns
    ]


def _table(sheet: Worksheet, columns: list[Column], records: list[dict]) -> int:
    """Header and one row per record; returns the last row written."""
    spec = _spec(columns)
    _header(sheet, spec)
    r = 1
    for r, record in enumerate(records, start=2):
        _write_row(sheet, r, [cell_value(c, record.get(c.key)) for c in columns], spec)
    return r


def _total_row(sheet: Worksheet, r: int, values: list, spec: list) -> None:
    _write_row(sheet, r, values, spec)
    for column in range(1, len(spec) + 1):
        sheet.cell(row=r, column=column).font = _HEADER_FONT


def monthly_report_xlsx(view: ReportView) -> bytes:
    f = view.figures
    book = Workbook()

    overview = book.active
    overview.title = "总体情况"
    spec = [("项目", 28, None), ("数值", 16, None), ("分子", 10, COUNT), ("分母", 10, COUNT)]
    _header(overview, spec)
    meta = [
        ("报表", view.title), ("地区", f"{f['region']['name']}（{f['region']['code']}）"),
        ("报告期", view.month_label),
        ("版本", f"第{view.version}版" if view.version else "未起草（实时数据）"),
        ("状态", view.status_label), ("数据截至", f["generated_at"]),
    ]  # fmt: skip
    r = 1
    for r, (name, text) in enumerate(meta, start=2):
        _write_row(overview, r, [name, text, None, None], spec)
    headline = f["headline"]
    for column in HEADLINE:
        r += 1
        raw = headline.get(column.key)
        numbers = [raw["numerator"], raw["denominator"]] if column.kind == "rate" else [None, None]
        _write_row(overview, r, [column.header, cell_value(column, raw), *numbers], spec)
        overview.cell(row=r, column=2).number_format = FORMATS[column.kind]
    r += 1
    _write_row(overview, r, ["本级考核得分", Decimal(f["assessment"]["score"]), None, None], spec)
    overview.cell(row=r, column=2).number_format = WAN
    for key, label in OVERSIGHT:
        if key in f.get("oversight", {}):
            r += 1
            _write_row(overview, r, [label, f["oversight"][key], None, None], spec)
            overview.cell(row=r, column=2).number_format = COUNT
    r += 1
    _write_row(overview, r, ["考核公式", f["assessment"]["formula"], None, None], spec)
    for text in f["definitions"].values():
        r += 1
        _write_row(overview, r, ["指标口径", text, None, None], spec)
    _finish(overview, spec, autofilter=False)

    matrix = book.create_sheet("分级分类")
    last = _table(matrix, MATRIX, f["matrix"])
    spec = _spec(MATRIX)
    _total_row(matrix, last + 1, ["合计", "", "", sum(int(x["cases"]) for x in f["matrix"])], spec)
    _finish(matrix, spec, autofilter=False)

    rules = book.create_sheet("规则汇总")
    last = _table(rules, RULES, f["rules"])
    spec = _spec(RULES)
    sums = [sum(int(x[k]) for x in f["rules"]) for k in RULE_SUMS]
    _total_row(rules, last + 1, ["合计", "", "", "", *sums], spec)
    _finish(rules, spec, autofilter=False)

    overdue = book.create_sheet("超期清单")
    _table(overdue, OVERDUE, f["overdue_list"]["items"])
    _finish(overdue, _spec(OVERDUE), autofilter=True)

    if f["children"]:
        children = book.create_sheet("下级考核")
        lead = [
            ("地区", 16, lambda c: c["region"]["name"]),
            ("区划代码", 10, lambda c: c["region"]["code"]),
        ]
        spec = [(h, w, None) for h, w, _ in lead] + _spec(HEADLINE_SHORT) + [
            ("考核得分", 10, WAN), ("报送情况", 16, None)]  # fmt: skip
        _header(children, spec)
        r = 1
        for r, child in enumerate(f["children"], start=2):
            values = [get(child) for _, _, get in lead]
            values += [cell_value(c, child["headline"].get(c.key)) for c in HEADLINE_SHORT]
            values.append(Decimal(child["score"]))
            values.append(child_status(child))
            _write_row(children, r, values, spec)
        children.cell(row=r + 2, column=1, value=f["assessment"]["formula"])
        if f.get("unreported"):
            word = f.get("child_word") or "下级"
            names = "、".join(c["name"] for c in f["unreported"])
            children.cell(row=r + 3, column=1, value=f"未报{word}：{names}")
        _finish(children, spec, autofilter=False)

    streaks = book.create_sheet("连续预警地区")
    spec = [
        ("地区", 16, None),
        ("区划代码", 12, None),
        ("连续计入月数", 12, COUNT),
        ("情形", 40, None),
    ]
    _header(streaks, spec)
    if not (f.get("streaks") or {}).get("evaluated"):
        streaks.cell(row=2, column=1, value="本月尚未评估三个月规则（每月第一个工作日评估）")
    for r, row in enumerate(streak_rows(f), start=2):
        _write_row(streaks, r, row, spec)
    _finish(streaks, spec, autofilter=False)

    departments = book.create_sheet("各部门")
    lead = [("部门", 22, None), ("单位代码", 12, None)]
    spec = lead + _spec(HEADLINE_SHORT)
    _header(departments, spec)
    for r, department in enumerate(f["departments"], start=2):
        unit = department["org_unit"]
        values = [unit["name"], unit["code"]]
        values += [cell_value(c, department["headline"].get(c.key)) for c in HEADLINE_SHORT]
        _write_row(departments, r, values, spec)
    _finish(departments, spec, autofilter=False)

    return _save(book)
