"""按期办结 means closed by the deadline of the step it was closed from (not "never
escalated"), and the report totals the warnings' own payment amounts beside 涉及金额 and
收回金额. Li Na (安县农财股) closes three yellow lights in November 2026: one within its
deadline, one after it although the deadline ladder never ran (so nobody escalated it), and
one on its deadline day."""

from datetime import date
from decimal import Decimal

from models import Case
from models.enums import Conclusion, Event
from tests.factories import new_case, verification_slip
from tests.monthly_scenario import DRAFT_AT, MONTH, shanghai
from workflows.cases.transition import transition
from workflows.reporting.figures import compute_figures


def verify_normal(session, world, case_id, at):
    transition(session, case_id=case_id, event=Event.SUBMIT_VERIFICATION,
               actor=world.actors["li_na"], version=session.get(Case, case_id).version,
               as_of=at, slip=verification_slip(Conclusion.NORMAL))  # fmt: skip


def test_on_time_means_closed_by_the_deadline_and_payments_are_totalled(session, world):
    in_time = new_case(session, world, "yellow", at=shanghai(11, 16), amount="10000.00")
    late = new_case(session, world, "yellow", at=shanghai(11, 2), amount="20000.50")
    on_the_day = new_case(session, world, "yellow", at=shanghai(11, 9), amount="30000.00")
    due = {key: session.get(Case, cid).due_on for key, cid in
           (("in_time", in_time), ("late", late), ("on_the_day", on_the_day))}  # fmt: skip
    assert due["late"] < date(2026, 11, 20)
    verify_normal(session, world, in_time, shanghai(11, 17))
    verify_normal(session, world, late, shanghai(11, 20))  # after its deadline, never escalated
    verify_normal(session, world, on_the_day, shanghai(due["on_the_day"].month,
                                                       due["on_the_day"].day, 17))  # fmt: skip
    figures = compute_figures(session, region_id=world.regions["anxian"].id, month=MONTH,
                              as_of=DRAFT_AT)  # fmt: skip
    headline = figures["headline"]
    assert headline["resolved"] == 3
    assert headline["on_time_rate"] == {"numerator": 2, "denominator": 3, "percent": "66.67"}
    assert headline["amount_paid_yuan"] == "60000.50"
    assert headline["amount_paid_wan"] == "6.00"
    assert Decimal(headline["amount_involved_yuan"]) == 0  # all normal: nothing involved
    assert "办理期限" in figures["definitions"]["on_time_rate"]
    # The city's figures total the same payments.
    city = compute_figures(session, region_id=world.regions["city"].id, month=MONTH, as_of=DRAFT_AT)
    assert city["headline"]["amount_paid_yuan"] == "60000.50"
