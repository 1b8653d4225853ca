"""One queue worker serves both outboxes: the notification outbox and the federation pushes.

Each test runs on both tables (with the real table description from notifications/outbox.py
and notifications/federation.py, only the delivery replaced by a script) and, like every
test here, on both databases.
"""

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from models.federation import FederationPeer, FederationPush, PeerRelation, PushStatus
from models.notifications import Channel, Notification, NotificationKind, NotificationStatus
from models.reports import MonthlyReport, ReportStatus
from models.settings import Settings
from notifications import federation, outbox, queue
from notifications.queue import DeliveryFailed, Ticket
from tests.factories import NOW
from workflows.core.notify import insert_rows

SETTINGS = Settings(_env_file=None, notify_max_attempts=3, federation_max_attempts=3,
                    notify_backoff_cap_minutes=60, notify_claim_timeout_minutes=10)


class Script:
    """Delivers every row, except those told to fail (temporarily or for good)."""

    def __init__(self):
        self.delivered: list[int] = []
        self.failing: dict[int, bool] = {}  # row id → permanent

    def __call__(self, factory, item, settings, as_of) -> dict:
        row_id = item if isinstance(item, int) else item.id
        if row_id in self.failing:
            raise DeliveryFailed(f"第 {row_id} 条送不出去", permanent=self.failing[row_id])
        self.delivered.append(row_id)
        return {}


def _notifications(session, world, n: int, **overrides) -> list[int]:
    rows = [dict(
        user_id=None, org_unit_id=None, channel=Channel.EMAIL, kind=NotificationKind.OTHER,
        subject=f"通知 {i}", body="正文", link=None, payload={"to": "li.na@example.cn"},
        case_id=None, dedupe_key=f"worker:{i}", status=NotificationStatus.PENDING, attempts=0,
        next_attempt_at=NOW, claimed_at=None, claimed_by=None, last_error=None,
        created_at=NOW, sent_at=None, read_at=None) | overrides for i in range(n)]
    insert_rows(session, rows)
    return list(session.scalars(sa.select(Notification.id).order_by(Notification.id)))


def _pushes(session, world, n: int, **overrides) -> list[int]:
    report = MonthlyReport(region_id=world.regions["anxian"].id, month=NOW.date().replace(day=1),
                           status=ReportStatus.SENT, figures={}, figures_sha256="0" * 64, sent_at=NOW)
    session.add(report)
    session.flush()
    for i in range(n):
        peer = FederationPeer(deployment_id=f"parent-{i}", name=f"上级 {i}", relation=PeerRelation.PARENT,
                              kid=f"kid-{i}", public_pem="-", base_url="https://parent.example.cn/")
        session.add(peer)
        session.flush()
        session.add(FederationPush(**{"report_id": report.id, "peer_id": peer.id, "status": PushStatus.PENDING,
                                      "attempts": 0, "next_attempt_at": NOW} | overrides))
    session.flush()
    return list(session.scalars(sa.select(FederationPush.id).order_by(FederationPush.id)))


QUEUES = {
    "notification outbox": (lambda script: dataclasses.replace(outbox.outbox({}), deliver=script),
                            _notifications, Notification),
    "federation pushes": (lambda script: dataclasses.replace(federation.pushes(), deliver=script),
                          _pushes, FederationPush),
}


@pytest.fixture(params=list(QUEUES))
def kind(request):
    return QUEUES[request.param]


def _rows(session, table):
    session.expire_all()
    return {r.id: r for r in session.scalars(sa.select(table))}


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=24 * 60))
def test_backoff_doubles_from_one_minute_and_stops_at_the_cap(attempts, cap):
    wait = queue.backoff(attempts, cap_minutes=cap)
    assert wait == timedelta(minutes=min(2 ** (attempts - 1), cap))
    assert queue.backoff(attempts + 1, cap_minutes=cap) >= wait


def test_a_claim_takes_only_due_rows_up_to_its_batch_and_never_twice(session, world, sessions, kind):
    make_outbox, make_rows, table = kind
    ids = make_rows(session, world, 5)
    later = ids[-1]
    session.execute(sa.update(table).where(table.id == later).values(next_attempt_at=NOW + timedelta(hours=1)))
    box = make_outbox(Script())
    first = queue.claim(sessions, box, ticket=Ticket("w1", NOW), batch=3, settings=SETTINGS)
    second = queue.claim(sessions, box, ticket=Ticket("w2", NOW), batch=3, settings=SETTINGS)
    first_ids = [i if isinstance(i, int) else i.id for i, _ in first]
    second_ids = [i if isinstance(i, int) else i.id for i, _ in second]
    assert first_ids == ids[:3] and second_ids == [ids[3]]  # not the one due in an hour
    assert {attempts for _, attempts in first + second} == {1}
    rows = _rows(session, table)
    assert {rows[i].status for i in ids[:4]} == {"sending"}
    assert rows[later].status == "pending"


def test_a_row_claimed_by_a_worker_that_died_is_claimed_again_after_the_timeout(session, world, sessions, kind):
    make_outbox, make_rows, table = kind
    [row_id] = make_rows(session, world, 1)
    box = make_outbox(Script())
    assert len(queue.claim(sessions, box, ticket=Ticket("w1", NOW), batch=10, settings=SETTINGS)) == 1
    soon = NOW + timedelta(minutes=5)
    assert queue.claim(sessions, box, ticket=Ticket("w2", soon), batch=10, settings=SETTINGS) == []
    late = NOW + timedelta(minutes=11)
    [(_, attempts)] = queue.claim(sessions, box, ticket=Ticket("w2", late), batch=10, settings=SETTINGS)
    assert attempts == 2
    # The first worker comes back and records success: the row is no longer its to record.
    queue.deliver_one(sessions, box, row_id, 1, ticket=Ticket("w1", NOW), settings=SETTINGS)
    assert _rows(session, table)[row_id].status == "sending"


def test_a_temporary_failure_waits_longer_each_time_then_the_row_is_dead(session, world, sessions, kind):
    make_outbox, make_rows, table = kind
    [row_id] = make_rows(session, world, 1)
    script = Script()
    script.failing[row_id] = False
    box = make_outbox(script)
    at = NOW
    for attempt, wait in ((1, 1), (2, 2)):
        report = queue.drain(sessions, box, queue.QueueReport(), as_of=at, settings=SETTINGS,
                             batch=10, max_batches=5, worker="w1")
        assert (report.claimed, report.retrying) == (1, 1)
        row = _rows(session, table)[row_id]
        assert (row.status, row.attempts, row.claimed_at) == ("pending", attempt, None)
        assert row.next_attempt_at == at + timedelta(minutes=wait)
        assert row.last_error == f"第 {row_id} 条送不出去"
        # Not due before the backoff passes.
        assert queue.drain(sessions, box, queue.QueueReport(), as_of=row.next_attempt_at - timedelta(seconds=1),
                           settings=SETTINGS, batch=10, max_batches=5).claimed == 0
        at = row.next_attempt_at
    report = queue.drain(sessions, box, queue.QueueReport(), as_of=at, settings=SETTINGS,
                         batch=10, max_batches=5)
    assert report.dead == 1  # the third try is the last (max_attempts=3)
    assert _rows(session, table)[row_id].status == "dead"


def test_a_permanent_failure_is_dead_at_once_and_the_others_are_still_delivered(session, world, sessions, kind):
    make_outbox, make_rows, table = kind
    ids = make_rows(session, world, 3)
    script = Script()
    script.failing[ids[1]] = True
    report = queue.drain(sessions, make_outbox(script), queue.QueueReport(), as_of=NOW, settings=SETTINGS,
                         batch=10, max_batches=5)
    assert (report.claimed, report.sent, report.dead) == (3, 2, 1)
    rows = _rows(session, table)
    assert [rows[i].status for i in ids] == ["sent", "dead", "sent"]
    assert rows[ids[0]].sent_at == NOW and rows[ids[0]].last_error is None


def test_a_bug_in_one_delivery_is_retried_and_does_not_stop_the_batch(session, world, sessions, kind):
    make_outbox, make_rows, table = kind
    ids = make_rows(session, world, 2)
    script = Script()

    def buggy(factory, item, settings, as_of):
        if (item if isinstance(item, int) else item.id) == ids[0]:
            raise KeyError("to")
        return script(factory, item, settings, as_of)

    report = queue.drain(sessions, make_outbox(buggy), queue.QueueReport(), as_of=NOW, settings=SETTINGS,
                         batch=10, max_batches=5)
    assert (report.sent, report.retrying) == (1, 1)
    assert _rows(session, table)[ids[0]].last_error == "KeyError('to')"


def test_drain_works_through_every_due_row_in_batches(session, world, sessions, kind):
    make_outbox, make_rows, table = kind
    ids = make_rows(session, world, 25)
    script = Script()
    box = make_outbox(script)
    # At most max_batches batches per run…
    report = queue.drain(sessions, box, queue.QueueReport(), as_of=NOW, settings=SETTINGS,
                         batch=10, max_batches=2)
    assert (report.claimed, report.sent) == (20, 20)
    # …and the next run takes the rest, stopping at the first short batch.
    report = queue.drain(sessions, box, queue.QueueReport(), as_of=NOW, settings=SETTINGS,
                         batch=10, max_batches=50)
    assert (report.claimed, report.sent) == (5, 5)
    assert sorted(script.delivered) == ids
    assert {r.status for r in _rows(session, table).values()} == {"sent"}


def test_the_jobs_keep_their_names_and_summaries(session, world, sessions):
    """runtime/jobs.py runs notifications.outbox.drain (through runtime.mail) and notifications.federation.drain."""
    ids = _notifications(session, world, 2)
    recorder = _Recorder()
    sent = outbox.drain(sessions, as_of=NOW, transports={Channel.EMAIL: recorder}, settings=SETTINGS)
    assert sent.summary == "取出 2 条：已发送 2，稍后重试 0，发送失败 0"
    assert {r.status for r in _rows(session, Notification).values()} == {"sent"}
    assert outbox.claim(sessions, as_of=NOW, batch=5, worker="w", settings=SETTINGS) == []
    assert sorted(recorder.sent) == ids
    pushed = federation.drain(sessions, as_of=NOW, settings=SETTINGS)
    assert pushed.summary == "取出 0 条报送：已送达 0，稍后重试 0，推送失败 0"


class _Recorder:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message.id)
