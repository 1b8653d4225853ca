"""Queueing fans a message out to a person's channels, once per dedupe key."""

import sqlalchemy as sa

from models import Case, User
from models.notifications import (
    Channel,
    DepartmentWebhook,
    Notification,
    NotificationKind,
    NotificationPreference,
    NotificationStatus,
    WebhookKind,
)
from tests.factories import NOW, new_case
from workflows.core.notify import NotificationItem, queue


def _item(world, case_id, user="li_na"):
    return NotificationItem(
        user_id=world.users[user], kind=NotificationKind.OVERDUE, subject="预警已逾期",
        body="YJ 案件已超过办理期限", dedupe_key=f"overdue:{case_id}:1:{world.users[user]}",
        case_id=case_id, link="/cases/x",
    )


def _rows(session, user_id):
    return session.execute(
        sa.select(Notification.channel, Notification.status)
        .where(Notification.user_id == user_id).order_by(Notification.channel)
    ).all()


def test_li_na_gets_an_inbox_message_only_until_she_chooses_more(session, world):
    case_id = new_case(session, world)
    assert queue(session, items=[_item(world, case_id)], as_of=NOW) == 1
    assert _rows(session, world.users["li_na"]) == [(Channel.INBOX, NotificationStatus.SENT)]


def test_li_na_chose_email_and_her_section_robot_so_three_rows_are_queued(session, world):
    case_id = new_case(session, world)
    li_na = session.get(User, world.users["li_na"])
    li_na.email = "lina@example.cn"
    session.add(NotificationPreference(user_id=li_na.id, email_enabled=True, webhook_enabled=True))
    session.add(DepartmentWebhook(org_unit_id=world.units["anxian_agri"].id, kind=WebhookKind.WECOM,
                                  url="http://127.0.0.1:9/robot"))
    session.flush()
    assert queue(session, items=[_item(world, case_id)], as_of=NOW) == 3
    assert sorted(_rows(session, li_na.id)) == sorted([
        (Channel.INBOX, NotificationStatus.SENT),
        (Channel.EMAIL, NotificationStatus.PENDING),
        (Channel.WEBHOOK, NotificationStatus.PENDING),
    ])
    email = session.scalars(sa.select(Notification).where(Notification.channel == Channel.EMAIL)).one()
    assert email.payload["to"] == "lina@example.cn"


def test_the_sweep_running_twice_queues_li_na_nothing_new(session, world):
    case_id = new_case(session, world)
    items = [_item(world, case_id), _item(world, case_id, "zhang_wei")]
    assert queue(session, items=items, as_of=NOW) == 2
    assert queue(session, items=items, as_of=NOW) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2


def test_email_is_not_queued_for_wang_fang_who_has_no_address(session, world):
    case_id = new_case(session, world, assignee="wang_fang")
    session.add(NotificationPreference(user_id=world.users["wang_fang"], email_enabled=True))
    session.flush()
    assert queue(session, items=[_item(world, case_id, "wang_fang")], as_of=NOW) == 1


def test_a_deactivated_user_is_told_nothing_while_li_na_still_is(session, world):
    case_id = new_case(session, world)
    session.get(User, world.users["wang_fang"]).is_active = False
    session.flush()
    items = [_item(world, case_id), _item(world, case_id, "wang_fang")]
    assert queue(session, items=items, as_of=NOW) == 1
    assert _rows(session, world.users["wang_fang"]) == []


def test_li_na_chose_the_robot_but_her_section_has_none_so_only_her_inbox_gets_it(session, world):
    case_id = new_case(session, world)
    session.add(NotificationPreference(user_id=world.users["li_na"], webhook_enabled=True))
    session.flush()
    assert queue(session, items=[_item(world, case_id)], as_of=NOW) == 1
    row = session.scalars(sa.select(Notification)).one()
    assert (row.subject, row.case_id, row.link, row.kind) == (
        "预警已逾期", case_id, "/cases/x", NotificationKind.OVERDUE)
    assert row.sent_at is not None and row.next_attempt_at is not None


def test_the_same_message_twice_in_one_batch_is_queued_once(session, world):
    case_id = new_case(session, world)
    assert queue(session, items=[_item(world, case_id), _item(world, case_id)], as_of=NOW) == 1


def test_anxian_agris_robot_posts_the_overdue_news_once_though_li_na_and_zhang_wei_chose_it(session, world):
    """Both chose their section's robot; the group chat gets Zhang Wei's fuller message once,
    while each keeps a message in the inbox."""
    from datetime import UTC, datetime

    from workflows.escalation.sweep import sweep

    session.add(DepartmentWebhook(org_unit_id=world.units["anxian_agri"].id, kind=WebhookKind.WECOM,
                                  url="http://127.0.0.1:9/robot"))
    for who in ("li_na", "zhang_wei"):
        session.add(NotificationPreference(user_id=world.users[who], webhook_enabled=True))
    mine = [new_case(session, world) for _ in range(2)]
    wang_fangs = new_case(session, world, assignee="wang_fang")
    session.flush()
    sweep(session, as_of=datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # Tuesday: level 1

    robot = session.scalars(sa.select(Notification).where(
        Notification.channel == Channel.WEBHOOK, Notification.kind == NotificationKind.OVERDUE)).all()
    assert len(robot) == 1
    assert robot[0].user_id == world.users["zhang_wei"] and robot[0].payload["count"] == 3
    numbers = session.scalars(sa.select(Case.number).where(Case.id.in_([*mine, wang_fangs]))).all()
    assert all(number in robot[0].body for number in numbers)
    inboxes = session.scalars(sa.select(Notification.user_id).where(
        Notification.channel == Channel.INBOX, Notification.kind == NotificationKind.OVERDUE)).all()
    assert sorted(inboxes) == sorted(world.users[w] for w in ("li_na", "wang_fang", "zhang_wei"))
