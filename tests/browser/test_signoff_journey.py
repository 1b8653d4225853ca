"""A signature covers what was signed, in a real browser: Li Na amends a slip Zhang Wei
approved; the case returns to his queue marked as changed; the first version stays, void."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_handler_journey import Shots, log_in

pytestmark = pytest.mark.slow


def test_an_amended_approved_slip_goes_back_to_zhang_wei(site, browser, artifacts):
    number = site.cases["red"]
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    shot = Shots(page, artifacts)

    log_in(page, site.url, "li_na")
    page.goto(f"{site.url}/cases/{number}")
    form = page.locator("#rectification-form")
    form.get_by_role("checkbox", name="收回资金").check()
    form.get_by_label("整改情况").fill("已收回违规资金。")
    form.get_by_label("收回金额（元）").fill("99999999")
    form.get_by_label("整改完成日期").fill("2020-01-01")
    form.get_by_role("button", name="提交整改处理单，送审核").click()
    # Figures that make no sense are refused next to their fields, with the limit.
    expect(page.locator("#err-amount_recovered")).to_contain_text("收回金额不能超过涉及金额 86,000.00 元")
    expect(page.locator("#err-completed_on")).to_contain_text("不能早于预警产生日期")
    shot("figures-refused")
    form.get_by_label("收回金额（元）").fill("86000")
    form.get_by_label("整改完成日期").fill("2026-11-23")
    form.get_by_role("button", name="提交整改处理单，送审核").click()
    expect(page.locator(".case-head .state")).to_have_text("整改待审核")
    page.get_by_role("button", name="退出").click()

    log_in(page, site.url, "zhang_wei")
    page.goto(f"{site.url}/cases/{number}")
    page.locator("#approve-form").get_by_label("审核意见").fill("整改到位")
    page.get_by_role("button", name="审核通过，办结为绿灯").click()
    expect(page.locator(".case-head .state")).to_have_text("绿灯（已办结）")
    page.get_by_role("button", name="退出").click()

    log_in(page, site.url, "li_na")
    page.goto(f"{site.url}/cases/{number}")
    page.get_by_role("link", name="修改处理单").click()
    expect(page.get_by_text("保存修改将使签字作废")).to_be_visible()
    shot("amend-signed-slip")
    page.get_by_label("收回金额（元）").fill("1.00")
    page.get_by_label("修改原因").fill("收回金额录入有误")
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator(".case-head .state")).to_have_text("整改待审核")
    page.get_by_role("button", name="退出").click()

    log_in(page, site.url, "zhang_wei")
    page.get_by_role("link", name="审核队列").click()
    row = page.get_by_role("row", name=re.compile(number))
    expect(row).to_contain_text("处理单已修改，需重新审核")
    shot("review-queue-changed")
    row.get_by_role("link", name="审核").click()
    page.locator("details.versions summary").click()
    expect(page.locator("details.versions")).to_contain_text("已作废")
    expect(page.locator("details.versions")).to_contain_text("同意。整改到位")
    shot("case-with-void-version")
    page.locator("#approve-form").get_by_label("审核意见").fill("已核对更正")
    page.get_by_role("button", name="审核通过，办结为绿灯").click()
    expect(page.locator(".case-head .state")).to_have_text("绿灯（已办结）")
    expect(page.locator("#slips")).to_contain_text("同意。已核对更正")
    shot("approved-again")
    context.close()
