"""安县's monthly report in a real browser, from the departments' confirmations to the
city's receipt: Li Na (农财股) and Chen Jie (预算股) confirm their parts, Qian Li (国库股)
confirms the treasury's own, compiles, He Min (脱贫办) countersigns, Qian Li sends it to
the city (报送市局), and Wu Gang (平川市国库科) finds it in his inbox and opens it."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import Session

from models import MonthlyReport, OrgUnit, Region
from models.db import get_engine
from models.enums import OrgKind, Role
from tests.browser.test_handler_journey import Shots, log_in
from tests.factories import PASSWORD
from workflows.admin.accounts import create_user
from workflows.core.clock import now_utc
from workflows.reporting.drafts import draft_monthly_reports

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def anxian_report(site) -> int:
    """Last month's reports drafted, and 吴刚 at 平川市财政局国库科 to receive 安县's."""
    with Session(get_engine(site.database_url), expire_on_commit=False) as session:
        city = session.execute(sa.select(Region).where(Region.code == "410100")).scalar_one()
        unit = OrgUnit(code="410100-GK", name="平川市财政局国库科", kind=OrgKind.TREASURY,
                       region_id=city.id)  # fmt: skip
        session.add(unit)
        session.flush()
        create_user(session, username="wu_gang", full_name="吴刚", role=Role.TREASURY,
                    org_unit_id=unit.id, password=PASSWORD)  # fmt: skip
        draft_monthly_reports(session, as_of=now_utc(), only_first_working_day=False)
        report_id = session.execute(
            sa.select(MonthlyReport.id).join(Region, Region.id == MonthlyReport.region_id)
            .where(Region.code == "410121").order_by(MonthlyReport.month.desc()).limit(1)
        ).scalar_one()  # fmt: skip
        session.commit()
    return report_id


def step(page: Page, base: str, who: str, report_id: int, button: str, comment: str = "") -> None:
    page.context.clear_cookies()
    log_in(page, base, who)
    page.goto(f"{base}/reports/{report_id}/chain")
    if comment:
        page.locator("form", has=page.get_by_role("button", name=button)).get_by_label(
            "意见").fill(comment)  # fmt: skip
    page.get_by_role("button", name=button).click()
    expect(page.locator(".notice-ok")).to_contain_text(f"已办理：{button}")


def test_a_countys_report_goes_from_its_departments_to_the_city(site, browser, artifacts,
                                                                 anxian_report):  # fmt: skip
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    shot = Shots(page, artifacts)
    base = site.url

    log_in(page, base, "li_na")
    page.goto(f"{base}/reports")
    page.get_by_role("link", name="办理与记录").first.click()
    expect(page.locator("#part-410121-NC")).to_contain_text("安县财政局农财股")
    shot("li-na-sees-her-part")
    step(page, base, "li_na", anxian_report, "处室确认", "本股数据已核对")
    expect(page.locator("#part-410121-NC")).to_contain_text("李娜")
    step(page, base, "chen_jie", anxian_report, "处室确认")
    step(page, base, "qian_li", anxian_report, "处室确认")
    step(page, base, "qian_li", anxian_report, "国库汇总")
    shot("compiled")
    step(page, base, "he_min", anxian_report, "脱贫办会签", "同意报送")
    step(page, base, "qian_li", anxian_report, "报送市局")
    expect(page.locator(".case-head .state")).to_contain_text("已报送")
    shot("sent-to-the-city")

    page.context.clear_cookies()
    log_in(page, base, "wu_gang")
    page.goto(f"{base}/inbox")
    message = page.get_by_role("link", name="已报送市局")
    expect(message).to_contain_text("安县")
    shot("wu-gang-inbox")
    message.click()
    expect(page.locator(".case-head h1")).to_contain_text("安县")
    expect(page.locator(".case-head .state")).to_contain_text("已报送")
    expect(page.get_by_text("报送市局").first).to_be_visible()
    shot("wu-gang-opens-it")
    context.close()
