"""The lifecycle table, applied by transition(): every (state, event) pair, refusals that
write nothing, and random event sequences that never leave the table."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Case, CaseEvent, CaseSlip, Slip, SlipVersion
from models.enums import AmountBasis, Conclusion, Event, Level, Resolution, Role, State
from models.settings import get_settings
from tests.factories import NOW, new_case, rectification_slip, verification_slip
from workflows.cases.lifecycle import INITIAL, LIFECYCLE, Branch, Deadline, Outcome, Step
from workflows.cases.transition import transition, transition_many
from workflows.core.calendar import load_calendar
from workflows.core.errors import (
    BatchRefused,
    InvalidInput,
    InvalidState,
    OutOfScope,
    RoleNotAllowed,
    StaleVersion,
)

ACTOR_FOR_ROLE = {
    Role.HANDLER: "li_na",
    Role.SUPERVISOR: "zhang_wei",
    Role.SYSTEM: "system",
    Role.INTEGRATION: "platform",
    Role.ADMIN: "sun_hao",
    Role.AUDITOR: "liu_yang",
}

# How to bring a new case into each state, from the rule that raises it.
PATHS: dict[State, tuple[str, list[tuple[Event, str]]]] = {
    State.YELLOW_BELL: ("bell", []),
    State.YELLOW_LIGHT: ("yellow", []),
    State.VERIFYING: ("yellow", [(Event.START_VERIFY, "li_na")]),
    State.RED_LIGHT: ("red", []),
    State.RECTIFYING: ("red", [(Event.START_RECTIFY, "li_na")]),
    State.RECTIFICATION_REVIEW: ("red", [(Event.SUBMIT_RECTIFICATION, "li_na")]),
    State.REVERIFY_REVIEW: ("red", [(Event.REQUEST_REVERIFY, "li_na")]),
    State.NORMAL_REVIEW: ("yellow_large", [(Event.SUBMIT_VERIFICATION, "li_na")]),
    State.GREEN: ("yellow", [(Event.SUBMIT_VERIFICATION, "li_na")]),
    State.CLEARANCE_REVIEW: ("bell", [(Event.COMPLETE_DUTY, "li_na")]),
    State.CLEARED: ("bell", [(Event.COMPLETE_DUTY, "li_na"), (Event.APPROVE_CLEARANCE, "zhang_wei")]),
    State.TRANSFERRED: ("red", [(Event.TRANSFER, "zhang_wei")]),
}


def arguments(world, event: Event, conclusion=Conclusion.NORMAL) -> dict:
    if event == Event.SUBMIT_VERIFICATION:
        return {"slip": verification_slip(conclusion)}
    if event == Event.SUBMIT_RECTIFICATION:
        return {"slip": rectification_slip()}
    if event in (Event.REJECT_RECTIFICATION, Event.TRANSFER, Event.REQUEST_REVERIFY,
                 Event.REJECT_REVERIFY, Event.REJECT_NORMAL, Event.REJECT_CLEARANCE):
        return {"comment": "整改材料不全，请补充收回资金的银行回单"}
    if event == Event.COMPLETE_DUTY:
        return {"comment": "指标文件已于当日导入平台", "data": {"done_at": "2026-11-23"}}
    if event == Event.REASSIGN:
        return {"assignee_id": world.users["wang_fang"]}
    return {}


def fire(session, world, case_id, event, who, version=None, **kw):
    case = session.get(Case, case_id)
    session.refresh(case)
    return transition(
        session,
        case_id=case_id,
        event=event,
        actor=world.actors[who],
        version=case.version if version is None else version,
        as_of=kw.pop("as_of", NOW),
        **{**arguments(world, event), **kw},
    )


def case_in(session, world, state: State) -> int:
    rule, steps = PATHS[state]
    # "yellow_large": a yellow light on a payment above the normal-review amount.
    case_id = (new_case(session, world, "yellow", amount="500000.00") if rule == "yellow_large"
               else new_case(session, world, rule))  # fmt: skip
    for event, who in steps:
        fire(session, world, case_id, event, who)
    assert session.get(Case, case_id).state == state
    return case_id


def count_rows(session, model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    return session.connection().execute(stmt).scalar_one()


def expected_due(session, case_before: Case, deadline: Deadline, world) -> date | None:
    calendar = load_calendar(session)
    today = date(2026, 11, 23)
    s = get_settings()
    rule = session.get(type(world.rules["red"]), case_before.rule_id)
    return {
        Deadline.KEEP: case_before.due_on,
        Deadline.DUTY: case_before.duty_due_on and calendar.next_working_day(case_before.duty_due_on),
        Deadline.CLEAR: None,
        Deadline.VERIFY: calendar.add_working_days(today, rule.verify_days or s.default_verify_days),
        Deadline.RECTIFY: calendar.add_working_days(today, rule.rectify_days or s.default_rectify_days),
        Deadline.REVIEW: calendar.add_working_days(today, rule.review_days or s.default_review_days),
    }[deadline]


def expected_outcome(step: Step) -> Outcome:
    if step.branch == Branch.CONCLUSION:
        return step.outcomes["normal"]  # arguments() files a "normal" slip unless told
    if step.branch == Branch.BELL_BECOMES:
        return step.outcomes["yellow_light"]  # the "bell" rule leaves bell_becomes empty
    if step.branch == Branch.REPORTER:
        return step.outcomes["review"]  # the first role allowed is the handler's
    return step.outcomes[""]


ALL_PAIRS = [(state, event) for state in State for event in Event if event != Event.RAISE]


@pytest.mark.parametrize("state,event", ALL_PAIRS, ids=[f"{s}-{e}" for s, e in ALL_PAIRS])
def test_every_state_event_pair(session, world, state, event):
    case_id = case_in(session, world, state)
    before = session.get(Case, case_id)
    session.refresh(before)
    before_events = count_rows(session, CaseEvent, case_id=case_id)
    step = LIFECYCLE.get((state, event))
    if step is None:
        with pytest.raises(InvalidState) as refused:
            fire(session, world, case_id, event, "li_na")
        assert refused.value.code == "invalid_state"
        assert count_rows(session, CaseEvent, case_id=case_id) == before_events
        return

    who = next(name for role, name in ACTOR_FOR_ROLE.items() if role in step.roles)
    snapshot = (before.state, before.due_on, before.version)
    result = fire(session, world, case_id, event, who)
    outcome = expected_outcome(step)
    after = session.get(Case, case_id)
    session.refresh(after)
    assert after.state == outcome.to == result.to_state
    assert after.version == snapshot[2] + 1 == result.version
    assert after.due_on == expected_due(session, before, outcome.deadline, world)
    if outcome.resolution:
        assert after.resolution == outcome.resolution and after.closed_at == NOW
    assert count_rows(session, CaseEvent, case_id=case_id) == before_events + 1


@pytest.mark.parametrize("pair", sorted(LIFECYCLE, key=str), ids=lambda p: f"{p[0]}-{p[1]}")
def test_roles_outside_the_step_are_refused_and_nothing_is_written(session, world, pair):
    state, event = pair
    step = LIFECYCLE[pair]
    case_id = case_in(session, world, state)
    for role, who in ACTOR_FOR_ROLE.items():
        if role in step.roles:
            continue
        before = count_rows(session, CaseEvent, case_id=case_id)
        with pytest.raises(RoleNotAllowed) as refused:
            fire(session, world, case_id, event, who)
        assert refused.value.code == "role_not_allowed"
        assert count_rows(session, CaseEvent, case_id=case_id) == before
        assert session.get(Case, case_id).state == state


def test_li_na_verifies_a_violation_and_the_case_turns_red_with_a_rectify_deadline(session, world):
    case_id = new_case(session, world, "yellow")
    case = session.get(Case, case_id)
    assert case.number.startswith("YJ-202611-") and case.level == Level.YELLOW_LIGHT
    # Raised Monday 23 Nov 2026: five working days to verify (Henan art. 16).
    assert case.due_on == date(2026, 11, 30)
    fire(session, world, case_id, Event.START_VERIFY, "li_na")
    result = fire(
        session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na",
        slip=verification_slip(Conclusion.VIOLATION),
    )
    session.refresh(case)
    assert case.state == State.RED_LIGHT and case.level == Level.RED_LIGHT
    assert case.due_on == load_calendar(session).add_working_days(date(2026, 11, 23), 15)
    slip = session.get(Slip, result.slip_id)
    assert slip.number.startswith("HS-202611-") and slip.conclusion == Conclusion.VIOLATION
    assert count_rows(session, CaseSlip, case_id=case_id) == 1
    assert count_rows(session, SlipVersion, slip_id=slip.id) == 1


def test_the_full_ladder_to_green_after_an_approved_rectification(session, world):
    case_id = new_case(session, world, "yellow")
    fire(session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na", slip=verification_slip(Conclusion.VIOLATION))
    fire(session, world, case_id, Event.START_RECTIFY, "li_na")
    fire(session, world, case_id, Event.SUBMIT_RECTIFICATION, "li_na")
    fire(session, world, case_id, Event.REJECT_RECTIFICATION, "zhang_wei")
    fire(session, world, case_id, Event.SUBMIT_RECTIFICATION, "li_na")
    fire(session, world, case_id, Event.APPROVE_RECTIFICATION, "zhang_wei")
    case = session.get(Case, case_id)
    session.refresh(case)
    assert (case.state, case.resolution, case.due_on) == (State.GREEN, Resolution.RECTIFIED, None)
    events = session.connection().execute(
        sa.select(CaseEvent.seq, CaseEvent.event).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    ).all()
    assert [e.seq for e in events] == list(range(1, 8))
    assert events[0].event == Event.RAISE and events[-1].event == Event.APPROVE_RECTIFICATION


def test_an_expired_bell_becomes_what_its_rule_says(session, world):
    to_red = new_case(session, world, "bell_red")
    to_yellow = new_case(session, world, "bell")
    assert fire(session, world, to_red, Event.BELL_DEADLINE_PASSED, "system").to_state == State.RED_LIGHT
    assert fire(session, world, to_yellow, Event.BELL_DEADLINE_PASSED, "system").to_state == State.YELLOW_LIGHT


def test_a_stale_version_is_refused_and_writes_nothing(session, world):
    case_id = new_case(session, world, "yellow")
    fire(session, world, case_id, Event.START_VERIFY, "li_na")
    with pytest.raises(StaleVersion) as refused:
        fire(session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na", version=1)
    assert refused.value.code == "stale_version" and "刷新" in refused.value.message
    assert count_rows(session, CaseEvent, case_id=case_id) == 2
    assert count_rows(session, CaseSlip, case_id=case_id) == 0


def test_zhao_lei_of_ningxian_cannot_touch_an_anxian_case(session, world):
    case_id = new_case(session, world, "yellow")
    with pytest.raises(OutOfScope):
        fire(session, world, case_id, Event.START_VERIFY, "zhao_lei")


def test_chen_jie_of_the_budget_section_cannot_act_on_agricultural_finance_cases(session, world):
    case_id = new_case(session, world, "yellow")
    with pytest.raises(OutOfScope):
        fire(session, world, case_id, Event.START_VERIFY, "chen_jie")


def test_the_administrator_never_acts_on_cases(session, world):
    case_id = new_case(session, world, "yellow")
    with pytest.raises(RoleNotAllowed) as refused:
        fire(session, world, case_id, Event.START_VERIFY, "sun_hao")
    assert "不得混岗" in refused.value.message


def test_an_incomplete_slip_names_every_missing_field(session, world):
    case_id = new_case(session, world, "yellow")
    slip = verification_slip(Conclusion.VIOLATION).model_copy(
        update={"violation_type": None, "findings": "", "filler_name": ""}
    )
    with pytest.raises(InvalidInput) as refused:
        fire(session, world, case_id, Event.SUBMIT_VERIFICATION, "li_na", slip=slip)
    assert {e.field for e in refused.value.errors} == {
        "slip.findings", "slip.violation_type", "slip.filler_name",
    }
    assert all(e.message for e in refused.value.errors)
    assert count_rows(session, Slip) == 0


def test_reassigning_needs_a_handler_of_the_same_section(session, world):
    case_id = new_case(session, world, "yellow")
    with pytest.raises(InvalidInput) as refused:
        fire(session, world, case_id, Event.REASSIGN, "zhang_wei", assignee_id=world.users["zhao_lei"])
    assert refused.value.errors[0].field == "assignee_id"
    fire(session, world, case_id, Event.REASSIGN, "zhang_wei")
    assert session.get(Case, case_id).assignee_id == world.users["wang_fang"]


def test_a_batch_slip_over_three_cases_with_one_in_the_wrong_state_changes_nothing(session, world):
    ids = [new_case(session, world, "yellow") for _ in range(3)]
    fire(session, world, ids[2], Event.SUBMIT_VERIFICATION, "li_na")  # now green
    versions = {i: session.get(Case, i).version for i in ids}
    slips_before = count_rows(session, Slip)
    with pytest.raises(BatchRefused) as refused:
        transition_many(
            session,
            cases=[(i, versions[i]) for i in ids],
            event=Event.SUBMIT_VERIFICATION,
            actor=world.actors["li_na"],
            as_of=NOW,
            slip=verification_slip(Conclusion.VIOLATION, AmountBasis.PER_CASE),
        )
    assert [item["case_id"] for item in refused.value.items] == [ids[2]]
    assert refused.value.items[0]["code"] == "invalid_state"
    for i in ids:
        case = session.get(Case, i)
        session.refresh(case)
        assert case.version == versions[i]
    assert count_rows(session, Slip) == slips_before


def test_a_batch_slip_is_one_slip_linked_to_every_case(session, world):
    ids = [new_case(session, world, "yellow") for _ in range(3)]
    results = transition_many(
        session,
        cases=[(i, 1) for i in ids],
        event=Event.SUBMIT_VERIFICATION,
        actor=world.actors["li_na"],
        as_of=NOW,
        slip=verification_slip(Conclusion.VIOLATION, AmountBasis.PER_CASE),
    )
    assert {r.to_state for r in results} == {State.RED_LIGHT}
    assert len({r.slip_id for r in results}) == 1
    assert count_rows(session, CaseSlip, slip_id=results[0].slip_id) == 3


# Random sequences: whatever is tried, the case only moves along the table, and every
# accepted event leaves exactly one event row.
ACTIONS = st.tuples(
    st.sampled_from([e for e in Event if e != Event.RAISE]),
    st.sampled_from(list(ACTOR_FOR_ROLE.values())),
    st.sampled_from(list(Conclusion)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=st.sampled_from(["bell", "bell_red", "yellow", "red"]), actions=st.lists(ACTIONS, max_size=12))
def test_random_event_sequences_stay_on_the_table(session, world, rule, actions):
    savepoint = session.begin_nested()
    try:
        case_id = new_case(session, world, rule)
        state = INITIAL[world.rules[rule].level].to
        accepted = 1
        for step_no, (event, who, conclusion) in enumerate(actions):
            try:
                result = fire(
                    session, world, case_id, event, who,
                    as_of=NOW + timedelta(hours=step_no),
                    **arguments(world, event, conclusion),
                )
            except (InvalidState, RoleNotAllowed, OutOfScope, InvalidInput):
                assert session.get(Case, case_id).state == state
                continue
            allowed = LIFECYCLE[(state, event)]
            assert result.to_state in allowed.targets
            state = result.to_state
            accepted += 1
        assert count_rows(session, CaseEvent, case_id=case_id) == accepted
        assert session.get(Case, case_id).version == accepted
    finally:
        savepoint.rollback()
