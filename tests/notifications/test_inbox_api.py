"""Li Na reads her inbox, marks it read and chooses e-mail; admins see what could not be sent."""

from datetime import date

import sqlalchemy as sa

from models import Case, User
from models.notifications import Notification, NotificationStatus
from notifications.digest import build_digests
from tests.factories import NOW, new_case


def _digest_for_li_na(session, world):
    case = session.get(Case, new_case(session, world))
    case.due_on = date(2026, 11, 20)
    session.flush()
    build_digests(session, as_of=NOW)
    return case


def test_li_na_sees_her_digest_in_the_inbox_and_marks_it_read(session, world, client, login):
    case = _digest_for_li_na(session, world)
    headers = login("li_na")
    answer = client.get("/api/v1/inbox", headers=headers).json()
    assert answer["unread"] == 1
    [item] = answer["items"]
    assert item["kind"] == "digest" and case.number in item["body"]
    assert client.post("/api/v1/inbox/read", json={"ids": [item["id"]]},
                       headers=headers).json() == {"unread": 0}
    assert client.get("/api/v1/inbox?unread_only=true", headers=headers).json()["items"] == []


def test_wang_fang_does_not_see_li_na_messages(session, world, client, login):
    _digest_for_li_na(session, world)
    answer = client.get("/api/v1/inbox", headers=login("wang_fang")).json()
    assert answer == {"unread": 0, "items": []}
    client.post("/api/v1/inbox/read", json={}, headers=login("wang_fang"))
    assert client.get("/api/v1/inbox", headers=login("li_na")).json()["unread"] == 1


def test_li_na_cannot_choose_email_without_an_address_then_can(session, world, client, login):
    headers = login("li_na")
    refused = client.put("/api/v1/inbox/preferences", headers=headers,
                         json={"email_enabled": True, "webhook_enabled": False})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "email_enabled"
    session.get(User, world.users["li_na"]).email = "lina@example.cn"
    session.flush()
    ok = client.put("/api/v1/inbox/preferences", headers=headers,
                    json={"email_enabled": True, "webhook_enabled": True})
    assert ok.status_code == 200
    assert ok.json() == {"email_enabled": True, "webhook_enabled": True,
                         "email": "lina@example.cn", "department_robot": None}


def test_sun_hao_sees_the_dead_messages_and_li_na_may_not(session, world, client, login):
    _digest_for_li_na(session, world)
    row = session.scalars(sa.select(Notification)).first()
    row.status, row.last_error, row.attempts = NotificationStatus.DEAD, "SMTP 550", 6
    session.flush()
    dead = client.get("/api/v1/notifications/dead", headers=login("sun_hao")).json()
    assert [(d["username"], d["last_error"]) for d in dead] == [("li_na", "SMTP 550")]
    assert client.get("/api/v1/notifications/dead", headers=login("li_na")).status_code == 403


def test_sun_hao_gives_anxian_agri_a_dingtalk_robot(session, world, client, login):
    headers = login("sun_hao")
    unit = world.units["anxian_agri"].id
    bad = client.put("/api/v1/notifications/robots", headers=headers,
                     json={"org_unit_id": unit, "kind": "dingtalk", "url": "ftp://x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"
    ok = client.put("/api/v1/notifications/robots", headers=headers, json={
        "org_unit_id": unit, "kind": "dingtalk", "secret": "SEC1",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=abc"})
    assert ok.status_code == 200 and ok.json()["has_secret"] is True
    assert "SEC1" not in client.get("/api/v1/notifications/robots", headers=headers).text
    prefs = client.get("/api/v1/inbox/preferences", headers=login("li_na")).json()
    assert prefs["department_robot"] == "dingtalk"
