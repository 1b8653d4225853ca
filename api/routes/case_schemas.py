"""What the case API reads and answers: list filters from the query string, case lines, the
case page, transitions and the per-rule summary. Amounts travel as strings ("12345.67")."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from models.enums import Event, Level, RuleCategory, State, WarningType
from workflows.cases.detail import FACT_LABELS, CaseDetail
from workflows.cases.queries import MONTH_PATTERN, CaseFilters, CaseRow, Sort, SummaryBucket
from workflows.cases.slips import SlipInput
from workflows.cases.summary import RuleSummaryRow

from ..params import Count, Id, IsoDate


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
    assignee: Annotated[Id | None, Query(description="经办人 id")] = None,
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


def _label(value: Any) -> str | None:
    return None if value is None else value.label


# Answers are validated from workflows' objects (from_attributes): a label is read from the
# enum field its alias names, an amount from its Decimal.
Label = Annotated[str, BeforeValidator(_label)]
OptionalLabel = Annotated[str | None, BeforeValidator(_label)]
Money = Annotated[str | None, BeforeValidator(money)]
CaseUrl = Annotated[str, BeforeValidator(lambda number: f"/api/v1/cases/{number}")]
SlipUrl = Annotated[str, BeforeValidator(lambda slip_id: f"/api/v1/slips/{slip_id}")]


def _text(value: Any) -> Any:
    return str(value) if value is not None else None


class CaseItem(BaseModel):
    id: int
    number: str
    version: int
    rule_code: str
    rule_name: str
    category: RuleCategory
    category_label: Label = Field(validation_alias="category")
    state: State
    state_label: Label = Field(validation_alias="state")
    level: Level
    level_label: Label = Field(validation_alias="level")
    region_code: str
    region_name: str
    org_unit_id: int
    org_unit_name: str
    assignee_id: int | None
    assignee_name: str | None
    fund_name: str | None
    payee_name: str | None
    amount: Money
    raised_at: datetime
    entered_step_at: datetime
    days_at_step: int
    due_on: date | None
    working_days_left: int | None
    overdue: bool
    is_open: bool
    url: CaseUrl = Field(validation_alias="number")

    @classmethod
    def of(cls, row: CaseRow) -> "CaseItem":
        return cls.model_validate(row, from_attributes=True)


class CaseList(BaseModel):
    items: list[CaseItem]
    next_cursor: str | None


class RuleOut(BaseModel):
    code: str
    name: str
    category: RuleCategory
    category_label: Label = Field(validation_alias="category")
    basis: str
    description: str
    level: Level
    level_label: Label = Field(validation_alias="level")
    warning_type: WarningType
    warning_type_label: Label = Field(validation_alias="warning_type")


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
    kind: Annotated[str, BeforeValidator(_text)]
    kind_label: Label = Field(validation_alias="kind")
    version: int
    filed_at: datetime
    filed_by_name: str
    conclusion: Annotated[str | None, BeforeValidator(_text)]
    conclusion_label: OptionalLabel = Field(validation_alias="conclusion")
    attachments_count: int
    url: SlipUrl = Field(validation_alias="id")


class EventChoice(BaseModel):
    event: Event
    label: Label = Field(validation_alias="event")


def _events(events: list[Event]) -> list[dict]:
    return [{"event": e} for e in events]


def _facts(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: json_value(v) for k, v in fields.items()}


class _DetailAndRow:
    """The case page's detail read as one flat object: its own attributes, then its row's
    (the answer repeats the list line's fields beside the detail's)."""

    fact_labels = FACT_LABELS

    def __init__(self, detail: CaseDetail):
        self._detail = detail

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._detail, name)
        except AttributeError:
            return getattr(self._detail.row, name)


class CaseOut(CaseItem):
    # The fields by name, for programs (the detail's `facts` are keyed by their Chinese labels).
    facts: Annotated[dict[str, Any], BeforeValidator(_facts)] = Field(validation_alias="fields")
    fact_labels: dict[str, str]
    payload: dict[str, Any]
    rule: RuleOut
    raised_level: Level
    warning_type: WarningType | None = Field(description="监控平台报送的预警类型；未报送的为 null（按规则的类型分派）")
    warning_type_label: OptionalLabel = Field(validation_alias="warning_type")
    resolution: Annotated[str | None, BeforeValidator(_text)]
    resolution_label: OptionalLabel = Field(validation_alias="resolution")
    escalation_level: int
    deadline_provisional: bool = Field(
        description="期限跨越尚未录入法定节假日安排的年份：暂按周一至周五计算，录入后自动调整"
    )
    deadline_note: str | None = Field(description="期限为暂定时的说明")
    duty_due_on: date | None
    closed_at: datetime | None
    timeline: list[TimelineOut]
    slips: list[SlipBrief]
    allowed_events: Annotated[list[EventChoice], BeforeValidator(_events)]

    @classmethod
    def of_detail(cls, detail: CaseDetail) -> "CaseOut":
        return cls.model_validate(_DetailAndRow(detail), from_attributes=True)


# What each event needs beyond event and version, stated in the schema itself (JSON Schema
# if/then), so that a client reads from the OpenAPI document exactly what to send.
_NEEDS = {
    Event.COMPLETE_DUTY: ["done_at", "comment"],
    Event.SUBMIT_VERIFICATION: ["slip"],
    Event.SUBMIT_RECTIFICATION: ["slip"],
    Event.REASSIGN: ["assignee_id"],
    **{e: ["comment"] for e in (
        Event.REJECT_RECTIFICATION, Event.REJECT_NORMAL, Event.REJECT_CLEARANCE, Event.TRANSFER,
        Event.REQUEST_REVERIFY, Event.REJECT_REVERIFY,
    )},
}  # fmt: skip
_NEEDS_SCHEMA = {
    "allOf": [
        {"if": {"properties": {"event": {"const": e.value}}, "required": ["event"]},
         "then": {"required": fields, "properties": {f: {"not": {"type": "null"}} for f in fields}}}
        for e, fields in _NEEDS.items()
    ]
}  # fmt: skip


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_NEEDS_SCHEMA)

    event: Event
    version: Count = Field(description="The case version the user saw (stale → 409)")
    slip: SlipInput | None = Field(default=None, description="submit_verification / submit_rectification：必填，处理单")
    comment: str | None = Field(
        default=None, max_length=2000,
        description="意见或说明；complete_duty（报送按时履职）必填：履职情况及依据；退回、移交、申请重新核实必填：理由",
    )  # fmt: skip
    assignee_id: Id | None = Field(default=None, description="reassign：必填，新经办人 id")
    done_at: IsoDate | None = Field(
        default=None,
        description="complete_duty：必填，履职完成日期（YYYY-MM-DD），不晚于今天、不早于预警产生日期；"
        "晚于履职期限的，警铃按逾期转为预警而不解除。其他操作不得填写",
    )


class BatchCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(max_length=20)
    version: Count


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: Event
    cases: list[BatchCase] = Field(min_length=1, max_length=500)
    slip: SlipInput | None = None
    comment: str | None = Field(default=None, max_length=2000)
    assignee_id: Id | None = None


class BatchOut(BaseModel):
    items: list[CaseItem]
    slip_id: int | None


class SummaryRowOut(BaseModel):
    rule_code: str | None
    rule_name: str
    category: RuleCategory | None
    category_label: OptionalLabel = Field(validation_alias="category")
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
    amount_total: Annotated[str, BeforeValidator(money)]

    @classmethod
    def of(cls, row: RuleSummaryRow) -> "SummaryRowOut":
        return cls.model_validate(row, from_attributes=True)


class SummaryOut(BaseModel):
    rows: list[SummaryRowOut]
    totals: SummaryRowOut | None
