"""A warning becomes a case: numbered, routed, in the initial state its level gives."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseEvent, Rule
from models.enums import Event, Level
from models.settings import get_settings

from .actors import Actor
from .calendar import WorkingCalendar, load_calendar, local_date
from .errors import DomainError, InvalidInput
from .lifecycle import INITIAL, Deadline
from .numbering import CASE_PREFIX, allocate_numbers

FACT_FIELDS = (
    "fund_name",
    "indicator_doc_no",
    "payer_name",
    "payee_name",
    "payee_account",
    "amount",
    "payment_date",
    "purpose",
)


class DuplicateWarning(DomainError):
    code = "duplicate"
    status = 409


def raise_case(
    session: Session,
    *,
    rule: Rule,
    region_id: int,
    org_unit_id: int,
    assignee_id: int | None,
    source: str,
    external_id: str,
    raised_at: datetime,
    as_of: datetime,
    actor: Actor,
    facts: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    duty_due_on: date | None = None,
    level: Level | None = None,
    calendar: WorkingCalendar | None = None,
) -> int:
    """Open a case for one warning and record its `raise` event; returns the case id."""
    level = level or rule.level
    if level not in INITIAL:
        raise InvalidInput.single("level", "invalid_level", "预警级别须为黄色警铃、黄灯或红灯")
    unknown = set(facts or {}) - set(FACT_FIELDS)
    if unknown:
        raise InvalidInput.single("facts", "unknown_field", f"未知的监控要素：{'、'.join(sorted(unknown))}")
    if level == Level.YELLOW_BELL and duty_due_on is None:
        raise InvalidInput.single("duty_due_on", "required", "黄色警铃须给出履职截止日期")
    exists = session.connection().execute(
        sa.select(Case.id).where(Case.source == source, Case.external_id == external_id)
    ).first()
    if exists:
        raise DuplicateWarning(f"预警 {source}/{external_id} 已存在")

    calendar = calendar or load_calendar(session)
    outcome = INITIAL[level]
    settings = get_settings()
    today = local_date(as_of)
    match outcome.deadline:
        case Deadline.DUTY:
            due_on = calendar.next_working_day(duty_due_on)
        case Deadline.VERIFY:
            due_on = calendar.add_working_days(today, rule.verify_days or settings.default_verify_days)
        case _:
            due_on = calendar.add_working_days(today, rule.rectify_days or settings.default_rectify_days)

    number = allocate_numbers(session, prefix=CASE_PREFIX, at=raised_at)[0]
    connection = session.connection()
    case_id = connection.execute(
        sa.insert(Case.__table__)
        .values(
            number=number,
            rule_id=rule.id,
            raised_level=level,
            state=outcome.to,
            region_id=region_id,
            org_unit_id=org_unit_id,
            assignee_id=assignee_id,
            payload=payload or {},
            source=source,
            external_id=external_id,
            raised_at=raised_at,
            duty_due_on=duty_due_on,
            due_on=due_on,
            entered_step_at=as_of,
            version=1,
            created_at=as_of,
            updated_at=as_of,
            **(facts or {}),
        )
        .returning(Case.__table__.c.id)
    ).scalar_one()
    connection.execute(
        sa.insert(CaseEvent.__table__).values(
            case_id=case_id,
            seq=1,
            event=Event.RAISE,
            from_state=None,
            to_state=outcome.to,
            actor_id=actor.user_id,
            actor_role=actor.role,
            at=as_of,
            due_on=due_on,
            data={"level": level.value},
        )
    )
    return case_id
