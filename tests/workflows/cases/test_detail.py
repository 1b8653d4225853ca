"""The case page's data: facts with the account masked, the rule, the timeline, the slips and
what the reader may do next; nobody outside the case's scope learns anything."""

import pytest

from models import Case
from models.enums import Conclusion, Event, Level, Resolution, Role, SlipKind, State
from tests.factories import NOW, new_case, rectification_slip, verification_slip
from workflows.cases.detail import get_case_detail, mask_account
from workflows.cases.transition import transition
from workflows.core.errors import NotFound, OutOfScope, RoleNotAllowed


def act(session, world, case_id, event, who="li_na", **kw):
    case = session.get(Case, case_id)
    session.refresh(case)
    return transition(
        session, case_id=case_id, event=event, actor=world.actors[who],
        version=case.version, as_of=NOW, **kw,
    )  # fmt: skip


def number_of(session, case_id) -> str:
    return session.get(Case, case_id).number


def test_li_na_reads_the_facts_with_the_payees_account_masked(session, world):
    number = number_of(session, new_case(session, world, "yellow"))
    detail = get_case_detail(session, actor=world.actors["li_na"], number=number, as_of=NOW)
    assert detail.row.number == number and detail.version == 1
    assert detail.row.state == State.YELLOW_LIGHT and detail.row.level == Level.YELLOW_LIGHT
    assert detail.fields["payee_account"] == "6222 **** **** 3445"
    assert detail.facts["收款人账户"] == "6222 **** **** 3445"
    assert detail.facts["资金名称"] == "中央财政衔接推进乡村振兴补助资金"
    assert str(detail.facts["金额（元）"]) == "12345.67"
    assert detail.rule.code == "ZC-001" and detail.rule.basis.startswith("豫财办")
    assert detail.raised_level == Level.YELLOW_LIGHT and detail.due_on == detail.row.due_on
    assert [e.event for e in detail.timeline] == [Event.RAISE]
    assert detail.timeline[0].actor_name == "监控平台接口"
    assert detail.slips == []
    assert detail.allowed_events == [Event.START_VERIFY, Event.SUBMIT_VERIFICATION]


def test_the_timeline_and_slips_follow_the_case_through_verification_and_rectification(
    session, world
):
    case_id = new_case(session, world, "yellow")
    act(session, world, case_id, Event.START_VERIFY)
    act(
        session,
        world,
        case_id,
        Event.SUBMIT_VERIFICATION,
        slip=verification_slip(Conclusion.VIOLATION),
    )
    act(session, world, case_id, Event.SUBMIT_RECTIFICATION, slip=rectification_slip())
    act(
        session, world, case_id, Event.REJECT_RECTIFICATION, who="zhang_wei", comment="缺少银行回单"
    )
    number = number_of(session, case_id)

    detail = get_case_detail(session, actor=world.actors["zhang_wei"], number=number, as_of=NOW)
    assert detail.row.state == State.RECTIFYING and detail.version == 5
    assert [e.seq for e in detail.timeline] == [1, 2, 3, 4, 5]
    reject = detail.timeline[-1]
    assert reject.event == Event.REJECT_RECTIFICATION and reject.event_label == "退回整改"
    assert reject.actor_name == "张伟" and reject.actor_role_label == Role.SUPERVISOR.label
    assert reject.comment == "缺少银行回单"
    assert (reject.from_state, reject.to_state) == (State.RECTIFICATION_REVIEW, State.RECTIFYING)
    verified = detail.timeline[2]
    assert verified.slip_number.startswith("HS-") and verified.slip_id == detail.slips[0].id
    assert [s.kind for s in detail.slips] == [SlipKind.VERIFICATION, SlipKind.RECTIFICATION]
    assert detail.slips[0].conclusion == Conclusion.VIOLATION
    assert detail.slips[0].filed_by_name == "李娜" and detail.slips[0].attachments_count == 0
    assert detail.allowed_events == [Event.TRANSFER, Event.REASSIGN]


def test_a_closed_case_offers_nothing_and_shows_its_resolution(session, world):
    case_id = new_case(session, world, "yellow")
    act(
        session,
        world,
        case_id,
        Event.SUBMIT_VERIFICATION,
        slip=verification_slip(Conclusion.NORMAL),
    )
    detail = get_case_detail(
        session, actor=world.actors["li_na"], number=number_of(session, case_id), as_of=NOW
    )
    assert detail.resolution == Resolution.NORMAL and detail.closed_at is not None
    assert detail.allowed_events == [] and detail.row.working_days_left is None


def test_the_auditor_reads_any_case_but_may_do_nothing(session, world):
    number = number_of(
        session, new_case(session, world, "red", region="ningxian", unit="ningxian_agri")
    )
    detail = get_case_detail(session, actor=world.actors["liu_yang"], number=number, as_of=NOW)
    assert detail.row.region_name == "宁县" and detail.allowed_events == []


@pytest.mark.parametrize("who", ["zhao_lei", "chen_jie", "ningxian_boss"])
def test_someone_outside_the_cases_scope_is_refused(session, world, who):
    number = number_of(session, new_case(session, world, "yellow"))
    with pytest.raises(OutOfScope):
        get_case_detail(session, actor=world.actors[who], number=number, as_of=NOW)


def test_an_unknown_number_is_not_found(session, world):
    with pytest.raises(NotFound):
        get_case_detail(session, actor=world.actors["li_na"], number="YJ-209901-000001", as_of=NOW)


@pytest.mark.parametrize("who", ["sun_hao", "platform"])
def test_the_admin_and_the_platform_may_not_read_a_case(session, world, who):
    number = number_of(session, new_case(session, world, "yellow"))
    with pytest.raises(RoleNotAllowed):
        get_case_detail(session, actor=world.actors[who], number=number, as_of=NOW)


@pytest.mark.parametrize(
    ("account", "masked"),
    [
        ("6222020200112233445", "6222 **** **** 3445"),
        ("6222-0202-0011-2233", "6222 **** **** 2233"),
        ("1234567", "**** 4567"),
        ("123", "***"),
        ("", None),
        (None, None),
    ],
)
def test_accounts_are_masked_like_the_printed_forms(account, masked):
    assert mask_account(account) == masked
