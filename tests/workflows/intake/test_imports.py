"""Warnings arrive from the monitoring platform in batches and become routed cases."""

from datetime import date

import pytest
from sqlmodel import select

from models import Case
from models.enums import Level, State
from tests.factories import NOW, new_case
from workflows.core.errors import InvalidInput
from workflows.intake.imports import MAX_ITEMS, import_warnings
from workflows.intake.routing import set_route
from workflows.intake.whitelist import add_whitelist_entry


def warning(external_id, **overrides):
    item = {
        "rule_code": "ZC-001",
        "region_code": "410121",
        "source": "henan-platform",
        "external_id": external_id,
        "raised_at": "2026-11-23T08:30:00+08:00",
        "facts": {
            "fund_name": "中央财政衔接推进乡村振兴补助资金",
            "indicator_doc_no": "豫财农〔2026〕12号",
            "payer_name": "安县财政局",
            "payee_name": "安县城关镇农民专业合作社",
            "payee_account": "6222020200112233445",
            "amount": "50000.00",
            "payment_date": "2026-11-18",
            "purpose": "产业扶持资金",
        },
    }
    item.update(overrides)
    return item


def send(session, world, items, who="platform"):
    return import_warnings(session, actor=world.actors[who], items=items, as_of=NOW)


def case_of(session, external_id):
    return session.exec(select(Case).where(Case.external_id == external_id)).one()


def test_the_platform_sends_five_warnings_three_land_one_is_bad_one_is_a_repeat(session, world):
    items = [warning("W-1"), warning("W-2"), warning("W-3"),
             warning("W-4", region_code="999999"), warning("W-1")]
    result = send(session, world, items)
    assert (result.created, result.duplicates, result.whitelisted) == (3, 1, 0)
    assert [(e["index"], e["field"]) for e in result.errors] == [(3, "region_code")]
    assert "999999" in result.errors[0]["message"]
    case = case_of(session, "W-1")
    assert (case.state, case.org_unit_id) == (State.YELLOW_LIGHT, world.units["anxian_agri"].id)
    assert case.amount == 50000 and case.payment_date == date(2026, 11, 18)

    again = send(session, world, items)
    assert (again.created, again.duplicates) == (0, 4)
    assert [e["index"] for e in again.errors] == [3]


def test_new_cases_go_to_the_handler_with_the_fewest_open_cases(session, world):
    new_case(session, world, assignee="li_na")
    new_case(session, world, assignee="li_na")
    new_case(session, world, assignee="wang_fang")
    result = send(session, world, [warning(f"B-{i}") for i in range(4)])
    assert result.created == 4
    assignees = [case_of(session, f"B-{i}").assignee_id for i in range(4)]
    li_na, wang_fang = world.users["li_na"], world.users["wang_fang"]
    # Wang Fang starts one behind; the batch keeps counting as it assigns.
    assert assignees == [wang_fang, li_na, wang_fang, li_na]


def test_a_routing_change_sends_the_next_import_to_the_treasury(session, world):
    set_route(session, actor=world.actors["sun_hao"], warning_type="fund_risk", org_kind="treasury", as_of=NOW)
    assert send(session, world, [warning("R-1")]).created == 1
    case = case_of(session, "R-1")
    assert case.org_unit_id == world.units["anxian_treasury"].id
    assert case.assignee_id is None  # the treasury section has no handler yet


def test_a_department_code_or_warning_type_overrides_the_rule(session, world):
    result = send(session, world, [
        warning("D-1", department_code="410121-YS"),
        warning("D-2", warning_type="indicator_receipt"),
        warning("D-3", department_code="410122-NC"),
    ])
    assert result.created == 2
    assert case_of(session, "D-1").assignee_id == world.users["chen_jie"]
    assert case_of(session, "D-2").org_unit_id == world.units["anxian_budget"].id
    assert [(e["index"], e["field"], e["code"]) for e in result.errors] == [(2, "department_code", "not_in_region")]


def test_a_whitelisted_payee_raises_no_case(session, world):
    add_whitelist_entry(session, actor=world.actors["sun_hao"], kind="payee", value="安县城关镇农民专业合作社",
                        reason="经局务会批准", approved_by_id=world.users["zhang_wei"], as_of=NOW)
    result = send(session, world, [warning("WL-1"), warning("WL-2", rule_code="ZC-002")])
    assert (result.created, result.whitelisted) == (0, 2)


def test_a_yellow_bell_gets_its_duty_deadline_from_the_rules_lead_time(session, world):
    result = send(session, world, [warning("BL-1", rule_code="ZB-001"),
                                   warning("BL-2", rule_code="ZB-002", duty_due_on="2026-12-04")])
    assert result.created == 2, result.errors
    bell = case_of(session, "BL-1")
    assert (bell.state, bell.duty_due_on) == (State.YELLOW_BELL, date(2026, 11, 25))  # 2 working days
    assert case_of(session, "BL-2").due_on == date(2026, 12, 4)


def test_bad_items_are_reported_field_by_field_and_nothing_of_them_is_written(session, world):
    bad = warning("X-1", facts={"amount": "12.345", "colour": "red"})
    del bad["source"]
    result = send(session, world, [bad, warning("X-2", level=Level.RED_LIGHT.value), "not an object",
                                   warning("X-3", rule_code="NO-SUCH", level="green")])
    assert result.created == 1
    fields = {(e["index"], e["field"]) for e in result.errors}
    assert {(0, "source"), (0, "facts.amount"), (0, "facts.colour"), (3, "rule_code"), (3, "level")} <= fields
    assert any(e["index"] == 2 for e in result.errors)
    assert all(e["message"] for e in result.errors)
    assert case_of(session, "X-2").state == State.RED_LIGHT
    assert session.exec(select(Case).where(Case.external_id.in_(["X-1", "X-3"]))).all() == []


def test_more_than_ten_thousand_warnings_are_refused_at_once(session, world):
    with pytest.raises(InvalidInput) as refused:
        send(session, world, [warning("T")] * (MAX_ITEMS + 1))
    assert refused.value.errors[0].code == "too_many"


def test_a_warning_failing_while_written_leaves_nothing_and_the_others_land(session, world, monkeypatch):
    from workflows.intake import imports
    real_many, real_one = imports.raise_cases, imports.raise_case

    def failing_many_after_insert(session, **kw):
        case_ids = real_many(session, **kw)
        if any(item.external_id == "F-2" for item in kw["items"]):
            raise InvalidInput.single("facts", "refused", "写入时被拒绝")
        return case_ids

    def failing_after_insert(session, **kw):
        case_id = real_one(session, **kw)
        if kw["external_id"] == "F-2":
            raise InvalidInput.single("facts", "refused", "写入时被拒绝")
        return case_id

    monkeypatch.setattr(imports, "raise_cases", failing_many_after_insert)
    monkeypatch.setattr(imports, "raise_case", failing_after_insert)
    result = send(session, world, [warning("F-1"), warning("F-2"), warning("F-3")])
    assert result.created == 2
    assert [(e["index"], e["field"]) for e in result.errors] == [(1, "facts")]
    landed = session.exec(select(Case.external_id).where(Case.external_id.like("F-%"))).all()
    assert sorted(landed) == ["F-1", "F-3"]
    numbers = session.exec(select(Case.number).where(Case.external_id.like("F-%")).order_by(Case.number)).all()
    assert numbers == ["YJ-202611-000001", "YJ-202611-000002"]  # the refused attempts used none up


def test_a_warning_another_request_landed_meanwhile_counts_as_a_duplicate(session, world, monkeypatch):
    from workflows.intake import imports
    send(session, world, [warning("C-7")])
    # As if the other request committed C-7 just after this one looked for duplicates.
    monkeypatch.setattr(imports, "_existing_ids", lambda session, pairs: set())
    result = send(session, world, [warning(f"C-{i}") for i in range(300)])
    assert (result.created, result.duplicates, result.errors) == (299, 1, [])
    landed = session.exec(select(Case.external_id).where(Case.external_id.like("C-%"))).all()
    assert len(landed) == len(set(landed)) == 300


def test_a_large_batch_lands_whole_with_consecutive_numbers(session, world):
    result = send(session, world, [warning(f"L-{i}") for i in range(1200)])
    assert (result.created, result.errors) == (1200, [])
    numbers = session.exec(select(Case.number).where(Case.external_id.like("L-%")).order_by(Case.number)).all()
    assert numbers == [f"YJ-202611-{n:06d}" for n in range(1, 1201)]
    first, last = case_of(session, "L-0"), case_of(session, "L-1199")
    assert (first.number, last.number) == ("YJ-202611-000001", "YJ-202611-001200")


def test_a_county_account_cannot_open_cases_in_another_county(session, world):
    from models.enums import Role
    from tests.factories import PASSWORD
    from workflows.admin.accounts import create_user
    from workflows.core.actors import load_actor

    anxian_feed = create_user(
        session, username="anxian_feed", full_name="安县数据接口", role=Role.INTEGRATION,
        org_unit_id=world.units["anxian_treasury"].id, password=PASSWORD,
    )
    actor = load_actor(session, anxian_feed.id)
    result = import_warnings(
        session, actor=actor, as_of=NOW,
        items=[warning("A-1"), warning("N-1", region_code="410122")],
    )
    assert result.created == 1
    assert [(e["index"], e["field"], e["code"]) for e in result.errors] == [
        (1, "region_code", "out_of_scope")
    ]
    assert "不在本账户的管辖范围内" in result.errors[0]["message"]
