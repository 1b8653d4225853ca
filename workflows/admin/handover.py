"""Where a leaving account's open cases go (a change of role or unit, or a revocation).

The administrator says it, in the same transaction as the change: to a named handler of the
case's department, or back to the department's queue (no assignee: any handler of the
department may take it). Each moved case gets a 改派 event on its timeline and a new version,
so an edit still holding the old version is refused instead of overwriting the move.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from models import Case, CaseEvent, User
from models.enums import OPEN_STATES as OPEN
from models.enums import Event, Role
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput


@dataclass(frozen=True)
class Handover:
    """`to_user_id` a handler, or None for the department's queue."""

    to_user_id: int | None = None

    @classmethod
    def from_choice(cls, *, to_user_id: int | None, to_queue: bool | None) -> "Handover | None":
        if to_user_id is not None:
            return cls(to_user_id)
        return cls(None) if to_queue else None


def open_cases_of(session: Session, user_id: int) -> list[Case]:
    return list(session.exec(
        select(Case).where(Case.assignee_id == user_id, Case.state.in_(OPEN)).order_by(Case.id)
    ).all())


def hand_over_cases(
    session: Session, *, actor: Actor, user: User, handover: Handover | None, as_of: datetime
) -> list[str]:
    """Move `user`'s open cases as `handover` says; returns the moved case numbers."""
    cases = open_cases_of(session, user.id)
    if not cases:
        return []
    if handover is None:
        raise InvalidInput.single(
            "handover", "required",
            f"{user.full_name} 名下有 {len(cases)} 件未办结的预警，请指定移交给本处室的经办人，"
            "或退回处室待分派队列",
        )
    target = None
    if handover.to_user_id is not None:
        target = session.get(User, handover.to_user_id)
        units = {c.org_unit_id for c in cases}
        if (target is None or target.id == user.id or not target.is_active
                or target.role != Role.HANDLER or units != {target.org_unit_id}):
            raise InvalidInput.single(
                "handover_to_id", "invalid_assignee", "接收人须为该处室在岗的其他经办人"
            )
    where = f"移交给 {target.full_name}" if target else "退回处室待分派队列"
    for case in cases:
        case.version += 1
        case.assignee_id = target.id if target else None
        case.updated_at = as_of
        session.add(case)
        session.add(CaseEvent(
            case_id=case.id, seq=case.version, event=Event.REASSIGN, from_state=case.state,
            to_state=case.state, actor_id=actor.user_id, actor_role=actor.role, at=as_of,
            comment=f"账户变更，原经办人 {user.full_name} 的案件{where}", due_on=case.due_on,
            data={"from_user_id": user.id, "to_user_id": target.id if target else None,
                  "reason": "account_change"},
        ))
    session.flush()
    return [c.number for c in cases]


def count_open_cases(session: Session, user_id: int) -> int:
    return session.exec(
        select(sa.func.count()).select_from(Case).where(Case.assignee_id == user_id, Case.state.in_(OPEN))
    ).one()
