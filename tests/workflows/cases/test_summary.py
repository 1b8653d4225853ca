"""The per-rule summary table after cases have been driven through their lifecycle."""

from decimal import Decimal

import pytest

from models import Case
from models.enums import Conclusion, Event
from tests.factories import NOW, new_case, rectification_slip, verification_slip
from workflows.cases.summary import rule_summary, totals
from workflows.cases.transition import transition
from workflows.core.errors import InvalidInput, RoleNotAllowed

REASON = {"comment": "移交县纪委监委处理"}


def drive(session, world, rule, steps, **case_kw) -> int:
    case_id = new_case(session, world, rule, **case_kw)
    for event, who, kw in steps:
        case = session.get(Case, case_id)
        session.refresh(case)
        transition(
            session, case_id=case_id, event=event, actor=world.actors[who],
            version=case.version, as_of=NOW, **kw,
        )  # fmt: skip
    return case_id


VIOLATION = (Event.SUBMIT_VERIFICATION, "li_na", {"slip": verification_slip(Conclusion.VIOLATION)})
NORMAL = (Event.SUBMIT_VERIFICATION, "li_na", {"slip": verification_slip(Conclusion.NORMAL)})
RECTIFY = (Event.SUBMIT_RECTIFICATION, "li_na", {"slip": rectification_slip()})
APPROVE = (Event.APPROVE_RECTIFICATION, "zhang_wei", {})


@pytest.fixture
def driven(session, world):
    # Yellow lights: 2 suspicious, 1 normal, 1 violation open, 1 violation rectified.
    drive(session, world, "yellow", [])
    drive(session, world, "yellow", [(Event.START_VERIFY, "li_na", {})])
    drive(session, world, "yellow", [NORMAL])
    drive(session, world, "yellow", [VIOLATION])
    drive(session, world, "yellow", [VIOLATION, RECTIFY, APPROVE])
    # Red lights: 2 open (one under review), 1 rectified, 1 transferred.
    drive(session, world, "red", [])
    drive(session, world, "red", [RECTIFY])
    drive(session, world, "red", [RECTIFY, APPROVE])
    drive(session, world, "red", [(Event.TRANSFER, "zhang_wei", REASON)])
    # Bells: 1 open, 1 cleared; a bell whose rule turns it red once its deadline passed.
    drive(session, world, "bell", [])
    drive(session, world, "bell", [
        (Event.COMPLETE_DUTY, "li_na", {"comment": "已按时上传扫描件", "data": {"done_at": "2026-11-23"}}),
        (Event.APPROVE_CLEARANCE, "zhang_wei", {}),
    ])  # fmt: skip
    drive(session, world, "bell_red", [(Event.BELL_DEADLINE_PASSED, "system", {})])
    # Out of Li Na's reach: Ningxian.
    drive(session, world, "yellow", [], region="ningxian", unit="ningxian_agri", assignee="zhao_lei",
          amount="100.00")  # fmt: skip


def by_code(rows):
    return {r.rule_code: r for r in rows}


def test_li_na_sees_her_departments_counts_on_the_track_each_case_came_in_on(
    session, world, driven
):
    rows = by_code(rule_summary(session, actor=world.actors["li_na"], as_of=NOW))
    assert list(rows) == ["ZB-001", "ZB-002", "ZC-001", "ZC-002"]
    yellow, red, bell, bell_red = rows["ZC-001"], rows["ZC-002"], rows["ZB-002"], rows["ZB-001"]
    assert (yellow.yellow_suspicious, yellow.yellow_normal) == (2, 1)
    assert (yellow.yellow_violation_open, yellow.yellow_violation_rectified) == (1, 1)
    assert (yellow.red_open, yellow.red_rectified, yellow.total) == (0, 0, 5)
    assert yellow.amount_total == Decimal("61728.35")
    assert (red.red_open, red.red_rectified, red.transferred, red.total) == (2, 1, 1, 4)
    assert red.yellow_suspicious == red.yellow_violation_open == 0
    assert (bell.bell_open, bell.bell_rectified, bell.total) == (1, 1, 2)
    assert (bell_red.bell_open, bell_red.red_open, bell_red.yellow_violation_open) == (0, 1, 0)


def test_the_auditor_counts_every_county_and_a_region_narrows_it(session, world, driven):
    province = by_code(rule_summary(session, actor=world.actors["liu_yang"], as_of=NOW))
    assert province["ZC-001"].yellow_suspicious == 3
    assert province["ZC-001"].amount_total == Decimal("61828.35")
    ningxian = by_code(
        rule_summary(session, actor=world.actors["liu_yang"], as_of=NOW, region="410122")
    )
    assert ningxian["ZC-001"].total == 1 and ningxian["ZC-002"].total == 0
    assert ningxian["ZC-002"].amount_total == Decimal("0.00")


def test_chen_jie_sees_every_rule_with_zeros(session, world, driven):
    rows = rule_summary(session, actor=world.actors["chen_jie"], as_of=NOW)
    assert len(rows) == 4 and all(r.total == 0 for r in rows)
    assert totals(rows)["total"] == 0


def test_totals_add_up_the_rules(session, world, driven):
    sums = totals(rule_summary(session, actor=world.actors["li_na"], as_of=NOW))
    assert sums["total"] == 12 and sums["red_open"] == 3
    assert sums["amount_total"] == Decimal("12345.67") * 12


def test_an_unknown_region_is_refused(session, world):
    with pytest.raises(InvalidInput) as error:
        rule_summary(session, actor=world.actors["liu_yang"], as_of=NOW, region="999999")
    assert error.value.errors[0].field == "region"


def test_the_admin_gets_no_summary(session, world):
    with pytest.raises(RoleNotAllowed):
        rule_summary(session, actor=world.actors["sun_hao"], as_of=NOW)
