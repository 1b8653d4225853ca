"""Sun Hao, the administrator, keeps accounts, rules, the calendar, the whitelist and the
routing table through the admin pages; nobody else gets in."""

import re

import pytest
from sqlmodel import select

from models import CalendarDay, Rule, User, WhitelistEntry
from models.enums import OrgKind, WarningType
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import id_number
from workflows.intake.routing import routing_table


@pytest.fixture
def world(world, session):
    # A refused request rolls the shared session back; commit the world so that it stays.
    session.commit()
    return world


@pytest.fixture
def sun_hao(world, client):
    assert page_login(client, "sun_hao").status_code == 303
    return client


def post_form(client, page: str, action: str, data: dict, files=None):
    """Open `page`, then post `data` to `action` with the page's CSRF token, as a browser does."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, files=files,
                       follow_redirects=False)


def field_error(html: str, name: str) -> str | None:
    match = re.search(rf'<span class="field-error" id="err-{name}" role="alert">([^<]*)</span>', html)
    return match.group(1) if match else None


NEW_ACCOUNT = {"kind": "open", "username": "zhou_qiang", "full_name": "周强", "id_number": id_number(7),
               "role": "handler", "position": "科员", "phone": "0371-66668888", "reason": "新调入"}


def test_accounts_are_not_opened_on_the_admin_pages_but_by_application(world, sun_hao, session):
    listing = sun_hao.get("/admin/users").text
    assert 'href="/account-applications"' in listing and 'href="/admin/users/new"' not in listing
    data = {**NEW_ACCOUNT, "org_unit_id": str(world.units["anxian_agri"].id), "password": "Anxian2026ok"}
    response = post_form(sun_hao, "/admin/users", "/admin/users", data)
    assert response.status_code == 405
    assert sun_hao.get("/admin/users/new").status_code < 500
    assert session.exec(select(User).where(User.username == "zhou_qiang")).first() is None


def test_several_mistakes_in_an_application_are_all_shown_at_once(world, client):
    page_login(client, "li_na")
    data = {**NEW_ACCOUNT, "full_name": "", "id_number": "123", "phone": ""}
    response = post_form(client, "/account-applications", "/account-applications", data)
    assert response.status_code == 422
    assert field_error(response.text, "full_name") == "请填写姓名"
    assert field_error(response.text, "id_number").startswith("身份证号应为 18 位")
    assert field_error(response.text, "phone") == "请填写联系电话"
    assert 'value="0371-66668888"' not in response.text and 'value="科员"' in response.text


def test_a_handler_gets_403_on_every_admin_page(world, client, session):
    page_login(client, "li_na")
    for path in ("/admin", "/admin/users", f"/admin/users/{world.users['wang_fang']}", "/admin/rules", "/admin/calendar",
                 "/admin/whitelist", "/admin/routing"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 403, path
        assert "无权访问" in response.text
    # Even with a valid CSRF token, her post changes no account.
    wang = world.users["wang_fang"]
    assert post_form(client, "/work", f"/admin/users/{wang}", {"email": "x@y.cn"}).status_code == 403
    assert session.get(User, wang).email is None


def test_without_logging_in_the_admin_pages_send_to_login(world, client):
    response = client.get("/admin/users", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_sun_hao_changes_only_the_email_on_the_account_page(world, sun_hao, session):
    wang = world.users["wang_fang"]
    page = sun_hao.get(f"/admin/users/{wang}")
    assert page.status_code == 200 and "王芳" in page.text
    assert 'name="role"' not in page.text and 'name="is_active"' not in page.text
    assert f'href="/account-applications?kind=change&amp;user_id={wang}"' in page.text
    bad = post_form(sun_hao, f"/admin/users/{wang}", f"/admin/users/{wang}", {"email": "w" * 300})
    assert bad.status_code == 422
    assert field_error(bad.text, "email") == "内容过长"
    # A role posted beside it is not taken.
    ok = post_form(sun_hao, f"/admin/users/{wang}", f"/admin/users/{wang}",
                   {"email": "wangfang@anxian.cn", "role": "supervisor"})
    assert ok.status_code == 303
    user = session.get(User, wang)
    session.refresh(user)
    assert user.email == "wangfang@anxian.cn" and user.role == "handler"
    assert "已保存修改" in sun_hao.get(ok.headers["location"]).text


def test_wang_fang_is_revoked_by_application_through_the_pages_and_can_no_longer_log_in(world, client, session):
    wang = world.users["wang_fang"]
    page_login(client, "sun_hao")
    # The account page's link opens the application with her account chosen.
    prefilled = client.get(f"/account-applications?kind=revoke&user_id={wang}").text
    assert f'<option value="{wang}" selected>' in prefilled
    assert '<option value="revoke" selected>' in prefilled
    client.cookies.clear()
    page_login(client, "li_na")
    sent = post_form(client, "/account-applications", "/account-applications",
                     {"kind": "revoke", "user_id": str(wang), "reason": "调离"})
    assert sent.status_code == 303, sent.text
    detail = sent.headers["location"].split("?")[0]
    client.cookies.clear()
    page_login(client, "zhang_wei")
    post_form(client, detail, detail + "/head-decision", {"version": "1", "approve": "1"})
    client.cookies.clear()
    page_login(client, "sun_hao")
    done = post_form(client, detail, detail + "/admin-decision", {"version": "2", "approve": "1"})
    assert done.status_code == 303, done.text
    session.expire_all()
    assert session.get(User, wang).is_active is False
    client.cookies.clear()
    assert page_login(client, "wang_fang").status_code != 303


def test_sun_hao_resets_li_nas_password(world, sun_hao):
    li_na = world.users["li_na"]
    response = post_form(sun_hao, f"/admin/users/{li_na}", f"/admin/users/{li_na}/password",
                         {"password": "weak"})
    assert response.status_code == 422
    assert field_error(response.text, "new_password").startswith("密码至少 8 位")
    response = post_form(sun_hao, f"/admin/users/{li_na}", f"/admin/users/{li_na}/password",
                         {"password": ""})
    generated = re.search(r'id="generated-password">([A-Za-z0-9]+)<', response.text).group(1)
    sun_hao.cookies.clear()
    assert page_login(sun_hao, "li_na", generated).status_code == 303


def test_sun_hao_cannot_revoke_himself(world, sun_hao):
    me = world.users["sun_hao"]
    page = sun_hao.get(f"/admin/users/{me}")
    assert "填写注销申请" not in page.text
    response = post_form(sun_hao, f"/admin/users/{me}", f"/admin/users/{me}/revoke", {})
    assert response.status_code in (404, 405)


def test_html_typed_into_a_name_is_shown_as_text(world, client):
    page_login(client, "li_na")
    data = {**NEW_ACCOUNT, "full_name": "<script>alert(1)</script>", "id_number": "1"}
    response = post_form(client, "/account-applications", "/account-applications", data)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


RULE = {
    "code": "ZC-101", "name": "向个人账户大额转账", "category": "expenditure", "level": "yellow_light",
    "warning_type": "personal_risk", "theme": "支付监控", "description": "单笔向个人账户转账超过 5 万元",
    "basis": "豫财办〔2018〕33号 第十七条", "scope": "全省各级财政部门", "handling_party": "农财部门经办人",
    "verify_days": "5", "rectify_days": "15", "review_days": "3", "bell_lead_days": "",
    "bell_becomes": "", "active_from": "2027-01-01", "active_until": "", "is_active": "1",
}


def test_sun_hao_adds_a_rule_with_every_field_of_the_application_form(world, sun_hao, session):
    form = sun_hao.get("/admin/rules/new").text
    for label in ("规则名称", "规则分类", "预警级别", "规则依据", "适用范围", "预警处理人", "生效日期"):
        assert label in form
    response = post_form(sun_hao, "/admin/rules/new", "/admin/rules", RULE)
    assert response.status_code == 303
    rule = session.exec(select(Rule).where(Rule.code == "ZC-101")).one()
    assert rule.handling_party == "农财部门经办人" and rule.verify_days == 5
    assert str(rule.active_from) == "2027-01-01"
    assert "规则已添加" in sun_hao.get(response.headers["location"]).text
    listing = sun_hao.get("/admin/rules").text
    assert "ZC-101" in listing and "2027年1月1日" in listing


def test_a_rule_with_mistakes_comes_back_with_messages_next_to_the_fields(world, sun_hao):
    bad = {**RULE, "code": "ZC-001", "verify_days": "abc", "active_until": "2026-01-01",
           "bell_becomes": "red_light"}
    response = post_form(sun_hao, "/admin/rules/new", "/admin/rules", bad)
    assert response.status_code in (409, 422)
    assert field_error(response.text, "code") == "规则编码 ZC-001 已存在"
    assert field_error(response.text, "verify_days") == "核实期限（工作日）应为整数"
    assert field_error(response.text, "active_until") == "失效日期不能早于生效日期"
    assert field_error(response.text, "bell_becomes") == "只有黄色警铃规则才能填写警铃到期转为"
    assert 'value="abc"' in response.text and "向个人账户大额转账" in response.text


def test_sun_hao_edits_a_rule_and_sets_when_it_takes_effect(world, sun_hao, session):
    rule_id = world.rules["yellow"].id
    page = sun_hao.get(f"/admin/rules/{rule_id}").text
    assert 'value="ZC-001"' in page and "支付用途可疑" in page
    current = {**RULE, "code": "ZC-001", "name": "支付用途可疑（修订）", "warning_type": "fund_risk",
               "active_from": "2027-01-01"}
    response = post_form(sun_hao, f"/admin/rules/{rule_id}", f"/admin/rules/{rule_id}", current)
    assert response.status_code == 303
    rule = session.get(Rule, rule_id)
    session.refresh(rule)
    assert rule.name == "支付用途可疑（修订）" and str(rule.active_from) == "2027-01-01"


def test_sun_hao_marks_a_local_holiday_and_removes_it(world, sun_hao, session):
    response = post_form(sun_hao, "/admin/calendar?year=2026", "/admin/calendar",
                         {"day": "2026-12-31", "kind": "holiday", "name": "县庆放假", "year": "2026"})
    assert response.status_code == 303
    page = sun_hao.get(response.headers["location"]).text
    assert "2026年12月31日" in page and "县庆放假" in page and "工作日历已调整" in page
    assert session.get(CalendarDay, __import__("datetime").date(2026, 12, 31)) is not None
    removed = post_form(sun_hao, "/admin/calendar?year=2026", "/admin/calendar/2026-12-31/remove", {})
    assert removed.status_code == 303
    assert "县庆放假" not in sun_hao.get(removed.headers["location"]).text


def test_a_calendar_day_without_a_date_or_kind_is_refused_next_to_the_field(world, sun_hao):
    response = post_form(sun_hao, "/admin/calendar", "/admin/calendar",
                         {"day": "31/12/2026", "kind": "holiday", "name": "县庆"})
    assert response.status_code == 422
    assert field_error(response.text, "day") == "日期应为日期（YYYY-MM-DD）"
    assert 'value="县庆"' in response.text


def test_sun_hao_whitelists_a_payee_with_reason_and_approver_then_withdraws_it(world, sun_hao, session):
    data = {"kind": "payee", "value": "安县城关镇敬老院", "rule_code": "ZC-001",
            "reason": "财政供养单位，经局党组审定", "approved_by_id": str(world.users["zhang_wei"]),
            "valid_until": "2027-12-31"}
    missing = post_form(sun_hao, "/admin/whitelist", "/admin/whitelist", {**data, "reason": ""})
    assert missing.status_code == 422
    assert field_error(missing.text, "reason") == "请填写加入白名单的理由"
    assert 'value="安县城关镇敬老院"' in missing.text
    response = post_form(sun_hao, "/admin/whitelist", "/admin/whitelist", data)
    assert response.status_code == 303
    page = sun_hao.get(response.headers["location"]).text
    assert "已加入白名单" in page and "张伟" in page and "财政供养单位" in page
    entry = session.exec(select(WhitelistEntry).where(WhitelistEntry.value == "安县城关镇敬老院")).one()
    assert entry.approved_by_id == world.users["zhang_wei"]
    withdrawn = post_form(sun_hao, "/admin/whitelist", f"/admin/whitelist/{entry.id}/withdraw", {})
    assert withdrawn.status_code == 303
    session.refresh(entry)
    assert entry.is_active is False


def test_sun_hao_sends_fund_risk_warnings_to_the_treasury(world, sun_hao, session):
    page = sun_hao.get("/admin/routing").text
    assert "资金风险" in page and "农财部门" in page
    response = post_form(sun_hao, "/admin/routing", "/admin/routing",
                         {"warning_type": "fund_risk", "org_kind": "treasury"})
    assert response.status_code == 303
    assert routing_table(session)[WarningType.FUND_RISK] == OrgKind.TREASURY
    assert "已调整" in sun_hao.get(response.headers["location"]).text


def test_the_admin_index_links_every_section(world, sun_hao):
    page = sun_hao.get("/admin").text
    for href in ("/admin/users", "/admin/rules", "/admin/calendar", "/admin/whitelist",
                 "/admin/routing"):
        assert f'href="{href}"' in page
    assert "不得混岗" in page


def test_a_form_posted_without_its_csrf_token_is_refused(world, sun_hao, session):
    wang = world.users["wang_fang"]
    response = sun_hao.post(f"/admin/users/{wang}", data={"email": "x@y.cn"}, follow_redirects=False)
    assert response.status_code == 403 and "页面已过期" in response.text
    assert session.get(User, wang).email is None
