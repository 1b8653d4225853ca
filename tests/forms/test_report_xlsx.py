"""The monthly summary as a workbook: one sheet per table, numbers that sum to the JSON."""

from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook

from forms.report_xlsx import monthly_report_xlsx
from models import Region
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november
from workflows.reporting.drafts import draft_monthly_reports
from workflows.reporting.reads import read_report


@pytest.fixture
def city(session, world):
    build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    view = read_report(session, region=session.get(Region, world.regions["city"].id), month=MONTH,
                       as_of=DRAFT_AT)  # fmt: skip
    return view, load_workbook(BytesIO(monthly_report_xlsx(view)))


def dec(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


def test_every_table_has_its_own_sheet_with_chinese_headers(city):
    _, book = city
    assert book.sheetnames == [
        "总体情况", "分级分类", "规则汇总", "超期清单", "下级考核", "连续预警地区", "各部门",
    ]  # fmt: skip
    assert [c.value for c in book["规则汇总"][1]] == [
        "规则编码", "规则名称", "规则分类", "预警级别", "本月产生", "本月办结", "月末未办结", "月末超期",
    ]  # fmt: skip
    assert [c.value for c in book["分级分类"][1]] == ["预警级别", "规则分类", "月末状态", "件数"]


def test_the_sums_in_the_workbook_match_the_json(city):
    view, book = city
    f = view.figures
    matrix = rows(book["分级分类"])
    assert matrix[-1][0] == "合计"
    assert sum(r[3] for r in matrix[:-1]) == matrix[-1][3] == f["headline"]["cases"] == 8
    rules = rows(book["规则汇总"])
    body, total = rules[:-1], rules[-1]
    assert total[0] == "合计"
    for column, key in ((4, "raised"), (5, "resolved"), (6, "open_at_end"), (7, "overdue")):
        assert sum(r[column] for r in body) == total[column] == f["headline"][key], key
    children = rows(book["下级考核"])
    scored = [r for r in children if r[1]]
    # Excel keeps numbers as binary floats: compare them as the Decimals they print as.
    assert [(r[0], dec(r[-2])) for r in scored] == [
        (c["region"]["name"], Decimal(c["score"])) for c in f["children"]
    ]
    # A draft: no child's report has been gathered yet (that happens when the city compiles).
    assert {r[-1] for r in scored} == {"系统数据"}
    assert sum(r[2] for r in scored) == f["headline"]["cases"]  # 在办, summed over counties
    assert sum(r[6] for r in scored) == f["headline"]["overdue"]
    overdue = rows(book["超期清单"])
    assert [r[0] for r in overdue] == [i["number"] for i in f["overdue_list"]["items"]]
    assert all(isinstance(r[6], int) for r in overdue)  # working days overdue, a number


def test_numbers_are_numbers_in_the_overview(city):
    view, book = city
    overview = {r[0]: r[1:] for r in rows(book["总体情况"])}
    assert overview["本月在办预警（件）"][0] == 8
    rate, numerator, denominator = overview["按期办结率"]
    assert (dec(rate), numerator, denominator) == (Decimal("66.67"), 2, 3)
    assert dec(overview["涉及金额（万元）"][0]) == Decimal("1.23")
    assert overview["核实用时中位数（工作日）"][0] == 2
    assert overview["版本"][0] == "第1版" and overview["状态"][0] == "编制中"
    assert book["总体情况"].cell(row=2, column=1).value == "报表"
    assert overview["本月开启专项督查（件）"][0] == 0
    assert book["连续预警地区"]["A2"].value.startswith("本月尚未评估三个月规则")
