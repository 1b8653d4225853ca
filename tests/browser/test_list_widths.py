"""Every list page at 1024 px, as each role that sees it: no table cell is squeezed to one
character per line, and short cells (headers, dates, names) stay on one line. Wrapping is
measured from the rendered text's own height, not only from widths."""

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, select

from models import Case, User
from models.db import get_engine
from models.types import utcnow
from tests.browser.test_handler_journey import log_in
from workflows.core.actors import load_actor
from workflows.escalation.extensions import request_extension

pytestmark = pytest.mark.slow

# One persona per role; each opens every list in their own navigation.
PERSONAS = ["li_na", "zhang_wei", "qian_li", "he_min", "gao_jun", "ma_lin", "xu_qing",
            "liu_yang", "sun_hao"]

# Short text: a header, a date, a person's or unit's name, a number — it must not wrap at
# 1024 px. Longer texts (payees, rules, reasons) may wrap inside a column of readable width.
SHORT = 10

_MEASURE = """(short) => {
  const out = [];
  for (const table of document.querySelectorAll("main table")) {
    if (!table.offsetParent) continue;
    for (const cell of table.querySelectorAll("th, td")) {
      const text = cell.innerText.trim();
      if (!text || cell.colSpan > 1) continue;
      const style = getComputedStyle(cell);
      const width = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const font = parseFloat(style.fontSize);
      out.push({text: text.slice(0, 30), width, font, kind: "cell"});
      // A cell of plain text is one piece; a cell with lines (a name over its unit) is
      // measured line by line. Each piece's own text box: a short cell in a tall row is
      // still one line.
      const blocks = cell.querySelectorAll("div, p, br, ul, form, select, textarea, input");
      const pieces = blocks.length ? cell.querySelectorAll(":scope > div") : [cell];
      for (const piece of pieces) {
        const words = piece.innerText.trim();
        if (!words || words.includes("\\n") || words.length > short) continue;
        if (piece.querySelector("div, p, br, form")) continue;
        const range = document.createRange();
        range.selectNodeContents(piece);
        const own = getComputedStyle(piece);
        const lineHeight = parseFloat(own.lineHeight) || parseFloat(own.fontSize) * 1.6;
        out.push({text: words, height: range.getBoundingClientRect().height, lineHeight, kind: "line"});
      }
    }
  }
  return out;
}"""


def problems(page: Page) -> list[str]:
    found = []
    for cell in page.evaluate(_MEASURE, SHORT):
        if cell["kind"] == "cell" and cell["width"] < 2 * cell["font"]:
            found.append(f"narrower than two characters ({cell['width']:.0f}px): {cell['text']}")
        elif cell["kind"] == "line" and cell["height"] > 1.6 * cell["lineHeight"]:
            found.append(f"wraps ({cell['height']:.0f}px of {cell['lineHeight']:.0f}px lines): {cell['text']}")
    return found


@pytest.fixture(scope="module")
def extension_request(site):
    """An open 申请延期 on a case no other browser test acts on, so 督办申请 has a row to measure."""
    with Session(get_engine(site.database_url)) as session:
        case = session.exec(select(Case).where(Case.number == site.cases["extension"])).one()
        li_na = session.exec(select(User).where(User.username == "li_na")).one()
        request_extension(session, case_id=case.id, actor=load_actor(session, li_na.id),
                          version=case.version, as_of=utcnow(), reason="收款人账户核对需省厅回函，申请延期十个工作日")
        session.commit()
    return site.cases["extension"]


def list_pages(page: Page) -> list[str]:
    hrefs = page.locator("nav.site-nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if h not in ("/account-applications",)]


@pytest.mark.parametrize("username", PERSONAS)
def test_no_list_collapses_at_1024_px(site, browser, artifacts, extension_request, username):
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="zh-CN")
    page = context.new_page()
    log_in(page, site.url, username)
    page.wait_for_load_state()
    found = {}
    for href in list_pages(page):
        page.goto(site.url + href)
        page.screenshot(path=str(artifacts / f"{href.strip('/').replace('/', '-') or 'home'}.png"), full_page=True)
        if bad := problems(page):
            found[href] = bad
    context.close()
    assert not found, "\n".join(f"{h}: {b}" for h, bad in found.items() for b in bad)


def test_escalation_rows_show_what_is_asked(site, browser, artifacts, extension_request):
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="zh-CN")
    page = context.new_page()
    log_in(page, site.url, "zhang_wei")
    page.goto(f"{site.url}/escalations")
    row = page.locator("tr", has=page.get_by_role("link", name=extension_request))
    page.screenshot(path=str(artifacts / "escalations.png"), full_page=True)
    headers = page.locator("table.requests thead th").all_inner_texts()
    assert headers[:4] == ["预警编号", "规则", "收款人", "金额（元）"]
    assert headers[-2:] == ["办理期限", "申请人"]
    cells = row.locator("td").all_inner_texts()
    assert cells[:4] == [extension_request, "支付用途可疑\nZC-001", "安县城关镇农民专业合作社", "5,200.00"]
    assert cells[-1].startswith("李娜\n")
    # The facts are one line high; with the decision form beneath, one request stays compact.
    form_row = row.locator("xpath=following-sibling::tr[1]")
    assert form_row.get_by_role("button", name="提交审批").is_visible()
    assert row.bounding_box()["height"] < 100
    assert row.bounding_box()["height"] + form_row.bounding_box()["height"] < 200
    # Nothing scrolls sideways: every column is in view at 1024 px.
    assert page.locator("table.requests").evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
    context.close()
