"""The monthly summary on the web and the command line: page, PDF, XLSX, JSON; scope."""

import json
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import app as cli_app
from models.db import get_engine
from tests.factories import build_world
from tests.monthly_scenario import DRAFT_AT, build_november
from workflows.reporting.drafts import draft_monthly_reports

BASE = "/reports/monthly/410121/2026-11"


@pytest.fixture
def drafted(session, world):
    scenario = build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)
    return scenario


def test_qian_li_reads_anxians_report_page(client, login, drafted, session):
    response = client.get(BASE, headers=login("qian_li"))
    assert response.status_code == 200, response.text
    page = response.text
    assert "安县财政扶贫资金动态监控预警情况月报" in page and "2026年11月" in page
    assert "第1版 · 编制中" in page
    assert "66.67%" in page and "2/3" in page
    assert drafted.number(session, "D") in page
    assert page.count("<svg") == 2
    assert f'href="{BASE}/report.pdf"' in page and f'href="{BASE}/report.xlsx"' in page
    assert 'href="/reports"' in page  # the 月报 navigation entry


def test_qian_li_downloads_the_pdf_xlsx_and_json(client, login, drafted):
    headers = login("qian_li")
    pdf = client.get(f"{BASE}/report.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "410121-2026-11-v1.pdf" in pdf.headers["content-disposition"]
    xlsx = client.get(f"{BASE}/report.xlsx", headers=headers)
    assert xlsx.status_code == 200
    assert load_workbook(BytesIO(xlsx.content))["规则汇总"]["A1"].value == "规则编码"
    data = client.get(f"/api/v1{BASE}", headers=headers).json()
    assert (data["version"], data["status"], data["live"]) == (1, "drafting", False)
    assert data["figures"]["headline"]["cases"] == 7
    assert data["links"]["pdf"] == f"{BASE}/report.pdf?version=1"


def test_xu_qing_at_the_province_reads_the_city_and_its_counties(client, login, drafted):
    headers = login("xu_qing")
    city = client.get("/api/v1/reports/monthly/410100/2026-11", headers=headers).json()
    assert [c["region"]["code"] for c in city["figures"]["children"]] == [
        "410101",
        "410121",
        "410122",
    ]
    assert client.get(BASE, headers=headers).status_code == 200


def test_out_of_scope_and_other_roles_are_refused(client, login, drafted):
    # Qian Li is Anxian's treasury: Ningxian's report is not hers to read.
    assert (
        client.get("/api/v1/reports/monthly/410122/2026-11", headers=login("qian_li")).status_code
        == 404
    )
    assert (
        client.get("/reports/monthly/410100/2026-11", headers=login("qian_li")).status_code == 404
    )
    # Li Na handles cases of one section; the region's report is not a handler's page.
    assert client.get(BASE, headers=login("li_na")).status_code == 403
    assert client.get(f"/api/v1{BASE}", headers=login("sun_hao")).status_code == 403


def test_bad_input_is_named(client, login, drafted):
    headers = login("qian_li")
    bad = client.get("/api/v1/reports/monthly/410121/2026-13", headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"
    town = client.get("/api/v1/reports/monthly/410121001/2026-11", headers=headers)
    assert town.status_code == 422 and "不单独编制月报" in town.json()["message"]
    missing = client.get(f"/api/v1{BASE}?version=2", headers=headers)
    assert missing.status_code == 404


def test_the_chooser_sends_qian_li_to_her_county(client, login, drafted):
    response = client.get("/reports/monthly?month=2026-11", headers=login("qian_li"),
                          follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == BASE
    by_unit = client.get("/api/v1/reports/monthly/410121-GK/2026-11", headers=login("qian_li"))
    assert by_unit.json()["region_code"] == "410121"


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_world(cli_db):
    with Session(get_engine(cli_db), expire_on_commit=False) as session:
        world = build_world(session)
        scenario = build_november(session, world)
        draft_monthly_reports(session, as_of=DRAFT_AT)
        session.commit()
    return scenario


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "json"])
def test_the_cli_writes_each_format(cli_world, tmp_path, fmt):
    target = tmp_path / f"anxian.{fmt}"
    result = CliRunner().invoke(
        cli_app,
        ["report", "monthly", "410121", "2026-11", "--format", fmt, "--output", str(target)],
    )
    assert result.exit_code == 0, result.output
    assert "安县财政扶贫资金动态监控预警情况月报" in result.output and "编制中" in result.output
    data = target.read_bytes()
    if fmt == "pdf":
        assert data.startswith(b"%PDF")
    elif fmt == "xlsx":
        assert load_workbook(BytesIO(data))["总体情况"].cell(row=8, column=2).value == 7
    else:
        figures = json.loads(data)
        assert figures["schema"] == "warnflow.monthly/1" and figures["headline"]["cases"] == 7


def test_the_cli_names_a_bad_org_or_month(cli_world, tmp_path):
    result = CliRunner().invoke(cli_app, ["report", "monthly", "999999", "2026-11"])
    assert result.exit_code == 2 and "找不到区划或单位 999999" in result.output
    result = CliRunner().invoke(cli_app, ["report", "monthly", "410121", "11/2026"])
    assert result.exit_code == 2 and "YYYY-MM" in result.output


def test_the_cli_takes_an_org_unit_code_and_prints_json(cli_world):
    result = CliRunner().invoke(
        cli_app, ["report", "monthly", "410121-GK", "2026-11", "-f", "json", "-o", "-"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["region"]["code"] == "410121"


def test_qian_li_finds_the_report_and_any_other_month_from_the_monthly_list(client, login, drafted):
    page = client.get("/reports", headers=login("qian_li")).text
    assert f'href="{BASE}?version=1"' in page  # 查看月报 for 安县's November report
    assert 'href="/reports/monthly">按区划和月份查阅月报</a>' in page


@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_the_cli_writes_a_sent_report_s_stored_file(cli_db, tmp_path, monkeypatch, fmt):
    """Once 安县's November report is sent, `warnflow report` writes the file kept for it
    (forms.report_files), the same bytes the pages and the e-mail give."""
    import sqlalchemy as sa

    from forms.report_files import report_file, stored_path
    from models import MonthlyReport, Region
    from models.settings import get_settings
    from tests.monthly_scenario import MONTH
    from workflows.reporting.chain import ReportEvent, report_transition
    from workflows.reporting.reads import read_report

    monkeypatch.setenv("WARNFLOW_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    with Session(get_engine(cli_db), expire_on_commit=False) as session:
        world = build_world(session)
        build_november(session, world)
        draft_monthly_reports(session, as_of=DRAFT_AT)
        report = session.execute(sa.select(MonthlyReport).where(
            MonthlyReport.region_id == world.regions["anxian"].id, MonthlyReport.month == MONTH)).scalar_one()
        for who, event in [("li_na", ReportEvent.CONFIRM_PART), ("chen_jie", ReportEvent.CONFIRM_PART),
                           ("qian_li", ReportEvent.CONFIRM_PART), ("qian_li", ReportEvent.COMPILE),
                           ("he_min", ReportEvent.COUNTERSIGN), ("qian_li", ReportEvent.SEND)]:
            session.refresh(report)
            report_transition(session, report_id=report.id, event=event, actor=world.actors[who],
                              version=report.lock_version, as_of=DRAFT_AT)
        session.commit()
    target = tmp_path / f"anxian.{fmt}"
    result = CliRunner().invoke(cli_app, ["report", "monthly", "410121", "2026-11", "-f", fmt, "-o", str(target)])
    assert result.exit_code == 0, result.output
    files_dir = get_settings().files_dir
    with Session(get_engine(cli_db)) as session:
        view = read_report(session, region=session.get(Region, world.regions["anxian"].id), month=MONTH,
                           as_of=DRAFT_AT, version=1)
        stored = stored_path(files_dir, view, fmt)
        assert view.frozen and stored.exists()
        assert target.read_bytes() == stored.read_bytes() == report_file(view, fmt, files_dir=files_dir)
