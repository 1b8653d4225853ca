"""Requests in a supervisor's queue and their decisions (Changchun art. 18, 23).

A handler asks for more time with a reason; the sweep files a level-2 escalation request
when a deadline passed the grace. The department's supervisor decides each request once:
an extension is approved (a new deadline) or rejected (a reason); an escalation is decided
by reassigning the case (the existing `reassign` event), extending its deadline, sending it
to the supervision bureau (level 3, counted against the region's timeliness) or rejecting
it with a reason. Every request and decision is an event on the case's timeline.

The ladder table (workflows/cases/lifecycle.py LADDER) says who may fire each event and that the
state stays; the writes here go through the same core as transition()'s
(workflows/core/machine.py: scope, version, state, role, the guarded UPDATE, the event row), and
a decision claims its request with `UPDATE … WHERE decided_at IS NULL`, so two supervisors
deciding at once cannot both win.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, EscalationRequest, Region, Rule, User
from models.enums import Event, RequestDecision, RequestKind, Role
from models.notifications import NotificationKind
from workflows.cases.lifecycle import LADDER_MACHINE
from workflows.cases.plan import load_context, who
from workflows.cases.transition import transition
from workflows.core import machine, notify
from workflows.core.actors import Actor
from workflows.core.calendar import WorkingCalendar, load_calendar, local_date
from workflows.core.errors import InvalidInput, InvalidState, NotFound, RoleNotAllowed

CASES = Case.__table__
REQUESTS = EscalationRequest.__table__
RULES = Rule.__table__
REQUESTER = User.__table__.alias("requester")

# What an escalation decision records on the timeline (a reassignment is the reassign event).
_DECISION_EVENT = {
    RequestDecision.EXTEND: Event.APPROVE_EXTENSION,
    RequestDecision.ESCALATE: Event.ESCALATE_TO_BUREAU,
    RequestDecision.REJECT: Event.REJECT_ESCALATION,
}


@dataclass(frozen=True)
class DecisionResult:
    request_id: int
    case_id: int
    event: Event
    version: int
    due_on: date | None
    escalation_level: int


def request_extension(
    session: Session,
    *,
    case_id: int,
    actor: Actor,
    version: int,
    as_of: datetime,
    reason: str,
    requested_due_on: date | None = None,
) -> DecisionResult:
    """A handler asks the supervisor for a later deadline; one open request per case."""
    reason = _required(reason, "reason", "请填写申请延期的理由")
    context = load_context(session, case_id)
    if requested_due_on is not None and context.due_on is not None and requested_due_on <= context.due_on:
        raise InvalidInput.single("requested_due_on", "not_later", "申请的期限须晚于当前办理期限")
    open_request = session.connection().execute(
        sa.select(REQUESTS.c.id).where(
            REQUESTS.c.case_id == case_id,
            REQUESTS.c.kind == RequestKind.EXTENSION,
            REQUESTS.c.decided_at.is_(None),
        )
    ).first()
    if open_request is not None:
        raise InvalidState(f"案件 {context.number} 已有待审批的延期申请")
    with session.begin_nested():
        new_version = _write(
            session, context, Event.REQUEST_EXTENSION, actor, version, as_of, {}, reason,
            {"requested_due_on": requested_due_on.isoformat() if requested_due_on else None},
        )  # fmt: skip
        request_id = session.connection().execute(
            sa.insert(REQUESTS).returning(REQUESTS.c.id),
            {"case_id": case_id, "kind": RequestKind.EXTENSION, "level": None,
             "step_entered_at": context.entered_step_at, "step_due_on": context.due_on,
             "requested_by_id": actor.user_id, "requested_at": as_of, "reason": reason,
             "requested_due_on": requested_due_on},
        ).scalar_one()  # fmt: skip
        _tell(
            session, _supervisors(session, context.org_unit_id), NotificationKind.EXTENSION_REQUEST,
            f"案件 {context.number} 的经办人申请延期：{reason}", f"extension:{request_id}", context.id, as_of,
        )  # fmt: skip
    return DecisionResult(request_id, case_id, Event.REQUEST_EXTENSION, new_version, context.due_on,
                          context.escalation_level)  # fmt: skip


def decide_extension(
    session: Session,
    *,
    request_id: int,
    actor: Actor,
    version: int,
    as_of: datetime,
    approve: bool,
    reason: str | None = None,
    new_due_on: date | None = None,
    calendar: WorkingCalendar | None = None,
) -> DecisionResult:
    """The supervisor approves (new deadline: given, or the one asked for) or rejects (reason)."""
    request = _request(session, request_id, RequestKind.EXTENSION)
    if approve:
        new_due_on = new_due_on or request.requested_due_on
        return _extend(session, request, actor, version, as_of, reason, new_due_on, calendar, RequestDecision.EXTEND)
    reason = _required(reason, "reason", "驳回延期申请须填写理由")
    return _decide(session, request, actor, version, as_of, Event.REJECT_EXTENSION, RequestDecision.REJECT, reason, {})


def decide_escalation(
    session: Session,
    *,
    request_id: int,
    actor: Actor,
    version: int,
    as_of: datetime,
    decision: RequestDecision | str,
    reason: str | None = None,
    new_due_on: date | None = None,
    assignee_id: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> DecisionResult:
    """The supervisor's decision on a level-2 escalation request."""
    try:
        decision = RequestDecision(decision)
    except ValueError:
        raise InvalidInput.single("decision", "unknown", f"未知的处理方式：{decision}") from None
    request = _request(session, request_id, RequestKind.ESCALATION)
    if decision == RequestDecision.EXTEND:
        return _extend(session, request, actor, version, as_of, reason, new_due_on, calendar, decision)
    if decision == RequestDecision.REASSIGN:
        with session.begin_nested():
            _claim(session, request, actor, as_of, decision, reason, new_assignee_id=assignee_id)
            result = transition(
                session, case_id=request.case_id, event=Event.REASSIGN, actor=actor, version=version,
                as_of=as_of, comment=reason, assignee_id=assignee_id, calendar=calendar,
            )  # fmt: skip
            _tell_decided(session, request, result.number, Event.REASSIGN, as_of)
        context = load_context(session, request.case_id)
        return DecisionResult(request.id, request.case_id, Event.REASSIGN, result.version, result.due_on,
                              context.escalation_level)  # fmt: skip
    if decision == RequestDecision.REJECT:
        reason = _required(reason, "reason", "驳回升级请求须填写理由")
        return _decide(session, request, actor, version, as_of, Event.REJECT_ESCALATION, decision, reason, {})
    return _decide(
        session, request, actor, version, as_of, Event.ESCALATE_TO_BUREAU, decision, reason,
        {"escalation_level": 3},
    )  # fmt: skip


def pending_requests(session: Session, *, actor: Actor) -> list:
    """The supervisor's queue: undecided requests on cases in their scope, oldest first."""
    rows = session.connection().execute(
        sa.select(
            REQUESTS.c.id, REQUESTS.c.kind, REQUESTS.c.level, REQUESTS.c.case_id, CASES.c.number,
            CASES.c.version, CASES.c.due_on, CASES.c.org_unit_id, Region.__table__.c.path,
            REQUESTS.c.reason, REQUESTS.c.requested_due_on, REQUESTS.c.requested_at,
            # What the supervisor decides on without opening the case (issue 18).
            RULES.c.code.label("rule_code"), RULES.c.name.label("rule_name"), CASES.c.payee_name,
            CASES.c.amount, REQUESTER.c.full_name.label("requester_name"),
        )  # fmt: skip
        .join(CASES, CASES.c.id == REQUESTS.c.case_id)
        .join(Region.__table__, Region.__table__.c.id == CASES.c.region_id)
        .join(RULES, RULES.c.id == CASES.c.rule_id)
        # The deadline sweep raises escalations with no person behind them.
        .outerjoin(REQUESTER, REQUESTER.c.id == REQUESTS.c.requested_by_id)
        .where(REQUESTS.c.decided_at.is_(None))
        .where(Region.__table__.c.path.startswith(actor.region_path))
        .order_by(REQUESTS.c.requested_at, REQUESTS.c.id)
    ).all()
    return [r for r in rows if actor.in_scope(region_path=r.path, org_unit_id=r.org_unit_id)]


# -- helpers -------------------------------------------------------------------------------


def _required(text: str | None, field: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput.single(field, "required", message)
    return text


def _request(session: Session, request_id: int, kind: RequestKind):
    request = session.connection().execute(
        sa.select(REQUESTS).where(REQUESTS.c.id == request_id)
    ).one_or_none()
    if request is None or request.kind != kind:
        raise NotFound("申请不存在")
    return request


def _extend(session, request, actor, version, as_of, reason, new_due_on, calendar, decision) -> DecisionResult:
    if new_due_on is None:
        raise InvalidInput.single("new_due_on", "required", "请填写新的办理期限")
    if new_due_on <= local_date(as_of):
        raise InvalidInput.single("new_due_on", "not_future", "新的办理期限须晚于今天")
    # A deadline falling on a holiday moves to the next working day (DOMAIN.md).
    chosen = new_due_on
    new_due_on = (calendar or load_calendar(session)).next_working_day(new_due_on)
    return _decide(
        session, request, actor, version, as_of, Event.APPROVE_EXTENSION, decision, reason,
        # The chosen date is the basis: a holiday entered on it later moves it again.
        {"due_on": new_due_on, "due_from": chosen, "due_days": 0, "escalation_level": 0},
        new_due_on=new_due_on,
    )  # fmt: skip


def _decide(session, request, actor, version, as_of, event, decision, reason, values, new_due_on=None):
    context = load_context(session, request.case_id)
    with session.begin_nested():
        _claim(session, request, actor, as_of, decision, reason, new_due_on=new_due_on)
        new_version = _write(
            session, context, event, actor, version, as_of, values, reason,
            {"request_id": request.id, "decision": decision.value,
             "from_due_on": context.due_on.isoformat() if context.due_on else None},
            # An escalation's decision is named as the supervisor chose it (延长期限), not
            # by the event that records it (批准延期).
            label=decision.label if request.kind == RequestKind.ESCALATION else None,
        )  # fmt: skip
        _tell_decided(session, request, context.number, event, as_of)
    return DecisionResult(
        request.id, request.case_id, event, new_version, values.get("due_on", context.due_on),
        values.get("escalation_level", context.escalation_level),
    )  # fmt: skip


def _supervisors(session: Session, org_unit_id: int) -> list[int]:
    return list(session.connection().execute(
        sa.select(User.id).where(
            User.org_unit_id == org_unit_id, User.role == Role.SUPERVISOR, User.is_active.is_(True)
        )
    ).scalars())  # fmt: skip


def _tell(session, user_ids, kind, text, key, case_id, as_of) -> None:
    # The case page is addressed by the case's number, not its id.
    number = session.connection().execute(
        sa.select(Case.number).where(Case.id == case_id)
    ).scalar_one()
    items = notify.news_for(
        user_ids, kind=kind, subject=text, body=text, key=key, case_id=case_id, link=f"/cases/{number}"
    )
    notify.queue(session, items=items, as_of=as_of)


def _tell_decided(session, request, number: str, event: Event, as_of: datetime) -> None:
    """The decision goes to whoever asked and to the case's handler."""
    assignee = session.connection().execute(
        sa.select(CASES.c.assignee_id).where(CASES.c.id == request.case_id)
    ).scalar_one_or_none()
    _tell(
        session, [request.requested_by_id, assignee], NotificationKind.ESCALATION_DECIDED,
        f"案件 {number}：{event.label}", f"decided:{request.id}", request.case_id, as_of,
    )  # fmt: skip


def _claim(session, request, actor, as_of, decision, reason, **extra) -> None:
    """Mark the request decided, once: a second decision finds it taken."""
    if actor.role != Role.SUPERVISOR:
        raise RoleNotAllowed(f"申请只能由{Role.SUPERVISOR.label}审批，您的角色是{actor.role.label}")
    claimed = session.connection().execute(
        sa.update(REQUESTS)
        .where(REQUESTS.c.id == request.id, REQUESTS.c.decided_at.is_(None))
        .values(decision=decision, decided_by_id=actor.user_id, decided_at=as_of,
                decision_reason=(reason or "").strip() or None, **extra)  # fmt: skip
    ).rowcount
    if claimed != 1:
        raise InvalidState("该申请已处理")


def _write(session, context, event, actor, version, as_of, values, comment, data, label=None) -> int:
    """One event on one case through the ladder's table (the same core as transition()).
    `label` names the event in refusals when the user chose it by another name."""
    step = machine.check(
        LADDER_MACHINE, who=who(context), state=context.state, event=event,
        event_label=label or event.label, actor=actor, version=version, current=context.version,
        in_scope=actor.in_scope(region_path=context.region_path, org_unit_id=context.org_unit_id),
    )  # fmt: skip
    if step.needs_comment and not (comment or "").strip():
        raise InvalidInput.single("reason", "required", "请填写原因或意见")
    new_version = machine.advance(
        session, LADDER_MACHINE, row_id=context.id, version=version, state=context.state,
        values={"state": step.to, "updated_at": as_of, **values}, who=who(context),
    )  # fmt: skip
    machine.record(session, LADDER_MACHINE, [machine.event_row(
        LADDER_MACHINE, row_id=context.id, seq=new_version, event=event, from_state=context.state,
        to_state=step.to, actor=actor, at=as_of, comment=comment, data=data,
        due_on=values.get("due_on", context.due_on),
    )])  # fmt: skip
    return new_version
