"""Handlers ask for more time; supervisors decide extension and escalation requests."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from models import Case, CaseEvent, EscalationRequest
from models.enums import Event, RequestDecision, State
from tests.factories import NOW, new_case
from workflows.core.errors import InvalidInput, InvalidState, RoleNotAllowed, StaleVersion
from workflows.escalation.extensions import (
    decide_escalation,
    decide_extension,
    pending_requests,
    request_extension,
)
from workflows.escalation.sweep import sweep


def at(y, m, d, hour=9) -> datetime:
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


def case(session, case_id) -> Case:
    c = session.get(Case, case_id)
    session.refresh(c)
    return c


def timeline(session, case_id) -> list[Event]:
    return list(
        session.scalars(sa.select(CaseEvent.event).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
    )


def ask(session, world, case_id, **kw):
    return request_extension(
        session, case_id=case_id, actor=world.actors["li_na"], version=case(session, case_id).version,
        as_of=kw.pop("as_of", NOW), **{"reason": "需调阅乡镇拨付凭证，档案在外地", **kw},
    )  # fmt: skip


def test_li_na_asks_for_more_time_and_zhang_wei_approves(session, world):
    case_id = new_case(session, world, "yellow")  # due 30 Nov
    asked = ask(session, world, case_id, requested_due_on=date(2026, 12, 4))
    [queued] = pending_requests(session, actor=world.actors["zhang_wei"])
    assert queued.id == asked.request_id and queued.requested_due_on == date(2026, 12, 4)
    assert pending_requests(session, actor=world.actors["ningxian_boss"]) == []
    done = decide_extension(
        session, request_id=asked.request_id, actor=world.actors["zhang_wei"],
        version=case(session, case_id).version, as_of=NOW, approve=True,
    )  # fmt: skip
    c = case(session, case_id)
    assert (c.due_on, c.state, c.version, done.due_on) == (date(2026, 12, 4), State.YELLOW_LIGHT, 3, date(2026, 12, 4))
    assert timeline(session, case_id) == [Event.RAISE, Event.REQUEST_EXTENSION, Event.APPROVE_EXTENSION]
    approval = session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.event == Event.APPROVE_EXTENSION)
    ).one()
    assert approval.due_on == date(2026, 12, 4) and approval.data["from_due_on"] == "2026-11-30"
    assert pending_requests(session, actor=world.actors["zhang_wei"]) == []
    from models.notifications import Notification, NotificationKind

    told = session.connection().execute(
        sa.select(Notification.user_id, Notification.kind)
        .where(Notification.case_id == case_id, Notification.channel == "inbox")
        .order_by(Notification.id)
    ).all()
    assert [tuple(t) for t in told] == [
        (world.users["zhang_wei"], NotificationKind.EXTENSION_REQUEST),
        (world.users["li_na"], NotificationKind.ESCALATION_DECIDED),
    ]
    # With the new deadline the sweep leaves it alone on 1 Dec.
    assert sweep(session, as_of=at(2026, 12, 1)).level1 == 0


def test_zhang_wei_rejects_an_extension_only_with_a_reason(session, world):
    case_id = new_case(session, world, "yellow")
    asked = ask(session, world, case_id)
    with pytest.raises(InvalidInput) as refused:
        decide_extension(
            session, request_id=asked.request_id, actor=world.actors["zhang_wei"],
            version=case(session, case_id).version, as_of=NOW, approve=False, reason="  ",
        )  # fmt: skip
    assert refused.value.errors[0].field == "reason"
    decide_extension(
        session, request_id=asked.request_id, actor=world.actors["zhang_wei"],
        version=case(session, case_id).version, as_of=NOW, approve=False, reason="期限内可完成核实",
    )  # fmt: skip
    c = case(session, case_id)
    assert c.due_on == date(2026, 11, 30)
    assert timeline(session, case_id)[-1] == Event.REJECT_EXTENSION
    request = session.get(EscalationRequest, asked.request_id)
    session.refresh(request)
    assert request.decision == RequestDecision.REJECT and request.decision_reason == "期限内可完成核实"
    with pytest.raises(InvalidState):  # decided once
        decide_extension(
            session, request_id=asked.request_id, actor=world.actors["zhang_wei"],
            version=c.version, as_of=NOW, approve=True, new_due_on=date(2026, 12, 10),
        )  # fmt: skip


def test_an_extension_needs_a_reason_and_a_handler(session, world):
    case_id = new_case(session, world, "yellow")
    with pytest.raises(InvalidInput):
        ask(session, world, case_id, reason="")
    with pytest.raises(RoleNotAllowed):
        request_extension(
            session, case_id=case_id, actor=world.actors["zhang_wei"], version=1, as_of=NOW, reason="x"
        )
    with pytest.raises(StaleVersion):
        request_extension(session, case_id=case_id, actor=world.actors["li_na"], version=7, as_of=NOW, reason="x")
    assert timeline(session, case_id) == [Event.RAISE]


def overdue_to_level_2(session, world) -> tuple[int, int]:
    case_id = new_case(session, world, "yellow")
    sweep(session, as_of=at(2026, 12, 1))
    sweep(session, as_of=at(2026, 12, 3))
    [request] = pending_requests(session, actor=world.actors["zhang_wei"])
    assert request.case_id == case_id and request.level == 2
    return case_id, request.id


def test_zhang_wei_sends_an_escalation_to_the_supervision_bureau(session, world):
    case_id, request_id = overdue_to_level_2(session, world)
    done = decide_escalation(
        session, request_id=request_id, actor=world.actors["zhang_wei"], version=case(session, case_id).version,
        as_of=at(2026, 12, 3, 10), decision=RequestDecision.ESCALATE, reason="多次催办未果",
    )  # fmt: skip
    c = case(session, case_id)
    assert (c.escalation_level, done.escalation_level, c.state) == (3, 3, State.YELLOW_LIGHT)
    assert timeline(session, case_id)[-1] == Event.ESCALATE_TO_BUREAU
    # The sweep never lowers or repeats what the supervisor decided.
    sweep(session, as_of=at(2026, 12, 10))
    assert case(session, case_id).escalation_level == 3


def test_zhang_wei_extends_an_escalated_case_and_the_ladder_starts_again(session, world):
    case_id, request_id = overdue_to_level_2(session, world)
    decide_escalation(
        session, request_id=request_id, actor=world.actors["zhang_wei"], version=case(session, case_id).version,
        as_of=at(2026, 12, 3, 10), decision="extend", new_due_on=date(2026, 12, 5), reason="补充材料",
    )  # fmt: skip
    c = case(session, case_id)
    # Saturday 5 Dec is no working day: the deadline moves to Monday.
    assert (c.due_on, c.escalation_level) == (date(2026, 12, 7), 0)
    sweep(session, as_of=at(2026, 12, 8))
    assert case(session, case_id).escalation_level == 1


def test_zhang_wei_reassigns_an_escalated_case_to_wang_fang(session, world):
    case_id, request_id = overdue_to_level_2(session, world)
    decide_escalation(
        session, request_id=request_id, actor=world.actors["zhang_wei"], version=case(session, case_id).version,
        as_of=at(2026, 12, 3, 10), decision="reassign", assignee_id=world.users["wang_fang"],
    )  # fmt: skip
    assert case(session, case_id).assignee_id == world.users["wang_fang"]
    assert timeline(session, case_id)[-1] == Event.REASSIGN
    assert pending_requests(session, actor=world.actors["zhang_wei"]) == []


def test_rejecting_an_escalation_needs_a_reason(session, world):
    case_id, request_id = overdue_to_level_2(session, world)
    with pytest.raises(InvalidInput):
        decide_escalation(
            session, request_id=request_id, actor=world.actors["zhang_wei"], version=case(session, case_id).version,
            as_of=at(2026, 12, 3, 10), decision="reject",
        )  # fmt: skip
    assert len(pending_requests(session, actor=world.actors["zhang_wei"])) == 1
    decide_escalation(
        session, request_id=request_id, actor=world.actors["zhang_wei"], version=case(session, case_id).version,
        as_of=at(2026, 12, 3, 10), decision="reject", reason="经办人已在核实，明日可办结",
    )  # fmt: skip
    assert timeline(session, case_id)[-1] == Event.REJECT_ESCALATION
    assert case(session, case_id).escalation_level == 2
