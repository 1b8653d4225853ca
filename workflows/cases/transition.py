"""`transition()`: the only way a case changes state (ARCHITECTURE.md rule 1).

Every refusal (scope, stale version, state, role, input) is decided before anything is
written (workflows/cases/plan.py); the write itself is a guarded UPDATE … WHERE version = :v
RETURNING (workflows/core/machine.py), so two concurrent actions on one case cannot both win.
Callers own the transaction.

This module is the portable write, row by row through SQLAlchemy; on PostgreSQL a single
transition() is one statement of data-modifying CTEs (workflows/cases/transition_pg.py),
which tests/workflows/cases/test_parity.py proves writes the same rows.
"""

from datetime import datetime

from sqlmodel import Session

from models.enums import Event
from workflows.cases import transition_pg
from workflows.cases.closing import close_open_requests
from workflows.cases.lifecycle import CASE_MACHINE
from workflows.cases.plan import (
    Plan,
    TransitionResult,
    case_values,
    decision,
    event_values,
    load_context,
    parse_event,
    plan,
    result,
    who,
)
from workflows.cases.review_news import tell_about_review
from workflows.cases.slip_rules import check_figures
from workflows.cases.slips import SlipInput, file_slip, sign_latest_slip
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.calendar import WorkingCalendar, load_calendar
from workflows.core.errors import BatchRefused, DomainError, InvalidInput

__all__ = ["TransitionResult", "transition", "transition_many"]


def transition(
    session: Session,
    *,
    case_id: int,
    event: Event | str,
    actor: Actor,
    version: int,
    as_of: datetime,
    slip: SlipInput | None = None,
    comment: str | None = None,
    assignee_id: int | None = None,
    calendar: WorkingCalendar | None = None,
    context=None,
    data: dict | None = None,
) -> TransitionResult:
    """Apply one event to one case, or raise a DomainError having written nothing.
    `context` is the case's plan.CONTEXT row when the caller has just read it; `data` is what
    the event row records beside its columns (a duty's done_at: workflows/cases/duties.py)."""
    event = parse_event(event)
    calendar = calendar or load_calendar(session)
    driver = transition_pg.driver(session)
    if context is None:
        context = transition_pg.load(driver, case_id) if driver else load_context(session, case_id)
    step = plan(session, context, event, actor, version, as_of, slip, comment, assignee_id, calendar, data)
    if step.step.slip:
        check_figures(session, slip=slip, case_ids=[context.id])
    if driver is not None:
        written = transition_pg.write(session, driver, step, version, event, actor, as_of, slip, comment, assignee_id)
    else:
        new_version = _update(session, step, version, as_of, assignee_id)
        slip_id = None
        if step.step.slip:
            slip_id = file_slip(session, slip=slip, actor=actor, case_ids=[context.id], as_of=as_of)
        written = _record(session, step, new_version, event, actor, as_of, slip_id, comment, assignee_id)
    _after(session, step, written, comment, as_of)
    return written


def transition_many(
    session: Session,
    *,
    cases: list[tuple[int, int]],
    event: Event | str,
    actor: Actor,
    as_of: datetime,
    slip: SlipInput | None = None,
    comment: str | None = None,
    assignee_id: int | None = None,
    calendar: WorkingCalendar | None = None,
    contexts: dict | None = None,
) -> list[TransitionResult]:
    """One event (and one slip, 批量认定/批量整改) over many (case id, version) pairs: all or none.
    `contexts` maps case ids to plan.CONTEXT rows the caller has just read."""
    event = parse_event(event)
    if not cases:
        raise InvalidInput.single("cases", "required", "请至少选择一个案件")
    if len({case_id for case_id, _ in cases}) != len(cases):
        raise InvalidInput.single("cases", "duplicate", "同一案件不能重复选择")
    calendar = calendar or load_calendar(session)
    contexts = contexts or {}
    plans: list[Plan] = []
    refused: list[dict] = []
    for case_id, version in cases:
        try:
            context = contexts.get(case_id) or load_context(session, case_id)
            plans.append(
                plan(session, context, event, actor, version, as_of, slip, comment, assignee_id, calendar)
            )
        except DomainError as error:
            refused.append({"case_id": case_id, **error.as_dict()})
    if refused:
        raise BatchRefused(f"{len(refused)} 个案件不能办理，全部未提交", items=refused)
    if plans[0].step.slip:
        # A batch slip's figures are checked against all its cases together.
        check_figures(session, slip=slip, case_ids=[p.context.id for p in plans])
    # The guarded UPDATEs can still lose a race: undo the whole batch if one does.
    with session.begin_nested():
        versions = [
            _update(session, p, version, as_of, assignee_id)
            for p, (_, version) in zip(plans, cases, strict=True)
        ]
        slip_id = None
        if plans[0].step.slip:
            slip_id = file_slip(
                session, slip=slip, actor=actor, case_ids=[p.context.id for p in plans], as_of=as_of
            )
        results = [
            _record(session, p, new_version, event, actor, as_of, slip_id, comment, assignee_id)
            for p, new_version in zip(plans, versions, strict=True)
        ]
        for p, written in zip(plans, results, strict=True):
            _after(session, p, written, comment, as_of)
        return results


def _after(session: Session, plan: Plan, written: TransitionResult, comment: str | None,
           as_of: datetime) -> None:  # fmt: skip
    """What follows an accepted event in the same transaction, on either path: a closed case
    closes its waiting requests; a review waiting or decided is news (review_news)."""
    context = plan.context
    if plan.outcome.resolution is not None:
        close_open_requests(session, case_ids=[context.id], as_of=as_of)
    tell_about_review(
        session, event=written.event, case_id=context.id, number=context.number,
        org_unit_id=context.org_unit_id, assignee_id=context.assignee_id, version=written.version,
        comment=comment, as_of=as_of, to_state=written.to_state,
    )  # fmt: skip


def _update(session: Session, plan: Plan, version: int, as_of: datetime, assignee_id: int | None) -> int:
    """The guarded write; returns the case's new version or refuses a lost race."""
    context = plan.context
    return machine.advance(
        session, CASE_MACHINE, row_id=context.id, version=version, state=context.state,
        values=case_values(plan, as_of, assignee_id), who=who(context),
    )  # fmt: skip


def _record(
    session: Session, plan: Plan, new_version: int, event: Event, actor: Actor, as_of: datetime,
    slip_id: int | None, comment: str | None, assignee_id: int | None,
) -> TransitionResult:  # fmt: skip
    """The supervisor's signature, if the step signs, and the event row: one per accepted
    event, numbered by the version it produced."""
    if plan.step.signs is not None:
        sign_latest_slip(
            session, case_id=plan.context.id, kind=plan.step.signs, actor=actor,
            decision=decision(event), comment=comment, as_of=as_of,
        )  # fmt: skip
    row = event_values(plan, event, actor, as_of, comment, assignee_id, seq=new_version, slip_id=slip_id)
    machine.record(session, CASE_MACHINE, [row])
    return result(plan, event, new_version, slip_id)
