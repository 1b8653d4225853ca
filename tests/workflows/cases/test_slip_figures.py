"""Figures that make sense: 涉及金额 within the payment (or 涉及多笔支付 said), 收回金额 within
涉及金额, 整改完成日期 not before the warning, batch slips per case or total — and the
monthly figures counting them the way the slip says."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from models import Case
from models.enums import AmountBasis, Conclusion, Event
from tests.factories import NOW, new_case, rectification_slip, verification_slip
from workflows.cases.amend import amend_slip
from workflows.cases.transition import transition, transition_many
from workflows.core.errors import InvalidInput
from workflows.reporting.figures import compute_figures

PAYMENT = "1039758.89"


def act(session, world, case_id, event, who="li_na", **kw):
    return transition(session, case_id=case_id, event=event, actor=world.actors[who],
                      version=session.get(Case, case_id).version, as_of=NOW, **kw)  # fmt: skip


def refused_fields(error) -> dict[str, str]:
    return {e.field: e.message for e in error.value.errors}


def test_an_amount_involved_above_the_payment_is_refused_naming_the_limit(session, world):
    # The demo accepted 99,999,999,999.00 on a payment of 1,039,758.89.
    case_id = new_case(session, world, "yellow", amount=PAYMENT)
    huge = verification_slip().model_copy(update={"amount_involved": Decimal("99999999999.00")})
    with pytest.raises(InvalidInput) as refused:
        act(session, world, case_id, Event.SUBMIT_VERIFICATION, slip=huge)
    message = refused_fields(refused)["slip.amount_involved"]
    assert "涉及金额不能超过预警支付金额 1,039,758.89 元" in message and "涉及多笔支付" in message
    assert session.get(Case, case_id).version == 1  # nothing written
    # Said explicitly, several payments may be involved.
    several = huge.model_copy(update={"amount_involved": Decimal("2000000.00"),
                                      "multiple_payments_reason": "同一收款人另有两笔同类支付"})  # fmt: skip
    assert act(session, world, case_id, Event.SUBMIT_VERIFICATION, slip=several).slip_id


def test_recovered_above_involved_and_a_completion_before_the_warning_are_refused(session, world):
    case_id = new_case(session, world, "yellow", amount=PAYMENT)
    act(session, world, case_id, Event.SUBMIT_VERIFICATION, slip=verification_slip())  # 12,345.67
    wrong = rectification_slip().model_copy(
        update={"amount_recovered": Decimal("20000.00"), "completed_on": date(2020, 1, 1)}
    )
    with pytest.raises(InvalidInput) as refused:
        act(session, world, case_id, Event.SUBMIT_RECTIFICATION, slip=wrong)
    fields = refused_fields(refused)
    assert fields["slip.amount_recovered"] == "收回金额不能超过涉及金额 12,345.67 元"
    assert fields["slip.completed_on"] == "整改完成日期不能早于预警产生日期 2026年11月23日"


def test_amending_is_held_to_the_same_limits(session, world):
    case_id = new_case(session, world, "red", amount="5000.00")
    slip_id = act(session, world, case_id, Event.SUBMIT_RECTIFICATION,
                  slip=rectification_slip().model_copy(update={"amount_recovered": Decimal("5000.00")})).slip_id  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        amend_slip(session, slip_id=slip_id, version=1, reason="改金额", actor=world.actors["li_na"],
                   as_of=NOW + timedelta(hours=1),
                   changes=rectification_slip().model_copy(update={"amount_recovered": Decimal("5000.01")}))  # fmt: skip
    assert refused_fields(refused)["slip.amount_recovered"] == "收回金额不能超过涉及金额 5,000.00 元"


def batch(session, world, slip, amounts=("1000.00", "3000.00")):
    ids = [new_case(session, world, "red", amount=a) for a in amounts]
    return transition_many(
        session, cases=[(i, session.get(Case, i).version) for i in ids],
        event=Event.SUBMIT_RECTIFICATION, actor=world.actors["li_na"], as_of=NOW, slip=slip,
    )  # fmt: skip


def test_a_batch_slip_says_per_case_or_total_and_is_checked_that_way(session, world):
    slip = rectification_slip().model_copy(update={"amount_recovered": Decimal("2000.00")})
    with pytest.raises(InvalidInput) as unsaid:
        batch(session, world, slip)
    assert "slip.amount_basis" in refused_fields(unsaid)
    with pytest.raises(InvalidInput) as per_case:
        batch(session, world, slip.model_copy(update={"amount_basis": AmountBasis.PER_CASE}))
    assert "每件预警的涉及金额（最小） 1,000.00 元" in refused_fields(per_case)["slip.amount_recovered"]
    assert batch(session, world, slip.model_copy(update={"amount_basis": AmountBasis.TOTAL}))


@pytest.mark.parametrize("basis,counted", [(AmountBasis.PER_CASE, "2000.00"), (AmountBasis.TOTAL, "1000.00")])
def test_the_monthly_figures_count_a_batch_slip_as_it_says(session, world, basis, counted):
    slip = rectification_slip(basis).model_copy(update={"amount_recovered": Decimal("1000.00")})
    batch(session, world, slip)
    figures = compute_figures(session, region_id=world.regions["anxian"].id, month=date(2026, 11, 1),
                              as_of=NOW + timedelta(days=8))  # fmt: skip
    assert figures["headline"]["amount_recovered_yuan"] == counted


def test_a_normal_conclusion_needs_no_amount_and_is_not_limited(session, world):
    case_id = new_case(session, world, "yellow", amount="10.00")
    assert act(session, world, case_id, Event.SUBMIT_VERIFICATION,
               slip=verification_slip(Conclusion.NORMAL)).to_state.value == "green"  # fmt: skip
