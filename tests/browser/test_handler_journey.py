"""A handler and her supervisor take a yellow light to green in a real browser."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.slow


class Shots:
    def __init__(self, page: Page, folder):
        self.page, self.folder, self.n = page, folder, 0

    def __call__(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.folder / f"{self.n:02d}-{name}.png"), full_page=True)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_li_na_takes_a_yellow_light_to_red_and_zhang_wei_approves_it_green(site, browser, artifacts):
    number = site.cases["yellow"]
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    shot = Shots(page, artifacts)

    page.goto(f"{site.url}/work")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    shot("login")
    log_in(page, site.url, "li_na")
    expect(page).to_have_url(f"{site.url}/work")
    expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    expect(page.get_by_text(site.cases["ningxian"])).to_have_count(0)
    shot("my-work")

    page.get_by_role("link", name=number).click()
    expect(page.locator(".case-head .badge")).to_have_text("黄灯")
    shot("case-yellow-light")
    page.get_by_role("button", name="开始核实").click()
    expect(page.locator(".notice-ok")).to_contain_text("开始核实")
    expect(page.locator(".case-head .state")).to_have_text("核实中")

    form = page.locator("#verification-form")
    form.get_by_role("checkbox", name="电话核实").check()
    form.get_by_role("checkbox", name="调阅材料").check()
    form.get_by_label("核实情况").fill("经电话核实并调阅拨付凭证，该笔资金用途与项目批复不符。<b>原文</b>")
    form.get_by_role("button", name="提交核实处理单").click()
    # Forgot the conclusion: told next to the field, nothing lost.
    expect(page.locator("#err-conclusion")).to_have_text("请选择认定结论（正常或违规）")
    expect(form.get_by_label("核实情况")).to_have_value(re.compile("用途与项目批复不符"))
    expect(form.get_by_role("checkbox", name="电话核实")).to_be_checked()
    shot("verification-slip-missing-conclusion")

    form.get_by_role("radio", name="违规", exact=True).check()
    form.get_by_label("违规类型").select_option(label="挤占挪用")
    form.get_by_label("涉及金额（元）").fill("12345.67")
    form.get_by_label("附件").set_input_files(
        files=[{"name": "核实材料.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%x\n"}]
    )
    form.get_by_role("button", name="提交核实处理单").click()
    expect(page.locator(".case-head .badge")).to_have_text("红灯")
    expect(page.locator(".case-head .badge")).to_have_class(re.compile("badge-red_light"))
    expect(page.get_by_role("link", name="核实材料.pdf")).to_be_visible()
    # Typed markup is shown as text.
    expect(page.locator("#slips")).to_contain_text("<b>原文</b>")
    shot("case-red-light")

    form = page.locator("#rectification-form")
    form.get_by_role("checkbox", name="收回资金").check()
    form.get_by_role("checkbox", name="已纠正").check()
    form.get_by_label("整改情况").fill("已责令收回挪用资金并重新按批复用途拨付。")
    form.get_by_label("收回金额（元）").fill("12345.67")
    form.get_by_label("整改完成日期").fill("2026-11-23")
    form.get_by_role("button", name="提交整改处理单，送审核").click()
    expect(page.locator(".case-head .state")).to_have_text("整改待审核")
    shot("rectification-sent-for-review")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(f"{site.url}/login")

    log_in(page, site.url, "zhang_wei")
    page.get_by_role("link", name="审核队列").click()
    expect(page.get_by_role("link", name=number)).to_be_visible()
    shot("review-queue")
    page.get_by_role("row", name=re.compile(number)).get_by_role("link", name="审核").click()
    page.locator("#approve-form").get_by_label("审核意见").fill("整改到位，同意办结。")
    page.get_by_role("button", name="审核通过，办结为绿灯").click()
    expect(page.locator(".case-head .badge")).to_have_text("绿灯")
    expect(page.locator(".case-head .state")).to_have_text("绿灯（已办结）")
    shot("case-green")
    page.emulate_media(media="print")
    shot("case-green-as-printed")
    page.emulate_media(media="screen")

    page.get_by_role("link", name="预警跟踪").click()
    shot("tracking-list")
    page.get_by_role("link", name="规则汇总").click()
    shot("rule-summary")
    context.close()


def test_li_na_files_one_slip_for_several_cases_and_cannot_open_ningxians(site, browser, artifacts):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    shot = Shots(page, artifacts)
    log_in(page, site.url, "li_na")

    page.goto(f"{site.url}/cases/{site.cases['ningxian']}")
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    shot("other-county-case-is-not-found")

    page.get_by_role("link", name="批量处理").click()
    form = page.locator("#batch-form")
    form.get_by_role("button", name="为所选预警提交处理单").click()
    expect(page.get_by_text("请至少选择一条预警")).to_be_visible()
    shot("batch-nothing-ticked")
    form.get_by_role("checkbox", name=f"选择 {site.cases['other']}").check()
    form.get_by_role("checkbox", name="系统数据比对").check()
    form.get_by_label("核实情况").fill("经系统数据比对，支付用途与批复一致。")
    form.get_by_role("radio", name="正常", exact=True).check()
    form.get_by_role("button", name="为所选预警提交处理单").click()
    expect(page.locator(".notice-ok")).to_contain_text("已为 1 条预警提交一张核实处理单")
    shot("batch-filed")
    page.goto(f"{site.url}/cases/{site.cases['other']}")
    expect(page.locator(".case-head .badge")).to_have_text("绿灯")
    context.close()
