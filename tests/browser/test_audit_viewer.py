"""Liu Yang (auditor) opens 审计日志 in a real browser, finds one warning's history, and
downloads the export with its manifest."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlmodel import Session

from models.db import get_engine
from models.types import utcnow
from tests.browser.test_handler_journey import Shots, log_in
from workflows.audit.seal import seal

pytestmark = pytest.mark.slow


def test_liu_yang_reads_a_warnings_trail_and_exports_it(site, browser, artifacts, tmp_path):
    with Session(get_engine(site.database_url)) as session:
        seal(session, as_of=utcnow(), head_file=tmp_path / "head.json")
    number = site.cases["red"]
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    shot = Shots(page, artifacts)
    log_in(page, site.url, "liu_yang")
    page.get_by_role("navigation").get_by_role("link", name="审计日志").click()
    expect(page.get_by_role("heading", name="审计日志", exact=True)).to_be_visible()
    page.get_by_label("预警编号").fill(number)
    page.get_by_role("button", name="查询").click()
    rows = page.locator("#audit-rows tbody tr")
    expect(rows.first).to_contain_text(number)
    expect(rows.first).to_contain_text("环")
    shot("one-warning")

    with page.expect_download() as download:
        page.locator("#audit-export").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    manifest = dict(book["清单"].iter_rows(min_row=2, values_only=True))
    assert manifest["行数"] == rows.count() and f"预警编号={number}" in manifest["筛选条件"]
    context.close()
