"""Reading what people typed into the pages' forms: slips and list filters.

Every parser returns what it understood together with the raw values (to show the form
again exactly as typed) and Chinese messages keyed by form field name (shown next to it).
Nothing here decides the domain rules: SlipInput.check() does, and its field paths
("slip.findings") are mapped back to the form's names ("findings").
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from models.enums import AmountBasis, Conclusion, Measure, SlipKind, VerifyMethod, ViolationType
from workflows.cases.queries import CaseFilters
from workflows.cases.slips import SlipInput
from workflows.core.errors import DomainError, InvalidInput

SLIP_LIST_FIELDS = ("methods", "measures")
SLIP_TEXT_FIELDS = (
    "findings", "conclusion", "violation_type", "amount_involved", "measures_detail",
    "amount_recovered", "completed_on", "multiple_payments_reason", "amount_basis",
    "filler_name", "filler_phone",
)

# The choices a slip form offers, for the templates.
SLIP_CHOICES = {
    "method_choices": VerifyMethod.choices(),
    "conclusion_choices": Conclusion.choices(),
    "violation_choices": ViolationType.choices(),
    "measure_choices": Measure.choices(),
    "basis_choices": AmountBasis.choices(),
}
# A slip's fields as the forms and the case page name them.
SLIP_LABELS = {
    "methods": "核实方式",
    "findings": "核实情况",
    "conclusion": "认定结论",
    "violation_type": "违规类型",
    "amount_involved": "涉及金额（元）",
    "measures": "整改措施",
    "measures_detail": "整改情况",
    "amount_recovered": "收回金额（元）",
    "completed_on": "整改完成日期",
    "multiple_payments_reason": "涉及多笔支付说明",
    "amount_basis": "金额口径",
    "filler_name": "填报人",
    "filler_phone": "联系电话",
}

# Pydantic's error types in words for the person at the form.
_MESSAGES = {
    "decimal_parsing": "请填写数字金额，如 12345.67",
    "decimal_max_places": "金额最多保留两位小数",
    "decimal_max_digits": "金额过大",
    "decimal_whole_digits": "金额过大",
    "greater_than_equal": "金额不能为负数",
    "date_from_datetime_parsing": "请填写日期，如 2026-11-23",
    "date_parsing": "请填写日期，如 2026-11-23",
    "date_from_datetime_inexact": "请填写日期，如 2026-11-23",
    "enum": "请从列表中选择",
    "literal_error": "请从列表中选择",
    "string_too_long": "内容过长",
    "int_parsing": "请填写整数",
    "int_from_float": "请填写整数",
    "less_than_equal": "数值过大",
    "bool_parsing": "请选择是或否",
}

# The filters' words, for messages about them.
_FILTER_LABELS = {"days_at_step_min": "在本节点天数", "level": "级别", "state": "当前节点",
                  "region": "区划", "rule": "规则", "q": "关键字", "overdue": "是否超期",
                  "category": "规则分类", "month": "产生月份", "bucket": "汇总表栏目",
                  "department": "处室", "region_only": "仅本级"}


@dataclass
class Parsed:
    """What a form said: the value (None when it cannot be used), the raw input, the errors."""

    value: Any
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and self.value is not None


def form_field(path: str) -> str:
    """"slip.findings" → "findings"; "comment" stays; "slip" (the whole slip) → "slip"."""
    return path.split(".", 1)[1] if path.startswith("slip.") else path


def errors_of(error: DomainError) -> dict[str, str]:
    """A domain error's field messages keyed by form field (the first message per field)."""
    found: dict[str, str] = {}
    for e in error.errors:
        found.setdefault(form_field(e.field), e.message)
    return found


def _message(error: dict) -> str:
    return _MESSAGES.get(error.get("type", ""), "填写有误")


def raw_values(form: Mapping, lists: tuple[str, ...], texts: tuple[str, ...]) -> dict[str, Any]:
    """The form's fields as typed: lists for multi-choice fields, stripped text otherwise."""
    getlist = getattr(form, "getlist", None)
    values: dict[str, Any] = {}
    for name in lists:
        items = getlist(name) if getlist else form.get(name) or []
        values[name] = [str(v) for v in items if isinstance(v, str) and v]
    for name in texts:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def parse_slip(form: Mapping, kind: SlipKind, *, today: date | None = None) -> Parsed:
    """A slip form → SlipInput, with every problem reported at once (type and domain rules)."""
    values = raw_values(form, SLIP_LIST_FIELDS, SLIP_TEXT_FIELDS)
    data: dict[str, Any] = {"kind": kind}
    for name in SLIP_LIST_FIELDS:
        data[name] = values[name]
    for name in SLIP_TEXT_FIELDS:
        if values[name] != "":
            data[name] = values[name].replace(",", "") if name.startswith("amount") else values[name]
    errors: dict[str, str] = {}
    try:
        slip = SlipInput.model_validate(data)
    except ValidationError as invalid:
        for e in invalid.errors():
            name = str(e["loc"][0]) if e.get("loc") else "slip"
            errors.setdefault(name, _message(e))
            data.pop(name, None)
        # Check the rest too, so the person sees every problem in one go.
        try:
            slip = SlipInput.model_validate(data)
        except ValidationError:
            return Parsed(None, values, errors)
    try:
        slip.check(today=today)
    except InvalidInput as refused:
        for name, message in errors_of(refused).items():
            errors.setdefault(name, message)
    return Parsed(None if errors else slip, values, errors)


FILTER_LIST_FIELDS = ("state",)
FILTER_TEXT_FIELDS = ("region", "region_only", "level", "category", "month", "bucket", "rule",
                      "department", "days_at_step_min", "q", "overdue", "open_only", "sort")


def parse_case_filters(params: Mapping) -> Parsed:
    """The tracking list's GET form → CaseFilters; unusable filters are dropped and named."""
    values = raw_values(params, FILTER_LIST_FIELDS, FILTER_TEXT_FIELDS)
    data: dict[str, Any] = {k: v for k, v in values.items() if v not in ("", [])}
    for flag in ("overdue", "open_only", "region_only"):
        if flag in data:
            data[flag] = data[flag] in ("1", "true", "on", "yes")
    if data.get("overdue") is False:
        data.pop("overdue")
    errors: dict[str, str] = {}
    try:
        filters = CaseFilters.model_validate(data)
    except ValidationError as invalid:
        for e in invalid.errors():
            name = str(e["loc"][0]) if e.get("loc") else "filters"
            errors.setdefault(name, f"{_FILTER_LABELS.get(name, '筛选条件')}：{_message(e)}，已忽略")
            data.pop(name, None)
        filters = CaseFilters.model_validate(data)
    return Parsed(filters, values, errors)

