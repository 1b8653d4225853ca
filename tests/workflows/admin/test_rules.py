"""Sun Hao keeps the monitoring rules: all fields of the rule application form."""

from datetime import date

import pytest
from sqlmodel import select

from models import AuditEvent
from models.enums import AuditKind, Level, RuleCategory, WarningType
from tests.factories import NOW
from workflows.admin.rules import change_rule, create_rule, get_rule, list_rules
from workflows.core.errors import AlreadyExists, InvalidInput, NotFound

FORM = {
    "code": "ZC-101",
    "name": "单笔提现金额超过5万元",
    "category": RuleCategory.EXPENDITURE,
    "level": Level.YELLOW_LIGHT,
    "warning_type": WarningType.CASH_EXPENDITURE,
    "description": "单笔现金提取超过5万元",
    "basis": "长财库〔2019〕1918号 第六条",
    "scope": "全省各级财政部门",
    "handling_party": "国库部门经办人",
    "verify_days": 5,
    "active_from": date(2027, 1, 1),
}


def rule_audits(session):
    return session.exec(select(AuditEvent).where(AuditEvent.kind == AuditKind.RULE_CHANGED)).all()


def test_sun_hao_adds_a_rule_active_from_next_year_and_it_is_audited(session, world):
    rule = create_rule(session, actor=world.actors["sun_hao"], values=FORM, as_of=NOW)
    assert (rule.code, rule.verify_days, rule.is_active) == ("ZC-101", 5, True)
    assert get_rule(session, rule_id=rule.id).active_from == date(2027, 1, 1)
    [event] = rule_audits(session)
    assert event.actor_id == world.users["sun_hao"]
    assert event.data["values"]["warning_type"] == "cash_expenditure"


def test_form_strings_are_accepted_like_json_values(session, world):
    form = {k: (v.value if hasattr(v, "value") else str(v)) for k, v in FORM.items()}
    rule = create_rule(session, actor=world.actors["sun_hao"], values=form, as_of=NOW)
    assert rule.verify_days == 5 and rule.active_from == date(2027, 1, 1)


def test_a_taken_code_is_refused_naming_the_code(session, world):
    with pytest.raises(AlreadyExists) as refused:
        create_rule(session, actor=world.actors["sun_hao"], values={**FORM, "code": "ZC-001"}, as_of=NOW)
    assert [e.field for e in refused.value.errors] == ["code"]
    assert "ZC-001" in refused.value.errors[0].message


def test_bad_fields_are_all_reported_in_chinese(session, world):
    values = {**FORM, "bell_becomes": Level.RED_LIGHT, "verify_days": 0, "rectify_days": "abc",
              "active_until": date(2026, 1, 1), "name": ""}
    with pytest.raises(InvalidInput) as refused:
        create_rule(session, actor=world.actors["sun_hao"], values=values, as_of=NOW)
    messages = {e.field: e.message for e in refused.value.errors}
    assert set(messages) == {"bell_becomes", "verify_days", "rectify_days", "active_until", "name"}
    assert "黄色警铃" in messages["bell_becomes"]
    assert "1–60" in messages["verify_days"]
    assert messages["name"] == "请填写规则名称"


def test_sun_hao_changes_a_bell_rule_and_the_audit_keeps_old_and_new(session, world):
    bell = world.rules["bell"]
    rule = change_rule(session, actor=world.actors["sun_hao"], rule_id=bell.id, as_of=NOW,
                       changes={"bell_becomes": "red_light", "bell_lead_days": 4})
    assert (rule.bell_becomes, rule.bell_lead_days) == (Level.RED_LIGHT, 4)
    [event] = rule_audits(session)
    assert event.data["changes"]["bell_becomes"] == [None, "red_light"]


def test_a_rule_change_is_validated_against_the_whole_rule(session, world):
    yellow = world.rules["yellow"]
    with pytest.raises(InvalidInput) as refused:
        change_rule(session, actor=world.actors["sun_hao"], rule_id=yellow.id,
                    changes={"bell_becomes": "yellow_light"}, as_of=NOW)
    assert refused.value.errors[0].field == "bell_becomes"
    with pytest.raises(AlreadyExists):
        change_rule(session, actor=world.actors["sun_hao"], rule_id=yellow.id,
                    changes={"code": "ZC-002"}, as_of=NOW)
    with pytest.raises(NotFound):
        change_rule(session, actor=world.actors["sun_hao"], rule_id=999_999, changes={}, as_of=NOW)
    assert rule_audits(session) == []


def test_rules_are_listed_by_category_and_active_flag(session, world):
    change_rule(session, actor=world.actors["sun_hao"], rule_id=world.rules["bell"].id,
                changes={"is_active": False}, as_of=NOW)
    codes = [r.code for r in list_rules(session, category=RuleCategory.INDICATOR, active=True)]
    assert codes == ["ZB-001"]


# -- calendar overrides, whitelist, routing table (admin/calendar, intake/whitelist, intake/routing) ---------------


def audits_of(session, kind):
    return session.exec(select(AuditEvent).where(AuditEvent.kind == kind)).all()


def test_sun_hao_declares_a_holiday_and_then_withdraws_it(session, world):
    from workflows.admin.calendar import (
        list_calendar_overrides,
        set_calendar_day,
        unset_calendar_day,
    )
    from workflows.core.calendar import load_calendar

    sun_hao = world.actors["sun_hao"]
    set_calendar_day(session, actor=sun_hao, day="2026-11-24", kind="holiday", name="防汛调休", as_of=NOW)
    assert not load_calendar(session).is_working_day(date(2026, 11, 24))
    assert [d.day for d in list_calendar_overrides(session, year=2026)] == [date(2026, 11, 24)]
    unset_calendar_day(session, actor=sun_hao, day=date(2026, 11, 24), as_of=NOW)
    assert load_calendar(session).is_working_day(date(2026, 11, 24))
    with pytest.raises(NotFound):
        unset_calendar_day(session, actor=sun_hao, day=date(2026, 11, 24), as_of=NOW)
    with pytest.raises(InvalidInput) as refused:
        set_calendar_day(session, actor=sun_hao, day="24/11/2026", kind="holiday", as_of=NOW)
    assert refused.value.errors[0].field == "day"
    assert [e.data["action"] for e in audits_of(session, AuditKind.CALENDAR_CHANGED)] == ["set", "unset"]


def test_sun_hao_whitelists_a_payee_approved_by_zhang_wei(session, world):
    from workflows.intake.whitelist import (
        add_whitelist_entry,
        list_whitelist,
        set_whitelist_entry_active,
        whitelist_index,
    )

    sun_hao = world.actors["sun_hao"]
    row = add_whitelist_entry(session, actor=sun_hao, kind="account", value="6222 0202 0011 2233 445",
                              reason="村级报账员代领账户，已备案", rule_code="ZC-001",
                              approved_by_id=world.users["zhang_wei"], as_of=NOW)
    assert (row.value, row.rule_code, row.approved_by_name) == ("6222020200112233445", "ZC-001", "张伟")
    index = whitelist_index(session, on=date(2026, 11, 23))
    assert index.covers(rule_id=world.rules["yellow"].id, payee_name=None, payee_account="6222020200112233445")
    assert not index.covers(rule_id=world.rules["red"].id, payee_name=None, payee_account="6222020200112233445")
    set_whitelist_entry_active(session, actor=sun_hao, entry_id=row.id, active=False, as_of=NOW)
    assert list_whitelist(session, active=True) == []
    assert len(audits_of(session, AuditKind.WHITELIST_CHANGED)) == 2
    with pytest.raises(InvalidInput) as refused:
        add_whitelist_entry(session, actor=sun_hao, kind="person", value="", reason="", rule_code="NO-1",
                            as_of=NOW)
    assert {e.field for e in refused.value.errors} == {"kind", "value", "reason", "rule_code", "approved_by_id"}


def test_sun_hao_sends_fund_risk_warnings_to_the_treasury(session, world):
    from models.enums import OrgKind
    from workflows.intake.routing import list_routes, route, set_route

    row = set_route(session, actor=world.actors["sun_hao"], warning_type="fund_risk", org_kind="treasury", as_of=NOW)
    assert (row.org_kind, row.is_default) == (OrgKind.TREASURY, False)
    assert sum(not r.is_default for r in list_routes(session)) == 1
    unit, _ = route(session, region_id=world.regions["anxian"].id, warning_type=WarningType.FUND_RISK)
    assert unit == world.units["anxian_treasury"].id
    [event] = audits_of(session, AuditKind.ROUTING_CHANGED)
    assert event.data["org_kind"] == ["agri_finance", "treasury"]
