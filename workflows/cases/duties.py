"""A yellow bell's duty reported done (Changchun art. 19, 22): it clears the bell only when
done on time.

The monitoring platform's account reports the moment the duty was done (`done_at`). Done on
or before the bell's deadline, the bell clears (按时履职，解除警铃); done later, the bell
converts into the light its rule names exactly as if the deadline had passed — the sweep's
event, with the moment recorded — never "cleared on time".
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import Case
from models.enums import Event, Role, State
from workflows.cases.transition import TransitionResult, transition
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ, local_date
from workflows.core.errors import InvalidInput, InvalidState, NotFound, RoleNotAllowed
from workflows.core.roles import PLATFORM

# The platform's account, or the system itself (a job reading the platform's data).
REPORTERS = PLATFORM | {Role.SYSTEM}


@dataclass(frozen=True)
class DutyOutcome:
    on_time: bool
    result: TransitionResult


def report_duty_done(
    session: Session, *, actor: Actor, source: str, external_id: str, done_at: datetime,
    as_of: datetime,
) -> DutyOutcome:  # fmt: skip
    """The platform says the duty of warning (source, external_id) was done at `done_at`."""
    if actor.role not in REPORTERS:
        raise RoleNotAllowed(f"履职完成情况由监控平台接口报送，您的角色是{actor.role.label}")
    if done_at.tzinfo is None:
        raise InvalidInput.single("done_at", "naive", "done_at 须带时区，例如 2026-11-27T10:00:00+08:00")
    if done_at > as_of:
        raise InvalidInput.single("done_at", "future", "履职完成时间（done_at）不能晚于当前时间")
    case = session.connection().execute(
        sa.select(Case.id, Case.number, Case.state, Case.version, Case.due_on)
        .where(Case.source == source, Case.external_id == external_id)
    ).one_or_none()
    if case is None:
        raise NotFound("预警不存在")
    if case.state != State.YELLOW_BELL:
        raise InvalidState(f"案件 {case.number} 当前状态为“{State(case.state).label}”，不是待履职的黄色警铃")
    done_on = local_date(done_at)
    moment = f"{done_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"
    if case.due_on is None or done_on <= case.due_on:
        result = transition(
            session, case_id=case.id, event=Event.COMPLETE_DUTY, actor=actor, version=case.version,
            as_of=as_of, comment=f"监控平台报送：履职完成于 {moment}（期限 {case.due_on}）",
        )  # fmt: skip
        return DutyOutcome(True, result)
    result = transition(
        session, case_id=case.id, event=Event.BELL_DEADLINE_PASSED, actor=Actor.system(),
        version=case.version, as_of=as_of,
        comment=f"监控平台报送：履职完成于 {moment}，晚于期限 {case.due_on}，按逾期未履职转为预警",
    )  # fmt: skip
    return DutyOutcome(False, result)
