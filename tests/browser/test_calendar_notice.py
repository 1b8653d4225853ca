"""Sun Hao (administrator) pastes the 2027 notice on 工作日历 in a real browser, checks the
month grid and saves it; the days he saved are removed again afterwards, so the other
browser tests keep counting 2027 the way they expect."""

from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlmodel import Session

from models import CalendarDay
from models.db import get_engine
from tests.browser.test_handler_journey import Shots, log_in
from tests.workflows.admin.notice_texts import NOTICE_2027
from workflows.core.calendar import unset_day

pytestmark = pytest.mark.slow


@pytest.fixture
def forget_2027(site):
    yield
    with Session(get_engine(site.database_url)) as session:
        days = session.scalars(sa.select(CalendarDay.day).where(
            CalendarDay.day.between(date(2027, 1, 1), date(2027, 12, 31)))).all()
        for day in days:
            unset_day(session, day=day)
        session.commit()


def test_sun_hao_enters_2027_from_the_notice_and_checks_it_on_the_month_grid(
        site, browser, artifacts, forget_2027):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    shot = Shots(page, artifacts)
    log_in(page, site.url, "sun_hao")
    page.goto(f"{site.url}/admin/calendar")
    expect(page.get_by_role("heading", name="按国务院办公厅通知录入")).to_be_visible()
    page.get_by_label("通知全文").fill(NOTICE_2027)
    page.get_by_role("button", name="识别并预览").click()

    expect(page.get_by_role("heading", name="核对 2027 年节假日安排")).to_be_visible()
    expect(page.locator("#notice-summary")).to_contain_text("放假 29 天、调休上班 6 天")
    expect(page.locator("table.month")).to_have_count(12)
    expect(page.locator('td[data-day="2027-02-08"]')).to_have_attribute("data-kind", "holiday")
    expect(page.locator('td[data-day="2027-02-20"]')).to_have_attribute("data-kind", "workday")
    # The colours tell the kinds apart, not only the markup.
    colours = {day: page.locator(f'td[data-day="{day}"]').evaluate("e => getComputedStyle(e).backgroundColor")
               for day in ("2027-02-08", "2027-02-20", "2027-02-27", "2027-02-26")}
    assert len(set(colours.values())) == 4, colours
    shot("notice-preview")

    page.get_by_role("button", name="确认保存").click()
    expect(page.get_by_role("status")).to_contain_text("已按国务院办公厅通知保存全年节假日和调休上班日")
    expect(page.locator("table.data")).to_contain_text("春节调休上班")
    shot("saved")
    context.close()
