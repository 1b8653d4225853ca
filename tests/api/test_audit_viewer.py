"""The audit viewer: GET /api/v1/audit, its XLSX export with a manifest, and /admin/audit.

Sun Hao (administrator) and Liu Yang (auditor, the province) read the trail; Li Na handles
cases and may not. Anxian gets a warning; everything is sealed before they look.
"""

import hashlib
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.api.test_pages_auth import page_login
from tests.factories import NOW, new_case
from workflows.audit.seal import seal


@pytest.fixture
def sealed(world, session, tmp_path):
    new_case(session, world)
    seal(session, as_of=NOW, head_file=tmp_path / "head.json")
    session.commit()
    return world


def test_the_auditor_reads_case_events_and_the_administrator_account_acts(client, login, sealed):
    auditor = client.get("/api/v1/audit", headers=login("liu_yang")).json()
    assert any(i["table_name"] == "case_event" and i["seq"] for i in auditor["items"])
    admin = client.get("/api/v1/audit?kind=login", headers=login("sun_hao")).json()
    assert admin["items"] and {i["kind"] for i in admin["items"]} == {"login"}
    assert {i["table_name"] for i in admin["items"]} == {"audit_event"}


def test_a_handler_is_refused_and_bad_filters_name_their_field(client, login, sealed):
    assert client.get("/api/v1/audit", headers=login("li_na")).status_code == 403
    refused = client.get("/api/v1/audit?person=nobody", headers=login("liu_yang"))
    assert refused.status_code == 422 and "nobody" in refused.text and "person" in refused.text
    assert client.get("/api/v1/audit?date_from=2026-13-01", headers=login("liu_yang")).status_code == 422


def test_pages_follow_the_cursor(client, login, sealed):
    headers = login("liu_yang")
    first = client.get("/api/v1/audit?limit=1", headers=headers).json()
    second = client.get(f"/api/v1/audit?limit=1&cursor={first['next_cursor']}", headers=headers).json()
    assert first["items"][0] != second["items"][0]


def test_the_export_carries_a_manifest_that_checks_the_rows(client, login, sealed):
    response = client.get("/api/v1/audit/export.xlsx?kind=case_event", headers=login("liu_yang"))
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    rows = list(book["审计记录"].iter_rows(min_row=2, values_only=True))
    manifest = dict(book["清单"].iter_rows(min_row=2, values_only=True))
    assert manifest["行数"] == len(rows) > 0
    assert manifest["导出人"] == "刘洋" and "类别=预警处理记录" in manifest["筛选条件"]
    lines = "\n".join(f"{r[6]}|{r[7]}|{r[9] or '-'}" for r in rows)
    assert manifest["内容摘要"] == hashlib.sha256(lines.encode()).hexdigest()
    assert manifest["首行链散列"] == rows[0][9] and manifest["末行链散列"] == rows[-1][9]


def test_the_page_shows_the_trail_to_the_auditor_and_the_tabs_to_the_administrator(client, sealed):
    assert page_login(client, "liu_yang").status_code == 303
    html = client.get("/admin/audit?kind=case_event").text
    assert "审计日志" in html and "产生预警" in html and "导出 XLSX" in html
    assert 'href="/admin/users"' not in html
    bad = client.get("/admin/audit?date_from=2026-99-01")
    assert bad.status_code == 422 and "起始日期格式不正确" in bad.text
    client.cookies.clear()
    assert page_login(client, "sun_hao").status_code == 303
    html = client.get("/admin/audit").text
    assert 'href="/admin/users"' in html and "登录" in html
