"""Reading cases over the API: the list with its filters and pages, one case, the summary."""

from datetime import timedelta

import pytest

from models import Case
from tests.factories import NOW, new_case


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    # Routes read the wall clock; these tests read it at the factories' Monday morning.
    monkeypatch.setattr("api.routes.cases.now_utc", lambda: NOW)


def number_of(session, case_id) -> str:
    return session.get(Case, case_id).number


@pytest.fixture
def cases(session, world):
    return {
        "agri": number_of(session, new_case(session, world, "yellow")),
        "red": number_of(session, new_case(session, world, "red", at=NOW - timedelta(days=20))),
        "budget": number_of(
            session, new_case(session, world, "yellow", unit="anxian_budget", assignee="chen_jie")
        ),
        "ningxian": number_of(
            session,
            new_case(
                session, world, "red", region="ningxian", unit="ningxian_agri", assignee="zhao_lei"
            ),
        ),
    }


def listed(client, headers, **params) -> list[str]:
    response = client.get("/api/v1/cases", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [item["number"] for item in response.json()["items"]]


def test_li_na_lists_her_departments_cases_with_labels_and_amounts_as_text(client, login, cases):
    response = client.get("/api/v1/cases", headers=login("li_na"))
    body = response.json()
    assert {i["number"] for i in body["items"]} == {cases["agri"], cases["red"]}
    assert body["next_cursor"] is None
    item = next(i for i in body["items"] if i["number"] == cases["agri"])
    assert item["level"] == "yellow_light" and item["level_label"] == "黄灯"
    assert item["state_label"] == "黄灯待核实" and item["category_label"] == "支出管理"
    assert item["amount"] == "12345.67" and item["assignee_name"] == "李娜"
    assert item["working_days_left"] == 5 and item["overdue"] is False
    assert item["region_name"] == "安县" and item["org_unit_name"] == "安县财政局农财股"


def test_filters_travel_in_the_query_string(client, login, cases):
    auditor = login("liu_yang")
    assert set(listed(client, auditor)) == set(cases.values())
    assert set(listed(client, auditor, state=["red_light", "yellow_light"])) == set(cases.values())
    assert listed(client, auditor, level="yellow_light", department="410121-YS") == [
        cases["budget"]
    ]
    assert set(listed(client, auditor, rule="ZC-002")) == {cases["red"], cases["ningxian"]}
    assert listed(client, auditor, region="410122") == [cases["ningxian"]]
    assert listed(client, auditor, overdue="true") == [cases["red"]]
    assert listed(client, auditor, days_at_step_min=20) == [cases["red"]]
    assert listed(client, auditor, q=cases["budget"]) == [cases["budget"]]
    # Default order: the nearest deadline first.
    assert listed(client, login("li_na"), mine="true") == [cases["red"], cases["agri"]]


def test_pages_follow_the_cursor(client, login, cases):
    auditor = login("liu_yang")
    seen, cursor = [], None
    while True:
        params = {"limit": 1, "sort": "number"} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/cases", headers=auditor, params=params).json()
        seen += [i["number"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(cases.values())


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"state": "nonsense"}, "state.0"),
        ({"sort": "payee"}, "sort"),
        ({"days_at_step_min": -1}, "days_at_step_min"),
    ],
)
def test_bad_list_parameters_answer_422_naming_the_field(client, login, cases, params, field):
    response = client.get("/api/v1/cases", headers=login("li_na"), params=params)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_li_na_reads_a_case_with_its_account_masked_and_what_she_may_do(client, login, cases):
    body = client.get(f"/api/v1/cases/{cases['agri']}", headers=login("li_na")).json()
    assert body["number"] == cases["agri"] and body["version"] == 1
    assert body["facts"]["payee_account"] == "6222 **** **** 3445"
    assert body["facts"]["amount"] == "12345.67"
    assert body["fact_labels"]["payee_account"] == "收款人账户"
    assert body["rule"]["basis"].startswith("豫财办")
    assert [e["event"] for e in body["timeline"]] == ["raise"]
    assert [e["event"] for e in body["allowed_events"]] == ["start_verify", "submit_verification"]
    assert body["due_on"] == "2026-11-30"


@pytest.mark.parametrize("who", ["zhao_lei", "chen_jie"])
def test_a_case_outside_ones_scope_reads_as_not_found(client, login, cases, who):
    response = client.get(f"/api/v1/cases/{cases['agri']}", headers=login(who))
    assert response.status_code == 404
    unknown = client.get("/api/v1/cases/YJ-209901-000001", headers=login(who))
    assert unknown.status_code == 404 and unknown.json() == response.json()


@pytest.mark.parametrize("who", ["sun_hao", "platform"])
def test_the_admin_and_the_platform_may_not_read_cases(client, login, cases, who):
    headers = login(who)
    assert client.get("/api/v1/cases", headers=headers).status_code == 403
    assert client.get(f"/api/v1/cases/{cases['agri']}", headers=headers).status_code == 403
    assert client.get("/api/v1/summary", headers=headers).status_code == 403


def test_reading_cases_needs_a_login(client, cases):
    assert client.get("/api/v1/cases").status_code == 401


def test_the_summary_counts_per_rule_with_a_total_line(client, login, cases):
    body = client.get("/api/v1/summary", headers=login("liu_yang")).json()
    rows = {r["rule_code"]: r for r in body["rows"]}
    assert rows["ZC-002"]["red_open"] == 2 and rows["ZC-001"]["yellow_suspicious"] == 2
    assert rows["ZC-001"]["amount_total"] == "24691.34"
    assert body["totals"]["rule_name"] == "合计" and body["totals"]["total"] == 4
    narrowed = client.get("/api/v1/summary", headers=login("liu_yang"), params={"region": "410122"})
    assert narrowed.json()["totals"]["total"] == 1
    unknown = client.get("/api/v1/summary", headers=login("liu_yang"), params={"region": "999"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "region"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet_of(response):
    from io import BytesIO

    from openpyxl import load_workbook

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    return load_workbook(BytesIO(response.content)).active


def test_li_na_exports_her_filtered_tracking_list(client, login, cases):
    response = client.get(
        "/api/v1/cases/export.xlsx", headers=login("li_na"), params={"rule": "ZC-001"}
    )
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert (
        "filename*=UTF-8''%E9%A2%84%E8%AD%A6%E8%B7%9F%E8%B8%AA%E6%B8%85%E5%8D%95-20261123.xlsx"
        in disposition
    )
    sheet = sheet_of(response)
    rows = list(sheet.iter_rows(values_only=True))
    # A bureau's letterhead: title, then 填报单位 / 单位 / 制表日期, then the header.
    assert rows[0][0] == "中原省财政扶贫资金动态监控预警跟踪表"
    assert [v for v in rows[1] if v] == ["填报单位：安县财政局农财股", "单位：万元", "制表日期：2026年11月23日"]
    assert rows[2][0] == "预警编号" and rows[2][-1] == "金额（万元）"
    assert [r[0] for r in rows[3:]] == [cases["agri"]]
    assert sheet.print_title_rows == "$3:$3" and sheet.freeze_panes == "A4"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9  # A4


def test_the_auditor_exports_the_summary_with_a_total_line(client, login, cases):
    response = client.get("/api/v1/summary/export.xlsx", headers=login("liu_yang"))
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    rows = list(sheet_of(response).iter_rows(values_only=True))
    assert rows[0][0] == "中原省财政扶贫资金动态监控预警规则汇总表"
    assert rows[1][0] == "填报单位：中原省财政厅办公室"
    assert rows[2][:2] == ("规则编码", "规则名称")
    assert [r[0] for r in rows[3:]] == ["ZB-001", "ZB-002", "ZC-001", "ZC-002", "合计"]


@pytest.mark.parametrize("path", ["/api/v1/cases/export.xlsx", "/api/v1/summary/export.xlsx"])
def test_the_admin_may_not_export(client, login, cases, path):
    assert client.get(path, headers=login("sun_hao")).status_code == 403
