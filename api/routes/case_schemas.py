"""What the case API reads and answers: list filters from the query string, case lines, the
case page, transitions and the per-rule summary. Amounts travel as strings ("12345.67")."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from models.enums import Event, Level, RuleCategory, State
from workflows.cases.detail import CaseDetail
from workflows.cases.queries import MONTH_PATTERN, CaseFilters, CaseRow, Sort, SummaryBucket
from workflows.cases.slips import SlipInput
from workflows.cases.summary import RuleSummaryRow


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def json_value(value: Any) -> Any:
    return money(value) if isinstance(value, Decimal) else value


def case_filters(
    state: Annotated[list[State] | None, Query(description="状态，可重复")] = None,
    level: Annotated[Level | None, Query(description="预警级别")] = None,
    rule: Annotated[str | None, Query(max_length=32, description="规则编码")] = None,
    category: Annotated[RuleCategory | None, Query(description="规则分类")] = None,
    region: Annotated[str | None, Query(max_length=12, description="区划代码（含下级）")] = None,
    region_only: Annotated[bool, Query(description="只看该区划本级（不含下级）")] = False,
    month: Annotated[
        str | None, Query(pattern=MONTH_PATTERN, description="产生月份 YYYY-MM（北京时间）")
    ] = None,
    bucket: Annotated[SummaryBucket | None, Query(description="规则汇总表的栏目")] = None,
    department: Annotated[str | None, Query(max_length=32, description="处室编码")] = None,
    assignee: Annotated[int | None, Query(description="经办人 id")] = None,
    mine: Annotated[bool, Query(description="我的待办")] = False,
    overdue: Annotated[bool | None, Query(description="是否超期")] = None,
    days_at_step_min: Annotated[
        int | None, Query(ge=0, le=3650, description="停留天数 ≥ N")
    ] = None,
    q: Annotated[str | None, Query(max_length=64, description="预警编号、收款人或资金名称")] = None,
    open_only: Annotated[bool, Query(description="只看未办结")] = False,
    sort: Annotated[Sort, Query(description="排序")] = "due_on",
) -> CaseFilters:
    """The list filters as query parameters; FastAPI checks each and names it on error."""
    return CaseFilters(
        state=state, level=level, rule=rule or None, category=category, region=region or None,
        region_only=region_only, month=month or None, bucket=bucket,
        department=department or None, assignee=assignee, mine=mine, overdue=overdue,
        days_at_step_min=days_at_step_min, q=q or None, open_only=open_only, sort=sort,
    )  # fmt: skip


class CaseItem(BaseModel):
    id: int
    number: str
    version: int
    rule_code: str
    rule_name: str
    category: RuleCategory
    category_label: str
    state: State
    state_label: str
    level: Level
    level_label: str
    region_code: str
    region_name: str
    org_unit_id: int
    org_unit_name: str
    assignee_id: int | None
    assignee_name: str | None
    fund_name: str | None
    payee_name: str | None
    amount: str | None
    raised_at: datetime
    entered_step_at: datetime
    days_at_step: int
    due_on: date | None
    working_days_left: int | None
    overdue: bool
    is_open: bool
    url: str

    @classmethod
    def of(cls, row: CaseRow) -> "CaseItem":
        return cls(
            id=row.id, number=row.number, version=row.version, rule_code=row.rule_code,
            rule_name=row.rule_name, category=row.category, category_label=row.category.label,
            state=row.state, state_label=row.state.label, level=row.level,
            level_label=row.level.label, region_code=row.region_code, region_name=row.region_name,
            org_unit_id=row.org_unit_id, org_unit_name=row.org_unit_name,
            assignee_id=row.assignee_id, assignee_name=row.assignee_name,
            fund_name=row.fund_name, payee_name=row.payee_name, amount=money(row.amount),
            raised_at=row.raised_at, entered_step_at=row.entered_step_at,
            days_at_step=row.days_at_step, due_on=row.due_on,
            working_days_left=row.working_days_left, overdue=row.overdue, is_open=row.is_open,
            url=f"/api/v1/cases/{row.number}",
        )  # fmt: skip


class CaseList(BaseModel):
    items: list[CaseItem]
    next_cursor: str | None


class RuleOut(BaseModel):
    code: str
    name: str
    category: RuleCategory
    category_label: str
    basis: str
    description: str
    level: Level
    level_label: str


class TimelineOut(BaseModel):
    seq: int
    at: datetime
    event: Event
    event_label: str
    from_state: State | None
    to_state: State
    to_state_label: str
    actor_name: str
    actor_role_label: str
    comment: str | None
    slip_id: int | None
    slip_number: str | None
    due_on: date | None


class SlipBrief(BaseModel):
    id: int
    number: str
    kind: str
    kind_label: str
    version: int
    filed_at: datetime
    filed_by_name: str
    conclusion: str | None
    conclusion_label: str | None
    attachments_count: int
    url: str


class EventChoice(BaseModel):
    event: Event
    label: str


class CaseOut(CaseItem):
    facts: dict[str, Any]
    fact_labels: dict[str, str]
    payload: dict[str, Any]
    rule: RuleOut
    raised_level: Level
    resolution: str | None
    resolution_label: str | None
    escalation_level: int
    duty_due_on: date | None
    closed_at: datetime | None
    timeline: list[TimelineOut]
    slips: list[SlipBrief]
    allowed_events: list[EventChoice]

    @classmethod
    def of_detail(cls, detail: CaseDetail) -> "CaseOut":
        from workflows.cases.detail import FACT_LABELS

        r = detail.rule
        return cls(
            **CaseItem.of(detail.row).model_dump(),
            facts={k: json_value(v) for k, v in detail.fields.items()},
            fact_labels=FACT_LABELS,
            payload=detail.payload,
            rule=RuleOut(code=r.code, name=r.name, category=r.category,
                         category_label=r.category.label, basis=r.basis,
                         description=r.description, level=r.level, level_label=r.level.label),
            raised_level=detail.raised_level,
            resolution=detail.resolution,
            resolution_label=detail.resolution.label if detail.resolution else None,
            escalation_level=detail.escalation_level,
            duty_due_on=detail.duty_due_on,
            closed_at=detail.closed_at,
            timeline=[
                TimelineOut(seq=e.seq, at=e.at, event=e.event, event_label=e.event_label,
                            from_state=e.from_state, to_state=e.to_state,
                            to_state_label=e.to_state.label, actor_name=e.actor_name,
                            actor_role_label=e.actor_role_label, comment=e.comment,
                            slip_id=e.slip_id, slip_number=e.slip_number, due_on=e.due_on)
                for e in detail.timeline
            ],
            slips=[
                SlipBrief(id=s.id, number=s.number, kind=s.kind, kind_label=s.kind.label,
                          version=s.version, filed_at=s.filed_at, filed_by_name=s.filed_by_name,
                          conclusion=s.conclusion,
                          conclusion_label=s.conclusion.label if s.conclusion else None,
                          attachments_count=s.attachments_count, url=f"/api/v1/slips/{s.id}")
                for s in detail.slips
            ],
            allowed_events=[EventChoice(event=e, label=e.label) for e in detail.allowed_events],
        )  # fmt: skip


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: Event
    version: int = Field(description="The case version the user saw (stale → 409)")
    slip: SlipInput | None = None
    comment: str | None = Field(default=None, max_length=2000)
    assignee_id: int | None = None


class BatchCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(max_length=20)
    version: int


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: Event
    cases: list[BatchCase] = Field(min_length=1, max_length=500)
    slip: SlipInput | None = None
    comment: str | None = Field(default=None, max_length=2000)
    assignee_id: int | None = None


class BatchOut(BaseModel):
    items: list[CaseItem]
    slip_id: int | None


class SummaryRowOut(BaseModel):
    rule_code: str | None
    rule_name: str
    category: RuleCategory | None
    category_label: str | None
    red_open: int
    red_rectified: int
    yellow_suspicious: int
    yellow_normal: int
    yellow_violation_open: int
    yellow_violation_rectified: int
    bell_open: int
    bell_rectified: int
    transferred: int
    total: int
    amount_total: str

    @classmethod
    def of(cls, row: RuleSummaryRow) -> "SummaryRowOut":
        counts = {k: v for k, v in vars(row).items() if isinstance(v, int)}
        return cls(rule_code=row.rule_code, rule_name=row.rule_name, category=row.category,
                   category_label=row.category.label, amount_total=money(row.amount_total),
                   **counts)  # fmt: skip


class SummaryOut(BaseModel):
    rows: list[SummaryRowOut]
    totals: SummaryRowOut | None
