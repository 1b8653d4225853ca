"""The 站内消息 page: Li Na reads her digest, marks it read and chooses her channels."""

from datetime import date

from models import Case, User
from notifications.digest import build_digests
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import NOW, new_case


def test_li_na_reads_her_digest_on_the_inbox_page_and_marks_all_read(session, world, client):
    case = session.get(Case, new_case(session, world))
    case.due_on = date(2026, 11, 20)
    session.flush()
    build_digests(session, as_of=NOW)
    page_login(client, "li_na")
    page = client.get("/inbox")
    assert page.status_code == 200
    assert "站内消息（1 条未读）" in page.text and case.number in page.text
    done = client.post("/inbox/read", data={"csrf_token": csrf_of(page.text)},
                       follow_redirects=True)
    assert "已标为已读" in done.text and "条未读" not in done.text


def test_li_na_is_told_why_email_cannot_be_turned_on_then_turns_it_on(session, world, client):
    page_login(client, "li_na")
    page = client.get("/inbox")
    assert "账户未登记邮箱" in page.text
    refused = client.post("/inbox/preferences", data={"csrf_token": csrf_of(page.text),
                                                      "email_enabled": "on"})
    assert refused.status_code == 422 and "没有登记电子邮箱" in refused.text
    session.get(User, world.users["li_na"]).email = "lina@example.cn"
    session.flush()
    saved = client.post("/inbox/preferences", data={"csrf_token": csrf_of(page.text),
                                                    "email_enabled": "on"}, follow_redirects=True)
    assert "通知方式已保存" in saved.text
    assert 'name="email_enabled" checked' in saved.text


def test_a_form_post_without_the_token_is_refused(session, world, client):
    page_login(client, "li_na")
    assert client.post("/inbox/read", data={}).status_code == 403
