"""Telling people about reviews: the supervisors of a department when something waits for
their review, the handler when a review is decided (inbox, and robot/e-mail by preference)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import User
from models.enums import Role
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
