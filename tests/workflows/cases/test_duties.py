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


# --- a person reports the duty done: the day, the evidence, the supervisor's sign-off ----------

PDF = b"%PDF-1.4 scanned receipt"


def by_person(session, world, case, done_at, as_of, who="li_na", comment="指标文件已导入平台，文号豫财农〔2026〕12号",
              **kw):  # fmt: skip
    from workflows.cases.duties import report_duty_done_by_person

    session.refresh(case)
    return report_duty_done_by_person(
        session, actor=world.actors[who], number=case.number, version=case.version, done_at=done_at,
        comment=comment, as_of=as_of, **kw,
    )  # fmt: skip


def last_event(session, case) -> CaseEvent:
    return session.execute(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).scalars().first()


def test_li_na_reports_a_duty_done_on_time_with_a_scan_and_zhang_wei_clears_the_bell(session, world, tmp_path):
    from workflows.cases.attachments import Upload
    from workflows.cases.duties import open_duty_evidence
    from workflows.cases.marks import review_notes
    from workflows.cases.queries import review_queue
    from workflows.cases.transition import transition

    case = bell(session, world)  # duty due Monday 30 Nov
    outcome = by_person(session, world, case, date(2026, 11, 30), shanghai(2026, 12, 1, 9),
                        uploads=[Upload("回单.pdf", PDF)], files_dir=tmp_path)  # fmt: skip
    # On time, but a person's word: the bell waits for the supervisor.
    assert outcome.on_time and outcome.result.to_state == State.CLEARANCE_REVIEW
    event = last_event(session, case)
    assert event.event == Event.COMPLETE_DUTY and event.data["done_at"] == "2026-11-30"
    assert event.comment == "指标文件已导入平台，文号豫财农〔2026〕12号"
    [evidence] = event.data["evidence"]
    assert evidence["filename"] == "回单.pdf" and evidence["content_type"] == "application/pdf"
    zhang_wei = world.actors["zhang_wei"]
    assert case.id in [r.id for r in review_queue(session, actor=zhang_wei, as_of=NOW)]
    note = review_notes(session, case_ids=[case.id])[case.id]
    assert (note.note, note.done_at, note.evidence) == (event.comment, "2026-11-30", 1)
    found, path = open_duty_evidence(session, actor=zhang_wei, number=case.number,
                                     sha256=evidence["sha256"], files_dir=tmp_path)  # fmt: skip
    assert found.filename == "回单.pdf" and path.read_bytes() == PDF
    session.refresh(case)
    transition(session, case_id=case.id, event=Event.APPROVE_CLEARANCE, actor=zhang_wei,
               version=case.version, as_of=shanghai(2026, 12, 1, 10), comment="凭证齐全")  # fmt: skip
    session.refresh(case)
    assert (case.state, case.resolution) == (State.CLEARED, Resolution.CLEARED)
    assert case.id not in [r.id for r in review_queue(session, actor=zhang_wei, as_of=NOW)]


def test_a_duty_li_na_did_late_converts_the_bell_with_her_date_recorded(session, world):
    case = bell(session, world, "bell_red")
    outcome = by_person(session, world, case, date(2026, 12, 1), shanghai(2026, 12, 2, 9))
    assert not outcome.on_time and outcome.result.to_state == State.RED_LIGHT
    event = last_event(session, case)
    assert event.event == Event.BELL_DEADLINE_PASSED
    assert event.data["done_at"] == "2026-12-01" and event.data["reported_by_id"] == world.users["li_na"]
    assert "晚于期限 2026-11-30" in event.comment and "豫财农〔2026〕12号" in event.comment
    session.refresh(case)
    assert case.resolution is None  # never "cleared on time"


def test_what_li_na_reports_is_checked_field_by_field_and_nothing_is_written(session, world):
    case = bell(session, world)  # raised Monday 23 Nov
    today = shanghai(2026, 11, 25, 9)
    cases = [
        (None, "x", {"done_at"}),
        (date(2026, 11, 26), "x", {"done_at"}),  # tomorrow
        (date(2026, 11, 22), "x", {"done_at"}),  # before the warning was raised
        (date(2026, 11, 24), "  ", {"comment"}),
        (None, "", {"done_at", "comment"}),
    ]
    for done_at, comment, fields in cases:
        with pytest.raises(InvalidInput) as refused:
            by_person(session, world, case, done_at, today, comment=comment)
        assert {e.field for e in refused.value.errors} == fields
        assert all("done_at" in e.message or "comment" in e.message for e in refused.value.errors)
    from workflows.cases.attachments import Upload

    with pytest.raises(InvalidInput) as refused:
        by_person(session, world, case, date(2026, 11, 24), today, uploads=[Upload("x.exe", b"MZ")])
    assert refused.value.errors[0].field == "attachments"
    assert last_event(session, case).event == Event.RAISE


def test_zhang_wei_sends_a_clearance_back_and_cannot_report_one_himself(session, world):
    from workflows.cases.marks import sent_back
    from workflows.cases.transition import transition
    from workflows.core.errors import RoleNotAllowed as Refused

    case = bell(session, world)
    with pytest.raises(Refused):
        by_person(session, world, case, date(2026, 11, 23), NOW, who="zhang_wei")
    by_person(session, world, case, date(2026, 11, 23), NOW)
    with pytest.raises(InvalidInput):  # a send-back needs its reason
        transition(session, case_id=case.id, event=Event.REJECT_CLEARANCE, actor=world.actors["zhang_wei"],
                   version=2, as_of=NOW)  # fmt: skip
    transition(session, case_id=case.id, event=Event.REJECT_CLEARANCE, actor=world.actors["zhang_wei"],
               version=2, as_of=NOW, comment="凭证不是本事项的")  # fmt: skip
    session.refresh(case)
    # Back to the bell with its own duty deadline; the sweep converts it once that passes.
    assert (case.state, case.due_on) == (State.YELLOW_BELL, date(2026, 11, 30))
    assert case.id in sent_back(session, case_ids=[case.id])
    assert sweep(session, as_of=shanghai(2026, 12, 1, 0, 0, 30)).bells_converted == 1


def test_the_platforms_clearance_needs_no_review_and_records_done_at(session, world):
    from workflows.cases.queries import review_queue

    case = bell(session, world)
    report(session, world, case, shanghai(2026, 11, 30, 17), shanghai(2026, 12, 1, 9))
    session.refresh(case)
    assert case.state == State.CLEARED
    assert last_event(session, case).data["done_at"] == "2026-11-30T17:00:00+08:00"
    assert case.id not in [r.id for r in review_queue(session, actor=world.actors["zhang_wei"], as_of=NOW)]
    # Nor may the platform date a duty before its warning was raised.
    other = bell(session, world)
    with pytest.raises(InvalidInput) as early:
        report(session, world, other, shanghai(2026, 11, 22, 17), NOW)
    assert early.value.errors[0].field == "done_at"


def test_without_the_review_setting_li_nas_clearance_clears_at_once(session, world, monkeypatch):
    from models.settings import get_settings

    monkeypatch.setenv("WARNFLOW_REVIEW_PERSON_CLEARANCES", "false")
    get_settings.cache_clear()
    try:
        case = bell(session, world)
        assert by_person(session, world, case, date(2026, 11, 23), NOW).result.to_state == State.CLEARED
    finally:
        monkeypatch.delenv("WARNFLOW_REVIEW_PERSON_CLEARANCES")
        get_settings.cache_clear()


def test_no_door_clears_a_bell_on_a_late_or_missing_done_at(session, world):
    from workflows.cases.transition import transition

    case = bell(session, world)
    for data, code in [(None, "required"), ({"done_at": "2026-12-01"}, "late")]:
        with pytest.raises(InvalidInput) as refused:
            transition(session, case_id=case.id, event=Event.COMPLETE_DUTY, actor=world.actors["li_na"],
                       version=1, as_of=NOW, comment="已办", data=data)  # fmt: skip
        assert (refused.value.errors[0].field, refused.value.errors[0].code) == ("done_at", code)
