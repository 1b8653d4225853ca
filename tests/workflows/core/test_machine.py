"""The state-machine core (workflows/core/machine.py) on its own, with a small table of its
own over the case tables: the checks refuse in their order (scope, version, state, role) and
with the machine's words; any sequence of steps keeps versions monotonic and numbers each
event by the version it produced; a refused or lost step writes nothing."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Case, CaseEvent
from models.enums import Event, Role, State
from tests.factories import NOW, new_case
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.errors import (
    DomainError,
    InvalidState,
    OutOfScope,
    RoleNotAllowed,
    StaleVersion,
)
from workflows.core.machine import Machine, Step, Wording, goes

HANDLER, SUPERVISOR = frozenset({Role.HANDLER}), frozenset({Role.SUPERVISOR})
# A small loop: yellow light → verifying → red light → rectifying ⇄ review; review → green.
TABLE = {
    (State.YELLOW_LIGHT, Event.START_VERIFY): Step(HANDLER, goes(State.VERIFYING)),
    (State.VERIFYING, Event.SUBMIT_VERIFICATION): Step(HANDLER, goes(State.RED_LIGHT)),
    (State.RED_LIGHT, Event.START_RECTIFY): Step(HANDLER, goes(State.RECTIFYING)),
    (State.RECTIFYING, Event.SUBMIT_RECTIFICATION): Step(HANDLER, goes(State.RECTIFICATION_REVIEW)),
    (State.RECTIFICATION_REVIEW, Event.REJECT_RECTIFICATION): Step(SUPERVISOR, goes(State.RECTIFYING)),
    (State.RECTIFICATION_REVIEW, Event.APPROVE_RECTIFICATION): Step(SUPERVISOR, goes(State.GREEN)),
    (State.RECTIFYING, Event.REASSIGN): Step(SUPERVISOR, goes(State.RECTIFYING)),
}
EVENTS = sorted({event for _, event in TABLE})
TOY = Machine(TABLE, Case.__table__, CaseEvent.__table__, subject="case_id", orm=Case,
              wording=Wording(admin="管理员不办理"))  # fmt: skip


def actor(role: Role) -> Actor:
    return Actor(user_id=None, role=role, region_path="/", org_unit_id=None)


def check(state=State.YELLOW_LIGHT, event=Event.START_VERIFY, role=Role.HANDLER, version=1, current=1,
          in_scope=True) -> Step:  # fmt: skip
    return machine.check(
        TOY, who="案件 YJ-1 ", state=state, event=event, event_label=event.label, state_label=state.label,
        actor=actor(role), version=version, current=current, in_scope=in_scope,
    )  # fmt: skip


def test_each_refusal_says_what_is_wrong_in_the_machines_words():
    with pytest.raises(OutOfScope, match="^案件 YJ-1 不在您的管辖范围内$"):
        check(in_scope=False, version=9)  # scope is decided first
    with pytest.raises(StaleVersion, match=r"^案件 YJ-1 已被他人办理（版本 2），请刷新后重试$"):
        check(version=1, current=2, state=State.GREEN)  # then the version
    with pytest.raises(InvalidState, match="^案件 YJ-1 当前状态为“绿灯（已办结）”，不能执行“开始核实”$"):
        check(state=State.GREEN, role=Role.AUDITOR)  # then the state
    with pytest.raises(RoleNotAllowed, match="^“开始核实”只能由经办人办理，您的角色是处室负责人$"):
        check(role=Role.SUPERVISOR)
    with pytest.raises(RoleNotAllowed, match="^管理员不办理$"):
        check(role=Role.ADMIN)
    assert check() is TABLE[(State.YELLOW_LIGHT, Event.START_VERIFY)]


@given(
    state=st.sampled_from(list(State)), event=st.sampled_from(EVENTS),
    role=st.sampled_from([Role.HANDLER, Role.SUPERVISOR, Role.AUDITOR]),
    stale=st.booleans(), in_scope=st.booleans(),
)  # fmt: skip
def test_a_step_is_allowed_exactly_when_scope_version_state_and_role_all_agree(
    state, event, role, stale, in_scope
):
    step = TABLE.get((state, event))
    allowed = in_scope and not stale and step is not None and role in step.roles
    try:
        got = check(state=state, event=event, role=role, version=1, current=2 if stale else 1,
                    in_scope=in_scope)  # fmt: skip
    except DomainError as refused:
        assert not allowed
        expected = (OutOfScope if not in_scope else StaleVersion if stale
                    else InvalidState if step is None else RoleNotAllowed)  # fmt: skip
        assert type(refused) is expected
    else:
        assert allowed and got is step


def _case(session, case_id):
    return session.connection().execute(sa.select(Case.__table__).where(Case.id == case_id)).one()


def _events(session, case_id):
    return session.connection().execute(
        sa.select(CaseEvent.seq, CaseEvent.event, CaseEvent.from_state, CaseEvent.to_state)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.seq)
    ).all()


def _apply(session, case_id, event, role, version, at):
    """What a machine does with the core: check, the guarded write, the event row."""
    row = _case(session, case_id)
    step = machine.check(
        TOY, who="案件 ", state=row.state, event=event, event_label=event.label, actor=actor(role),
        version=version, current=row.version,
    )  # fmt: skip
    new_version = machine.advance(
        session, TOY, row_id=case_id, version=version, state=row.state,
        values={"state": step.to, "updated_at": at}, who="案件 ",
    )  # fmt: skip
    machine.record(session, TOY, [machine.event_row(
        TOY, row_id=case_id, seq=new_version, event=event, from_state=row.state, to_state=step.to,
        actor=actor(role), at=at,
    )])  # fmt: skip
    return new_version


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(
    st.tuples(st.sampled_from(EVENTS), st.sampled_from([Role.HANDLER, Role.SUPERVISOR]), st.integers(-1, 1)),
    max_size=15,
))  # fmt: skip
def test_any_sequence_keeps_versions_monotonic_and_refusals_write_nothing(session, world, moves):
    nested = session.begin_nested()
    try:
        case_id = new_case(session, world, "yellow")
        for i, (event, role, offset) in enumerate(moves):
            before, events_before = _case(session, case_id), _events(session, case_id)
            try:
                new_version = _apply(session, case_id, event, role, before.version + offset,
                                     NOW + timedelta(minutes=i))  # fmt: skip
            except DomainError:
                assert _case(session, case_id) == before
                assert _events(session, case_id) == events_before
                continue
            step = TABLE[(State(before.state), event)]
            after = _case(session, case_id)
            assert offset == 0 and role in step.roles
            assert new_version == after.version == before.version + 1
            assert after.state == step.to
            assert _events(session, case_id)[-1] == (new_version, event, before.state, step.to)
        seqs = [e.seq for e in _events(session, case_id)]
        assert seqs == sorted(set(seqs)) and seqs[-1] == _case(session, case_id).version
    finally:
        nested.rollback()


def test_a_write_that_lost_the_race_is_refused_and_writes_nothing(session, world):
    case_id = new_case(session, world, "yellow")
    row = _case(session, case_id)
    _apply(session, case_id, Event.START_VERIFY, Role.HANDLER, row.version, NOW)  # someone else won
    with pytest.raises(StaleVersion, match="^案件 已被他人办理，请刷新后重试$"):
        machine.advance(session, TOY, row_id=case_id, version=row.version, state=row.state,
                        values={"state": State.VERIFYING, "updated_at": NOW}, who="案件 ")  # fmt: skip
    assert _case(session, case_id).version == row.version + 1


def test_a_jobs_set_based_write_moves_each_row_once(session, world):
    cases = [new_case(session, world, "red") for _ in range(3)]
    where = sa.and_(Case.__table__.c.id.in_(cases), Case.__table__.c.escalation_level == 0)
    moved = machine.advance_all(session, TOY, where=where, values={"escalation_level": 1})
    assert sorted((r.id, r.version, r.state) for r in moved) == [(c, 2, State.RED_LIGHT) for c in cases]
    assert machine.advance_all(session, TOY, where=where, values={"escalation_level": 1}) == []


def test_the_timeline_is_the_events_in_order_with_their_words(session, world):
    case_id = new_case(session, world, "yellow")
    _apply(session, case_id, Event.START_VERIFY, Role.HANDLER, 1, NOW)
    entries = machine.timeline(session, TOY, case_id, label=lambda r: Event(r.event).label, state_of=State,
                               event_of=Event)  # fmt: skip
    assert [(e.seq, e.event, e.label, e.to_state_label) for e in entries] == [
        (1, Event.RAISE, "产生预警", State.YELLOW_LIGHT.label),
        (2, Event.START_VERIFY, "开始核实", "核实中"),
    ]
    # An event with no user behind it (the system's) is named by its role.
    assert entries[1].actor_name == entries[1].actor_role_label == "经办人"
