"""Sun Hao (administrator) uploads the platform's export on 数据导入 in a real browser,
watches the progress bar to the end and downloads the error report."""

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.test_handler_journey import Shots, log_in
from tests.workflows.imports.importfiles import csv_bytes, table, warning_row

pytestmark = pytest.mark.slow
ROWS = 12_000  # many chunks, so the bar has somewhere to go


def test_sun_hao_uploads_a_gbk_export_watches_the_progress_and_downloads_the_error_report(
        site, browser, artifacts, tmp_path):
    rows = [warning_row(f"BR-{i:05d}", 区划代码="410121" if i % 1000 else "999999") for i in range(ROWS)]
    export = tmp_path / "安县预警导出.csv"
    export.write_bytes(csv_bytes(table(rows, title="安县 2026 年 11 月预警明细"), "gbk"))
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    shot = Shots(page, artifacts)
    log_in(page, site.url, "sun_hao")
    page.get_by_role("navigation").get_by_role("link", name="数据导入").click()
    expect(page.get_by_role("heading", name="数据导入")).to_be_visible()
    shot("imports-page")

    with page.expect_download() as template:
        page.get_by_role("link", name="下载预警导入模板").click()
    assert load_workbook(io.BytesIO(template.value.path().read_bytes())).active["A1"].value == "预警编号"

    page.locator("#import-file").set_input_files(str(export))
    page.get_by_role("button", name="开始导入").click()
    panel = page.locator("#import-progress-panel")
    expect(panel).to_be_visible()
    shot("progress")
    expect(panel).to_have_attribute("data-state", "done", timeout=120_000)
    expect(page.locator("#import-progress")).to_have_attribute("value", str(ROWS))
    expect(page.locator("#import-progress-text")).to_contain_text(re.compile(r"新建 11988.*拒绝 12", re.S))
    expect(page.locator("#import-history")).to_contain_text("安县预警导出.csv")
    expect(page.locator("#import-history")).to_contain_text("GBK/GB18030")
    shot("done")

    with page.expect_download() as report:
        page.get_by_role("link", name="下载错误报告（被拒绝的行）").click()
    sheet = load_workbook(io.BytesIO(report.value.path().read_bytes())).active
    values = list(sheet.values)
    assert len(values) == 1 + 12
    assert values[1][:4] == (3, "区划代码", "999999", "区划代码 999999 不存在")
    context.close()
