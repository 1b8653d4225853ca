"""Zhang Wei (supervisor) prints 预警跟踪: an A4 landscape PDF with the list's title, the
header row repeated on each page, page numbers, and none of the site header's personal parts."""

import re
import subprocess

import pytest

from tests.browser.test_handler_journey import log_in

pytestmark = pytest.mark.slow


def test_zhang_wei_prints_the_case_list_on_a4_landscape(site, browser, artifacts):
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="zh-CN")
    page = context.new_page()
    log_in(page, site.url, "zhang_wei")
    page.goto(f"{site.url}/cases")
    page.emulate_media(media="print")
    assert page.locator("table.cases thead").evaluate("e => getComputedStyle(e).display") == "table-header-group"
    for hidden in (".who-name", ".who-role", ".unread-badge", "nav.site-nav"):
        assert not page.locator(hidden).is_visible(), hidden
    assert page.get_by_role("heading", name="预警跟踪").is_visible()

    pdf = artifacts / "cases.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    context.close()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert round(width) == 842 and round(height) == 595  # A4 landscape, in points
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "预警跟踪" in text and "当前经办人" in text and re.search(r"第1页/共\d+页", text.replace(" ", ""))
    for personal in ("张伟", "处室负责人", "消息", "退出"):
        assert personal not in text, personal
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(artifacts / "cases")], check=True)
