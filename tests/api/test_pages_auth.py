"""Logging in and out through the login page; CSRF on every form post."""

import re

import pytest

from api.deps import SESSION_COOKIE
from tests.factories import PASSWORD


@pytest.fixture
def world(world, session):
    # A refused request rolls the shared session back; commit the world so that it stays.
    session.commit()
    return world


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def page_login(client, username: str, password: str = PASSWORD, next: str = "/"):
    form = client.get(f"/login?next={next}")
    return client.post("/login", data={"username": username, "password": password, "next": next,
                                       "csrf_token": csrf_of(form.text)}, follow_redirects=False)


def test_li_na_logs_in_and_lands_on_her_work(world, client):
    response = page_login(client, "li_na")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/work"
    work = client.get("/work")
    assert work.status_code == 200
    assert "我的待办" in work.text and "李娜" in work.text and "安县财政局农财股" in work.text
    assert "财政扶贫资金动态监控预警处理" in work.text


def test_a_wrong_password_shows_the_chinese_message_and_keeps_the_username(world, client):
    response = page_login(client, "li_na", "wrong")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="li_na"' in response.text
    assert client.get("/work", follow_redirects=False).status_code == 303


def test_five_failures_lock_the_account_and_say_so(world, client):
    for _ in range(4):
        page_login(client, "li_na", "wrong")
    response = page_login(client, "li_na", "wrong")
    assert response.status_code == 423
    assert "账户已锁定" in response.text
    # Even the right password is refused while locked.
    assert page_login(client, "li_na").status_code == 423


def test_a_visitor_is_sent_to_login_and_back_where_they_were(world, client):
    response = client.get("/work?cursor=abc", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fwork%3Fcursor%3Dabc"
    back = page_login(client, "li_na", next="/work?cursor=abc")
    assert back.headers["location"] == "/work?cursor=abc"


def test_next_cannot_lead_to_another_site(world, client):
    response = page_login(client, "li_na", next="//evil.example/")
    assert response.headers["location"] == "/"


def test_logout_ends_the_session(world, client):
    page_login(client, "li_na")
    work = client.get("/work")
    response = client.post("/logout", data={"csrf_token": csrf_of(work.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/work", follow_redirects=False).headers["location"].startswith("/login")


def test_a_form_post_without_the_right_token_is_refused(world, client):
    form = client.get("/login")
    response = client.post("/login", data={"username": "li_na", "password": PASSWORD,
                                           "csrf_token": "forged"})
    assert response.status_code == 403
    assert "页面已过期，请刷新后重试" in response.text
    page_login(client, "li_na")
    # The pre-login token no longer matches once the session changed it... and none at all fails.
    response = client.post("/logout", data={})
    assert response.status_code == 403
    assert "页面已过期" in response.text
    assert csrf_of(form.text)


def test_an_admin_starts_at_administration_and_sees_no_case_pages(world, client):
    page_login(client, "sun_hao")
    assert client.get("/", follow_redirects=False).headers["location"] == "/admin"
    response = client.get("/work")
    assert response.status_code == 403
    assert "无权" in response.text


def test_li_na_sees_her_unread_messages_in_the_header_and_the_inbox_in_the_menu(
    world, client, session
):
    from models.notifications import NotificationKind
    from tests.factories import NOW
    from workflows.core.notify import NotificationItem, queue

    queue(session, as_of=NOW, items=[NotificationItem(
        user_id=world.users["li_na"], kind=NotificationKind.DEADLINE_REMINDER, subject="预警即将到期",
        body="YJ-202611-000001 明天到期", dedupe_key="test:header",
    )])  # fmt: skip
    session.commit()
    page_login(client, "li_na")
    page = client.get("/work")
    assert 'href="/inbox"' in page.text and "站内消息" in page.text
    assert '<span class="unread-badge">1</span>' in page.text
