"""分类台账: Xu Qing at the province reads warnings by county × category × level × state,
drills down into the tracking list and exports the workbook; Li Na (a county handler) may not."""

from decimal import Decimal
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from models import Case
from models.enums import Event, Level, RuleCategory, State
from tests.factories import NOW, new_case, verification_slip
from workflows.cases.transition import transition
from workflows.reporting.ledger import build_ledger, month_bounds


@pytest.fixture
def cases(session, world):
    """安县: a yellow light, a red light and one ruled a violation (now red); 宁县: a red."""
    ids = {
        "yellow": new_case(session, world, "yellow", amount="10000.00"),
        "red": new_case(session, world, "red", amount="25000.00"),
        "violation": new_case(session, world, "yellow", amount="5000.00"),
        "ningxian": new_case(session, world, "red", region="ningxian", unit="ningxian_agri",
                             assignee="zhao_lei", amount="30000.00"),
    }  # fmt: skip
    transition(session, case_id=ids["violation"], event=Event.SUBMIT_VERIFICATION,
               actor=world.actors["li_na"], version=session.get(Case, ids["violation"]).version,
               as_of=NOW, slip=verification_slip().model_copy(update={"amount_involved": Decimal("5000.00")}))  # fmt: skip
    session.commit()
    return ids


def test_the_province_ledger_counts_by_county_category_level_and_state(session, world, cases):
    ledger = build_ledger(session, actor=world.actors["xu_qing"])
    lines = {line.name: line for line in ledger.regions}
    assert set(lines) == {"安县", "宁县"}
    anxian = lines["安县"]
    assert (anxian.parent_name, anxian.total, anxian.open) == ("平川市", 3, 3)
    assert anxian.by_level[Level.YELLOW_LIGHT] == 1 and anxian.by_level[Level.RED_LIGHT] == 2
    assert anxian.by_category[RuleCategory.EXPENDITURE] == 3
    assert anxian.amount == Decimal("40000.00") and ledger.amount == Decimal("70000.00")
    red = [c for c in ledger.cells if c.region_name == "安县" and c.state == State.RED_LIGHT]
    assert [(c.count, c.amount) for c in red] == [(2, Decimal("30000.00"))]
    assert parse_qs(urlsplit(red[0].link).query) == {
        "region": ["410121"], "category": ["expenditure"], "level": ["red_light"],
        "state": ["red_light"]}  # fmt: skip


def test_a_month_filter_counts_only_warnings_raised_in_it(session, world, cases):
    from datetime import date

    start, end = month_bounds(date(2026, 11, 1))
    assert (
        start.isoformat() == "2026-10-31T16:00:00+00:00"
        and end.isoformat() == "2026-11-30T16:00:00+00:00"
    )
    assert build_ledger(session, actor=world.actors["xu_qing"], month=date(2026, 11, 1)).total == 4
    assert build_ledger(session, actor=world.actors["xu_qing"], month=date(2026, 10, 1)).total == 0


def test_xu_qing_reads_the_ledger_page_and_drills_down(client, login, world, cases):
    headers = login("xu_qing")
    page = client.get("/ledger", headers=headers)
    assert page.status_code == 200
    assert "中原省预警分类台账" in page.text and "安县" in page.text and "宁县" in page.text
    assert (
        "/cases?region=410121&amp;category=expenditure&amp;level=red_light&amp;state=red_light"
        in page.text
    )
    assert "4.00" in page.text  # 安县's 40,000 元 in 万元
    drill = client.get("/cases?region=410121&category=expenditure&level=red_light&state=red_light",
                       headers=headers)  # fmt: skip
    assert drill.status_code == 200 and drill.text.count('href="/cases/YJ-') == 2


def test_the_ledger_exports_a_workbook_whose_sums_match(client, login, world, cases):
    response = client.get("/ledger/export.xlsx", headers=login("xu_qing"))
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    summary, detail = book["分类台账汇总"], book["分类台账明细"]
    assert summary["A1"].value == "中原省财政扶贫资金动态监控预警分类台账（汇总）"
    assert summary["A2"].value == "填报单位：中原省财政厅国库处" and summary["A3"].value == "上级区划"
    assert detail["A1"].value == "中原省财政扶贫资金动态监控预警分类台账（明细）"
    rows = list(summary.iter_rows(min_row=4, values_only=True))
    assert [r[1] for r in rows[:-1]] == ["安县", "宁县", "平川市小计"] and rows[-1][0] == "合计"
    assert rows[-1][2] == rows[-2][2] == sum(r[2] for r in rows[:-2]) == 4
    assert rows[-1][-1] == pytest.approx(7.0)
    counts = [r[5] for r in detail.iter_rows(min_row=4, values_only=True)]
    assert counts[-1] == sum(counts[:-1]) == 4


def test_county_handlers_and_admins_do_not_read_the_ledger(client, login, world):
    assert client.get("/ledger", headers=login("li_na")).status_code == 403
    assert client.get("/ledger", headers=login("sun_hao")).status_code == 403
    assert client.get("/ledger/export.xlsx", headers=login("zhang_wei")).status_code == 403
