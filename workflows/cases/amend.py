"""Amending a slip (修改): a new version with a reason; the earlier versions stay as they were.

A signature covers exactly the version it was given on. Amending a signed version voids its
sign-offs (the rows stay, so the old version still prints as it was signed, marked 已作废);
a rectified case whose approval is voided goes back to the supervisor's review, and a case
already in review is marked as changed — both with the event "处理单已修改，需重新审核"
(lifecycle.AMENDMENT says which states take it, who may and where it leads).
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseEvent, CaseSlip, Region, Rule, Slip, SlipSignoff, SlipVersion
from models.enums import Event, Resolution, Role, SignoffDecision, SlipKind, State
from models.settings import get_settings
from workflows.cases.lifecycle import AMENDMENT, CASE_MACHINE, Deadline
from workflows.cases.plan import who
from workflows.cases.review_news import tell_supervisors
from workflows.cases.slip_rules import check_figures
from workflows.cases.slips import SlipInput
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.calendar import WorkingCalendar, load_calendar, local_date
from workflows.core.errors import InvalidInput, NotFound, OutOfScope, RoleNotAllowed, StaleVersion

SLIPS = Slip.__table__
SIGNOFFS = SlipSignoff.__table__
CASES = Case.__table__
REREVIEW = "处理单已修改，需重新审核"


def amend_slip(
    session: Session,
    *,
    slip_id: int,
    version: int,
    changes: SlipInput,
    reason: str,
    actor: Actor,
    as_of: datetime,
    calendar: WorkingCalendar | None = None,
) -> int:
    """Amend a slip: a new version; the earlier ones and their sign-offs stay. Returns the
    new version.

    The conclusion cannot change here: it moved the case, and only a new verification
    (重新核实) may.
    """
    current = session.get(Slip, slip_id)
    if current is None:
        raise NotFound("处理单不存在")
    cases = _covered_cases(session, slip_id=slip_id, actor=actor)
    if changes.kind != current.kind:
        raise InvalidInput.single("slip.kind", "immutable", "处理单类型不能修改")
    if current.kind == SlipKind.VERIFICATION and changes.conclusion != current.conclusion:
        raise InvalidInput.single(
            "slip.conclusion", "immutable", "认定结论不能通过修改处理单变更，请申请重新核实"
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.single("reason", "required", "请填写修改原因")
    # Same rules as filing: "completed no later than today" and the figures' limits.
    changes.check(today=local_date(as_of))
    check_figures(session, slip=changes, case_ids=[c.id for c in cases])
    new_version = session.connection().execute(
        sa.update(SLIPS)
        .where(SLIPS.c.id == slip_id, SLIPS.c.version == version)
        .values(version=SLIPS.c.version + 1, updated_at=as_of, **changes.model_dump(exclude={"kind"}))
        .returning(SLIPS.c.version)
    ).scalar_one_or_none()
    if new_version is None:
        raise StaleVersion("处理单已被他人修改，请刷新后重试")
    session.connection().execute(
        sa.insert(SlipVersion.__table__).values(
            slip_id=slip_id, version=new_version, fields=changes.fields(),
            author_id=actor.user_id, created_at=as_of, reason=reason,
        )  # fmt: skip
    )
    voided = _void_signoffs(session, slip_id=slip_id, version=version, reason=reason, as_of=as_of)
    if current.kind == SlipKind.RECTIFICATION:
        calendar = calendar or load_calendar(session)
        for case in cases:
            if _needs_review_again(session, case, slip_id=slip_id, approval_voided=case.id in voided):
                _back_to_review(session, case, slip_id, version, new_version, reason, actor, as_of,
                                calendar)  # fmt: skip
    session.expire(current)
    return new_version


def _covered_cases(session: Session, *, slip_id: int, actor: Actor) -> list:
    """The cases the slip covers; a slip may be amended only by a handler who may act on
    every one of them."""
    rows = session.connection().execute(
        sa.select(
            CASES.c.id, CASES.c.number, CASES.c.state, CASES.c.version, CASES.c.org_unit_id,
            CASES.c.resolution, CASES.c.due_on, Region.path.label("region_path"),
            Rule.review_days,
        )  # fmt: skip
        .join(CaseSlip, CaseSlip.case_id == CASES.c.id)
        .join(Region, Region.id == CASES.c.region_id)
        .join(Rule, Rule.id == CASES.c.rule_id)
        .where(CaseSlip.slip_id == slip_id)
        .order_by(CASES.c.id)
    ).all()
    if not rows or not all(
        actor.in_scope(region_path=r.region_path, org_unit_id=r.org_unit_id) for r in rows
    ):
        raise OutOfScope("无权修改该处理单")
    if actor.role != Role.HANDLER:
        raise RoleNotAllowed("只有经办人可以修改处理单")
    return rows


def _void_signoffs(session, *, slip_id, version, reason, as_of) -> set[int]:
    """Void the live sign-offs of the amended version; returns the cases whose approval it was."""
    voided = session.connection().execute(
        sa.update(SIGNOFFS)
        .where(SIGNOFFS.c.slip_id == slip_id, SIGNOFFS.c.slip_version == version,
               SIGNOFFS.c.voided_at.is_(None))  # fmt: skip
        .values(voided_at=as_of, void_reason=reason)
        .returning(SIGNOFFS.c.case_id, SIGNOFFS.c.decision)
    ).all()
    return {row.case_id for row in voided if row.decision == SignoffDecision.APPROVED}


def _needs_review_again(session, case, *, slip_id: int, approval_voided: bool) -> bool:
    """Only the slip the case's review is about: its latest rectification slip."""
    latest = session.connection().execute(
        sa.select(sa.func.max(SLIPS.c.id))
        .join(CaseSlip, CaseSlip.slip_id == SLIPS.c.id)
        .where(CaseSlip.case_id == case.id, SLIPS.c.kind == SlipKind.RECTIFICATION)
    ).scalar_one()
    if latest != slip_id:
        return False
    if case.state == State.GREEN:
        return approval_voided and case.resolution == Resolution.RECTIFIED
    return case.state in AMENDMENT


def _back_to_review(session, case, slip_id, old_version, new_version, reason, actor, as_of,
                    calendar) -> None:  # fmt: skip
    """The event on the case through the state-machine core, guarded like transition():
    version and state."""
    step = AMENDMENT[State(case.state)]
    if actor.role not in step.roles:
        raise RoleNotAllowed("只有经办人可以修改处理单")
    outcome = step.outcomes[""]
    values: dict = {"state": outcome.to, "updated_at": as_of}
    if outcome.deadline == Deadline.REVIEW:
        days = case.review_days or get_settings().default_review_days
        values.update(
            due_on=calendar.add_working_days(local_date(as_of), days), due_from=local_date(as_of),
            due_days=days, entered_step_at=as_of,
            escalation_level=0, resolution=None, closed_at=None,
        )  # fmt: skip
    new_case_version = machine.advance(
        session, CASE_MACHINE, row_id=case.id, version=case.version, state=case.state,
        values=values, who=who(case),
    )  # fmt: skip
    machine.record(session, CASE_MACHINE, [machine.event_row(
        CASE_MACHINE, row_id=case.id, seq=new_case_version, event=Event.SLIP_AMENDED,
        from_state=case.state, to_state=outcome.to, actor=actor, at=as_of,
        comment=f"{REREVIEW}：{reason}", slip_id=slip_id, due_on=values.get("due_on", case.due_on),
        data={"slip_version": new_version, "amended_version": old_version},
    )])  # fmt: skip
    tell_supervisors(
        session, org_unit_id=case.org_unit_id, case_id=case.id, number=case.number,
        text=f"案件 {case.number}：{REREVIEW}", key=f"amended:{slip_id}:{new_version}:{case.id}",
        as_of=as_of,
    )


def amended_in_review(session: Session, *, case_ids: list[int]) -> set[int]:
    """The cases among `case_ids` whose slip was amended since they entered review (the
    supervisor's queue marks them "处理单已修改，需重新审核")."""
    if not case_ids:
        return set()
    events = CaseEvent.__table__
    return set(session.connection().execute(
        sa.select(events.c.case_id).distinct()
        .join(CASES, CASES.c.id == events.c.case_id)
        .where(events.c.case_id.in_(case_ids), events.c.event == Event.SLIP_AMENDED,
               events.c.at >= CASES.c.entered_step_at)
    ).scalars())  # fmt: skip
