"""Accounts by application in a real browser: Zhang Wei, head of 安县财政局农财股, applies for a
handler account for his new colleague Zhou Qiang with annex 3's fields; Sun Hao, the
administrator, types the ID number again and approves; Zhou Qiang logs in with the one-time
password and must change it before anything else."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_handler_journey import Shots, log_in
from tests.factories import id_number

pytestmark = pytest.mark.slow

NUMBER = id_number(61)


def test_zhang_wei_applies_sun_hao_approves_and_zhou_qiang_must_change_the_password(site, browser, artifacts):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    shot = Shots(page, artifacts)

    log_in(page, site.url, "zhang_wei")
    page.goto(f"{site.url}/account-applications")
    form = page.locator("#application-form")
    form.locator('select[name="kind"]').select_option("open")
    form.locator('select[name="role"]').select_option("handler")
    form.get_by_label("姓名").fill("周强")
    form.get_by_label("身份证号").fill(NUMBER[:-1])  # one character short
    form.get_by_label("拟用用户名").fill("zhou_qiang")
    form.get_by_label("职务").fill("科员")
    form.get_by_label("联系电话").fill("0371-5550061")
    form.get_by_label("申请事由").fill("新调入农财股，负责预警核实")
    form.get_by_role("button", name="提交申请").click()
    # Told next to the field; the number is not typed back, the rest is kept.
    expect(page.locator("#err-id_number")).to_contain_text("身份证号应为 18 位")
    expect(form.get_by_label("姓名")).to_have_value("周强")
    expect(form.get_by_label("身份证号")).to_have_value("")
    shot("application-bad-id-number")
    form.get_by_label("身份证号").fill(NUMBER)
    form.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/account-applications/\d+\?done=submitted"))
    detail = page.url.split("?")[0]
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("安县财政局农财股")
    expect(facts).to_contain_text(NUMBER[:4] + "*" * 10 + NUMBER[-4:])
    expect(facts).to_contain_text("张伟")  # his submission is the head's review
    expect(page.get_by_role("status")).to_contain_text("待管理员审批")
    expect(page.locator("body")).not_to_contain_text(NUMBER)
    shot("application-submitted")
    context.clear_cookies()

    log_in(page, site.url, "sun_hao")
    page.goto(detail)
    decision = page.locator("#decision-form")
    expect(page.get_by_role("heading", name="管理员审批", exact=True)).to_be_visible()
    decision.get_by_label("再次录入身份证号（核对申请表）").fill(id_number(62))
    decision.get_by_role("button", name="同意并办理").click()
    expect(page.locator(".notice-error")).to_be_visible()
    expect(page.locator("#decision-form")).to_contain_text("身份证号与申请表不符")
    shot("approval-wrong-number")
    page.locator("#decision-form").get_by_label("再次录入身份证号（核对申请表）").fill(NUMBER)
    page.locator("#decision-form").get_by_label("意见").fill("同意开通")
    page.locator("#decision-form").get_by_role("button", name="同意并办理").click()
    password = page.locator("#generated-password").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9]{14}", password)
    expect(page.locator("h1 .pill")).to_have_text("已办理")
    shot("approved-one-time-password")
    context.close()

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    shot.page = page
    page.goto(f"{site.url}/login")
    page.get_by_label("用户名").fill("zhou_qiang")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{site.url}/account/password")
    expect(page.locator("body")).to_contain_text("一次性密码")
    # Nothing else opens before the change.
    page.goto(f"{site.url}/work")
    expect(page).to_have_url(f"{site.url}/account/password")
    shot("must-change-password")
    page.get_by_label("当前密码").fill(password)
    page.get_by_label("新密码").fill("Zhou-Qiang-2027")
    page.get_by_role("button", name="修改密码").click()
    page.goto(f"{site.url}/work")
    expect(page).to_have_url(f"{site.url}/work")
    expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    shot("work-after-change")
    context.close()
