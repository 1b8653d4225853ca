"""Amending a slip (修改处理单): every version kept, the conclusion fixed, stale edits refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import Case, Slip, SlipSignoff, SlipVersion
from models.enums import Conclusion, Event, SignoffDecision
from tests.factories import NOW, new_case, verification_slip
from workflows.cases.amend import amend_slip
from workflows.cases.transition import transition
from workflows.core.errors import InvalidInput, OutOfScope, RoleNotAllowed, StaleVersion

LATER = NOW + timedelta(hours=3)


def verified(session, world, conclusion=Conclusion.VIOLATION) -> int:
    """Li Na verifies a fresh Anxian case; returns the slip's id."""
    case_id = new_case(session, world, "yellow")
    result = transition(
        session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"],
        version=session.get(Case, case_id).version, as_of=NOW, slip=verification_slip(conclusion),
    )
    return result.slip_id


def versions(session, slip_id):
    return session.connection().execute(
        sa.select(SlipVersion.version, SlipVersion.fields, SlipVersion.reason, SlipVersion.author_id)
        .where(SlipVersion.slip_id == slip_id)
        .order_by(SlipVersion.version)
    ).all()


def test_wang_fang_corrects_li_nas_findings_and_both_versions_stay(session, world):
    slip_id = verified(session, world)
    corrected = verification_slip(Conclusion.VIOLATION).model_copy(
        update={"findings": "经实地核查，资金被挪用于村部办公楼维修。", "amount_involved": Decimal("8000.00")}
    )
    new_version = amend_slip(
        session, slip_id=slip_id, version=1, changes=corrected, reason="补充实地核查结果",
        actor=world.actors["wang_fang"], as_of=LATER,
    )
    assert new_version == 2
    slip = session.get(Slip, slip_id)
    assert slip.findings.startswith("经实地核查") and slip.amount_involved == Decimal("8000.00")
    history = versions(session, slip_id)
    assert [v.version for v in history] == [1, 2]
    assert history[0].fields["findings"].startswith("经电话核实")
    assert history[0].fields["amount_involved"] == "12345.67"
    assert history[1].reason == "补充实地核查结果"
    assert history[1].author_id == world.users["wang_fang"]


def test_the_conclusion_cannot_be_changed_by_amending(session, world):
    slip_id = verified(session, world, Conclusion.VIOLATION)
    with pytest.raises(InvalidInput) as refused:
        amend_slip(
            session, slip_id=slip_id, version=1, changes=verification_slip(Conclusion.NORMAL),
            reason="改判", actor=world.actors["li_na"], as_of=LATER,
        )
    assert refused.value.errors[0].field == "slip.conclusion"
    assert len(versions(session, slip_id)) == 1


def test_an_amendment_needs_a_reason_and_a_complete_slip(session, world):
    slip_id = verified(session, world)
    with pytest.raises(InvalidInput) as no_reason:
        amend_slip(
            session, slip_id=slip_id, version=1, changes=verification_slip(), reason="  ",
            actor=world.actors["li_na"], as_of=LATER,
        )
    assert no_reason.value.errors[0].field == "reason"
    emptied = verification_slip().model_copy(update={"findings": ""})
    with pytest.raises(InvalidInput) as incomplete:
        amend_slip(
            session, slip_id=slip_id, version=1, changes=emptied, reason="精简",
            actor=world.actors["li_na"], as_of=LATER,
        )
    assert [e.field for e in incomplete.value.errors] == ["slip.findings"]
    assert len(versions(session, slip_id)) == 1


def test_two_people_amending_the_same_version_the_second_is_refused(session, world):
    slip_id = verified(session, world)
    amend_slip(
        session, slip_id=slip_id, version=1, changes=verification_slip(), reason="第一次修改",
        actor=world.actors["li_na"], as_of=LATER,
    )
    with pytest.raises(StaleVersion):
        amend_slip(
            session, slip_id=slip_id, version=1, changes=verification_slip(), reason="第二次修改",
            actor=world.actors["wang_fang"], as_of=LATER,
        )
    assert [v.version for v in versions(session, slip_id)] == [1, 2]


def test_only_handlers_in_scope_may_amend(session, world):
    slip_id = verified(session, world)
    with pytest.raises(OutOfScope):
        amend_slip(
            session, slip_id=slip_id, version=1, changes=verification_slip(), reason="越权",
            actor=world.actors["zhao_lei"], as_of=LATER,
        )
    with pytest.raises(RoleNotAllowed):
        amend_slip(
            session, slip_id=slip_id, version=1, changes=verification_slip(), reason="越权",
            actor=world.actors["zhang_wei"], as_of=LATER,
        )
    assert len(versions(session, slip_id)) == 1


def test_zhang_weis_review_is_signed_on_the_rectification_slip(session, world):
    from tests.factories import rectification_slip

    case_id = new_case(session, world, "red")
    li_na, zhang_wei = world.actors["li_na"], world.actors["zhang_wei"]

    def act(event, actor, **kw):
        version = session.get(Case, case_id).version
        return transition(session, case_id=case_id, event=event, actor=actor, version=version,
                          as_of=LATER, **kw)

    def signed(slip_id):
        return session.connection().execute(
            sa.select(SlipSignoff.slip_version, SlipSignoff.case_id, SlipSignoff.supervisor_id,
                      SlipSignoff.decision, SlipSignoff.opinion, SlipSignoff.signed_at)
            .where(SlipSignoff.slip_id == slip_id)
        ).all()

    first = act(Event.SUBMIT_RECTIFICATION, li_na, slip=rectification_slip()).slip_id
    act(Event.REJECT_RECTIFICATION, zhang_wei, comment="收回金额凭证不全")
    assert signed(first) == [(1, case_id, world.users["zhang_wei"], SignoffDecision.SENT_BACK,
                              "退回整改：收回金额凭证不全", LATER)]

    second = act(Event.SUBMIT_RECTIFICATION, li_na, slip=rectification_slip()).slip_id
    act(Event.APPROVE_RECTIFICATION, zhang_wei, comment="整改到位")
    assert signed(second) == [(1, case_id, world.users["zhang_wei"], SignoffDecision.APPROVED,
                               "同意。整改到位", LATER)]
    assert [row.decision for row in signed(first)] == [SignoffDecision.SENT_BACK]
