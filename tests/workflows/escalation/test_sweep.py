"""The deadline ladder: reminders, overdue bells, escalation levels 1 and 2 — by time travel."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Case, CaseEvent, DeadlineReminder, EscalationRequest
from models.enums import Event, RequestKind, State
from tests.factories import NOW, new_case
from workflows.cases.transition import transition
from workflows.escalation.sweep import sweep


def at(y, m, d, hour=9) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


def case(session, case_id) -> Case:
    c = session.get(Case, case_id)
    session.refresh(c)
    return c


def events(session, case_id, event=None) -> list:
    stmt = sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    if event is not None:
        stmt = stmt.where(CaseEvent.event == event)
    return list(session.scalars(stmt))


def requests(session, case_id) -> list:
    return list(session.scalars(sa.select(EscalationRequest).where(EscalationRequest.case_id == case_id)))


def reminders(session, case_id) -> int:
    return session.connection().execute(
        sa.select(sa.func.count()).select_from(DeadlineReminder).where(DeadlineReminder.case_id == case_id)
    ).scalar_one()


def test_li_nas_overdue_case_climbs_the_ladder_once_per_level(session, world):
    case_id = new_case(session, world, "yellow")
    assert case(session, case_id).due_on == date(2026, 11, 30)  # Monday, five working days on

    sweep(session, as_of=at(2026, 11, 27))  # Friday: one working day left → a reminder
    assert reminders(session, case_id) == 1 and case(session, case_id).escalation_level == 0
    sweep(session, as_of=at(2026, 11, 30))  # the deadline day itself: nothing more
    assert reminders(session, case_id) == 1 and case(session, case_id).escalation_level == 0

    first = sweep(session, as_of=at(2026, 12, 1))  # Tuesday: passed → level 1
    assert first.level1 == 1 and case(session, case_id).escalation_level == 1
    assert {n.kind for n in first.notices if n.case_id == case_id} == {"overdue"}
    again = sweep(session, as_of=at(2026, 12, 1, 15))
    assert again.level1 == 0 and again.level2 == 0

    sweep(session, as_of=at(2026, 12, 2))  # Wednesday: still within the two days' grace
    assert case(session, case_id).escalation_level == 1 and requests(session, case_id) == []
    second = sweep(session, as_of=at(2026, 12, 3))  # Thursday: grace over → level 2
    assert second.level2 == 1 and second.requests == 1
    assert "二级督办 1 件（新增升级请求 1 件）" in second.summary
    sweep(session, as_of=at(2026, 12, 3, 16))
    sweep(session, as_of=at(2026, 12, 10))
    c = case(session, case_id)
    assert (c.state, c.escalation_level, c.version) == (State.YELLOW_LIGHT, 2, 3)
    [request] = requests(session, case_id)
    assert (request.kind, request.level, request.step_due_on) == (RequestKind.ESCALATION, 2, date(2026, 11, 30))
    assert request.decided_at is None
    ladder = events(session, case_id, Event.ESCALATE)
    assert [(e.seq, e.data["level"], e.to_state) for e in ladder] == [
        (2, 1, State.YELLOW_LIGHT), (3, 2, State.YELLOW_LIGHT)
    ]
    assert all(e.actor_role == "system" and e.actor_id is None for e in ladder)


def test_over_the_national_day_week_only_working_days_count(session, world):
    # Raised Thursday 24 Sep 2026: 25–27 Sep (Mid-Autumn) and 1–7 Oct are off, Sat 10 Oct is
    # a working day (调休): five working days end on Friday 9 Oct.
    case_id = new_case(session, world, "yellow", at=at(2026, 9, 24))
    assert case(session, case_id).due_on == date(2026, 10, 9)
    for moment in (at(2026, 9, 30), at(2026, 10, 5)):  # in the holiday: nothing yet
        sweep(session, as_of=moment)
        assert reminders(session, case_id) == 0 and case(session, case_id).escalation_level == 0
    sweep(session, as_of=at(2026, 10, 8))  # first working day after the holiday: reminder
    assert reminders(session, case_id) == 1
    sweep(session, as_of=at(2026, 10, 10))  # the 调休 Saturday: the deadline has passed
    assert case(session, case_id).escalation_level == 1
    sweep(session, as_of=at(2026, 10, 11))  # Sunday: grace days are working days
    sweep(session, as_of=at(2026, 10, 12))  # Monday: 2 working days (Sat, Mon) of grace
    assert case(session, case_id).escalation_level == 1
    sweep(session, as_of=at(2026, 10, 13))
    assert case(session, case_id).escalation_level == 2 and len(requests(session, case_id)) == 1


def test_wang_fangs_bell_cleared_in_time_is_left_alone(session, world):
    case_id = new_case(session, world, "bell", assignee="wang_fang")
    transition(
        session, case_id=case_id, event=Event.COMPLETE_DUTY, actor=world.actors["wang_fang"],
        version=1, as_of=NOW, comment="扫描件已于11月23日上传", data={"done_at": "2026-11-23"},
    )  # fmt: skip
    transition(session, case_id=case_id, event=Event.APPROVE_CLEARANCE, actor=world.actors["zhang_wei"],
               version=2, as_of=NOW)  # fmt: skip
    result = sweep(session, as_of=at(2026, 12, 1))
    assert result.bells_converted == 0
    assert case(session, case_id).state == State.CLEARED


def test_an_undone_bell_turns_into_the_light_its_rule_names(session, world):
    to_yellow = new_case(session, world, "bell")  # duty due Monday 30 Nov
    to_red = new_case(session, world, "bell_red")
    assert sweep(session, as_of=at(2026, 11, 30)).bells_converted == 0  # due today, not passed
    result = sweep(session, as_of=at(2026, 12, 1))
    assert result.bells_converted == 2
    yellow, red = case(session, to_yellow), case(session, to_red)
    # The lifecycle's deadlines from 1 Dec: verify 5 working days, rectify 15 (the defaults).
    assert (yellow.state, yellow.due_on, yellow.version) == (State.YELLOW_LIGHT, date(2026, 12, 8), 2)
    assert (red.state, red.due_on) == (State.RED_LIGHT, date(2026, 12, 22))
    assert yellow.entered_step_at == at(2026, 12, 1) and yellow.escalation_level == 0
    [converted] = events(session, to_red, Event.BELL_DEADLINE_PASSED)
    assert (converted.from_state, converted.to_state, converted.due_on, converted.seq) == (
        State.YELLOW_BELL, State.RED_LIGHT, date(2026, 12, 22), 2
    )
    assert sweep(session, as_of=at(2026, 12, 1, 17)).bells_converted == 0
    assert len(events(session, to_red, Event.BELL_DEADLINE_PASSED)) == 1


def test_a_sweep_between_reading_and_acting_makes_li_nas_action_stale(session, world):
    from workflows.core.errors import StaleVersion

    case_id = new_case(session, world, "yellow")
    read_version = case(session, case_id).version
    sweep(session, as_of=at(2026, 12, 1))
    try:
        transition(
            session, case_id=case_id, event=Event.START_VERIFY, actor=world.actors["li_na"],
            version=read_version, as_of=at(2026, 12, 1, 10),
        )  # fmt: skip
    except StaleVersion:
        pass
    else:
        raise AssertionError("the stale action was accepted")
    assert case(session, case_id).state == State.YELLOW_LIGHT


def test_the_operator_runs_the_sweep_by_hand_for_a_past_moment(cli_db):
    from typer.testing import CliRunner

    from api.cli import app
    from models.db import session_scope
    from tests.factories import build_world

    with session_scope() as s:
        world = build_world(s)
        case_id = new_case(s, world, "yellow")
    runner = CliRunner()
    first = runner.invoke(app, ["sweep", "--as-of", "2026-12-01T09:00+08:00"])
    assert first.exit_code == 0, first.output
    assert "逾期一级督办" in first.output and "2026-12-01T01:00:00+00:00" in first.output
    with session_scope() as s:
        assert s.get(Case, case_id).escalation_level == 1
    again = runner.invoke(app, ["sweep", "--as-of", "2026-12-01T09:00+08:00"])
    assert again.exit_code == 0
    with session_scope() as s:
        assert len(events(s, case_id, Event.ESCALATE)) == 1
    local = runner.invoke(app, ["sweep", "--as-of", "2026-12-01T09:00"])  # no offset: Shanghai time
    assert local.exit_code == 0 and "2026-12-01T01:00:00+00:00" in local.output
    refused = runner.invoke(app, ["sweep", "--as-of", "明天上午"])
    assert refused.exit_code == 2 and "无法识别的时间" in refused.output


def test_two_sweeps_at_once_on_postgresql_escalate_each_case_once():
    import threading

    from sqlmodel import Session

    from models.db import make_engine
    from models.migrate import upgrade
    from tests.conftest import create_pg_database, drop_pg_database, require_postgres
    from tests.factories import build_world

    require_postgres()
    url = create_pg_database("warnflow_sweep")
    engine = make_engine(url, pool_size=4)
    try:
        upgrade(url)
        with Session(engine) as s:
            world = build_world(s)
            ids = [new_case(s, world, "yellow") for _ in range(40)]
            ids += [new_case(s, world, "bell_red") for _ in range(10)]
            s.commit()
        barrier = threading.Barrier(2)
        results, errors = [], []

        def run() -> None:
            try:
                with Session(engine) as s:
                    barrier.wait()
                    results.append(sweep(s, as_of=at(2026, 12, 1), batch_size=7, commit=True))
                    results.append(sweep(s, as_of=at(2026, 12, 3), batch_size=7, commit=True))
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sum(r.level1 for r in results) == 40 and sum(r.level2 for r in results) == 40
        assert sum(r.requests for r in results) == 40 and sum(r.bells_converted for r in results) == 10
        with Session(engine) as s:
            per_case = s.connection().execute(
                sa.select(CaseEvent.case_id, CaseEvent.event, sa.func.count())
                .where(CaseEvent.case_id.in_(ids), CaseEvent.event != Event.RAISE)
                .group_by(CaseEvent.case_id, CaseEvent.event)
            ).all()
            assert all(count == (2 if event == Event.ESCALATE else 1) for _, event, count in per_case)
            assert len(per_case) == 50
            assert s.connection().execute(sa.select(sa.func.count()).select_from(EscalationRequest)).scalar_one() == 40
    finally:
        engine.dispose()
        drop_pg_database(url)


SWEEP_TIMES = st.lists(st.integers(min_value=0, max_value=24 * 20), max_size=8).map(sorted)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=SWEEP_TIMES)
def test_any_number_of_sweeps_at_non_decreasing_times_leave_one_event_per_level(session, world, hours):
    savepoint = session.begin_nested()
    try:
        case_id = new_case(session, world, "yellow")
        bell_id = new_case(session, world, "bell")
        for h in hours:
            sweep(session, as_of=NOW + timedelta(hours=h), batch_size=3)
        c = case(session, case_id)
        levels = [e.data["level"] for e in events(session, case_id, Event.ESCALATE)]
        assert levels == list(range(1, c.escalation_level + 1))
        assert len(requests(session, case_id)) == (1 if c.escalation_level == 2 else 0)
        assert reminders(session, case_id) <= 1
        assert len(events(session, bell_id, Event.BELL_DEADLINE_PASSED)) == (
            0 if case(session, bell_id).state == State.YELLOW_BELL else 1
        )
        if hours and hours[-1] >= 24 * 10:  # 3 Dec 09:00 and later: both levels reached
            assert c.escalation_level == 2
    finally:
        savepoint.rollback()


def test_li_na_and_zhang_wei_find_the_overdue_case_in_their_inboxes(session, world):
    from models.notifications import Notification, NotificationKind

    case_id = new_case(session, world, "yellow")

    def inbox(who: str) -> list:
        return list(session.scalars(
            sa.select(Notification.kind).where(
                Notification.user_id == world.users[who], Notification.case_id == case_id,
                Notification.channel == "inbox",
            ).order_by(Notification.id)
        ))  # fmt: skip

    sweep(session, as_of=at(2026, 11, 27))
    sweep(session, as_of=at(2026, 12, 1))
    sweep(session, as_of=at(2026, 12, 1, 12))
    sweep(session, as_of=at(2026, 12, 3))
    assert inbox("li_na") == [NotificationKind.DEADLINE_REMINDER, NotificationKind.OVERDUE]
    assert inbox("zhang_wei") == [NotificationKind.OVERDUE, NotificationKind.ESCALATION_REQUEST]
    assert inbox("ningxian_boss") == []
    links = set(session.scalars(sa.select(Notification.link).where(Notification.case_id == case_id)))
    assert links == {f"/cases/{case(session, case_id).number}"}, "messages lead to the case page"


def test_zhang_wei_gets_one_message_for_three_overdue_cases_not_three(session, world):
    """Li Na's three cases pass their deadline together: one message each for her and her
    supervisor, naming every case and leading to the overdue list."""
    from models.notifications import Notification

    numbers = sorted(case(session, new_case(session, world, "yellow")).number for _ in range(3))
    sweep(session, as_of=at(2026, 12, 1))
    for who in ("li_na", "zhang_wei"):
        messages = session.scalars(
            sa.select(Notification).where(
                Notification.user_id == world.users[who], Notification.kind == "overdue",
                Notification.channel == "inbox",
            )
        ).all()  # fmt: skip
        assert len(messages) == 1, who
        (message,) = messages
        assert message.subject == "3 件案件已超过办理期限，已升级为一级督办"
        assert all(number in message.body for number in numbers)
        assert message.link == "/cases?overdue=1&sort=due_on" and message.payload["count"] == 3
    again = sweep(session, as_of=at(2026, 12, 1, 16))
    assert again.notifications_queued == 0


def test_zhang_weis_message_over_two_handlers_23_cases_names_the_first_20_raised(session, world):
    """Li Na's and Wang Fang's cases pass their deadline together: Zhang Wei (their supervisor)
    gets one message counting all 23 and naming the 20 raised first, whichever handler has
    them; each handler's own message counts only theirs."""
    from models.notifications import Notification

    ids = [new_case(session, world, "yellow", assignee=("li_na", "wang_fang")[i % 3 == 0]) for i in range(23)]
    numbers = [case(session, i).number for i in sorted(ids)]
    result = sweep(session, as_of=at(2026, 12, 1))
    assert result.level1 == 23

    def message(who):
        return session.scalars(
            sa.select(Notification).where(
                Notification.user_id == world.users[who], Notification.kind == "overdue",
                Notification.channel == "inbox",
            )
        ).one()  # fmt: skip

    boss = message("zhang_wei")
    assert boss.payload["count"] == 23 and boss.subject.startswith("23 件")
    assert boss.body.endswith(f"{'、'.join(numbers[:20])}等 23 件。")
    assert message("li_na").payload["count"] == 15 and message("wang_fang").payload["count"] == 8


def test_a_sweep_that_dies_between_batches_leaves_whole_cases_and_the_next_run_finishes(cli_db, monkeypatch):
    from models.db import session_scope
    from models.notifications import Notification
    from tests.factories import build_world
    from workflows.escalation import sweep as escalation
    with session_scope() as s:
        world = build_world(s)
        ids = [new_case(s, world, "yellow") for _ in range(3)]
    real = escalation._Runner._batch_sqlite
    calls = []

    def dies_on_the_second_batch(self, *args):
        if calls:
            raise KeyboardInterrupt  # the process is stopped mid-run
        rows = real(self, *args)
        if rows:
            calls.append(rows)
        return rows

    monkeypatch.setattr(escalation._Runner, "_batch_sqlite", dies_on_the_second_batch)
    try:
        with session_scope() as s:
            sweep(s, as_of=at(2026, 12, 1), batch_size=1, commit=True)
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(escalation._Runner, "_batch_sqlite", real)

    def state(s):
        levels = [s.get(Case, i).escalation_level for i in ids]
        told = s.connection().execute(
            sa.select(sa.func.count()).select_from(Notification).where(Notification.kind == "overdue")
        ).scalar_one()
        return levels, told

    with session_scope() as s:
        levels, told = state(s)
        # One batch went through whole (case, event, its two notices); the rest untouched.
        assert sorted(levels) == [0, 0, 1] and told == 2
        assert sum(len(events(s, i, Event.ESCALATE)) for i in ids) == 1
    with session_scope() as s:
        sweep(s, as_of=at(2026, 12, 1), batch_size=1, commit=True)
    with session_scope() as s:
        levels, told = state(s)
        assert levels == [1, 1, 1] and told == 6
        assert all(len(events(s, i, Event.ESCALATE)) == 1 for i in ids)


def test_starting_verification_on_an_overdue_case_does_not_escalate_it_again(session, world):
    case_id = new_case(session, world, "yellow")
    sweep(session, as_of=at(2026, 12, 3))  # levels 1 and 2 at once
    transition(
        session, case_id=case_id, event=Event.START_VERIFY, actor=world.actors["li_na"],
        version=case(session, case_id).version, as_of=at(2026, 12, 3, 10),
    )  # fmt: skip
    c = case(session, case_id)
    assert (c.state, c.escalation_level, c.due_on) == (State.VERIFYING, 2, date(2026, 11, 30))
    sweep(session, as_of=at(2026, 12, 4))
    assert [e.data["level"] for e in events(session, case_id, Event.ESCALATE)] == [1, 2]
    assert len(requests(session, case_id)) == 1
