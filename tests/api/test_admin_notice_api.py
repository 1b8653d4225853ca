"""Sun Hao enters 2027 from the State Council's notice over the API: a dry run first, then
the same text with save; a text that cannot be read is refused naming the field."""

from datetime import date

from sqlmodel import select

from models import CalendarDay
from tests.workflows.admin.notice_texts import NOTICE_2027

NOTICE = "/api/v1/admin/calendar/notice"


def saved_days(session) -> list[date]:
    return [r.day for r in session.exec(select(CalendarDay).order_by(CalendarDay.day)).all()]


def test_sun_hao_previews_then_saves_the_2027_notice(world, client, login, session):
    admin = login("sun_hao")
    preview = client.post(NOTICE, json={"notice": NOTICE_2027}, headers=admin)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["year"], body["holidays"], body["workdays"], body["saved"]) == (2027, 29, 6, False)
    assert body["days"][3] == {"day": "2027-01-31", "kind": "workday", "name": "春节调休上班", "line": 6}
    assert saved_days(session) == []
    done = client.post(NOTICE, json={"notice": NOTICE_2027, "save": True}, headers=admin)
    assert done.status_code == 200 and done.json()["saved"] is True
    assert len(saved_days(session)) == 35 and date(2027, 10, 7) in saved_days(session)


def test_a_notice_that_cannot_be_read_is_refused_and_a_handler_is_not_let_in(world, client, login, session):
    bad = client.post(NOTICE, json={"notice": NOTICE_2027.replace("10月9日（周六）", "10月9日（周一）"), "save": True},
                      headers=login("sun_hao"))
    assert bad.status_code == 422
    [error] = bad.json()["errors"]
    assert error["field"] == "notice" and "通知中写的是周一" in error["message"]
    assert client.post(NOTICE, json={"notice": NOTICE_2027, "save": True},
                       headers=login("li_na")).status_code == 403
    assert saved_days(session) == []
