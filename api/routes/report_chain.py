"""The monthly report chain over JSON: my reports, one report's chain, actions, resubmission."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, computed_field

from models.reports import ReportStatus
from workflows.core.calendar import parse_month
from workflows.core.clock import now_utc
from workflows.core.roles import CASE_READERS
from workflows.reporting.chain import ReportEvent, report_transition, resubmit
from workflows.reporting.chain_reads import PartLine, list_reports, report_chain

from ..deps import CurrentActor, SessionDep, allow
from ..params import Count, Id
from .answers import Answer, MonthText

router = APIRouter(prefix="/reports", tags=["月报"])
READERS = [Depends(allow(CASE_READERS))]
# Who acts in the chain; the chain table then applies its own roles per step.
CHAIN_ROLES = frozenset(CASE_READERS)


class ReportLineOut(Answer):
    id: int
    region_code: str
    region_name: str
    month: MonthText
    version: int
    status: ReportStatus
    due_on: date | None
    escalation_level: int
    lock_version: int
    parts_total: int
    parts_confirmed: int

    @computed_field
    @property
    def status_label(self) -> str:
        return self.status.label


@router.get("", response_model=list[ReportLineOut], dependencies=READERS)
def my_reports(actor: CurrentActor, session: SessionDep, month: str | None = None):
    """我的月报: the reports of my region and below (a department: those with its part)."""
    rows = list_reports(session, actor=actor, month=parse_month(month, optional=True))
    return [ReportLineOut.model_validate(r) for r in rows]


class EventOut(Answer):
    seq: int
    event: str
    label: str
    # The timeline's shape (workflows/core/machine.py) says state; a report's API says status.
    from_status: ReportStatus | None = Field(validation_alias="from_state")
    to_status: ReportStatus = Field(validation_alias="to_state")
    actor_name: str | None
    at: datetime
    comment: str | None
    data: dict


class ChainOut(BaseModel):
    id: int
    region_code: str
    region_name: str
    month: str
    version: int
    reason: str | None
    status: ReportStatus
    status_label: str
    lock_version: int
    due_on: date | None
    escalation_level: int
    figures_sha256: str | None
    parts: list[PartLine]
    events: list[EventOut]
    actions: list[str]
    versions: list[dict]


@router.get("/{report_id}/chain", response_model=ChainOut, dependencies=READERS)
def chain(report_id: Id, actor: CurrentActor, session: SessionDep) -> ChainOut:
    c = report_chain(session, actor=actor, report_id=report_id)
    r = c.report
    return ChainOut(
        id=r.id,
        region_code=c.region.code,
        region_name=c.region.name,
        month=f"{r.month:%Y-%m}",
        version=r.version,
        reason=r.reason,
        status=r.status,
        status_label=ReportStatus(r.status).label,
        lock_version=r.lock_version,
        due_on=r.due_on,
        escalation_level=r.escalation_level,
        figures_sha256=r.figures_sha256,
        parts=list(c.parts),
        events=[EventOut.model_validate(e) for e in c.events],
        actions=[a.event.value for a in c.actions],
        versions=[{"id": v.id, "version": v.version, "status": v.status} for v in c.versions],
    )


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: ReportEvent
    version: Count = Field(ge=1)
    comment: str | None = Field(default=None, max_length=2000)
    unreported: list[Annotated[str, Field(max_length=12)]] | None = Field(
        default=None,
        max_length=200,
        description="提前汇总时列明的未报区县（下级区划代码）；须与尚未报送的下级完全一致",
    )


class ActionOut(Answer):
    report_id: int
    event: ReportEvent
    from_status: ReportStatus
    to_status: ReportStatus
    lock_version: int
    new_report_id: int | None


@router.post(
    "/{report_id}/transitions", response_model=ActionOut, dependencies=[Depends(allow(CHAIN_ROLES))]
)
def act(report_id: Id, body: ActionIn, actor: CurrentActor, session: SessionDep) -> ActionOut:
    """One step of the chain: confirm_part, compile, return, countersign, send or resubmit."""
    result = report_transition(
        session,
        report_id=report_id,
        event=body.event,
        actor=actor,
        version=body.version,
        as_of=now_utc(),
        comment=body.comment,
        unreported=body.unreported,
    )
    return ActionOut.model_validate(result)


class ResubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Count = Field(ge=1)
    reason: str = Field(max_length=2000)


@router.post(
    "/{report_id}/resubmit",
    response_model=ActionOut,
    status_code=201,
    dependencies=[Depends(allow(CHAIN_ROLES))],
)
def resubmit_report(
    report_id: Id, body: ResubmitIn, actor: CurrentActor, session: SessionDep
) -> ActionOut:
    """A new version of a countersigned or sent report, with the reason (both are kept)."""
    result = resubmit(
        session,
        report_id=report_id,
        actor=actor,
        version=body.version,
        reason=body.reason,
        as_of=now_utc(),
    )
    return ActionOut.model_validate(result)
