"""Telling people about reviews: the supervisors of a department when something waits for
their review, the handler when a review is decided (inbox, and robot/e-mail by preference)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import User
from models.enums import Event, Role, State
from models.notifications import NotificationKind
from workflows.core import notify


def supervisors_of(session: Session, org_unit_id: int) -> list[int]:
    return list(session.connection().execute(
        sa.select(User.id).where(
            User.org_unit_id == org_unit_id, User.role == Role.SUPERVISOR, User.is_active.is_(True)
        ).order_by(User.id)
    ).scalars())  # fmt: skip


def tell_supervisors(
    session: Session, *, org_unit_id: int, case_id: int, number: str, text: str, key: str,
    as_of: datetime,
) -> int:  # fmt: skip
    """News for the department's supervisors that a case waits for their review."""
    items = notify.news_for(
        supervisors_of(session, org_unit_id), kind=NotificationKind.REVIEW_REQUEST, subject=text,
        body=text, key=key, case_id=case_id, link=f"/cases/{number}",
    )  # fmt: skip
    return notify.queue(session, items=items, as_of=as_of)


def tell_handler(
    session: Session, *, user_id: int | None, case_id: int, number: str, text: str, key: str,
    as_of: datetime,
) -> int:  # fmt: skip
    """News for the case's handler that their review was decided."""
    items = notify.news_for(
        [user_id], kind=NotificationKind.REVIEW_DECIDED, subject=text, body=text, key=key,
        case_id=case_id, link=f"/cases/{number}",
    )  # fmt: skip
    return notify.queue(session, items=items, as_of=as_of)


# Which accepted events are news for whom: a review waiting (the department's supervisors)
# or a review decided (the case's handler), and the words of the message.
REVIEW_NEWS: dict[Event, tuple[str, str]] = {
    Event.SUBMIT_RECTIFICATION: ("supervisors", "整改处理单待审核"),
    Event.REQUEST_REVERIFY: ("supervisors", "重新核实申请待审核"),
    Event.SUBMIT_VERIFICATION: ("supervisors", "认定正常待审核"),
    Event.COMPLETE_DUTY: ("supervisors", "按时履职待审核，审核后解除警铃"),
    Event.APPROVE_CLEARANCE: ("handler", "同意解除警铃"),
    Event.REJECT_CLEARANCE: ("handler", "解除警铃被退回"),
    Event.APPROVE_NORMAL: ("handler", "同意认定正常"),
    Event.REJECT_NORMAL: ("handler", "认定正常被退回，请重新核实"),
    Event.APPROVE_RECTIFICATION: ("handler", "整改审核通过"),
    Event.REJECT_RECTIFICATION: ("handler", "整改被退回"),
    Event.APPROVE_REVERIFY: ("handler", "同意重新核实"),
    Event.REJECT_REVERIFY: ("handler", "重新核实申请被驳回"),
}


def tell_about_review(
    session: Session, *, event: Event, case_id: int, number: str, org_unit_id: int,
    assignee_id: int | None, version: int, comment: str | None, as_of: datetime,
    to_state: State | None = None,
) -> None:  # fmt: skip
    """The news an accepted event carries, if any (REVIEW_NEWS); a send-back gives its reason."""
    news = REVIEW_NEWS.get(event)
    # A verification or a duty report is news only when it waits for review.
    waits = {Event.SUBMIT_VERIFICATION: State.NORMAL_REVIEW, Event.COMPLETE_DUTY: State.CLEARANCE_REVIEW}
    if news is None or (event in waits and to_state != waits[event]):
        return
    whom, words = news
    comment = (comment or "").strip()
    text = f"案件 {number}：{words}" + (f"。理由：{comment}" if comment else "")
    key = f"review:{case_id}:{version}"
    if whom == "supervisors":
        tell_supervisors(session, org_unit_id=org_unit_id, case_id=case_id, number=number,
                         text=text, key=key, as_of=as_of)  # fmt: skip
    else:
        tell_handler(session, user_id=assignee_id, case_id=case_id, number=number, text=text,
                     key=key, as_of=as_of)  # fmt: skip
