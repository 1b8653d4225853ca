"""A county finance bureau imports the platform's spreadsheet export, as the files come."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from models import Case, ImportRun
from models.settings import get_settings
from tests.factories import NOW
from tests.workflows.imports.importfiles import (
    csv_bytes,
    sessions_of,
    table,
    warning_row,
    xls,
    xlsx,
)
from workflows.core.errors import InvalidInput
from workflows.imports.reports import template
from workflows.imports.runs import (
    FileTooLarge,
    error_report_of,
    import_view,
    list_imports,
    queue_import,
    run_import,
)
from workflows.imports.warnings import WARNINGS


def upload(session, world, data, name, *, who="platform", dry_run=False, source=None):
    actor = world.actors[who]
    run = queue_import(session, actor=actor, kind="warnings", file_name=name, data=data,
                       source=source, dry_run=dry_run, as_of=NOW)
    session.commit()
    return run_import(sessions_of(session), run.id, data, actor=actor)


def cases(session, prefix=""):
    return session.exec(select(Case).where(Case.external_id.startswith(prefix)).order_by(Case.external_id)).all()


def report_rows(session, run):
    _, data = error_report_of(session, run.id)
    return list(load_workbook(io.BytesIO(data)).active.values)


THREE = [warning_row("W-1"), warning_row("W-2"), warning_row("W-3")]


@pytest.mark.parametrize("name, build", [
    ("导出.xlsx", lambda lines: xlsx(lines)),
    ("导出.xls", lambda lines: xls(lines)),
    ("导出.csv", lambda lines: csv_bytes(lines, "utf-8")),
    ("导出-bom.csv", lambda lines: csv_bytes(lines, "utf-8-sig")),
    ("导出-gbk.csv", lambda lines: csv_bytes(lines, "gbk")),
    ("导出-gb18030.csv", lambda lines: csv_bytes(lines, "gb18030")),
])
def test_li_na_s_bureau_imports_the_export_in_every_format_it_comes_in(session, world, name, build):
    run = upload(session, world, build(table(THREE)), name)
    assert (run.state, run.rows, run.created, run.refused) == ("done", 3, 3, 0)
    landed = cases(session, "W-")
    assert [c.external_id for c in landed] == ["W-1", "W-2", "W-3"]
    assert landed[0].payee_name == "安县城关镇农民专业合作社"
    assert landed[0].amount == 50000 and landed[0].payment_date == date(2026, 11, 18)
    assert landed[0].source == "platform-file"
    expected = {"导出.csv": "utf-8", "导出-bom.csv": "utf-8-sig", "导出-gbk.csv": "gb18030",
                "导出-gb18030.csv": "gb18030"}.get(name)
    assert run.encoding == expected


def test_a_title_row_merged_above_the_header_and_header_synonyms_in_full_width(session, world):
    header = ["外部编号", "规则代码", "行政区划", "预警日期", "收款人", "ＡＢ备注", "支付金额（万元）", "支付时间", "来源"]
    rows = [
        dict(zip(header, ["W-10", "ZC-001", "410121", "2026年11月23日", "安县第一合作社", "甲", "1.5", "20261118", "县平台"],
                 strict=True)),
        dict(zip(header, ["W-11", "ZC-001", "410121", "2026/11/22 09:15", "安县第二合作社", "乙", "１,２３４.５６７８", "2026-11-18", "县平台"],
                 strict=True)),
    ]
    data = xlsx(table(rows, header=header, title="安县 2026 年 11 月预警明细"), merge_title=True)
    run = upload(session, world, data, "安县预警.xlsx")
    assert (run.created, run.refused) == (2, 0)
    # A header the importer does not know is reported once and kept with each case.
    assert run.unknown_headers == "ＡＢ备注"
    first, second = cases(session, "W-1")
    assert first.amount == 15000 and first.payment_date == date(2026, 11, 18)
    assert second.amount == 12345678  # 1,234.5678 万元, full-width digits
    assert first.source == "县平台" and first.payload == {"ＡＢ备注": "甲"}
    assert first.raised_at.astimezone(NOW.tzinfo).isoformat() == "2026-11-22T16:00:00+00:00"


def test_excel_dates_and_numbers_arrive_as_the_cells_hold_them(session, world):
    from datetime import datetime

    header = ["预警编号", "规则编码", "区划代码", "预警产生时间", "金额", "支付日期"]
    lines = [header, [20261123001, "ZC-001", 410121, datetime(2026, 11, 23, 8, 30), 1234.5, date(2026, 11, 18)]]
    run = upload(session, world, xlsx(lines), "数字.xlsx")
    assert (run.created, run.refused) == (1, 0)
    (case,) = cases(session, "2026")
    assert case.external_id == "20261123001" and case.amount == 1234.5


def test_the_error_report_names_row_column_value_and_reason_and_re_imports_once_fixed(session, world):
    rows = [warning_row("W-1"), warning_row("W-2", **{"金额（元）": "五万"}),
            warning_row("W-3", 区划代码="999999"), warning_row("W-4", 预警产生时间="2026-02-30")]
    run = upload(session, world, xlsx(table(rows, title="导出")), "有错.xlsx")
    assert (run.created, run.refused) == (1, 3)
    report = report_rows(session, run)
    assert report[0][:5] == ("原行号", "出错列", "错误值", "错误原因", "预警编号")
    assert [r[:4] for r in report[1:]] == [
        (4, "金额（元）", "五万", "金额（元）：应为金额（数字）"),
        (5, "区划代码", "999999", "区划代码 999999 不存在"),
        (6, "预警产生时间", "2026-02-30", "预警产生时间：日期不存在：2026-02-30"),
    ]
    assert report[2][4:7] == ("W-3", "ZC-001", "999999")  # the row itself, as it was

    # Fixed in the report itself and uploaded as it is: only the fixed rows are new.
    workbook = load_workbook(io.BytesIO(error_report_of(session, run.id)[1]))
    sheet = workbook.active
    for cells in sheet.iter_rows(min_row=2):
        by_name = {c.value: cell for c, cell in zip(sheet[1], cells, strict=True)}
        by_name["金额（元）"].value = "50000"
        by_name["区划代码"].value = "410121"
        by_name["预警产生时间"].value = "2026-11-20"
    fixed = io.BytesIO()
    workbook.save(fixed)
    again = upload(session, world, fixed.getvalue(), "有错-错误报告.xlsx")
    assert (again.created, again.refused, again.unknown_headers) == (3, 0, None)
    assert [c.external_id for c in cases(session, "W-")] == ["W-1", "W-2", "W-3", "W-4"]


def test_importing_the_same_file_again_creates_nothing_and_says_so(session, world):
    data = csv_bytes(table(THREE), "gbk")
    first = upload(session, world, data, "每日.csv")
    second = upload(session, world, data, "每日.csv")
    assert (first.created, first.duplicates) == (3, 0)
    assert (second.created, second.duplicates) == (0, 3)
    assert first.sha256 == second.sha256
    history, total = list_imports(session, as_of=NOW)
    assert total == 2 and [v.duplicates for v in history] == [3, 0]


def test_a_dry_run_checks_every_row_and_writes_no_case(session, world):
    rows = [*THREE, warning_row("W-9", 规则编码="NOPE")]
    run = upload(session, world, xlsx(table(rows)), "试导.xlsx", dry_run=True)
    assert (run.state, run.dry_run, run.created, run.refused) == ("done", True, 3, 1)
    assert cases(session, "W-") == []
    assert report_rows(session, run)[1][3] == "规则编码 NOPE 不存在"


def test_control_characters_are_stripped_and_counted_and_ids_trimmed(session, world):
    rows = [warning_row("  W-1 ", 收款人名称="安县\x1b[31m合作社\x00"), warning_row("W-1")]
    run = upload(session, world, csv_bytes(table(rows)), "脏数据.csv")
    assert (run.created, run.duplicates, run.stripped) == (1, 1, 1)
    (case,) = cases(session, "W-")
    assert case.external_id == "W-1" and case.payee_name == "安县[31m合作社"


def test_dates_outside_the_sane_window_are_refused_per_row_naming_the_column(session, world):
    rows = [warning_row("W-1", 预警产生时间="0001-01-01"), warning_row("W-2", 预警产生时间="9999-12-31"),
            warning_row("W-3", 预警产生时间="2099-01-01"), warning_row("W-4")]
    run = upload(session, world, xlsx(table(rows)), "日期.xlsx")
    assert (run.created, run.refused) == (1, 3)
    reasons = [r[3] for r in report_rows(session, run)[1:]]
    assert all(r.startswith("预警产生时间：须在 2000-01-01 至 ") for r in reasons), reasons


@pytest.mark.parametrize("name, data, words", [
    ("预警.pdf", b"%PDF-1.4", "不支持的文件类型"),
    ("预警.xlsx", "预警编号,规则编码\n".encode(), "内容却不是 Excel 工作簿"),
    ("预警.csv", xlsx([["预警编号"]]), "内容却是 Excel 工作簿"),
    ("预警.xlsx", b"PK\x03\x04" + b"\x00" * 200, "已损坏"),
    ("预警.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "已损坏"),
    ("预警.xlsx", b"", "文件是空的"),
    ("预警.xlsx", xlsx([]), "工作表是空的"),
    ("预警.csv", "甲,乙,丙\n1,2,3\n".encode(), "找不到表头"),
    ("预警.csv", "预警编号,区划代码\nW-1,410121\n".encode(), "缺少必填列：规则编码、预警产生时间"),
    ("预警.csv", b"\x81\x30\x81\xff\xfe", "无法识别 CSV 文件的编码"),
    ("预警.csv", "预警编号,规则编码".encode("utf-16"), "UTF-16"),
    ("预警.csv", b"W-1,ZC-001\x00\x00\x00\x00\x00\x00", "二进制内容"),
])
def test_a_file_that_cannot_be_imported_is_refused_as_a_whole_and_nothing_is_recorded(
        session, world, name, data, words):
    with pytest.raises(InvalidInput) as refused:
        upload(session, world, data, name)
    assert words in refused.value.message
    assert session.exec(select(ImportRun)).all() == []


def test_more_rows_than_the_limit_or_a_file_too_large_is_refused(session, world, monkeypatch):
    monkeypatch.setattr(get_settings(), "import_max_rows", 2)
    with pytest.raises(InvalidInput, match="超过每个文件 2 行的上限"):
        upload(session, world, xlsx(table(THREE)), "多.xlsx")
    monkeypatch.setattr(get_settings(), "import_file_max_bytes", 1024)
    with pytest.raises(FileTooLarge, match="文件过大：上限 1 KB"):
        upload(session, world, b"x" * 2048 + xlsx(table(THREE)), "大.xlsx")


def test_an_import_that_breaks_midway_keeps_whole_chunks_and_says_how_to_finish(session, world, monkeypatch):
    from workflows.imports import catalog as imports_kinds

    monkeypatch.setitem(imports_kinds.KINDS, "warnings", _breaking_after_first_chunk())
    rows = [warning_row(f"W-{i}") for i in range(5)]
    data = xlsx(table(rows))
    broken = upload(session, world, data, "断.xlsx")
    assert broken.state == "failed" and "重新导入同一文件可继续完成" in broken.message
    assert (broken.done, broken.created) == (2, 2)
    assert len(cases(session, "W-")) == 2
    monkeypatch.setitem(imports_kinds.KINDS, "warnings", WARNINGS)
    finished = upload(session, world, data, "断.xlsx")
    assert (finished.state, finished.created, finished.duplicates) == ("done", 3, 2)


def _breaking_after_first_chunk():
    from dataclasses import replace

    calls = []

    def write(session, actor, items, as_of, source):
        calls.append(len(items))
        if len(calls) > 1:
            raise RuntimeError("connection lost")
        return WARNINGS.write(session, actor, items, as_of, source)

    return replace(WARNINGS, write=write, chunk=2)


def test_the_template_has_chinese_headers_an_example_and_a_sheet_explaining_each_column():
    workbook = load_workbook(io.BytesIO(template(WARNINGS)))
    sheet, notes = workbook.worksheets
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["预警编号", "规则编码", "区划代码", "预警产生时间"]
    assert sheet["A2"].value == "W-20261123-0001"
    explained = {row[0]: row for row in notes.iter_rows(min_row=2, values_only=True) if row[0]}
    assert explained["预警级别"][1] == "选填" and "黄色警铃、黄灯 或 红灯" in explained["预警级别"][3]
    assert "外部编号" in explained["预警编号"][2]


def test_the_template_imports_as_it_is(session, world):
    run = upload(session, world, template(WARNINGS), "预警导入模板.xlsx")
    assert (run.created, run.refused) == (1, 0), report_rows(session, run) if run.refused else None


def test_an_interrupted_run_is_shown_as_failed_once_its_process_is_silent(session, world):
    from datetime import timedelta

    actor = world.actors["platform"]
    data = xlsx(table(THREE))
    run = queue_import(session, actor=actor, kind="warnings", file_name="a.xlsx", data=data,
                       source=None, dry_run=False, as_of=NOW)
    session.flush()
    assert import_view(session, run.id, as_of=NOW).state == "queued"
    later = import_view(session, run.id, as_of=NOW + timedelta(minutes=6))
    assert later.state == "failed" and "中断" in later.message
