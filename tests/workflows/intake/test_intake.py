"""Warnings become cases many at once: numbered per month, with their raise events, all or none."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from models import Case, CaseEvent, CaseNumberCounter
from models.enums import Event, Level, State
from tests.factories import NOW, new_case
from workflows.core.errors import InvalidInput
from workflows.intake.intake import DuplicateWarning, NewCase, raise_case, raise_cases

NOVEMBER = NOW
DECEMBER = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
# 2026-11-30 23:30 in Shanghai is still November there, though already UTC's 30th 15:30.
LAST_NOVEMBER_EVENING = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
# 2026-12-01 00:30 in Shanghai: December there, though UTC still says November.
FIRST_DECEMBER_NIGHT = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


def item(world, external_id, rule="yellow", at=NOVEMBER, **overrides):
    values = {
        "rule": world.rules[rule],
        "region_id": world.regions["anxian"].id,
        "org_unit_id": world.units["anxian_agri"].id,
        "assignee_id": world.users["li_na"],
        "source": "henan-platform",
        "external_id": external_id,
        "raised_at": at,
        "facts": {"payee_name": "安县城关镇农民专业合作社", "amount": "50000.00"},
        "payload": {"monitoring_platform": "财政扶贫资金动态监控平台"},
        "duty_due_on": date(2026, 11, 30) if world.rules[rule].level == Level.YELLOW_BELL else None,
    }
    return NewCase(**(values | overrides))


def open_cases(session, world, items):
    return raise_cases(session, items=items, as_of=NOW, actor=world.actors["platform"])


def count(session, model):
    return session.exec(select(func.count()).select_from(model)).one()


def counters(session):
    return {c.key: c.last for c in session.exec(select(CaseNumberCounter))}


def test_the_platform_opens_a_batch_spanning_two_months_and_numbers_run_on_per_month(session, world):
    new_case(session, world)  # YJ-202611-000001 is taken already
    items = [
        item(world, "M-1"),
        item(world, "M-2", at=DECEMBER),
        item(world, "M-3", at=LAST_NOVEMBER_EVENING),
        item(world, "M-4", at=FIRST_DECEMBER_NIGHT),
        item(world, "M-5"),
    ]
    ids = open_cases(session, world, items)
    numbers = [session.get(Case, case_id).number for case_id in ids]
    assert numbers == [
        "YJ-202611-000002",
        "YJ-202612-000001",
        "YJ-202611-000003",
        "YJ-202612-000002",
        "YJ-202611-000004",
    ]
    assert [session.get(Case, case_id).external_id for case_id in ids] == [i.external_id for i in items]
    more = open_cases(session, world, [item(world, "M-6"), item(world, "M-7", at=DECEMBER)])
    assert [session.get(Case, case_id).number for case_id in more] == ["YJ-202611-000005", "YJ-202612-000003"]


def test_each_new_case_has_its_raise_event_state_deadline_and_facts(session, world):
    ids = open_cases(session, world, [
        item(world, "E-1"),
        item(world, "E-2", rule="red", facts=None, assignee_id=None),
        item(world, "E-3", rule="bell"),
        item(world, "E-4", level=Level.RED_LIGHT),
    ])
    cases = [session.get(Case, case_id) for case_id in ids]
    assert [c.state for c in cases] == [State.YELLOW_LIGHT, State.RED_LIGHT, State.YELLOW_BELL, State.RED_LIGHT]
    # Verify: 5 working days from Monday 23rd; rectify: the red rule's 10; a bell: its duty date.
    assert [c.due_on for c in cases][:3] == [date(2026, 11, 30), date(2026, 12, 7), date(2026, 11, 30)]
    assert cases[0].amount == 50000 and cases[0].payee_name == "安县城关镇农民专业合作社"
    assert cases[1].amount is None and cases[1].assignee_id is None
    assert cases[0].payload == {"monitoring_platform": "财政扶贫资金动态监控平台"}
    events = session.exec(select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.case_id)).all()
    assert [(e.case_id, e.seq, e.event, e.from_state, e.to_state) for e in events] == [
        (c.id, 1, Event.RAISE, None, c.state) for c in cases
    ]
    assert all(e.actor_id == world.users["platform"] and e.due_on == c.due_on for e, c in zip(events, cases, strict=True))
    assert events[3].data == {"level": "red_light"}


def test_one_case_alone_is_still_opened_by_raise_case(session, world):
    case_id = raise_case(
        session, rule=world.rules["yellow"], region_id=world.regions["anxian"].id,
        org_unit_id=world.units["anxian_agri"].id, assignee_id=None, source="manual",
        external_id="ONE-1", raised_at=NOW, as_of=NOW, actor=world.actors["platform"],
    )
    assert session.get(Case, case_id).number == "YJ-202611-000001"
    with pytest.raises(DuplicateWarning) as refused:
        raise_case(
            session, rule=world.rules["yellow"], region_id=world.regions["anxian"].id,
            org_unit_id=world.units["anxian_agri"].id, assignee_id=None, source="manual",
            external_id="ONE-1", raised_at=NOW, as_of=NOW, actor=world.actors["platform"],
        )
    assert "manual/ONE-1" in refused.value.message
    with pytest.raises(InvalidInput) as invalid:
        raise_case(
            session, rule=world.rules["bell"], region_id=world.regions["anxian"].id,
            org_unit_id=world.units["anxian_agri"].id, assignee_id=None, source="manual",
            external_id="ONE-2", raised_at=NOW, as_of=NOW, actor=world.actors["platform"],
        )
    assert [e.field for e in invalid.value.errors] == ["duty_due_on"]


def test_a_batch_with_a_warning_already_on_file_is_refused_whole(session, world):
    open_cases(session, world, [item(world, "D-2")])
    before = (count(session, Case), count(session, CaseEvent), counters(session))
    with pytest.raises(DuplicateWarning) as refused:
        open_cases(session, world, [item(world, "D-1"), item(world, "D-2"), item(world, "D-3")])
    assert "henan-platform/D-2" in refused.value.message
    assert (count(session, Case), count(session, CaseEvent), counters(session)) == before


def test_a_batch_naming_the_same_warning_twice_is_refused_whole(session, world):
    with pytest.raises(DuplicateWarning):
        open_cases(session, world, [item(world, "R-1"), item(world, "R-2"), item(world, "R-1")])
    assert count(session, Case) == 0
    # The same external id from another source is another warning.
    assert len(open_cases(session, world, [item(world, "R-1"), item(world, "R-1", source="other")])) == 2


def test_an_invalid_item_refuses_the_batch_and_says_which_one(session, world):
    with pytest.raises(InvalidInput) as refused:
        open_cases(session, world, [
            item(world, "V-1"),
            item(world, "V-2", rule="bell", duty_due_on=None),
            item(world, "V-3", facts={"colour": "red"}),
            item(world, "V-4", level=Level.GREEN),
        ])
    fields = [e.field for e in refused.value.errors]
    assert fields == ["items.1.duty_due_on", "items.2.facts", "items.3.level"]
    assert refused.value.message.startswith("第 2 条")
    assert (count(session, Case), counters(session)) == (0, {})


def test_a_database_error_midway_leaves_no_case_event_or_number_behind(session, world):
    open_cases(session, world, [item(world, "X-0")])
    before = (count(session, Case), count(session, CaseEvent), counters(session))
    with pytest.raises(sa.exc.IntegrityError):
        open_cases(session, world, [item(world, "X-1"), item(world, "X-2", org_unit_id=999_999)])
    assert (count(session, Case), count(session, CaseEvent), counters(session)) == before
    # The caller's transaction goes on.
    assert len(open_cases(session, world, [item(world, "X-1")])) == 1
    assert counters(session) == {"YJ-202611": 2}


def test_an_empty_batch_opens_nothing(session, world):
    assert open_cases(session, world, []) == []
