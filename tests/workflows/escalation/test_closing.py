"""No dead ends: a case that closes takes its waiting requests with it."""

import pytest
import sqlalchemy as sa

from models import EscalationRequest
from models.enums import Conclusion, Event, RequestDecision
from tests.factories import new_case, verification_slip
from tests.workflows.escalation.test_extensions import ask, at, case, overdue_to_level_2
from workflows.cases.transition import transition
from workflows.core.errors import InvalidState
from workflows.escalation.extensions import decide_escalation, decide_extension, pending_requests


def verified_normal(session, world, case_id, when):
    return transition(
        session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"],
        version=case(session, case_id).version, as_of=when, slip=verification_slip(Conclusion.NORMAL),
    )  # fmt: skip


def test_an_escalation_on_a_case_that_turned_green_leaves_zhang_weis_queue(session, world):
    # 督办申请 kept requests for green cases forever, and every decision failed with
    # "当前状态不能执行驳回升级请求".
    case_id, request_id = overdue_to_level_2(session, world)
    verified_normal(session, world, case_id, at(2026, 12, 3, 11))
    assert pending_requests(session, actor=world.actors["zhang_wei"]) == []
    request = session.get(EscalationRequest, request_id)
    session.refresh(request)
    assert request.decision == RequestDecision.CLOSED_WITH_CASE
    assert request.decision_reason == "案件已办结，自动关闭" and request.decided_by_id is None
    with pytest.raises(InvalidState):
        decide_escalation(
            session, request_id=request_id, actor=world.actors["zhang_wei"],
            version=case(session, case_id).version, as_of=at(2026, 12, 3, 12),
            decision=RequestDecision.REJECT, reason="已办结",
        )  # fmt: skip


def test_an_extension_request_closes_with_its_case_and_others_stay(session, world):
    closing, staying = new_case(session, world, "yellow"), new_case(session, world, "yellow")
    first = ask(session, world, closing).request_id
    second = ask(session, world, staying).request_id
    verified_normal(session, world, closing, at(2026, 11, 24))
    assert [r.id for r in pending_requests(session, actor=world.actors["zhang_wei"])] == [second]
    with pytest.raises(InvalidState):
        decide_extension(session, request_id=first, actor=world.actors["zhang_wei"],
                         version=case(session, closing).version, as_of=at(2026, 11, 24, 10),
                         approve=False, reason="不同意")  # fmt: skip
    closed = session.execute(
        sa.select(EscalationRequest.decision).where(EscalationRequest.id == first)
    ).scalar_one()
    assert closed == RequestDecision.CLOSED_WITH_CASE


def test_zhang_wei_is_told_of_a_rectification_and_li_na_of_the_send_back(session, world):
    from models import Notification
    from models.notifications import NotificationKind
    from tests.factories import NOW, rectification_slip

    case_id = new_case(session, world, "red")

    def fire(event, who, **kw):
        return transition(session, case_id=case_id, event=event, actor=world.actors[who],
                          version=case(session, case_id).version, as_of=NOW, **kw)  # fmt: skip

    def inbox(who, kind):
        return session.execute(
            sa.select(Notification.subject).where(
                Notification.user_id == world.users[who], Notification.kind == kind,
                Notification.channel == "inbox",
            )
        ).scalars().all()  # fmt: skip

    fire(Event.SUBMIT_RECTIFICATION, "li_na", slip=rectification_slip())
    assert inbox("zhang_wei", NotificationKind.REVIEW_REQUEST) == [
        f"案件 {case(session, case_id).number}：整改处理单待审核"
    ]
    fire(Event.REJECT_RECTIFICATION, "zhang_wei", comment="缺银行回单")
    [told] = inbox("li_na", NotificationKind.REVIEW_DECIDED)
    assert told.endswith("整改被退回。理由：缺银行回单")


def test_escalation_levels_read_as_words_on_the_timeline(session, world):
    from workflows.cases.detail import get_case_detail

    case_id, _ = overdue_to_level_2(session, world)
    number = case(session, case_id).number
    detail = get_case_detail(session, actor=world.actors["zhang_wei"], number=number,
                             as_of=at(2026, 12, 3, 10))  # fmt: skip
    labels = [e.event_label for e in detail.timeline if e.event == Event.ESCALATE]
    assert labels == ["逾期升级（一级督办）", "逾期升级（二级督办）"]


def test_a_refused_extend_decision_is_named_as_chosen(session, world):
    # A request left open on a closed case (as before this version's migration closed them):
    # the refusal names the decision 延长期限, not the event 批准延期.
    from datetime import date

    case_id, request_id = overdue_to_level_2(session, world)
    verified_normal(session, world, case_id, at(2026, 12, 3, 11))
    session.execute(sa.update(EscalationRequest).where(EscalationRequest.id == request_id)
                    .values(decision=None, decided_at=None, decision_reason=None))  # fmt: skip
    with pytest.raises(InvalidState) as refused:
        decide_escalation(
            session, request_id=request_id, actor=world.actors["zhang_wei"],
            version=case(session, case_id).version, as_of=at(2026, 12, 3, 12),
            decision=RequestDecision.EXTEND, reason="再给一周", new_due_on=date(2026, 12, 10),
        )  # fmt: skip
    assert "延长期限" in refused.value.message and "批准延期" not in refused.value.message
