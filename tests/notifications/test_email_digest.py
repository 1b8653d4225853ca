"""The daily digest reaches people by e-mail through a real SMTP server, in Chinese."""

from datetime import date, timedelta

import sqlalchemy as sa

from models import Case, User
from models.notifications import (
    Channel,
    Notification,
    NotificationPreference,
    NotificationStatus,
)
from notifications.digest import build_digests
from notifications.outbox import dispatch
from tests.factories import NOW, new_case
from tests.notifications.conftest import settings_for

MONDAY = NOW  # 2026-11-23 09:00 Shanghai
SATURDAY = NOW + timedelta(days=5)


def _wants_email(session, world, username, address):
    user = session.get(User, world.users[username])
    user.email = address
    session.add(NotificationPreference(user_id=user.id, email_enabled=True))
    session.flush()


def _case(session, world, due_on, **kw):
    case = session.get(Case, new_case(session, world, **kw))
    case.due_on = due_on
    session.flush()
    return case


def _email_rows(session):
    return session.scalars(
        sa.select(Notification).where(Notification.channel == Channel.EMAIL)).all()


def test_li_na_digest_on_monday_lists_her_overdue_and_due_today_cases(
        session, world, sessions, smtp_server):
    _wants_email(session, world, "li_na", "lina@example.cn")
    overdue = _case(session, world, date(2026, 11, 20))
    today = _case(session, world, date(2026, 11, 23), rule="red")
    later = _case(session, world, date(2026, 12, 10))
    _case(session, world, date(2026, 11, 20), unit="anxian_budget", assignee="chen_jie")
    smtp_server.start()

    queued = build_digests(session, as_of=MONDAY, settings=settings_for(smtp_server.port))
    report = dispatch(sessions, as_of=MONDAY, settings=settings_for(smtp_server.port))

    assert queued >= 1 and report.sent == 1
    [(to, mail)] = smtp_server.inbox.messages
    assert to == ["lina@example.cn"]
    assert mail["Subject"].startswith("【预警待办】11月23日：逾期 1 件，今日到期 1 件")
    text = mail.get_content()
    assert "李娜，您好" in text and "星期一" in text
    overdue_part, rest = text.split("今日到期")
    assert overdue.number in overdue_part and "已逾期 1 个工作日" in overdue_part
    assert today.number in rest.split("待您处理")[0]
    assert later.number in rest.split("待您处理")[1]  # raised, nobody started it yet
    assert f"https://yj.example.cn/cases/{overdue.number}" in text
    assert "陈杰" not in text
    assert _email_rows(session)[0].status == NotificationStatus.SENT


def test_zhang_wei_digest_lists_the_rectification_reviews_waiting_for_him(session, world):
    case = _case(session, world, date(2026, 11, 26))
    case.state = "rectification_review"
    session.flush()
    build_digests(session, as_of=MONDAY)
    row = session.scalars(sa.select(Notification).where(
        Notification.user_id == world.users["zhang_wei"])).one()
    assert row.channel == Channel.INBOX
    assert row.payload["waiting"] == [case.number]
    assert "张伟，您好" in row.body and "待您处理（1 件）" in row.body
    # Li Na's digest does not list the review: it waits for her supervisor, not for her.
    li_na = session.scalars(sa.select(Notification).where(
        Notification.user_id == world.users["li_na"])).one_or_none()
    assert li_na is None or case.number not in li_na.body


def test_no_digest_on_saturday_and_none_for_people_with_nothing_to_report(session, world):
    _case(session, world, date(2026, 11, 20))
    assert build_digests(session, as_of=SATURDAY) == 0
    build_digests(session, as_of=MONDAY)
    users = set(session.scalars(sa.select(Notification.user_id)))
    assert world.users["zhao_lei"] not in users and world.users["chen_jie"] not in users
    assert world.users["li_na"] in users


def test_running_the_digest_twice_on_monday_sends_li_na_one(session, world):
    _case(session, world, date(2026, 11, 20))
    first = build_digests(session, as_of=MONDAY)
    assert first >= 1
    assert build_digests(session, as_of=MONDAY + timedelta(hours=2)) == 0


def test_li_na_digest_waits_while_the_mail_server_is_down_and_goes_out_once_when_it_is_back(
        session, world, sessions, smtp_server):
    _wants_email(session, world, "li_na", "lina@example.cn")
    _case(session, world, date(2026, 11, 20))
    settings = settings_for(smtp_server.port)
    build_digests(session, as_of=MONDAY, settings=settings)

    report = dispatch(sessions, as_of=MONDAY, settings=settings)  # port closed
    [row] = _email_rows(session)
    session.refresh(row)
    assert report.retrying == 1
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
    assert row.next_attempt_at == MONDAY + timedelta(minutes=1)
    assert "SMTP 连接失败" in row.last_error
    # Not due yet: nothing is tried before the backoff passes.
    assert dispatch(sessions, as_of=MONDAY + timedelta(seconds=30), settings=settings).claimed == 0
    assert dispatch(sessions, as_of=MONDAY + timedelta(minutes=1), settings=settings).retrying == 1
    session.refresh(row)
    assert row.next_attempt_at == MONDAY + timedelta(minutes=3)  # then 2 minutes

    smtp_server.start()
    later = MONDAY + timedelta(minutes=3)
    assert dispatch(sessions, as_of=later, settings=settings).sent == 1
    assert dispatch(sessions, as_of=later + timedelta(hours=1), settings=settings).claimed == 0
    assert len(smtp_server.inbox.messages) == 1
    session.refresh(row)
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 3, None)


def test_li_na_digest_is_dead_after_the_last_try_with_the_error_kept(
        session, world, sessions, smtp_server):
    _wants_email(session, world, "li_na", "lina@example.cn")
    _case(session, world, date(2026, 11, 20))
    settings = settings_for(smtp_server.port, notify_max_attempts=3)
    build_digests(session, as_of=MONDAY, settings=settings)
    outcomes = [dispatch(sessions, as_of=MONDAY + timedelta(minutes=m), settings=settings)
                for m in (0, 1, 3)]
    assert [(r.retrying, r.dead) for r in outcomes] == [(1, 0), (1, 0), (0, 1)]
    [row] = _email_rows(session)
    session.refresh(row)
    assert (row.status, row.attempts) == (NotificationStatus.DEAD, 3)
    assert "SMTP 连接失败" in row.last_error
    assert dispatch(sessions, as_of=MONDAY + timedelta(days=1), settings=settings).claimed == 0


class RefusesEveryone:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 mailbox unavailable"


def test_an_address_the_mail_server_refuses_is_dead_at_once(session, world, sessions, smtp_server):
    _wants_email(session, world, "li_na", "nobody@example.cn")
    _case(session, world, date(2026, 11, 20))
    settings = settings_for(smtp_server.port)
    build_digests(session, as_of=MONDAY, settings=settings)
    smtp_server.start(RefusesEveryone())
    assert dispatch(sessions, as_of=MONDAY, settings=settings).dead == 1
    [row] = _email_rows(session)
    session.refresh(row)
    assert row.status == NotificationStatus.DEAD and "550" in row.last_error
