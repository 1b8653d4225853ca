"""Building the files people upload, in every format the importer reads (tests only)."""

import csv
import io
from contextlib import nullcontext

import xlwt
from openpyxl import Workbook

HEADER = ["预警编号", "规则编码", "区划代码", "预警产生时间", "资金名称", "收款人名称",
          "收款人账户", "金额（元）", "支付日期", "用途"]


def warning_row(external_id, **overrides):
    row = {
        "预警编号": external_id, "规则编码": "ZC-001", "区划代码": "410121",
        "预警产生时间": "2026-11-23 08:30:00", "资金名称": "中央财政衔接推进乡村振兴补助资金",
        "收款人名称": "安县城关镇农民专业合作社", "收款人账户": "6222020200112233445",
        "金额（元）": "50,000.00", "支付日期": "2026-11-18", "用途": "产业扶持资金",
    }
    row.update(overrides)
    return row


def table(rows, header=None, title=None):
    header = header or list(rows[0]) if rows else (header or HEADER)
    lines = [[title]] if title else []
    lines.append(header)
    lines += [[row.get(h) for h in header] for row in rows]
    return lines


def xlsx(lines, merge_title=False) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for line in lines:
        sheet.append(line)
    if merge_title:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(lines[1]))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xls(lines) -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("预警")
    for r, line in enumerate(lines):
        for c, value in enumerate(line):
            if value is not None:
                sheet.write(r, c, value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(lines, encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(lines)
    return out.getvalue().encode(encoding)


def sessions_of(session):
    """run_import's session factory over the test's own (rolled-back) session."""
    return lambda: nullcontext(session)
