"""Two outbox workers on one PostgreSQL database never send a message twice."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models.db import make_engine
from models.migrate import upgrade
from models.notifications import Channel, Notification, NotificationKind, NotificationStatus
from notifications.base import Message
from notifications.outbox import dispatch
from tests.notifications.conftest import settings_for
from workflows.core.notify import insert_rows

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class Recorder:
    def __init__(self):
        self.sent: list[int] = []
        self.lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self.lock:
            self.sent.append(message.id)


@pytest.fixture
def pg_engine(pg_database):
    upgrade(pg_database)
    engine = make_engine(pg_database)
    yield engine
    with engine.begin() as c:
        c.execute(sa.delete(Notification))
    engine.dispose()


def test_two_workers_draining_the_outbox_together_send_each_mail_once(pg_engine):
    rows = [dict(user_id=None, org_unit_id=None, channel=Channel.EMAIL,
                 kind=NotificationKind.OTHER, subject=f"测试 {i}", body="正文", link=None,
                 payload={"to": f"u{i}@example.cn"}, case_id=None, dedupe_key=f"t:{i}",
                 status=NotificationStatus.PENDING, attempts=0, next_attempt_at=NOW,
                 claimed_at=None, claimed_by=None, last_error=None, created_at=NOW,
                 sent_at=None, read_at=None) for i in range(400)]
    with Session(pg_engine) as session:
        insert_rows(session, rows)
        session.commit()
    recorder = Recorder()
    settings = settings_for(1)
    start = threading.Barrier(2)

    def worker(name):
        start.wait()
        while dispatch(pg_engine, as_of=NOW + timedelta(seconds=1), batch=25, worker=name,
                       transports={Channel.EMAIL: recorder}, settings=settings).claimed:
            pass

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(recorder.sent) == sorted(set(recorder.sent))
    assert len(recorder.sent) == 400
    with Session(pg_engine) as session:
        counts = dict(session.execute(sa.select(Notification.status, sa.func.count())
                                      .group_by(Notification.status)).all())
    assert counts == {NotificationStatus.SENT: 400}


def test_a_mail_claimed_by_a_worker_that_died_is_sent_by_the_next_one(pg_engine):
    with Session(pg_engine) as session:
        insert_rows(session, [dict(
            user_id=None, org_unit_id=None, channel=Channel.EMAIL, kind=NotificationKind.OTHER,
            subject="孤儿", body="正文", link=None, payload={"to": "a@example.cn"}, case_id=None,
            dedupe_key="orphan", status=NotificationStatus.SENDING, attempts=1,
            next_attempt_at=NOW, claimed_at=NOW, claimed_by="dead-worker", last_error=None,
            created_at=NOW, sent_at=None, read_at=None)])
        session.commit()
    recorder = Recorder()
    settings = settings_for(1)
    soon = dispatch(pg_engine, as_of=NOW + timedelta(minutes=5),
                    transports={Channel.EMAIL: recorder}, settings=settings)
    late = dispatch(pg_engine, as_of=NOW + timedelta(minutes=11),
                    transports={Channel.EMAIL: recorder}, settings=settings)
    assert (soon.claimed, late.sent) == (0, 1)
    assert len(recorder.sent) == 1


def test_the_scheduled_job_drains_every_due_mail_in_batches(pg_engine):
    from notifications.outbox import drain

    with Session(pg_engine) as session:
        insert_rows(session, [dict(
            user_id=None, org_unit_id=None, channel=Channel.EMAIL, kind=NotificationKind.OTHER,
            subject=f"批量 {i}", body="正文", link=None, payload={"to": "a@example.cn"},
            case_id=None, dedupe_key=f"drain:{i}", status=NotificationStatus.PENDING, attempts=0,
            next_attempt_at=NOW, claimed_at=None, claimed_by=None, last_error=None,
            created_at=NOW, sent_at=None, read_at=None) for i in range(45)])
        session.commit()
    recorder = Recorder()
    report = drain(pg_engine, as_of=NOW, batch=10, transports={Channel.EMAIL: recorder},
                   settings=settings_for(1))
    assert (report.claimed, report.sent) == (45, 45)
    assert len(set(recorder.sent)) == 45


def test_a_worker_claims_no_more_than_its_batch(pg_engine):
    """PostgreSQL may rescan a LIMIT … FOR UPDATE subquery; the claim must still stop at 10."""
    from notifications.outbox import claim

    with Session(pg_engine) as session:
        insert_rows(session, [dict(
            user_id=None, org_unit_id=None, channel=Channel.EMAIL, kind=NotificationKind.OTHER,
            subject=f"批量 {i}", body="正文", link=None, payload={"to": "a@example.cn"},
            case_id=None, dedupe_key=f"claim:{i}", status=NotificationStatus.PENDING, attempts=0,
            next_attempt_at=NOW, claimed_at=None, claimed_by=None, last_error=None,
            created_at=NOW, sent_at=None, read_at=None) for i in range(25)])
        session.commit()

    def factory():
        return Session(pg_engine)

    first = claim(factory, as_of=NOW, batch=10, worker="w1", settings=settings_for(1))
    second = claim(factory, as_of=NOW, batch=10, worker="w2", settings=settings_for(1))
    assert (len(first), len(second)) == (10, 10)
    assert not {m.id for m, _ in first} & {m.id for m, _ in second}
