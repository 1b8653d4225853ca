"""The supervisor's request queue (督办申请): handlers ask for more time, supervisors decide
extension requests and the sweep's level-2 escalation requests."""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, computed_field

from models.enums import Event, RequestKind
from workflows.cases.detail import find_case
from workflows.core.clock import now_utc
from workflows.core.errors import InvalidInput, NotFound
from workflows.core.roles import HANDLERS, SUPERVISORS
from workflows.escalation.extensions import (
    DecisionResult,
    decide_escalation,
    decide_extension,
    pending_requests,
    request_extension,
)

from ..deps import CurrentActor, SessionDep, allow
from ..params import Count, Id, IsoDate
from .answers import Answer

router = APIRouter(tags=["督办申请"])

# Only supervisors decide requests; only handlers ask for more time (the ladder's roles).
SUPERVISOR_ONLY = [Depends(allow(SUPERVISORS))]
HANDLER_ONLY = [Depends(allow(HANDLERS))]


class RequestOut(Answer):
    id: int
    case_number: str = Field(validation_alias="number")
    case_version: int = Field(validation_alias="version")
    kind: RequestKind
    level: int | None
    reason: str | None
    requested_due_on: date | None
    due_on: date | None
    created_at: datetime = Field(validation_alias="requested_at")

    @computed_field
    @property
    def kind_label(self) -> str:
        return self.kind.label


class DecisionOut(Answer):
    request_id: int
    event: Event
    version: int
    due_on: date | None
    escalation_level: int


class ExtensionIn(BaseModel):
    version: Count = Field(description="The case version being acted on (stale → 409)")
    reason: str = Field(max_length=2000, description="Why more time is needed (延期理由)")
    requested_due_on: IsoDate | None = None


class DecisionIn(BaseModel):
    version: Count = Field(description="The case version being acted on (stale → 409)")
    decision: Literal["approve", "reject", "reassign", "extend", "escalate"]
    reason: str | None = Field(default=None, max_length=2000)
    new_due_on: IsoDate | None = None
    assignee_id: Id | None = None


def request_out(row) -> RequestOut:
    return RequestOut.model_validate(row, from_attributes=True)


def decision_out(result: DecisionResult) -> DecisionOut:
    return DecisionOut.model_validate(result, from_attributes=True)


def pending_request(
    request_id: Annotated[Id, Path()], actor: CurrentActor, session: SessionDep
):
    """The request, if it waits in this supervisor's queue. Checked before the body is read,
    so a request on someone else's case is refused (404: no existence leak) whatever is sent."""
    for row in pending_requests(session, actor=actor):
        if row.id == request_id:
            return row
    raise NotFound("申请不存在或已处理")


def case_in_scope(number: str, actor: CurrentActor, session: SessionDep) -> int:
    return find_case(session, actor=actor, number=number)


def decide(session, row, actor, *, version, decision, reason, new_due_on, assignee_id) -> DecisionResult:
    """One decision on one request: an extension is approved or rejected, an escalation is
    reassigned, extended, sent to the supervision bureau or rejected."""
    now = now_utc()
    if row.kind == RequestKind.EXTENSION:
        if decision not in ("approve", "extend", "reject"):
            raise InvalidInput.single("decision", "unknown", "延期申请只能批准或驳回")
        return decide_extension(
            session, request_id=row.id, actor=actor, version=version, as_of=now,
            approve=decision != "reject", reason=reason, new_due_on=new_due_on,
        )  # fmt: skip
    return decide_escalation(
        session, request_id=row.id, actor=actor, version=version, as_of=now,
        decision="extend" if decision == "approve" else decision, reason=reason,
        new_due_on=new_due_on, assignee_id=assignee_id,
    )  # fmt: skip


@router.get("/escalations", response_model=list[RequestOut], summary="待审批的延期与升级申请",
            dependencies=SUPERVISOR_ONLY)
def list_requests(actor: CurrentActor, session: SessionDep) -> list[RequestOut]:
    return [request_out(r) for r in pending_requests(session, actor=actor)]


@router.post(
    "/cases/{number}/extension-requests", response_model=DecisionOut, status_code=201,
    summary="申请延期", dependencies=HANDLER_ONLY,
    responses={409: {"description": "版本已过期或已有待审批的申请"}, 422: {"description": "填写有误"}},
)
def ask_for_extension(
    body: ExtensionIn, actor: CurrentActor, session: SessionDep,
    case_id: Annotated[int, Depends(case_in_scope)],
) -> DecisionOut:
    return decision_out(request_extension(
        session, case_id=case_id, actor=actor, version=body.version, as_of=now_utc(),
        reason=body.reason, requested_due_on=body.requested_due_on,
    ))  # fmt: skip


@router.post(
    "/escalations/{request_id}/decision", response_model=DecisionOut,
    summary="审批延期或升级申请", dependencies=SUPERVISOR_ONLY,
    responses={409: {"description": "版本已过期或申请已处理"}, 422: {"description": "填写有误"}},
)
def decide_request(
    body: DecisionIn, actor: CurrentActor, session: SessionDep,
    row: Annotated[object, Depends(pending_request)],
) -> DecisionOut:
    return decision_out(decide(
        session, row, actor, version=body.version, decision=body.decision, reason=body.reason,
        new_due_on=body.new_due_on, assignee_id=body.assignee_id,
    ))  # fmt: skip
