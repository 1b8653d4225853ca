"""Department robots: WeCom and DingTalk markdown messages to a local HTTP receiver."""

import urllib.parse
from datetime import timedelta

import sqlalchemy as sa

from models.notifications import (
    Channel,
    DepartmentWebhook,
    Notification,
    NotificationKind,
    NotificationPreference,
    NotificationStatus,
    WebhookKind,
)
from notifications.outbox import dispatch
from notifications.webhook import dingtalk_sign
from tests.factories import NOW, new_case
from tests.notifications.conftest import settings_for
from workflows.core.notify import NotificationItem, queue


def _li_na_told_about_an_overdue_case(session, world, kind, url, secret=None):
    session.add(NotificationPreference(user_id=world.users["li_na"], webhook_enabled=True))
    session.add(DepartmentWebhook(org_unit_id=world.units["anxian_agri"].id, kind=kind,
                                  url=url, secret=secret))
    case_id = new_case(session, world)
    session.flush()
    queue(session, as_of=NOW, items=[NotificationItem(
        user_id=world.users["li_na"], kind=NotificationKind.OVERDUE, subject="预警已逾期",
        body="案件 YJ-202611-000001 已超过办理期限，请尽快处理。", case_id=case_id,
        dedupe_key=f"overdue:{case_id}:1", link="/cases/YJ-202611-000001")])


def _webhook_row(session):
    row = session.scalars(sa.select(Notification).where(
        Notification.channel == Channel.WEBHOOK)).one()
    session.refresh(row)
    return row


def test_anxian_agri_wecom_robot_gets_a_markdown_message(session, world, sessions, robot):
    _li_na_told_about_an_overdue_case(session, world, WebhookKind.WECOM, f"{robot.url}/wecom?key=k1")
    assert dispatch(sessions, as_of=NOW, settings=settings_for(1)).sent == 1
    [(path, body)] = robot.requests
    assert path == "/wecom?key=k1"
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith("**预警已逾期**") and "YJ-202611-000001" in content
    assert "(https://yj.example.cn/cases/YJ-202611-000001)" in content
    assert _webhook_row(session).status == NotificationStatus.SENT


def test_anxian_agri_dingtalk_robot_gets_a_signed_markdown_message(session, world, sessions, robot):
    secret = "SEC0123456789abcdef"
    _li_na_told_about_an_overdue_case(
        session, world, WebhookKind.DINGTALK, f"{robot.url}/robot/send?access_token=t1", secret)
    assert dispatch(sessions, as_of=NOW, settings=settings_for(1)).sent == 1
    [(path, body)] = robot.requests
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "预警已逾期"
    assert "YJ-202611-000001" in body["markdown"]["text"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert query["access_token"] == ["t1"]
    timestamp = int(query["timestamp"][0])
    assert query["sign"] == [dingtalk_sign(secret, timestamp)]


def test_a_robot_that_answers_errcode_is_dead_with_its_errmsg(session, world, sessions, robot):
    robot.answer = (200, {"errcode": 310000, "errmsg": "keywords not in content"})
    _li_na_told_about_an_overdue_case(session, world, WebhookKind.DINGTALK, f"{robot.url}/send")
    assert dispatch(sessions, as_of=NOW, settings=settings_for(1)).dead == 1
    row = _webhook_row(session)
    assert row.status == NotificationStatus.DEAD
    assert "keywords not in content" in row.last_error and "310000" in row.last_error


def test_a_robot_with_a_server_error_is_tried_again_later(session, world, sessions, robot):
    robot.answer = (502, {"error": "bad gateway"})
    _li_na_told_about_an_overdue_case(session, world, WebhookKind.WECOM, f"{robot.url}/wecom")
    assert dispatch(sessions, as_of=NOW, settings=settings_for(1)).retrying == 1
    assert _webhook_row(session).status == NotificationStatus.PENDING
    robot.answer = (200, {"errcode": 0, "errmsg": "ok"})
    assert dispatch(sessions, as_of=NOW + timedelta(minutes=1), settings=settings_for(1)).sent == 1
    assert len(robot.requests) == 2


def test_a_robot_url_that_is_not_found_is_dead_at_once(session, world, sessions, robot):
    robot.answer = (404, {"error": "not found"})
    _li_na_told_about_an_overdue_case(session, world, WebhookKind.WECOM, f"{robot.url}/gone")
    assert dispatch(sessions, as_of=NOW, settings=settings_for(1)).dead == 1
    assert "404" in _webhook_row(session).last_error
