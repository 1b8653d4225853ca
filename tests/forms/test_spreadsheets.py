"""Exporting the tracking list and the per-rule summary to XLSX for the finance office."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

from openpyxl import load_workbook

from forms.spreadsheets import rule_summary_xlsx, tracking_xlsx
from models.enums import RuleCategory, State
from tests.factories import NOW, new_case
from workflows.cases.queries import CaseFilters, CaseRow, iter_cases
from workflows.cases.summary import RuleSummaryRow, rule_summary

TRACKING_HEADERS = [
    "预警编号", "区划", "预警级别", "规则", "当前节点", "当前经办人", "到达本节点时间",
    "在本节点天数", "办理期限", "剩余工作日", "收款人", "金额（万元）",
]


def case_row(number: str, *, amount: str | None, state: State = State.YELLOW_LIGHT, **kw) -> CaseRow:
    values = dict(
        id=1, number=number, version=1, rule_code="ZC-001", rule_name="支付用途可疑",
        category=RuleCategory.EXPENDITURE, state=state, level=state.level, region_code="410121",
        region_name="安县", org_unit_id=1, org_unit_name="安县财政局农财股", assignee_id=1,
        assignee_name="李娜", fund_name="衔接资金", payee_name="安县城关镇农民专业合作社",
        amount=Decimal(amount) if amount is not None else None,
        raised_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        entered_step_at=datetime(2026, 11, 22, 17, 30, tzinfo=UTC),
        days_at_step=0, due_on=date(2026, 11, 30), working_days_left=5, overdue=False,
    )
    values.update(kw)
    return CaseRow(**values)


def summary_row(code: str, name: str, amount: str, **counts) -> RuleSummaryRow:
    values = dict(
        rule_code=code, rule_name=name, category=RuleCategory.EXPENDITURE, red_open=0,
        red_rectified=0, yellow_suspicious=0, yellow_normal=0, yellow_violation_open=0,
        yellow_violation_rectified=0, bell_open=0, bell_rectified=0, amount_total=Decimal(amount),
    )
    values.update(counts)
    return RuleSummaryRow(**values)


def reopen(data: bytes):
    return load_workbook(BytesIO(data)).active


def test_the_tracking_list_exports_with_chinese_headers_and_amounts_in_wan_yuan():
    rows = [
        case_row("YJ-202611-000001", amount="12345.67"),
        case_row(
            "YJ-202611-000002", amount="150", state=State.RED_LIGHT, assignee_name=None,
            working_days_left=-2, overdue=True, due_on=date(2026, 11, 19), days_at_step=6,
        ),
        case_row("YJ-202611-000003", amount=None, state=State.GREEN, due_on=None, working_days_left=None),
    ]
    sheet = reopen(tracking_xlsx(rows))

    assert sheet.title == "预警跟踪清单"
    assert [c.value for c in sheet[1]] == TRACKING_HEADERS
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    first, overdue, closed = (list(sheet.iter_rows(min_row=r, max_row=r))[0] for r in (2, 3, 4))
    assert [c.value for c in first[:6]] == ["YJ-202611-000001", "安县", "黄灯", "支付用途可疑", "黄灯待核实", "李娜"]
    # 17:30 UTC on the 22nd is 01:30 on the 23rd in Shanghai; stored as a real date-time.
    assert first[6].value == datetime(2026, 11, 23, 1, 30)
    assert first[6].is_date and first[8].is_date
    assert first[8].value == datetime(2026, 11, 30)
    assert first[11].value == 1.23
    assert first[11].number_format == "#,##0.00"
    assert overdue[2].value == "红灯" and overdue[5].value is None
    assert overdue[9].value == -2 and overdue[9].font.bold
    assert overdue[11].value == 0.02  # 0.015 万元 rounds half-up
    assert closed[4].value == "绿灯（已办结）"
    assert closed[8].value is None and closed[9].value is None and closed[11].value is None
    widths = [sheet.column_dimensions[c].width for c in "ABCDEFGHIJKL"]
    assert all(w >= 8 for w in widths)


def test_an_empty_tracking_list_still_has_its_headers():
    sheet = reopen(tracking_xlsx([]))
    assert [c.value for c in sheet[1]] == TRACKING_HEADERS
    assert sheet.max_row == 1


def test_the_rule_summary_exports_with_a_total_row():
    rows = [
        summary_row("ZC-001", "支付用途可疑", "12345.67", red_open=2, yellow_suspicious=3, yellow_normal=1),
        summary_row("ZC-002", "单笔提现金额超限", "150", red_open=1, red_rectified=4, bell_open=1),
    ]
    sheet = reopen(rule_summary_xlsx(rows))

    assert sheet.title == "规则汇总表"
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["规则编码", "规则名称", "规则分类", "红灯未整改"]
    assert "黄灯疑点" in headers and "黄色警铃已解除" in headers and headers[-1] == "金额（万元）"
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    data = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(data) == 3
    assert data[0][:3] == ["ZC-001", "支付用途可疑", "支出管理"]
    column = {h: i for i, h in enumerate(headers)}
    assert data[0][column["红灯未整改"]] == 2 and data[0][column["黄灯疑点"]] == 3
    assert data[0][-1] == 1.23 and data[1][-1] == 0.02
    total = data[2]
    assert total[0] == "合计"
    assert total[column["红灯未整改"]] == 3 and total[column["红灯已整改"]] == 4
    assert total[column["黄灯认定正常"]] == 1 and total[column["黄色警铃未解除"]] == 1
    # From the exact sum, 12,495.67 元: 1.25 万元.
    assert total[-1] == 1.25
    assert sheet.cell(row=4, column=1).font.bold
    assert sheet.cell(row=4, column=len(headers)).number_format == "#,##0.00"


def test_the_exports_read_the_real_lists_of_a_handler(session, world):
    for amount in ("12345.67", "20000"):
        new_case(session, world, "yellow", amount=amount)
    actor = world.actors["li_na"]
    cases = iter_cases(session, actor=actor, filters=CaseFilters(), as_of=NOW)
    sheet = reopen(tracking_xlsx(cases))
    assert sheet.max_row == 3
    assert sorted(row[11].value for row in sheet.iter_rows(min_row=2)) == [1.23, 2.0]

    summary = rule_summary(session, actor=actor, as_of=NOW)
    totals = [[c.value for c in row] for row in reopen(rule_summary_xlsx(summary)).iter_rows()][-1]
    assert totals[0] == "合计" and totals[-1] == 3.23
