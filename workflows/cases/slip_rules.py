"""Figures on a slip that must make sense beside the warning they are about.

- 涉及金额 is at most the warning's own payment amount (a batch slip: each case's amount,
  or their sum when the slip says its amounts are a total), unless the slip explains that
  several payments are involved (涉及多笔支付).
- 收回金额 is at most 涉及金额: the one found on the case's verification slip, or the
  payment amount of a warning raised straight as a red light.
- 整改完成日期 is not before the day the warning was raised.
- A batch slip with amounts says whether they are per case or a total.

Checked when a slip is filed (transition) and when it is amended; each refusal is an
InvalidInput naming the field and the limit.
"""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseSlip, Slip
from models.enums import AmountBasis, SlipKind
from models.settings import get_settings
from workflows.cases.slips import SlipInput
from workflows.core.calendar import local_date
from workflows.core.errors import FieldError, InvalidInput


def needs_normal_review(payment: Decimal | None) -> bool:
    """Whether a normal conclusion on this payment waits for the supervisor's sign-off."""
    return payment is not None and payment > get_settings().normal_review_above_yuan


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def check_figures(
    session: Session, *, slip: SlipInput, case_ids: list[int], prefix: str = "slip"
) -> None:
    """Raise InvalidInput naming every figure of `slip` that the covered cases refute."""
    cases = session.connection().execute(
        sa.select(Case.id, Case.number, Case.amount, Case.raised_at).where(Case.id.in_(case_ids))
    ).all()
    errors: list[FieldError] = []
    batch = len(cases) > 1
    has_amount = (
        slip.amount_involved if slip.kind == SlipKind.VERIFICATION else slip.amount_recovered
    ) is not None
    if batch and has_amount and slip.amount_basis is None:
        errors.append(FieldError(f"{prefix}.amount_basis", "required",
                                 "批量处理单填写金额时，须说明金额为每件金额还是合计金额"))  # fmt: skip
    total = not batch or slip.amount_basis == AmountBasis.TOTAL
    if slip.kind == SlipKind.VERIFICATION:
        errors += _involved(slip, cases, total, prefix)
    else:
        errors += _recovered(session, slip, cases, total, prefix)
        errors += _completed(slip, cases, prefix)
    if errors:
        raise InvalidInput("处理单金额或日期不合理，请按提示修改", errors=errors)


def _involved(slip: SlipInput, cases, total: bool, prefix: str) -> list[FieldError]:
    if slip.amount_involved is None or slip.multiple_payments_reason:
        return []
    amounts = [c.amount for c in cases]
    if any(a is None for a in amounts):
        return []  # a warning without a payment amount sets no limit
    limit = sum(amounts, Decimal("0")) if total else min(amounts)
    if slip.amount_involved <= limit:
        return []
    what = "预警支付金额合计" if total and len(cases) > 1 else "预警支付金额"
    if not total:
        what = "每件预警的支付金额（最小）"
    return [FieldError(
        f"{prefix}.amount_involved", "over_limit",
        f"涉及金额不能超过{what} {_yuan(limit)} 元；确涉及多笔支付的，请填写“涉及多笔支付”说明",
    )]  # fmt: skip


def _involved_of(session: Session, case) -> Decimal | None:
    """The amount involved for one case: its latest violation finding, else its payment.
    (A batch finding given as a total is the most any one of its cases can involve.)"""
    slips, links = Slip.__table__, CaseSlip.__table__
    found = session.connection().execute(
        sa.select(slips.c.amount_involved)
        .join(links, links.c.slip_id == slips.c.id)
        .where(links.c.case_id == case.id, slips.c.kind == SlipKind.VERIFICATION,
               slips.c.amount_involved.is_not(None))
        .order_by(slips.c.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    return case.amount if found is None else found.amount_involved


def _recovered(session, slip: SlipInput, cases, total: bool, prefix: str) -> list[FieldError]:
    if slip.amount_recovered is None:
        return []
    involved = [_involved_of(session, c) for c in cases]
    if any(a is None for a in involved):
        return []
    limit = sum(involved, Decimal("0")) if total else min(involved)
    if slip.amount_recovered <= limit:
        return []
    what = "涉及金额合计" if total and len(cases) > 1 else "涉及金额"
    if not total:
        what = "每件预警的涉及金额（最小）"
    return [FieldError(f"{prefix}.amount_recovered", "over_limit",
                       f"收回金额不能超过{what} {_yuan(limit)} 元")]  # fmt: skip


def _completed(slip: SlipInput, cases, prefix: str) -> list[FieldError]:
    if slip.completed_on is None or not cases:
        return []
    raised: date = max(local_date(c.raised_at) for c in cases)
    if slip.completed_on >= raised:
        return []
    return [FieldError(f"{prefix}.completed_on", "before_warning",
                       f"整改完成日期不能早于预警产生日期 {raised:%Y年%m月%d日}")]  # fmt: skip
