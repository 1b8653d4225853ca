"""Sun Hao enters 元旦 2027 after Li Na's cases were given deadlines by the Monday–Friday
fallback: every open deadline the change moves is re-planned, with its timeline event, and
escalations reached only because of the old date are withdrawn."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Case, CaseEvent, EscalationRequest
from models.enums import DayKind, Event, RequestDecision, State
from tests.factories import new_case
from workflows.admin.calendar import set_calendar_day, unset_calendar_day
from workflows.core.calendar import load_calendar
from workflows.escalation.extensions import decide_extension, request_extension
from workflows.escalation.replan import deadline_of
from workflows.escalation.sweep import sweep


def at(y, m, d, hour=9) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


def case(session, case_id) -> Case:
    c = session.get(Case, case_id)
    session.refresh(c)
    return c


def replans(session, case_id) -> list[CaseEvent]:
    return list(session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id,
                                   CaseEvent.event == Event.DEADLINE_REPLANNED).order_by(CaseEvent.seq)
    ))  # fmt: skip


def new_year(session, world, *, on=at(2027, 1, 4)):
    return set_calendar_day(session, actor=world.actors["sun_hao"], day=date(2027, 1, 1),
                            kind=DayKind.HOLIDAY, name="元旦", as_of=on)  # fmt: skip


def test_entering_yuandan_moves_li_nas_deadline_and_the_sweep_follows_it(session, world):
    # Raised Friday 25 Dec 2026 with five verify days: 2027 has no official data, so the
    # fallback counts Friday 1 Jan 2027 (元旦) as the fifth working day.
    case_id = new_case(session, world, "yellow", at=at(2026, 12, 25))
    before = case(session, case_id)
    assert (before.due_on, before.due_from, before.due_days) == (date(2027, 1, 1), date(2026, 12, 25), 5)
    version = before.version

    change = new_year(session, world, on=at(2026, 12, 28))
    assert (change.replanned.moved, change.replanned.withdrawn) == (1, 0)
    after = case(session, case_id)
    assert after.due_on == date(2027, 1, 4) and after.version == version + 1
    [event] = replans(session, case_id)
    assert event.comment == "节假日调整，期限由 2027年1月1日 调整为 2027年1月4日"
    assert (event.seq, event.due_on, event.actor_id) == (after.version, date(2027, 1, 4), world.users["sun_hao"])
    assert event.from_state == event.to_state == State.YELLOW_LIGHT

    assert sweep(session, as_of=at(2027, 1, 4)).level1 == 0  # the new deadline day itself
    assert sweep(session, as_of=at(2027, 1, 5)).level1 == 1


def test_an_escalation_reached_only_because_of_the_old_date_is_withdrawn(session, world):
    case_id = new_case(session, world, "yellow", at=at(2026, 12, 25))
    assert sweep(session, as_of=at(2027, 1, 4)).level1 == 1  # passed by the fallback's 1 Jan
    assert case(session, case_id).escalation_level == 1

    change = new_year(session, world, on=at(2027, 1, 4, 10))
    assert (change.replanned.moved, change.replanned.withdrawn) == (1, 1)
    c = case(session, case_id)
    assert (c.due_on, c.escalation_level) == (date(2027, 1, 4), 0)
    [event] = replans(session, case_id)
    assert event.comment.endswith("；按新期限尚未逾期，撤回督办")
    assert sweep(session, as_of=at(2027, 1, 5)).level1 == 1  # now it really is overdue


def test_a_level_two_request_the_new_deadline_does_not_deserve_is_closed(session, world):
    case_id = new_case(session, world, "yellow", at=at(2026, 12, 25))
    sweep(session, as_of=at(2027, 1, 4))
    second = sweep(session, as_of=at(2027, 1, 6))  # grace of two working days over
    assert second.level2 == 1
    # A local closure over the first week of January: the deadline moves past today.
    for day in range(1, 8):
        set_calendar_day(session, actor=world.actors["sun_hao"], day=date(2027, 1, day),
                         kind=DayKind.HOLIDAY, name="元旦及临时放假", as_of=at(2027, 1, 6, 10))  # fmt: skip
    c = case(session, case_id)
    assert c.due_on == date(2027, 1, 8) and c.escalation_level == 0
    [request] = session.scalars(sa.select(EscalationRequest).where(EscalationRequest.case_id == case_id))
    session.refresh(request)
    assert request.decision == RequestDecision.WITHDRAWN
    assert request.decision_reason == "节假日调整期限，自动撤回"


def test_removing_the_day_moves_the_deadline_back_and_closed_cases_stay_as_they_were(session, world):
    open_id = new_case(session, world, "yellow", at=at(2026, 12, 25))
    closed_id = new_case(session, world, "yellow", at=at(2026, 12, 25))
    # Closed before the change (as a transfer would leave it): its last deadline is history.
    closed = case(session, closed_id)
    closed.state, closed.due_on, closed.closed_at = State.TRANSFERRED, date(2027, 1, 1), at(2026, 12, 26)
    session.add(closed)
    session.flush()
    new_year(session, world, on=at(2026, 12, 28))
    assert case(session, open_id).due_on == date(2027, 1, 4)
    assert case(session, closed_id).due_on == date(2027, 1, 1) and replans(session, closed_id) == []

    replanned = unset_calendar_day(session, actor=world.actors["sun_hao"], day=date(2027, 1, 1),
                                   as_of=at(2026, 12, 29))  # fmt: skip
    assert replanned.moved == 1
    assert case(session, open_id).due_on == date(2027, 1, 1)
    assert [e.comment for e in replans(session, open_id)][-1] == "节假日调整，期限由 2027年1月4日 调整为 2027年1月1日"


def test_a_granted_extension_counts_from_the_chosen_date(session, world):
    case_id = new_case(session, world, "yellow", at=at(2026, 12, 21))
    c = case(session, case_id)
    asked = request_extension(session, case_id=case_id, actor=world.actors["li_na"], version=c.version,
                              as_of=at(2026, 12, 22), reason="需向乡镇调取凭证",
                              requested_due_on=date(2027, 1, 1))  # fmt: skip
    decide_extension(session, request_id=asked.request_id, actor=world.actors["zhang_wei"],
                     version=asked.version, as_of=at(2026, 12, 22, 15), approve=True, reason="同意")  # fmt: skip
    c = case(session, case_id)
    assert (c.due_on, c.due_from, c.due_days) == (date(2027, 1, 1), date(2027, 1, 1), 0)
    new_year(session, world, on=at(2026, 12, 28))
    assert case(session, case_id).due_on == date(2027, 1, 4)


def test_a_change_nobody_s_deadline_crosses_moves_nothing(session, world):
    case_id = new_case(session, world, "yellow", at=at(2026, 12, 25))
    change = set_calendar_day(session, actor=world.actors["sun_hao"], day=date(2027, 3, 1),
                              kind=DayKind.HOLIDAY, name="测试", as_of=at(2026, 12, 28))  # fmt: skip
    assert change.replanned.moved == 0 and change.replanned.summary == "没有案件的办理期限受此调整影响"
    assert replans(session, case_id) == []


_DAYS = [date(2026, 12, 24) + timedelta(days=n) for n in range(40)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(_DAYS), st.sampled_from(["holiday", "workday", "unset"])),
                min_size=1, max_size=6))
def test_after_any_sequence_of_changes_every_open_deadline_matches_its_basis(session, world, changes):
    """Whatever an administrator enters, each open deadline is what the current calendar
    gives its basis — the invariant every writer of due_on keeps."""
    with session.begin_nested() as savepoint:
        ids = [new_case(session, world, rule, at=at(2026, 12, day))
               for rule in ("yellow", "red") for day in (21, 24, 25, 28)]  # fmt: skip
        admin = world.actors["sun_hao"]
        for day, what in changes:
            if what == "unset":
                try:
                    unset_calendar_day(session, actor=admin, day=day, as_of=at(2026, 12, 20))
                except Exception:  # nothing to unset: NotFound, nothing written
                    continue
            else:
                set_calendar_day(session, actor=admin, day=day, kind=DayKind(what), name="调整",
                                 as_of=at(2026, 12, 20))  # fmt: skip
        calendar = load_calendar(session, max_age=0)
        for case_id in ids:
            c = case(session, case_id)
            assert c.due_on == deadline_of(calendar, c.due_from, c.due_days), (c.number, changes)
            seqs = session.scalars(sa.select(CaseEvent.seq).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.seq)).all()  # fmt: skip
            assert seqs == list(range(1, c.version + 1))  # one event per version, none lost
        savepoint.rollback()


def test_the_re_plan_sends_the_same_statements_for_three_cases_as_for_thirty(session, world, engine):
    """Set-based: the number of statements does not grow with the cases moved."""

    def statements_for(count: int, day: date) -> int:
        for _ in range(count):
            new_case(session, world, "yellow", at=at(2026, 12, 25))
        sent = []
        listener = lambda *args: sent.append(args[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            change = set_calendar_day(session, actor=world.actors["sun_hao"], day=day,
                                      kind=DayKind.HOLIDAY, name="测试", as_of=at(2026, 12, 20))  # fmt: skip
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        assert change.replanned.moved == count
        return len(sent)

    with session.begin_nested() as first:
        few = statements_for(3, date(2027, 1, 1))
        first.rollback()
    with session.begin_nested() as second:
        many = statements_for(30, date(2027, 1, 1))
        second.rollback()
    assert few == many
