"""The monthly summary's figures and the drafting job, on November 2026 in 安县 and 宁县
(tests/monthly_scenario.py says which case is which and why)."""

import json
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from models import MonthlyReport, MonthlyReportEvent, MonthlyReportPart, OversightCase, Region
from models.oversight import OversightKind, OversightState
from models.reports import ReportStatus
from models.settings import get_settings
from runtime.jobs import JOBS
from tests.factories import new_case
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november, shanghai
from workflows.core.calendar import WorkingCalendar, first_working_day, is_first_working_day
from workflows.core.errors import InvalidInput, NotFound
from workflows.oversight.streaks import evaluate_month
from workflows.reporting.drafts import draft_monthly_reports, figures_digest
from workflows.reporting.figures import (
    SCHEMA,
    _WorkdayIndex,
    compute_figures,
    fifth_working_day,
    figures_for_all,
)


@pytest.fixture
def november(session, world):
    return build_november(session, world)


def figures(session, world, region="anxian", as_of=DRAFT_AT):
    return compute_figures(session, region_id=world.regions[region].id, month=MONTH, as_of=as_of)


def test_li_nas_november_in_anxian_has_exact_counts_rates_amounts_and_medians(
    session, world, november
):
    f = figures(session, world)
    assert f["schema"] == SCHEMA == "warnflow.monthly/1"
    assert f["region"] == {"id": world.regions["anxian"].id, "code": "410121", "name": "安县",
                           "level": "county", "level_label": "县（区）"}  # fmt: skip
    assert f["month"] == "2026-11" and f["generated_at"] == "2026-12-01T01:00:00+00:00"
    h = f["headline"]
    # A B C D F H I in scope (E closed in October, J raised in December).
    assert (h["cases"], h["raised"], h["resolved"], h["open_at_end"]) == (7, 7, 3, 4)
    assert (h["overdue"], h["rectified"]) == (1, 1)  # D; B
    # I was escalated before it closed: 2 of A, B, I on time.
    assert h["on_time_rate"] == {"numerator": 2, "denominator": 3, "percent": "66.67"}
    assert h["overdue_rate"] == {"numerator": 1, "denominator": 4, "percent": "25.00"}
    # B rectified; C still red at month end.
    assert h["rectification_rate"] == {"numerator": 1, "denominator": 2, "percent": "50.00"}
    assert (h["amount_involved_yuan"], h["amount_involved_wan"]) == ("12345.67", "1.23")
    assert (h["amount_recovered_yuan"], h["amount_recovered_wan"]) == ("12345.67", "1.23")
    # Verify: A 2 working days (11-23 → 11-25), B 1, I 8 (11-02 → 11-12); rectify: B 3.
    assert (h["median_verify_days"], h["verify_samples"]) == ("2.0", 3)
    assert (h["median_rectify_days"], h["rectify_samples"]) == ("3.0", 1)
    # 40 × 2/3 + 40 × 1/2 + 20 × (1 − 1/4)
    assert f["assessment"]["score"] == "61.67"
    assert "40 × 按期办结率 + 40 × 整改率 + 20 × (1 − 超期率)" in f["assessment"]["formula"]
    assert f["children"] == []  # a county has none


def test_cases_by_level_category_and_state_at_month_end(session, world, november):
    f = figures(session, world)
    assert [(r["level"], r["category"], r["state"], r["cases"]) for r in f["matrix"]] == [
        ("yellow_light", "expenditure", "yellow_light", 3),  # D F H
        ("red_light", "expenditure", "red_light", 1),  # C
        ("green", "expenditure", "green", 3),  # A B I
    ]
    assert {r["key"]: r["cases"] for r in f["by_level"]} == {
        "yellow_bell": 0, "yellow_light": 3, "red_light": 1, "green": 3,
    }  # fmt: skip
    rules = {r["code"]: r for r in f["rules"]}
    assert set(rules) == {"ZB-001", "ZB-002", "ZC-001", "ZC-002"}  # every active rule
    assert {k: rules["ZC-001"][k] for k in ("raised", "resolved", "open", "overdue")} == {
        "raised": 6, "resolved": 3, "open": 3, "overdue": 1,
    }  # fmt: skip
    assert (
        rules["ZC-002"]["name"] == "单笔提现金额超限" and rules["ZC-002"]["level_label"] == "红灯"
    )
    assert (rules["ZC-002"]["raised"], rules["ZC-002"]["open"]) == (1, 1)
    assert rules["ZB-001"]["raised"] == 0


def test_a_case_verified_after_the_month_counts_as_open_at_month_end(session, world, november):
    """H was verified on 12-01 08:30 Shanghai: green now, a yellow light on 11-30 24:00."""
    before = figures(session, world)
    assert before["headline"]["open_at_end"] == 4
    # Asked at 11-30 20:00 instead, the month is not over: the same H is open, J not raised.
    evening = figures(session, world, as_of=shanghai(11, 30, 20))
    assert evening["period"]["complete"] is False and before["period"]["complete"] is True
    assert evening["headline"]["open_at_end"] == 4 and evening["headline"]["cases"] == 7


def test_departments_of_anxian_each_get_their_own_headline(session, world, november):
    departments = {d["org_unit"]["code"]: d for d in figures(session, world)["departments"]}
    # The poverty office answers for no cases; treasury, agriculture and budget sections do.
    assert list(departments) == ["410121-GK", "410121-NC", "410121-YS"]
    assert departments["410121-NC"]["headline"]["cases"] == 6
    assert departments["410121-YS"]["headline"]["cases"] == 1  # Chen Jie's F
    assert departments["410121-YS"]["headline"]["open_at_end"] == 1
    assert departments["410121-GK"]["headline"]["cases"] == 0
    assert departments["410121-NC"]["headline"]["amount_recovered_wan"] == "1.23"


def test_the_city_rolls_up_its_counties_with_scores_and_the_overdue_list(session, world, november):
    f = figures(session, world, "city")
    assert (f["headline"]["cases"], f["headline"]["overdue"]) == (8, 2)
    children = {c["region"]["name"]: c for c in f["children"]}
    assert list(children) == ["平川市本级", "安县", "宁县"]
    assert children["安县"]["score"] == "61.67"
    # 宁县: G open and overdue, nothing closed: 40 × 100% + 40 × 0 + 20 × 0.
    assert children["宁县"]["score"] == "40.00"
    assert children["宁县"]["headline"]["rectification_rate"]["percent"] == "0.00"
    # Nothing to handle: every rate is empty, counted as 100%.
    assert children["平川市本级"]["score"] == "100.00"
    assert children["平川市本级"]["headline"]["on_time_rate"]["percent"] is None
    overdue = f["overdue_list"]
    assert (overdue["total"], overdue["shown"]) == (2, 2)
    assert [(i["number"], i["region"], i["due_on"], i["days_overdue"], i["level"])
            for i in overdue["items"]] == [
        (november.number(session, "D"), "安县", "2026-11-09", 15, "yellow_light"),
        (november.number(session, "G"), "宁县", "2026-11-17", 9, "red_light"),
    ]  # fmt: skip
    assert overdue["items"][0]["department"] == "安县财政局农财股"
    assert overdue["items"][1]["rule_code"] == "ZC-002"


def test_the_overdue_list_is_capped_but_the_total_is_not(session, world, november, monkeypatch):
    monkeypatch.setattr(get_settings(), "report_overdue_limit", 1)
    overdue = figures(session, world, "province")["overdue_list"]
    assert (overdue["total"], overdue["shown"], overdue["limit"]) == (2, 1, 1)
    assert overdue["items"][0]["number"] == november.number(session, "D")


def test_the_weights_come_from_the_settings(session, world, november, monkeypatch):
    monkeypatch.setattr(
        get_settings(), "assessment_weights", {"on_time": 50, "rectification": 50, "overdue": 0}
    )
    f = figures(session, world)
    assert f["assessment"]["score"] == "58.33"  # 50 × 2/3 + 50 × 1/2
    assert f["assessment"]["weights"] == {"on_time": 50, "rectification": 50, "overdue": 0}


def test_all_regions_at_once_equal_each_region_alone(session, world, november):
    everything = figures_for_all(session, month=MONTH, as_of=DRAFT_AT)
    assert {f["region"]["code"] for f in everything.values()} == {
        "410000", "410100", "410101", "410121", "410122",
    }  # fmt: skip
    for region_id, alone in everything.items():
        assert alone == compute_figures(session, region_id=region_id, month=MONTH, as_of=DRAFT_AT)


def test_figures_are_plain_json(session, world, november):
    f = figures(session, world, "province")
    assert json.loads(json.dumps(f)) == f
    assert f["headline"]["cases"] == 8


def test_a_month_not_yet_begun_or_an_unknown_region_is_refused(session, world):
    with pytest.raises(InvalidInput) as error:
        compute_figures(session, region_id=world.regions["anxian"].id, month=date(2026, 12, 1),
                        as_of=shanghai(11, 30, 23))  # fmt: skip
    assert error.value.errors[0].field == "month" and "尚未开始" in error.value.message
    with pytest.raises(NotFound):
        compute_figures(session, region_id=999_999, month=MONTH, as_of=DRAFT_AT)


# -- the drafting job -------------------------------------------------------------------------


def reports(session) -> dict[str, MonthlyReport]:
    rows = session.exec(sa.select(MonthlyReport).where(MonthlyReport.month == MONTH)).scalars()
    return {session.get_one(Region, r.region_id).code: r for r in rows}


def test_the_first_working_day_drafts_every_county_city_and_province(session, world, november):
    result = draft_monthly_reports(session, as_of=DRAFT_AT)
    assert (result.created, result.refreshed, result.frozen) == (5, 0, 0)
    assert "新建 5 份" in result.summary
    drafted = reports(session)
    assert set(drafted) == {"410000", "410100", "410101", "410121", "410122"}
    anxian = drafted["410121"]
    assert anxian.status == ReportStatus.DRAFTING and anxian.version == 1
    assert anxian.due_on == date(2026, 12, 7)  # Tue 1, Wed 2, Thu 3, Fri 4, Mon 7
    assert anxian.figures["headline"]["cases"] == 7
    assert anxian.figures_sha256 == figures_digest(anxian.figures)
    parts = (
        session.exec(
            sa.select(MonthlyReportPart.org_unit_id).where(MonthlyReportPart.report_id == anxian.id)
        )
        .scalars()
        .all()
    )
    assert sorted(parts) == sorted(world.units[k].id for k in
                                   ("anxian_agri", "anxian_budget", "anxian_treasury"))  # fmt: skip
    events = (
        session.exec(sa.select(MonthlyReportEvent).where(MonthlyReportEvent.report_id == anxian.id))
        .scalars()
        .all()
    )
    assert [(e.seq, e.event, e.to_status) for e in events] == [(1, "draft", ReportStatus.DRAFTING)]


def test_drafting_twice_refreshes_drafts_and_never_touches_a_countersigned_report(
    session, world, november
):
    draft_monthly_reports(session, as_of=DRAFT_AT)
    drafted = reports(session)
    frozen = drafted["410122"]
    frozen.status = ReportStatus.COUNTERSIGNED
    frozen_figures = dict(frozen.figures)
    session.add(frozen)
    session.flush()
    # A late import that morning adds a November case in 宁县: drafts change, 宁县's does not.
    new_case(session, world, "red", region="ningxian", unit="ningxian_agri", assignee="zhao_lei",
             at=shanghai(11, 30, 10))  # fmt: skip
    later = DRAFT_AT + timedelta(hours=2)
    result = draft_monthly_reports(session, as_of=later)
    assert (result.created, result.refreshed, result.frozen) == (0, 4, 1)
    session.expire_all()
    drafted = reports(session)
    assert drafted["410122"].figures == frozen_figures
    assert drafted["410122"].figures["headline"]["cases"] == 1
    assert drafted["410100"].figures["headline"]["cases"] == 9
    assert len(drafted) == 5


def test_on_another_day_the_job_skips(session, world, november):
    result = draft_monthly_reports(session, as_of=DRAFT_AT + timedelta(days=1))
    assert result.created == 0 and "不是本月第一个工作日" in result.summary
    assert reports(session) == {}


def test_the_job_is_registered_at_seven_every_morning():
    job = JOBS["draft_monthly_reports"]
    assert job.cron == "0 7 * * *"
    # The runtime decides the day (the first working day, or its catch-up after an outage).
    assert job.first_working_day_of_month
    assert job.target.__wrapped_job__ is draft_monthly_reports


def test_first_and_fifth_working_days_follow_the_official_calendar():
    calendar = WorkingCalendar()
    # National Day: 2026-10-01..07 off; the month's first working day is Thursday 10-08, and
    # Saturday 10-10 is a 调休 working day, so the fifth is Tuesday 10-13 (not Wednesday).
    assert first_working_day(calendar, date(2026, 10, 1)) == date(2026, 10, 8)
    assert fifth_working_day(calendar, date(2026, 10, 1)) == date(2026, 10, 13)
    assert first_working_day(calendar, date(2026, 12, 15)) == date(2026, 12, 1)
    assert is_first_working_day(calendar, date(2026, 12, 1))
    assert not is_first_working_day(calendar, date(2026, 12, 2))
    assert fifth_working_day(calendar, date(2026, 12, 1)) == date(2026, 12, 7)


@settings(max_examples=60, deadline=None)
@given(
    a=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    span=st.integers(min_value=0, max_value=120),
)
def test_working_days_by_subtraction_match_counting_day_by_day(a, span):
    calendar = WorkingCalendar()
    b = a + timedelta(days=span)
    index = _WorkdayIndex(calendar, a, b)
    assert index.between(a, b) == calendar.working_days_between(a, b)
    assert index.between(a, a) == 0


def test_the_month_boundary_is_shanghai_midnight(session, world):
    # 2026-11-30 23:30 Shanghai is 15:30 UTC: November. 2026-12-01 00:30 Shanghai: December.
    new_case(session, world, "yellow", at=shanghai(11, 30, 23, 30))
    new_case(session, world, "yellow", at=datetime.fromisoformat("2026-11-30T16:30:00+00:00"))
    f = figures(session, world)
    assert f["headline"]["raised"] == 1


# -- streaks and oversight (workflows/oversight/streaks.py, workflows/oversight/cases.py) ---------------------


def test_regions_on_two_and_three_month_streaks_are_listed(session, world, november):
    # 安县 has had an open yellow light since September, 宁县 a red light since October.
    new_case(session, world, "yellow", at=shanghai(9, 1))
    new_case(session, world, "red", region="ningxian", unit="ningxian_agri", assignee="zhao_lei",
             at=shanghai(10, 9))  # fmt: skip
    evaluate_month(session, month=MONTH, as_of=DRAFT_AT)
    streaks = figures(session, world, "city")["streaks"]
    assert streaks["evaluated"] is True and streaks["threshold"] == 3
    assert [(r["region"]["name"], r["streak"]) for r in streaks["on_rule"]] == [("安县", 3)]
    assert [(r["region"]["name"], r["streak"]) for r in streaks["warning"]] == [("宁县", 2)]
    anxian = figures(session, world)["streaks"]
    assert [r["region"]["code"] for r in anxian["on_rule"]] == ["410121"] and anxian[
        "warning"
    ] == []


def test_before_the_three_month_rule_ran_no_streaks_are_claimed(session, world, november):
    streaks = figures(session, world, "city")["streaks"]
    assert streaks == {"evaluated": False, "threshold": 3, "warning": [], "on_rule": []}


def test_inspections_opened_and_closed_in_the_month_are_counted(session, world, november):
    def inspection(number, region, opened, closed=None, streak_start=date(2026, 8, 1)):
        session.add(OversightCase(
            number=number, kind=OversightKind.INSPECTION,
            state=OversightState.CLOSED if closed else OversightState.OPEN,
            region_id=world.regions[region].id,
            owner_org_unit_id=world.units["province_supervision"].id,
            streak_start=streak_start, streak_end=date(2026, 10, 1),
            opened_at=opened, closed_at=closed,
        ))  # fmt: skip

    inspection("DC-202611-000001", "anxian", shanghai(11, 2), shanghai(11, 20))
    inspection("DC-202611-000002", "ningxian", shanghai(11, 3))
    inspection("DC-202610-000001", "ningxian", shanghai(10, 8), shanghai(10, 30), date(2026, 6, 1))
    session.flush()
    assert figures(session, world, "city")["oversight"] == {
        "inspections_opened": 2, "inspections_closed": 1,
        "interviews_opened": 0, "interviews_closed": 0,
    }  # fmt: skip
    assert figures(session, world)["oversight"]["inspections_opened"] == 1


@pytest.mark.parametrize(
    "weights",
    [{"on_time": 50, "rectification": 50}, {"on_time": -10, "rectification": 60, "overdue": 50}],
)
def test_assessment_weights_must_name_the_three_rates(weights):
    from pydantic import ValidationError

    from models.settings import Settings

    with pytest.raises(ValidationError) as error:
        Settings(assessment_weights=weights)
    assert "assessment_weights" in str(error.value)
    assert Settings().assessment_weights == {"on_time": 40, "rectification": 40, "overdue": 20}


def test_a_computation_that_died_half_way_leaves_nothing_in_the_way(session, world, november):
    """The month-end states live in a temporary table for one computation; a copy left on the
    connection (a crash between create and drop) does not break the next one."""
    from workflows.reporting.queries import LAST_EVENTS

    LAST_EVENTS.create(session.connection())
    session.connection().execute(LAST_EVENTS.insert().values(case_id=november.cases["H"]))
    assert figures(session, world)["headline"]["open_at_end"] == 4
    # Dropped after use: creating it again works.
    LAST_EVENTS.create(session.connection())
    LAST_EVENTS.drop(session.connection())


def test_a_warning_raised_in_november_but_imported_in_december_counts_as_raised(
    session, world, november
):
    """The platform says 11-30 15:00; the import ran 12-01 08:00, before the drafting."""
    from models.enums import Level
    from workflows.intake.intake import raise_case

    raise_case(
        session, rule=world.rules["red"], region_id=world.regions["anxian"].id,
        org_unit_id=world.units["anxian_agri"].id, assignee_id=world.users["li_na"],
        source="test", external_id="LATE-IMPORT-1", raised_at=shanghai(11, 30, 15),
        as_of=shanghai(12, 1, 8), actor=world.actors["platform"], facts={},
    )  # fmt: skip
    f = figures(session, world)
    assert (f["headline"]["cases"], f["headline"]["raised"], f["headline"]["open_at_end"]) == (
        8,
        8,
        5,
    )
    red = {r["state"]: r["cases"] for r in f["matrix"] if r["level"] == Level.RED_LIGHT}
    assert red == {"red_light": 2}  # C and the late import


@settings(max_examples=200, deadline=None)
@given(
    closed=st.integers(0, 500), on_time=st.integers(0, 500), open_=st.integers(0, 500),
    overdue=st.integers(0, 500), rectified=st.integers(0, 500), red_open=st.integers(0, 500),
)  # fmt: skip
def test_the_score_stays_between_zero_and_the_weights_total(
    closed, on_time, open_, overdue, rectified, red_open
):
    from decimal import Decimal

    from workflows.reporting.assessment import Acc, assessment_score, headline_of

    acc = Acc(resolved=closed, on_time=min(on_time, closed), open=open_,
              overdue=min(overdue, open_), rectified=rectified, red_open=red_open)  # fmt: skip
    weights = {"on_time": 40, "rectification": 40, "overdue": 20}
    headline = headline_of(acc)
    score = Decimal(assessment_score(headline, weights))
    assert Decimal(0) <= score <= Decimal(100)
    # Perfect work scores full marks; every rate says what it was computed from.
    if acc.on_time == closed and acc.overdue == 0 and red_open == 0:
        assert score == 100
    for key in ("on_time_rate", "overdue_rate", "rectification_rate"):
        rate = headline[key]
        assert (rate["percent"] is None) == (rate["denominator"] == 0)
