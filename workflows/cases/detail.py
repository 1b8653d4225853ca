"""One case as its page shows it: the facts, the rule, the timeline of events, the slips and
what the reader may do next (four indexed reads, whatever the case's history). Acting on a
case is workflows/cases/actions.py."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from models import Attachment, Case, CaseEvent, CaseSlip, Region, Rule, Slip, User
from models.enums import (
    Conclusion,
    Event,
    Level,
    Resolution,
    RuleCategory,
    SlipKind,
    State,
    WarningType,
    event_words,
)
from workflows.cases.lifecycle import CASE_MACHINE, events_allowed
from workflows.cases.queries import CaseRow, case_row, check_visible
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.calendar import load_calendar
from workflows.core.machine import TimelineEntry

# The monitored facts in the order a slip prints them, with the words users read.
FACT_LABELS: dict[str, str] = {
    "fund_name": "资金名称",
    "indicator_doc_no": "指标文件号",
    "payer_name": "付款人名称",
    "payee_name": "收款人名称",
    "payee_account": "收款人账户",
    "amount": "金额（元）",
    "payment_date": "支付日期",
    "purpose": "用途",
}


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    category: RuleCategory
    basis: str
    description: str
    level: Level
    warning_type: WarningType


@dataclass(frozen=True)
class SlipSummary:
    id: int
    number: str
    kind: SlipKind
    version: int
    filed_at: datetime
    filed_by_name: str
    conclusion: Conclusion | None
    attachments_count: int


@dataclass(frozen=True)
class CaseDetail:
    row: CaseRow
    facts: dict[str, Any]  # Chinese label → value (account masked), then the payload's extras
    fields: dict[str, Any]  # field name → value (account masked), for programs
    payload: dict[str, Any]
    rule: RuleInfo
    raised_level: Level
    # The warning type (预警类型) the platform sent; None when it sent none (the rule's applies).
    warning_type: WarningType | None
    resolution: Resolution | None
    escalation_level: int
    due_on: date | None
    # Set when the open deadline crosses a year whose holidays nobody has entered.
    deadline_note: str | None
    duty_due_on: date | None
    closed_at: datetime | None
    timeline: list[TimelineEntry]
    slips: list[SlipSummary]
    allowed_events: list[Event]

    @property
    def version(self) -> int:
        return self.row.version

    @property
    def deadline_provisional(self) -> bool:
        return self.deadline_note is not None


def _provisional_note(session: Session, case) -> str | None:
    if case.due_on is None or case.closed_at is not None:
        return None
    return load_calendar(session).provisional_note(case.due_from or case.due_on, case.due_on)


def mask_account(account: str | None) -> str | None:
    """ "6222020200112233445" → "6222 **** **** 3445" (forms.formatting.mask_account wraps it
    for templates): a reader never needs the whole account number."""
    if account is None:
        return None
    chars = "".join(ch for ch in str(account) if not ch.isspace() and ch != "-")
    if not chars:
        return None
    if len(chars) <= 4:
        return "*" * len(chars)
    if len(chars) <= 8:
        return f"**** {chars[-4:]}"
    return f"{chars[:4]} **** **** {chars[-4:]}"


def find_case(session: Session, *, actor: Actor, number: str) -> int:
    """The id of the case with this number, if the actor may see it (queries.check_visible)."""
    found = (
        session.connection()
        .execute(
            sa.select(Case.id, Case.org_unit_id, Region.path.label("region_path"))
            .join(Region, Region.id == Case.region_id)
            .where(Case.number == number.strip())
        )
        .one_or_none()
    )
    check_visible(actor, number=number, found=found)
    return found.id


def get_case_detail(
    session: Session, *, actor: Actor, number: str, as_of: datetime, case_id: int | None = None
) -> CaseDetail:
    """Everything the case page shows, for an actor allowed to see the case. `case_id`: the
    case's id when the caller has just acted on it for this actor (which found it in scope)."""
    if case_id is None:
        case_id = find_case(session, actor=actor, number=number)
    row = case_row(session, case_id=case_id, as_of=as_of)
    case = (
        session.connection()
        .execute(
            sa.select(
                *(getattr(Case, name) for name in FACT_LABELS),
                Case.payload,
                Case.raised_level,
                Case.warning_type,
                Case.resolution,
                Case.escalation_level,
                Case.due_on,
                Case.due_from,
                Case.duty_due_on,
                Case.closed_at,
                Rule.code,
                Rule.name,
                Rule.category,
                Rule.basis,
                Rule.description,
                Rule.level,
                Rule.warning_type.label("rule_warning_type"),
            )
            .join(Rule, Rule.id == Case.rule_id)
            .where(Case.id == case_id)
        )
        .one()
    )
    fields = {name: getattr(case, name) for name in FACT_LABELS}
    fields["payee_account"] = mask_account(fields["payee_account"])
    payload = dict(case.payload or {})
    facts: dict[str, Any] = {FACT_LABELS[name]: value for name, value in fields.items()}
    for key, value in payload.items():
        facts.setdefault(str(key), value)
    return CaseDetail(
        row=row,
        facts=facts,
        fields=fields,
        payload=payload,
        rule=RuleInfo(
            code=case.code,
            name=case.name,
            category=RuleCategory(case.category),
            basis=case.basis,
            description=case.description,
            level=Level(case.level),
            warning_type=WarningType(case.rule_warning_type),
        ),
        raised_level=Level(case.raised_level),
        warning_type=WarningType(case.warning_type) if case.warning_type else None,
        resolution=Resolution(case.resolution) if case.resolution else None,
        escalation_level=case.escalation_level,
        due_on=case.due_on,
        deadline_note=_provisional_note(session, case),
        duty_due_on=case.duty_due_on,
        closed_at=case.closed_at,
        timeline=_timeline(session, case_id),
        slips=_slips(session, case_id),
        allowed_events=events_allowed(row.state, actor.role),
    )


def _timeline(session: Session, case_id: int) -> list[TimelineEntry]:
    return machine.timeline(
        session, CASE_MACHINE, case_id, label=lambda r: event_words(Event(r.event), r.data),
        state_of=State, event_of=Event, extra=(Slip.number.label("slip_number"),),
        joins=((Slip.__table__, Slip.id == CaseEvent.slip_id),),
    )  # fmt: skip


def _slips(session: Session, case_id: int) -> list[SlipSummary]:
    attachments = (
        sa.select(sa.func.count())
        .where(Attachment.slip_id == Slip.id, Attachment.removed_in_version.is_(None))
        .correlate(Slip)
        .scalar_subquery()
    )
    rows = session.connection().execute(
        sa.select(
            Slip.id,
            Slip.number,
            Slip.kind,
            Slip.version,
            Slip.filed_at,
            Slip.conclusion,
            User.full_name,
            attachments.label("attachments_count"),
        )
        .join(CaseSlip, CaseSlip.slip_id == Slip.id)
        .join(User, User.id == Slip.filed_by_id)
        .where(CaseSlip.case_id == case_id)
        .order_by(Slip.filed_at, Slip.id)
    )
    return [
        SlipSummary(
            id=r.id,
            number=r.number,
            kind=SlipKind(r.kind),
            version=r.version,
            filed_at=r.filed_at,
            filed_by_name=r.full_name,
            conclusion=Conclusion(r.conclusion) if r.conclusion else None,
            attachments_count=r.attachments_count,
        )
        for r in rows
    ]
