"""Special inspections and interviews: opened by the monthly job (one per streak, interviews only
after a closed inspection and renewed frequency) and moved by transition_oversight() — Gao Jun
of the provincial supervision bureau inspects Anxian, Ma Lin of the leadership holds the
interview."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Case
from models.enums import Resolution, Role, State
from models.notifications import Notification, NotificationKind
from models.oversight import OversightCase, OversightEvent, OversightKind, OversightState
from tests.factories import PASSWORD, new_case
from workflows.admin.accounts import create_user
from workflows.core.actors import load_actor
from workflows.core.errors import (
    InvalidInput,
    InvalidState,
    OutOfScope,
    RoleNotAllowed,
    StaleVersion,
)
from workflows.oversight.cases import (
    events_allowed,
    oversight_counts,
    timeline,
    transition_oversight,
)
from workflows.oversight.opening import evaluate_streaks
from workflows.oversight.streaks import add_months

REPORT = {
    "scope": "安县2026年8月至10月财政衔接资金预警处理情况",
    "findings": "3笔大额提现预警逾期未整改",
    "problems": "农财股整改责任未落实",
    "rectifications": "30日内完成整改并报送整改报告",
    "conclusion": "情况属实，责令限期整改",
}


def at(y, m, d, hour=9, minute=0) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(y, m, d, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def counting_month(session, world, month: date, region="anxian", unit="anxian_agri", who="li_na"):
    """A red light of `region` raised on the 10th of `month` and resolved on the 2nd of the next
    month: `month` counts, its neighbours do not (resolved by hand: only the dates matter)."""
    case_id = new_case(
        session,
        world,
        "red",
        region=region,
        unit=unit,
        assignee=who,
        at=at(month.year, month.month, 10),
    )
    after = add_months(month, 1)
    closed = at(after.year, after.month, 2)
    # As every write of a case's state does, updated_at moves with it (workflows/oversight/streaks.py
    # relies on it).
    session.connection().execute(
        sa.update(Case)
        .where(Case.id == case_id)
        .values(
            state=State.GREEN,
            resolution=Resolution.RECTIFIED,
            closed_at=closed,
            updated_at=closed,
        )
    )


def run_job_for(session, month: date):
    """The monthly job on the first working day after `month` (06:00): evaluates `month`."""
    after = add_months(month, 1)
    day = after
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return evaluate_streaks(session, as_of=at(day.year, day.month, day.day, 6))


def oversight(session, kind=None) -> list[OversightCase]:
    query = sa.select(OversightCase).order_by(OversightCase.id)
    if kind:
        query = query.where(OversightCase.kind == kind)
    return list(session.exec(query).scalars())


def fresh(session, case: OversightCase) -> OversightCase:
    session.refresh(case)
    return case


def m(y, mo) -> date:
    return date(y, mo, 1)


def open_inspection(session, world) -> OversightCase:
    for month in (m(2026, 8), m(2026, 9), m(2026, 10)):
        counting_month(session, world, month)
    for month in (m(2026, 8), m(2026, 9), m(2026, 10)):
        run_job_for(session, month)
    (inspection,) = oversight(session, OversightKind.INSPECTION)
    return inspection


def bureau_director(session, world) -> None:
    """Wu Tao, director of the supervision bureau: approves the reports Gao Jun writes."""
    if "wu_tao" not in world.users:
        user = create_user(session, username="wu_tao", full_name="吴涛", role=Role.SUPERVISION,
                           org_unit_id=world.units["province_supervision"].id, password=PASSWORD)
        world.users["wu_tao"] = user.id
        world.actors["wu_tao"] = load_actor(session, user.id)


def act(session, world, case, event, who, record=None, comment=None, when=None):
    if who == "wu_tao":
        bureau_director(session, world)
    return transition_oversight(
        session, oversight_id=case.id, event=event, actor=world.actors[who],
        expected_version=fresh(session, case).version, as_of=when or at(2026, 11, 10),
        record=record, comment=comment,
    )  # fmt: skip


def close_inspection(session, world, inspection, when):
    act(session, world, inspection, "start", "gao_jun", when=when - timedelta(days=5))
    act(
        session,
        world,
        inspection,
        "submit_report",
        "gao_jun",
        record=REPORT,
        when=when - timedelta(days=1),
    )
    act(session, world, inspection, "close", "wu_tao", when=when)


# -- opening ---------------------------------------------------------------------------------


def test_three_counting_months_open_one_inspection_for_gao_juns_bureau(session, world):
    inspection = open_inspection(session, world)
    assert inspection.region_id == world.regions["anxian"].id
    assert inspection.owner_org_unit_id == world.units["province_supervision"].id
    assert inspection.state == OversightState.OPEN
    assert (inspection.streak_start, inspection.streak_end) == (m(2026, 8), m(2026, 10))
    assert inspection.number == "ZD-202611-0001"
    # Opened on Monday 2 November (the first working day), due 20 working days later.
    assert inspection.due_on == date(2026, 11, 30)
    (opened,) = timeline(session, oversight_id=inspection.id)
    assert (opened.event, opened.to_state, opened.actor_name) == (
        "open",
        OversightState.OPEN,
        "系统",
    )
    told = session.exec(
        sa.select(Notification.user_id).where(Notification.link == f"/oversight/{inspection.id}")
    ).scalars()
    assert set(told) == {world.users["gao_jun"]}
    kinds = session.exec(
        sa.select(Notification.kind).where(Notification.link == f"/oversight/{inspection.id}")
    ).scalars()
    assert set(kinds) == {NotificationKind.OVERSIGHT}


def test_running_the_job_twice_opens_nothing_more(session, world):
    open_inspection(session, world)
    again = run_job_for(session, m(2026, 10))
    assert again.inspections_opened == 0
    assert len(oversight(session)) == 1


def test_a_streak_going_on_to_months_four_and_five_opens_nothing_new(session, world):
    inspection = open_inspection(session, world)
    for month in (m(2026, 11), m(2026, 12)):
        counting_month(session, world, month)
        assert run_job_for(session, month).inspections_opened == 0
    assert len(oversight(session)) == 1
    assert fresh(session, inspection).streak_end == m(2026, 12)


def test_two_counting_months_open_nothing_and_a_broken_streak_starts_again(session, world):
    for month in (m(2026, 6), m(2026, 7), m(2026, 9), m(2026, 10)):
        counting_month(session, world, month)
    for month in (m(2026, 6), m(2026, 7), m(2026, 8), m(2026, 9), m(2026, 10)):
        run_job_for(session, month)
    assert oversight(session) == []


def test_a_new_streak_after_a_gap_opens_a_second_inspection(session, world):
    for month in (m(2026, 3), m(2026, 4), m(2026, 5), m(2026, 7), m(2026, 8), m(2026, 9)):
        counting_month(session, world, month)
    for n in range(3, 10):
        run_job_for(session, m(2026, n))
    starts = [c.streak_start for c in oversight(session, OversightKind.INSPECTION)]
    assert starts == [m(2026, 3), m(2026, 7)]


def test_the_job_only_runs_on_the_first_working_day_of_the_month():
    from runtime.jobs import JOBS

    job = JOBS["evaluate_streaks"]
    assert job.first_working_day_of_month and job.cron == "0 6 * * *"


# -- interviews ------------------------------------------------------------------------------


def test_no_interview_while_the_inspection_is_open_however_often_anxian_counts(session, world):
    open_inspection(session, world)
    for month in (m(2026, 11), m(2026, 12), m(2027, 1)):
        counting_month(session, world, month)
        assert run_job_for(session, month).interviews_opened == 0
    assert oversight(session, OversightKind.INTERVIEW) == []


def test_an_interview_opens_for_ma_lin_after_the_inspection_closed_and_two_of_three_months_count(
    session, world
):
    inspection = open_inspection(session, world)
    close_inspection(session, world, inspection, at(2026, 11, 20))
    # November itself (the close month) is not in the window: December and February count.
    for month in (m(2026, 11), m(2026, 12), m(2027, 2)):
        counting_month(session, world, month)
    assert run_job_for(session, m(2026, 11)).interviews_opened == 0
    assert run_job_for(session, m(2026, 12)).interviews_opened == 0  # 1 of the next 3
    assert run_job_for(session, m(2027, 1)).interviews_opened == 0
    assert run_job_for(session, m(2027, 2)).interviews_opened == 1  # 2 of Dec, Jan, Feb
    (interview,) = oversight(session, OversightKind.INTERVIEW)
    assert interview.inspection_id == inspection.id
    assert interview.owner_org_unit_id == world.units["province_leaders"].id
    assert interview.state == OversightState.SCHEDULED
    assert interview.number.startswith("YT-2027") and interview.number.endswith("-0001")
    assert interview.streak_start == inspection.streak_start
    assert run_job_for(session, m(2027, 2)).interviews_opened == 0  # once only
    told = session.exec(
        sa.select(Notification.user_id).where(Notification.link == f"/oversight/{interview.id}")
    ).scalars()
    assert set(told) == {world.users["ma_lin"]}


def test_one_counting_month_after_the_close_opens_no_interview(session, world):
    inspection = open_inspection(session, world)
    close_inspection(session, world, inspection, at(2026, 11, 20))
    counting_month(session, world, m(2027, 1))
    counting_month(session, world, m(2027, 3))  # outside the window (Dec, Jan, Feb)
    for n in (11, 12, 13, 14, 15):
        run_job_for(session, add_months(m(2026, 1), n - 1))
    assert oversight(session, OversightKind.INTERVIEW) == []


# -- transitions -----------------------------------------------------------------------------


def test_gao_jun_inspects_anxian_from_start_to_close(session, world):
    inspection = open_inspection(session, world)
    assert events_allowed(inspection.kind, inspection.state, world.actors["gao_jun"].role) == [
        "start"
    ]
    started = act(session, world, inspection, "start", "gao_jun")
    assert (started.to_state, started.version) == (OversightState.INSPECTING, 2)
    reported = act(session, world, inspection, "submit_report", "gao_jun", record=REPORT)
    assert reported.to_state == OversightState.REPORTED
    assert fresh(session, inspection).record["conclusion"] == "情况属实，责令限期整改"
    # Gao Jun wrote the report: he cannot approve it by closing; his director Wu Tao does.
    with pytest.raises(InvalidInput) as own:
        act(session, world, inspection, "close", "gao_jun", when=at(2026, 11, 20))
    assert own.value.errors[0].code == "own_report"
    act(session, world, inspection, "close", "wu_tao", when=at(2026, 11, 20))
    closed = fresh(session, inspection)
    assert closed.record["report_approved_by_id"] == world.users["wu_tao"]
    assert closed.state == OversightState.CLOSED and closed.closed_at == at(2026, 11, 20)
    assert closed.due_on is None and closed.version == 4
    steps = timeline(session, oversight_id=inspection.id)
    assert [e.event for e in steps] == ["open", "start", "submit_report", "close"]
    assert steps[-1].label == "督查办结" and steps[-1].actor_name == "吴涛"


def test_ma_lin_holds_the_interview_and_follows_up_the_commitments(session, world):
    inspection = open_inspection(session, world)
    close_inspection(session, world, inspection, at(2026, 11, 20))
    for month in (m(2026, 12), m(2027, 1)):
        counting_month(session, world, month)
        run_job_for(session, month)
    (interview,) = oversight(session, OversightKind.INTERVIEW)
    when = at(2027, 2, 10)
    arranged = {
        "interview_date": "2027-02-20",
        "place": "省财政厅三楼会议室",
        "interviewee": "王建国",
    }
    act(session, world, interview, "arrange", "ma_lin", record=arranged, when=when)
    held = {
        **arranged,
        "attendees": "马林、王建国、高军",
        "minutes": "指出安县预警整改不及时，要求落实主体责任。",
    }
    act(session, world, interview, "hold", "ma_lin", record=held, when=when)
    commitments = [{"content": "一个月内完成全部逾期预警整改", "due_on": "2027-03-20"}]
    act(
        session,
        world,
        interview,
        "record_commitments",
        "ma_lin",
        record={"commitments": commitments},
    )
    # Gao Jun's bureau may record the follow-up; closing with an unfinished commitment is refused.
    act(
        session,
        world,
        interview,
        "follow_up",
        "gao_jun",
        record={"follow_up": "已整改2笔，1笔在办。"},
    )
    with pytest.raises(InvalidInput) as refused:
        act(session, world, interview, "close", "ma_lin")
    assert [e.field for e in refused.value.errors] == ["record.commitments.0.done"]
    assert "未完成" in refused.value.errors[0].message
    done = [{**commitments[0], "done": True}]
    act(session, world, interview, "close", "ma_lin",
        record={"commitments": done, "follow_up": "逾期预警已全部整改，经核查属实。"})  # fmt: skip
    closed = fresh(session, interview)
    assert closed.state == OversightState.CLOSED
    assert closed.record["attendees"] == ["马林", "王建国", "高军"]
    assert closed.record["commitments"][0]["done"] is True


def test_a_stale_version_is_refused_and_nothing_is_written(session, world):
    inspection = open_inspection(session, world)
    act(session, world, inspection, "start", "gao_jun")
    with pytest.raises(StaleVersion):
        transition_oversight(
            session, oversight_id=inspection.id, event="submit_report", actor=world.actors["gao_jun"],
            expected_version=1, as_of=at(2026, 11, 11), record=REPORT,
        )  # fmt: skip
    assert fresh(session, inspection).state == OversightState.INSPECTING
    assert fresh(session, inspection).record == {}


def test_a_report_without_its_fields_is_refused_with_chinese_field_errors(session, world):
    inspection = open_inspection(session, world)
    act(session, world, inspection, "start", "gao_jun")
    with pytest.raises(InvalidInput) as refused:
        act(session, world, inspection, "submit_report", "gao_jun",
            record={"scope": "安县", "findings": "  ", "conclusion": ""})  # fmt: skip
    fields = {e.field: e.message for e in refused.value.errors}
    assert fields == {
        "record.findings": "请填写督查发现",
        "record.problems": "请填写存在问题",
        "record.rectifications": "请填写整改要求",
        "record.conclusion": "请填写督查结论",
    }
    assert fresh(session, inspection).version == 2 and fresh(session, inspection).record == {}


def test_the_interviewee_must_be_among_the_attendees(session, world):
    inspection = open_inspection(session, world)
    close_inspection(session, world, inspection, at(2026, 11, 20))
    for month in (m(2026, 12), m(2027, 1)):
        counting_month(session, world, month)
        run_job_for(session, month)
    (interview,) = oversight(session, OversightKind.INTERVIEW)
    record = {
        "interview_date": "2027-02-20", "place": "省财政厅", "interviewee": "王建国",
        "attendees": "马林、高军", "minutes": "约谈纪要",
    }  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        act(session, world, interview, "hold", "ma_lin", record=record)
    assert {e.field for e in refused.value.errors} == {"record.attendees"}
    with pytest.raises(InvalidInput) as bad_date:
        act(
            session,
            world,
            interview,
            "hold",
            "ma_lin",
            record={**record, "interview_date": "2月20日"},
        )
    assert bad_date.value.errors[0].field == "record.interview_date"


def test_who_may_act(session, world):
    inspection = open_inspection(session, world)
    # Ma Lin is a leader, not the supervision bureau; Li Na works in Anxian.
    with pytest.raises(RoleNotAllowed):
        act(session, world, inspection, "start", "ma_lin")
    with pytest.raises(OutOfScope):
        act(session, world, inspection, "start", "he_min")
    with pytest.raises(InvalidState):
        act(session, world, inspection, "close", "gao_jun")
    with pytest.raises(InvalidInput):
        act(session, world, inspection, "hold", "gao_jun")
    assert session.exec(sa.select(sa.func.count()).select_from(OversightEvent)).scalar_one() == 1


def test_oversight_counts_for_the_report(session, world):
    inspection = open_inspection(session, world)
    close_inspection(session, world, inspection, at(2026, 11, 20))
    anxian = [world.regions["anxian"].id]
    nov = oversight_counts(
        session, region_ids=anxian, start=at(2026, 11, 1, 0), end=at(2026, 12, 1, 0)
    )
    assert nov == {"inspections_opened": 1, "inspections_closed": 1, "interviews_opened": 0,
                   "interviews_closed": 0}  # fmt: skip
    ningxian = [world.regions["ningxian"].id]
    assert set(oversight_counts(session, region_ids=ningxian, start=at(2026, 11, 1, 0),
                                end=at(2026, 12, 1, 0)).values()) == {0}  # fmt: skip
    assert (
        oversight_counts(session, region_ids=[], start=at(2026, 1, 1), end=at(2027, 1, 1))[
            "inspections_opened"
        ]
        == 0
    )


# -- the rule as a property ------------------------------------------------------------------


def maximal_runs(flags: list[bool], length: int) -> int:
    runs, current = 0, 0
    for flag in [*flags, False]:
        if flag:
            current += 1
        else:
            runs += current >= length
            current = 0
    return runs


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flags=st.lists(st.booleans(), min_size=3, max_size=10))
def test_inspections_opened_equal_the_maximal_runs_of_three_or_more(session, world, flags):
    savepoint = session.begin_nested()
    try:
        months = [add_months(m(2026, 1), n) for n in range(len(flags))]
        for month, counts in zip(months, flags, strict=True):
            if counts:
                counting_month(session, world, month)
        for month in months:
            run_job_for(session, month)
        assert len(oversight(session, OversightKind.INSPECTION)) == maximal_runs(flags, 3)
    finally:
        savepoint.rollback()


def test_anxians_own_leader_reads_the_interview_but_only_the_province_acts(session, world):
    """Qin Feng leads Anxian's finance bureau: he is interviewed, he does not hold the interview."""
    from models import OrgUnit
    from models.enums import OrgKind, Role
    from tests.factories import PASSWORD
    from workflows.admin.accounts import create_user
    from workflows.core.actors import load_actor
    from workflows.oversight.cases import actions_for, find_oversight

    unit = OrgUnit(code="410121-LD", name="安县财政局领导", kind=OrgKind.LEADERSHIP,
                   region_id=world.regions["anxian"].id)  # fmt: skip
    session.add(unit)
    session.flush()
    qin = load_actor(session, create_user(session, username="qin_feng", full_name="秦峰",
                                          role=Role.LEADER, org_unit_id=unit.id, password=PASSWORD).id)  # fmt: skip
    inspection = open_inspection(session, world)
    close_inspection(session, world, inspection, at(2026, 11, 20))
    for month in (m(2026, 12), m(2027, 1)):
        counting_month(session, world, month)
        run_job_for(session, month)
    (interview,) = oversight(session, OversightKind.INTERVIEW)
    row = find_oversight(session, actor=qin, oversight_id=interview.id)
    assert actions_for(session, actor=qin, row=row) == []
    assert actions_for(session, actor=world.actors["ma_lin"], row=row) == ["arrange", "hold"]
    with pytest.raises(OutOfScope):
        transition_oversight(session, oversight_id=interview.id, event="arrange", actor=qin,
                             expected_version=1, as_of=at(2027, 2, 2),
                             record={"interview_date": "2027-02-20", "place": "省厅", "interviewee": "秦峰"})  # fmt: skip


def test_a_province_without_a_supervision_bureau_gets_no_inspection_and_the_job_says_so(
    session, world
):
    from models import OrgUnit

    unit = session.get(OrgUnit, world.units["province_supervision"].id)
    unit.kind = "other"
    session.add(unit)
    session.flush()
    for month in (m(2026, 8), m(2026, 9), m(2026, 10)):
        counting_month(session, world, month)
    for month in (m(2026, 8), m(2026, 9)):
        run_job_for(session, month)
    result = run_job_for(session, m(2026, 10))
    assert result.inspections_opened == 0 and result.no_owner == 1
    assert "1 件因省级缺少监督检查局或厅领导单位未能立案" in result.summary
    assert oversight(session) == []


def test_gao_jun_sends_a_report_back_for_more_inspection_with_a_reason(session, world):
    inspection = open_inspection(session, world)
    act(session, world, inspection, "start", "gao_jun")
    act(session, world, inspection, "submit_report", "gao_jun", record=REPORT)
    with pytest.raises(InvalidInput) as refused:
        act(session, world, inspection, "reopen", "gao_jun", comment="  ")
    assert [(e.field, e.message) for e in refused.value.errors] == [("comment", "请填写意见")]
    reopened = act(session, world, inspection, "reopen", "gao_jun", comment="需补充调阅拨付凭证")
    assert reopened.to_state == OversightState.INSPECTING
    # The slip so far is kept; submitting again may change it.
    assert fresh(session, inspection).record["scope"] == REPORT["scope"]
    act(session, world, inspection, "submit_report", "gao_jun",
        record={"findings": "补充：另有2笔提现未整改"})  # fmt: skip
    assert fresh(session, inspection).record["findings"] == "补充：另有2笔提现未整改"
    (last,) = [e for e in timeline(session, oversight_id=inspection.id) if e.event == "reopen"]
    assert last.comment == "需补充调阅拨付凭证" and last.actor_name == "高军"
