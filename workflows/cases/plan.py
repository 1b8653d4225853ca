"""What an event on a case will write, decided before anything is written: the case's context
(one indexed read), the lifecycle's checks (workflows/core/machine.py), the step's input, the
outcome and its deadline, and the columns of the guarded UPDATE and of the event row. The
portable write (workflows/cases/transition.py) and the PostgreSQL one
(workflows/cases/transition_pg.py) both apply a `Plan`."""

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import Session

from models import Case, Region, Rule, User
from models.enums import Event, Level, Role, SignoffDecision, State
from models.settings import get_settings
from workflows.cases.duty_rules import DATA_REPORTERS, done_in_time, needs_clearance_review
from workflows.cases.lifecycle import CASE_MACHINE, Branch, Deadline, Outcome, Step
from workflows.cases.slip_rules import needs_normal_review
from workflows.cases.slips import SlipInput
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.calendar import WorkingCalendar, local_date
from workflows.core.errors import InvalidInput, NotFound

CASES = Case.__table__

# Everything a step on a case needs to decide, in one indexed read.
CONTEXT = (
    sa.select(
        CASES.c.id,
        CASES.c.number,
        CASES.c.state,
        CASES.c.version,
        CASES.c.org_unit_id,
        CASES.c.assignee_id,
        CASES.c.due_on,
        CASES.c.duty_due_on,
        CASES.c.amount,
        CASES.c.entered_step_at,
        CASES.c.escalation_level,
        Region.__table__.c.path.label("region_path"),
        Rule.__table__.c.verify_days,
        Rule.__table__.c.rectify_days,
        Rule.__table__.c.review_days,
        Rule.__table__.c.bell_becomes,
    )
    .join(Region.__table__, Region.__table__.c.id == CASES.c.region_id)
    .join(Rule.__table__, Rule.__table__.c.id == CASES.c.rule_id)
)
# Built once: SQLAlchemy derives a cache key from every statement it is given, which costs
# more CPU per call than the database spends running this one.
CONTEXT_BY_ID = CONTEXT.where(CASES.c.id == sa.bindparam("case_id"))
CONTEXT_BY_NUMBER = CONTEXT.where(CASES.c.number == sa.bindparam("number"))
ContextRow = namedtuple("ContextRow", [c.name for c in CONTEXT_BY_ID.selected_columns])


@dataclass(frozen=True)
class TransitionResult:
    case_id: int
    number: str
    event: Event
    from_state: State
    to_state: State
    version: int
    due_on: date | None
    slip_id: int | None


@dataclass(frozen=True)
class Plan:
    context: Row
    step: Step
    outcome: Outcome
    due_on: date | None
    # What due_on counts from (models/cases.py); unused when the step keeps its deadline.
    due_from: date | None = None
    due_days: int | None = None
    data: dict = field(default_factory=dict)  # the event's own data (a duty's done_at)


def who(context) -> str:
    """The case as refusals name it."""
    return f"案件 {context.number} "


def parse_event(event: Event | str) -> Event:
    try:
        return Event(event)
    except ValueError:
        raise InvalidInput.single("event", "unknown_event", f"未知的操作：{event}") from None


def load_context(session: Session, case_id: int) -> Row:
    context = session.connection().execute(CONTEXT_BY_ID, {"case_id": case_id}).one_or_none()
    if context is None:
        raise NotFound("案件不存在")
    return context


def plan(
    session: Session, context: Row, event: Event, actor: Actor, version: int, as_of: datetime,
    slip: SlipInput | None, comment: str | None, assignee_id: int | None, calendar: WorkingCalendar,
    data: dict | None = None,
) -> Plan:  # fmt: skip
    """The lifecycle's decision for this event, or the refusal (nothing written). `data`: what
    the event row records beside its columns (a duty's done_at, its evidence)."""
    state = State(context.state)
    step = machine.check(
        CASE_MACHINE, who=who(context), state=state, event=event, event_label=event.label,
        state_label=state.label, actor=actor, version=version, current=context.version,
        in_scope=actor.role == Role.SYSTEM
        or actor.in_scope(region_path=context.region_path, org_unit_id=context.org_unit_id),
    )  # fmt: skip
    _check_input(session, context, step, as_of, slip, comment, assignee_id)
    if step.needs_done_at:
        _check_done_at(context, data or {})
    outcome = step.outcomes[_branch_key(step, context, slip, actor)]
    due_from, due_days = _deadline_basis(outcome.deadline, context, local_date(as_of))
    if outcome.deadline == Deadline.KEEP:
        due_on = context.due_on
    elif due_from is None:
        due_on = None
    else:
        due_on = calendar.add_working_days(due_from, due_days)
    return Plan(context=context, step=step, outcome=outcome, due_on=due_on, due_from=due_from,
                due_days=due_days, data=dict(data or {}))  # fmt: skip


def _check_input(
    session: Session, context: Row, step: Step, as_of: datetime, slip: SlipInput | None,
    comment: str | None, assignee_id: int | None,
) -> None:  # fmt: skip
    if step.slip is not None:
        if slip is None:
            raise InvalidInput.single("slip", "required", f"此操作须填写{step.slip.label}")
        if slip.kind != step.slip:
            raise InvalidInput.single("slip.kind", "wrong_kind", f"此操作须填写{step.slip.label}")
        slip.check(today=local_date(as_of))
    elif slip is not None:
        raise InvalidInput.single("slip", "not_expected", "此操作不需要处理单")
    if step.needs_comment and not (comment or "").strip():
        raise InvalidInput.single("comment", "required", "请填写原因或意见")
    if step.needs_assignee:
        _check_assignee(session, context, assignee_id)


def _check_assignee(session: Session, context: Row, assignee_id: int | None) -> None:
    if assignee_id is None:
        raise InvalidInput.single("assignee_id", "required", "请选择新的经办人")
    if assignee_id == context.assignee_id:
        raise InvalidInput.single("assignee_id", "unchanged", "新经办人与当前经办人相同")
    assignee = session.connection().execute(
        sa.select(User.role, User.org_unit_id, User.is_active).where(User.id == assignee_id)
    ).one_or_none()
    if (
        assignee is None
        or not assignee.is_active
        or assignee.role != Role.HANDLER
        or assignee.org_unit_id != context.org_unit_id
    ):
        raise InvalidInput.single(
            "assignee_id", "invalid_assignee", "新经办人须为本处室在岗的经办人"
        )


def _check_done_at(context: Row, data: dict) -> None:
    """A bell clears only on a done_at (an ISO date or local moment: its first ten characters
    are the local day) on or before its deadline; workflows/cases/duties.py converts a late one."""
    done_at = data.get("done_at")
    if not done_at:
        raise InvalidInput.single("done_at", "required", "请填写履职完成日期（done_at）")
    if not done_in_time(date.fromisoformat(str(done_at)[:10]), context.due_on):
        raise InvalidInput.single(
            "done_at", "late", f"履职完成日期（done_at）晚于期限 {context.due_on}，不能解除警铃"
        )


def _branch_key(step: Step, context: Row, slip: SlipInput | None, actor: Actor) -> str:
    if step.branch == Branch.CONCLUSION:
        # 认定正常 on a payment above the review amount waits for the supervisor's signature.
        if slip.conclusion.value == "normal" and needs_normal_review(context.amount):
            return "normal_review"
        return slip.conclusion.value
    if step.branch == Branch.BELL_BECOMES:
        return context.bell_becomes or Level.YELLOW_LIGHT.value
    if step.branch == Branch.REPORTER:
        if needs_clearance_review(actor.role):
            return "review"
        return "data" if actor.role in DATA_REPORTERS else "person"
    return ""


def _deadline_basis(kind: Deadline, context: Row, today: date) -> tuple[date | None, int | None]:
    """(due_from, due_days): the deadline is due_days working days after due_from (0: the
    next working day on or after it); (None, None) when the step has none or keeps its own."""
    settings = get_settings()
    match kind:
        case Deadline.KEEP | Deadline.CLEAR:
            return None, None
        case Deadline.DUTY:
            return context.duty_due_on, 0
        case Deadline.VERIFY:
            days = context.verify_days or settings.default_verify_days
        case Deadline.RECTIFY:
            days = context.rectify_days or settings.default_rectify_days
        case Deadline.REVIEW:
            days = context.review_days or settings.default_review_days
    return today, days


def case_values(plan: Plan, as_of: datetime, assignee_id: int | None) -> dict:
    """What the guarded UPDATE sets, besides version + 1."""
    context, outcome = plan.context, plan.outcome
    values: dict = {"state": outcome.to, "due_on": plan.due_on, "updated_at": as_of}
    if outcome.deadline != Deadline.KEEP:
        values.update(due_from=plan.due_from, due_days=plan.due_days)
    if outcome.to != context.state:
        values["entered_step_at"] = as_of
        # A step that keeps the deadline (e.g. starting verification) keeps its escalation:
        # the sweep must not escalate the same missed deadline a second time.
        if outcome.deadline != Deadline.KEEP:
            values["escalation_level"] = 0
    if outcome.resolution is not None:
        values.update(resolution=outcome.resolution, closed_at=as_of)
    if plan.step.needs_assignee:
        values["assignee_id"] = assignee_id
    return values


def decision(event: Event) -> SignoffDecision:
    """The supervisor's review event as the decision signed on the slip (slips.signed_opinion
    words it)."""
    sending_back = event in (Event.REJECT_RECTIFICATION, Event.REJECT_NORMAL)
    return SignoffDecision.SENT_BACK if sending_back else SignoffDecision.APPROVED


def event_values(
    plan: Plan, event: Event, actor: Actor, as_of: datetime, comment: str | None,
    assignee_id: int | None, *, seq: int = 0, slip_id: int | None = None,
) -> dict:  # fmt: skip
    """The event row (seq and slip_id are the write's)."""
    data: dict = dict(plan.data)
    if plan.step.needs_assignee:
        data |= {"from_assignee_id": plan.context.assignee_id, "to_assignee_id": assignee_id}
    return machine.event_row(
        CASE_MACHINE, row_id=plan.context.id, seq=seq, event=event, from_state=plan.context.state,
        to_state=plan.outcome.to, actor=actor, at=as_of, comment=comment, data=data,
        due_on=plan.due_on, slip_id=slip_id,
    )  # fmt: skip


def result(plan: Plan, event: Event, new_version: int, slip_id: int | None) -> TransitionResult:
    context, outcome = plan.context, plan.outcome
    return TransitionResult(
        case_id=context.id, number=context.number, event=event, from_state=State(context.state),
        to_state=outcome.to, version=new_version, due_on=plan.due_on, slip_id=slip_id,
    )  # fmt: skip
