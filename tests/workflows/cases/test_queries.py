"""The case lists: who sees what, every filter, and cursor pages that neither skip nor repeat."""

from datetime import timedelta

import pytest

from models import Case
from models.enums import Conclusion, Event, Level, RuleCategory, State
from tests.factories import NOW, new_case, verification_slip
from workflows.cases.queries import CaseFilters, decode_cursor, iter_cases, list_cases, review_queue
from workflows.cases.transition import transition
from workflows.core.calendar import load_calendar, local_date
from workflows.core.errors import InvalidInput, RoleNotAllowed


def numbers(session, world, who="liu_yang", **filters) -> set[str]:
    page = list_cases(
        session, actor=world.actors[who], filters=CaseFilters(**filters), as_of=NOW, limit=200
    )
    assert page.next_cursor is None
    return {row.number for row in page.rows}


def number_of(session, case_id) -> str:
    return session.get(Case, case_id).number


def act(session, world, case_id, event, who="li_na", **kw):
    case = session.get(Case, case_id)
    session.refresh(case)
    return transition(
        session,
        case_id=case_id,
        event=event,
        actor=world.actors[who],
        version=case.version,
        as_of=NOW,
        **kw,
    )


@pytest.fixture
def spread(session, world):
    """Cases across departments and counties, named by where they are."""
    ids = {
        "agri": new_case(session, world, "yellow"),
        "agri_red": new_case(session, world, "red", assignee="wang_fang"),
        "agri_bell": new_case(session, world, "bell", assignee=None),
        "town": new_case(session, world, "yellow", region="town"),
        "budget": new_case(session, world, "yellow", unit="anxian_budget", assignee="chen_jie"),
        "ningxian": new_case(
            session, world, "red", region="ningxian", unit="ningxian_agri", assignee="zhao_lei"
        ),
    }
    return {key: number_of(session, cid) for key, cid in ids.items()} | {"_ids": ids}


def test_li_na_sees_only_her_departments_cases_in_her_county(session, world, spread):
    assert numbers(session, world, "li_na") == {
        spread[k] for k in ("agri", "agri_red", "agri_bell", "town")
    }


def test_chen_jie_sees_only_the_budget_sections_cases(session, world, spread):
    assert numbers(session, world, "chen_jie") == {spread["budget"]}


def test_zhao_lei_in_ningxian_sees_nothing_of_anxian(session, world, spread):
    assert numbers(session, world, "zhao_lei") == {spread["ningxian"]}


def test_the_auditor_at_the_province_sees_every_case(session, world, spread):
    assert numbers(session, world, "liu_yang") == {v for k, v in spread.items() if k != "_ids"}


@pytest.mark.parametrize("who", ["sun_hao", "platform"])
def test_the_admin_and_the_platform_account_see_no_cases(session, world, spread, who):
    with pytest.raises(RoleNotAllowed):
        list_cases(session, actor=world.actors[who], filters=CaseFilters(), as_of=NOW)
    with pytest.raises(RoleNotAllowed):
        iter_cases(session, actor=world.actors[who], filters=CaseFilters(), as_of=NOW)


def test_filter_by_state_level_rule_and_category(session, world, spread):
    assert numbers(session, world, state=[State.RED_LIGHT]) == {
        spread["agri_red"],
        spread["ningxian"],
    }
    assert numbers(session, world, state=[State.RED_LIGHT, State.YELLOW_BELL]) == {
        spread["agri_red"],
        spread["ningxian"],
        spread["agri_bell"],
    }
    assert numbers(session, world, level=Level.YELLOW_BELL) == {spread["agri_bell"]}
    assert numbers(session, world, rule="ZC-002") == {spread["agri_red"], spread["ningxian"]}
    assert numbers(session, world, category=RuleCategory.INDICATOR) == {spread["agri_bell"]}
    assert numbers(session, world, rule="NO-SUCH") == set()


def test_filter_by_region_includes_its_townships(session, world, spread):
    anxian = {spread[k] for k in ("agri", "agri_red", "agri_bell", "town", "budget")}
    assert numbers(session, world, region="410121") == anxian
    assert numbers(session, world, region="410121001") == {spread["town"]}
    assert numbers(session, world, region="410100") == anxian | {spread["ningxian"]}
    assert numbers(session, world, region="999999") == set()
    # A region filter never widens the actor's scope.
    assert numbers(session, world, "zhao_lei", region="410121") == set()


def test_filter_by_department_and_assignee(session, world, spread):
    assert numbers(session, world, department="410121-YS") == {spread["budget"]}
    assert numbers(session, world, assignee=world.users["wang_fang"]) == {spread["agri_red"]}


def test_my_work_holds_my_open_cases_and_my_departments_unassigned_ones(session, world, spread):
    assert numbers(session, world, "li_na", mine=True) == {
        spread[k] for k in ("agri", "agri_bell", "town")
    }
    assert numbers(session, world, "wang_fang", mine=True) == {
        spread["agri_red"],
        spread["agri_bell"],
    }
    act(
        session,
        world,
        spread["_ids"]["agri"],
        Event.SUBMIT_VERIFICATION,
        slip=verification_slip(Conclusion.NORMAL),
    )
    assert numbers(session, world, "li_na", mine=True) == {spread["agri_bell"], spread["town"]}


def test_open_only_leaves_out_closed_cases(session, world, spread):
    act(
        session,
        world,
        spread["_ids"]["agri"],
        Event.SUBMIT_VERIFICATION,
        slip=verification_slip(Conclusion.NORMAL),
    )
    assert spread["agri"] in numbers(session, world, "li_na")
    assert spread["agri"] not in numbers(session, world, "li_na", open_only=True)
    row = next(
        r
        for r in iter_cases(session, actor=world.actors["li_na"], filters=CaseFilters(), as_of=NOW)
        if r.number == spread["agri"]
    )
    assert row.state == State.GREEN and row.level == Level.GREEN
    assert row.due_on is None and row.working_days_left is None and not row.overdue


def test_search_matches_number_payee_or_fund_and_treats_wildcards_as_text(session, world, spread):
    assert numbers(session, world, q=spread["town"].lower()) == {spread["town"]}
    assert len(numbers(session, world, q="合作社")) == 6
    assert len(numbers(session, world, q="乡村振兴")) == 6
    assert numbers(session, world, q="%") == set()
    assert numbers(session, world, q="_") == set()


def test_overdue_and_days_at_step(session, world):
    old = number_of(session, new_case(session, world, "yellow", at=NOW - timedelta(days=30)))
    # Raised Sunday the 15th: its five working days ended Friday the 20th.
    week = number_of(session, new_case(session, world, "yellow", at=NOW - timedelta(days=8)))
    due_today = number_of(session, new_case(session, world, "yellow", at=NOW - timedelta(days=7)))
    fresh = number_of(session, new_case(session, world, "yellow"))
    assert numbers(session, world, overdue=True) == {old, week}
    assert numbers(session, world, overdue=False) == {fresh, due_today}
    assert numbers(session, world, days_at_step_min=8) == {old, week}
    assert numbers(session, world, days_at_step_min=9) == {old}
    assert numbers(session, world, days_at_step_min=0) == {old, week, due_today, fresh}

    rows = {
        r.number: r
        for r in iter_cases(session, actor=world.actors["li_na"], filters=CaseFilters(), as_of=NOW)
    }
    calendar = load_calendar(session)
    today = local_date(NOW)
    assert rows[old].days_at_step == 30 and rows[old].overdue
    assert rows[old].working_days_left == calendar.working_days_between(today, rows[old].due_on) < 0
    assert rows[due_today].working_days_left == 0 and not rows[due_today].overdue
    assert rows[fresh].days_at_step == 0 and not rows[fresh].overdue
    assert rows[fresh].working_days_left == 5


def test_days_at_step_counts_local_days_not_24_hour_periods(session, world):
    # 23:30 Shanghai the evening before is one local day ago, though only 9.5 hours.
    late = number_of(
        session, new_case(session, world, "yellow", at=NOW - timedelta(hours=9, minutes=30))
    )
    assert numbers(session, world, days_at_step_min=1) == {late}
    row = iter_cases(session, actor=world.actors["li_na"], filters=CaseFilters(), as_of=NOW)[0]
    assert row.days_at_step == 1


@pytest.mark.parametrize(
    "sort",
    [
        "due_on",
        "-due_on",
        "raised_at",
        "-raised_at",
        "entered_step_at",
        "-entered_step_at",
        "number",
    ],
)
def test_cursor_pages_over_120_cases_return_each_case_exactly_once(session, world, sort):
    ids = [
        new_case(session, world, "yellow", at=NOW - timedelta(hours=7 * (i % 40)))
        for i in range(120)
    ]
    # A handful closed, so the list mixes deadlines with empty ones.
    for case_id in ids[:7]:
        act(
            session,
            world,
            case_id,
            Event.SUBMIT_VERIFICATION,
            slip=verification_slip(Conclusion.NORMAL),
        )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = list_cases(
            session,
            actor=world.actors["li_na"],
            filters=CaseFilters(sort=sort),
            as_of=NOW,
            limit=25,
            cursor=cursor,
        )
        seen += [r.number for r in page.rows]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 5
    assert len(seen) == 120 and len(set(seen)) == 120
    everything = iter_cases(
        session, actor=world.actors["li_na"], filters=CaseFilters(sort=sort), as_of=NOW
    )
    assert seen == [r.number for r in everything]


def test_the_last_full_page_has_no_next_cursor(session, world):
    for _ in range(4):
        new_case(session, world, "yellow")
    page = list_cases(
        session, actor=world.actors["li_na"], filters=CaseFilters(), as_of=NOW, limit=4
    )
    assert len(page.rows) == 4 and page.next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage!!", "e30", "WyJudW1iZXIiLCJ4IiwxXQ"])
def test_a_bad_cursor_is_refused_in_chinese(session, world, cursor):
    new_case(session, world, "yellow")
    with pytest.raises(InvalidInput) as error:
        list_cases(
            session, actor=world.actors["li_na"], filters=CaseFilters(), as_of=NOW, cursor=cursor
        )
    assert error.value.errors[0].field == "cursor"
    assert "翻页" in error.value.errors[0].message


def test_a_cursor_made_for_another_order_is_refused(session, world):
    for _ in range(3):
        new_case(session, world, "yellow")
    page = list_cases(
        session, actor=world.actors["li_na"], filters=CaseFilters(sort="number"), as_of=NOW, limit=1
    )
    assert decode_cursor(page.next_cursor, "number")[1] == page.rows[0].id
    with pytest.raises(InvalidInput):
        list_cases(
            session,
            actor=world.actors["li_na"],
            filters=CaseFilters(sort="due_on"),
            as_of=NOW,
            cursor=page.next_cursor,
        )


def test_an_export_refuses_more_rows_than_its_cap(session, world):
    for _ in range(3):
        new_case(session, world, "yellow")
    with pytest.raises(InvalidInput):
        iter_cases(session, actor=world.actors["li_na"], filters=CaseFilters(), as_of=NOW, cap=2)


def test_zhang_weis_review_queue_holds_rectifications_awaiting_review(session, world):
    from tests.factories import rectification_slip

    waiting = new_case(session, world, "red")
    act(session, world, waiting, Event.SUBMIT_RECTIFICATION, slip=rectification_slip())
    new_case(session, world, "red")
    other = new_case(
        session, world, "red", region="ningxian", unit="ningxian_agri", assignee="zhao_lei"
    )
    act(
        session, world, other, Event.SUBMIT_RECTIFICATION, who="zhao_lei", slip=rectification_slip()
    )
    queue = review_queue(session, actor=world.actors["zhang_wei"], as_of=NOW)
    assert [r.number for r in queue] == [number_of(session, waiting)]
    assert queue[0].state == State.RECTIFICATION_REVIEW and queue[0].level == Level.RED_LIGHT
