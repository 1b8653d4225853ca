"""Yellow bells clear only when the duty was done on time (Changchun art. 19, 22)."""

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from models import Case, CaseEvent
from models.enums import Event, Resolution, State
from tests.factories import NOW, new_case
from workflows.cases.duties import report_duty_done
from workflows.core.calendar import LOCAL_TZ
from workflows.core.errors import InvalidInput, InvalidState, RoleNotAllowed
from workflows.escalation.sweep import sweep


def shanghai(y, m, d, hour=9, minute=0, second=0) -> datetime:
    return datetime(y, m, d, hour, minute, second, tzinfo=LOCAL_TZ)


def bell(session, world, rule="bell", **kw) -> Case:
    case = session.get(Case, new_case(session, world, rule, **kw))
    session.refresh(case)
    return case


def report(session, world, case, done_at, as_of):
    return report_duty_done(session, actor=world.actors["platform"], source=case.source,
                            external_id=case.external_id, done_at=done_at, as_of=as_of)  # fmt: skip


def test_the_platform_reports_a_duty_done_on_time_and_the_bell_clears(session, world):
    case = bell(session, world)  # duty due Monday 30 Nov
    outcome = report(session, world, case, shanghai(2026, 11, 30, 17), shanghai(2026, 12, 1, 9))
    assert outcome.on_time and outcome.result.to_state == State.CLEARED
    session.refresh(case)
    assert (case.state, case.resolution) == (State.CLEARED, Resolution.CLEARED)


def test_a_duty_done_late_converts_the_bell_never_clears_it(session, world):
    case = bell(session, world, "bell_red")
    outcome = report(session, world, case, shanghai(2026, 12, 1, 10), shanghai(2026, 12, 1, 11))
    assert not outcome.on_time and outcome.result.to_state == State.RED_LIGHT
    last = session.execute(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).scalars().first()
    assert last.event == Event.BELL_DEADLINE_PASSED
    assert "履职完成于 2026-12-01 10:00" in last.comment and "晚于期限 2026-11-30" in last.comment


def test_done_at_is_checked_and_only_the_platform_reports(session, world):
    case = bell(session, world)
    with pytest.raises(InvalidInput) as future:
        report(session, world, case, shanghai(2026, 11, 25), NOW)
    assert future.value.errors[0].field == "done_at"
    with pytest.raises(RoleNotAllowed):
        report_duty_done(session, actor=world.actors["li_na"], source=case.source,
                         external_id=case.external_id, done_at=NOW, as_of=NOW)  # fmt: skip
    report(session, world, case, NOW, NOW)
    with pytest.raises(InvalidState):
        report(session, world, case, NOW, NOW)


def test_a_bell_due_on_friday_converts_at_saturday_midnight(session, world):
    case = bell(session, world, duty_due_on=date(2026, 11, 27))  # Friday
    assert case.due_on == date(2026, 11, 27)
    assert sweep(session, as_of=shanghai(2026, 11, 27, 23, 59)).bells_converted == 0
    # Saturday is no working day; the bell converts all the same.
    assert sweep(session, as_of=shanghai(2026, 11, 28, 0, 0, 30)).bells_converted == 1
    session.refresh(case)
    assert case.state == State.YELLOW_LIGHT


def test_a_person_clearing_a_bell_says_when_and_on_what_evidence(session, world):
    from workflows.cases.transition import transition

    case = bell(session, world)
    with pytest.raises(InvalidInput) as bare:
        transition(session, case_id=case.id, event=Event.COMPLETE_DUTY, actor=world.actors["li_na"],
                   version=case.version, as_of=NOW)  # fmt: skip
    assert bare.value.errors[0].field == "comment"
