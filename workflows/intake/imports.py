"""Warnings arriving from the monitoring platform become routed cases, in batches.

Every item is validated in full before anything is written; the valid ones are then created
together by one set-based call (intake.raise_cases) inside one SAVEPOINT. Should that fail,
they are created again in chunks and item by item, so an item that still fails leaves
nothing behind and the others land. Idempotent on (source, external_id), also within one
batch. Lookups (rules, regions, departments, handlers' loads, the whitelist, the calendar)
are loaded once per batch, so that 10,000 warnings take seconds.
Whatever door they come through (JSON, a file, the CLI), text is trimmed, control characters
are removed and counted (XML, so XLSX exports, cannot hold them), dates outside a sane
window are refused per item with the field named, and a payload has a size cap.
"""

import gc
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlmodel import Session, select

from models import Case, OrgUnit, Region, Rule, User
from models.enums import OPEN_STATES, Level, Role, WarningType
from models.settings import get_settings
from workflows.cases.lifecycle import INITIAL
from workflows.core.actors import Actor
from workflows.core.calendar import LOCAL_TZ, load_calendar, local_date
from workflows.core.errors import DomainError, FieldError, InvalidInput
from workflows.intake.intake import (
    DuplicateWarning,
    NewCase,
    existing_warnings,
    raise_case,
    raise_cases,
)
from workflows.intake.routing import route
from workflows.intake.whitelist import whitelist_index

MAX_ITEMS = 10_000
_CHUNK = 500  # bound parameters per IN (...) lookup
_SAVEPOINT_CHUNK = 250

LABELS = {
    "rule_code": "规则编码", "level": "预警级别", "region_code": "区划代码",
    "department_code": "处室编码", "warning_type": "预警类型", "source": "来源系统",
    "external_id": "外部编号", "raised_at": "预警产生时间", "duty_due_on": "履职截止日期",
    "facts": "监控要素", "payload": "其他要素", "fund_name": "资金名称",
    "indicator_doc_no": "指标文件号", "payer_name": "付款人名称", "payee_name": "收款人名称",
    "payee_account": "收款人账户", "amount": "金额", "payment_date": "支付日期", "purpose": "用途",
}
_PROBLEMS = {
    "missing": "必填", "string_too_long": "内容过长", "string_too_short": "不能为空",
    "string_type": "应为文字", "decimal_parsing": "应为数字", "decimal_type": "应为数字",
    "decimal_max_places": "小数位数过多（最多两位）", "decimal_max_digits": "数值过大",
    "greater_than_equal": "不能为负数", "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）", "date_from_datetime_inexact": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为日期时间（ISO 8601）", "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "datetime_type": "应为日期时间（ISO 8601）", "enum": "不是可选的值", "extra_forbidden": "不认识的字段",
    "model_type": "应为对象", "dict_type": "应为对象",
}


class WarningFacts(BaseModel):
    """The monitored facts (Changchun art. 6) a case carries; anything else goes in payload."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    fund_name: str | None = Field(None, max_length=128)
    indicator_doc_no: str | None = Field(None, max_length=64)
    payer_name: str | None = Field(None, max_length=128)
    payee_name: str | None = Field(None, max_length=128)
    payee_account: str | None = Field(None, max_length=64)
    amount: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    payment_date: date | None = None
    purpose: str | None = Field(None, max_length=255)
    payload: dict[str, Any] | None = None


class WarningIn(BaseModel):
    """One warning as the monitoring platform sends it. Text is trimmed: " W-1 " and "W-1"
    are the same warning."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    rule_code: str = Field(min_length=1, max_length=32)
    level: Level | None = None
    region_code: str = Field(min_length=1, max_length=12)
    department_code: str | None = Field(None, max_length=32)
    warning_type: WarningType | None = None
    source: str = Field(min_length=1, max_length=32)
    external_id: str = Field(min_length=1, max_length=64)
    # Without an offset: Beijing time, as the platforms show it.
    raised_at: datetime
    duty_due_on: date | None = None
    facts: WarningFacts = Field(default_factory=WarningFacts)
    payload: dict[str, Any] | None = None


_ADAPTER = TypeAdapter(WarningIn)


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    whitelisted: int = 0
    # Text fields that had control characters removed.
    stripped: int = 0
    errors: list[dict] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)

    def error(self, index: int, field_: str, code: str, message: str) -> None:
        self.errors.append({"index": index, "field": field_, "code": code, "message": message})

    def as_dict(self) -> dict:
        return {"created": self.created, "duplicates": self.duplicates,
                "whitelisted": self.whitelisted, "stripped": self.stripped, "errors": self.errors}


def _schema_errors(result: ImportResult, index: int, error: ValidationError) -> None:
    for e in error.errors():
        path = ".".join(str(p) for p in e["loc"]) or "item"
        label = LABELS.get(str(e["loc"][-1]), path) if e["loc"] else "预警"
        problem = _PROBLEMS.get(e["type"], "填写有误")
        result.error(index, path, e["type"], f"{label}：{problem}")


# C0 control characters other than tab, line feed and carriage return: XML (so XLSX) cannot
# hold them, and nobody types them; they arrive from broken exports.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LATEST_DATE = date(2100, 12, 31)


def strip_controls(value: Any) -> tuple[Any, int]:
    """The value with control characters removed from every text in it; how many texts changed.
    A dict or list comes back as it was (the same object) when nothing needed removing."""
    if isinstance(value, str):
        if _CONTROLS.search(value) is None:
            return value, 0
        return _CONTROLS.sub("", value), 1
    if isinstance(value, dict):
        count = 0
        cleaned = None
        for key, inner in value.items():
            if type(inner) is str:
                if _CONTROLS.search(inner) is None:
                    continue
                new, n = _CONTROLS.sub("", inner), 1
            elif isinstance(inner, dict | list):
                new, n = strip_controls(inner)
                if not n:
                    continue
            else:
                continue
            if cleaned is None:
                cleaned = dict(value)
            cleaned[key] = new
            count += n
        return (cleaned, count) if cleaned is not None else (value, 0)
    if isinstance(value, list):
        pairs = [strip_controls(inner) for inner in value]
        count = sum(n for _, n in pairs)
        return ([v for v, _ in pairs], count) if count else (value, 0)
    return value, 0


@dataclass(frozen=True)
class _Window:
    """The dates a real warning can have, for one batch: raised_at from the earliest date to
    now plus the clock skew (Beijing time, naive, as items mostly come), other dates to 2100."""

    earliest: date
    latest: datetime  # naive Beijing time
    shown: str

    @classmethod
    def of(cls, settings, as_of: datetime) -> "_Window":
        latest = (as_of + timedelta(minutes=settings.import_clock_skew_minutes)).astimezone(LOCAL_TZ)
        return cls(settings.import_earliest_date, latest.replace(tzinfo=None),
                   f"{settings.import_earliest_date:%Y-%m-%d} 至 {latest:%Y-%m-%d %H:%M}")


def _out_of_window(result: ImportResult, index: int, item: WarningIn, window: _Window) -> bool:
    """Refuse dates no real warning has (0001-01-01, 9999-12-31, next year), naming the field."""
    raised_at = item.raised_at
    refused = False
    # Compared as dates first: an aware 0001-01-01 cannot even be moved to Beijing time.
    if not window.earliest <= raised_at.date() <= _LATEST_DATE:
        late = True
    elif raised_at.tzinfo is None:
        late = raised_at > window.latest
    else:
        late = raised_at.astimezone(LOCAL_TZ).replace(tzinfo=None) > window.latest
    if late:
        result.error(index, "raised_at", "out_of_range", f"预警产生时间：须在 {window.shown} 之间")
        refused = True
    for name, value in (("duty_due_on", item.duty_due_on), ("facts.payment_date", item.facts.payment_date)):
        if value is not None and not window.earliest <= value <= _LATEST_DATE:
            label = LABELS[name.rsplit(".", 1)[-1]]
            result.error(index, name, "out_of_range",
                         f"{label}：须在 {window.earliest:%Y-%m-%d} 至 {_LATEST_DATE:%Y-%m-%d} 之间")
            refused = True
    return refused


def _payload_size(item: WarningIn) -> int:
    payload = {**(item.facts.payload or {}), **(item.payload or {})}
    return len(json.dumps(_jsonable(payload), ensure_ascii=False).encode())


def _chunks(values: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _lookup(session: Session, columns, key, values: set[str], join=None) -> dict:
    found = {}
    for chunk in _chunks(sorted(values)):
        query = sa.select(*columns)
        if join is not None:
            query = query.join(*join)
        for row in session.connection().execute(query.where(key.in_(chunk))):
            found[row[0]] = row
    return found


def _existing_ids(session: Session, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return existing_warnings(session, pairs)


def _handler_loads(session: Session, unit_ids: set[int]) -> dict[int, dict[int, int]]:
    """Open cases of every active handler of these units, in one grouped query."""
    loads: dict[int, dict[int, int]] = {u: {} for u in unit_ids}
    for chunk in _chunks(sorted(unit_ids)):
        rows = session.connection().execute(
            sa.select(User.org_unit_id, User.id, sa.func.count(Case.id))
            .outerjoin(Case, sa.and_(Case.assignee_id == User.id, Case.state.in_(OPEN_STATES)))
            .where(User.org_unit_id.in_(chunk), User.role == Role.HANDLER, User.is_active.is_(True))
            .group_by(User.org_unit_id, User.id)
        )
        for unit_id, user_id, open_cases in rows:
            loads[unit_id][user_id] = open_cases
    return loads


def _pick_handler(loads: dict[int, int]) -> int | None:
    """The handler with the fewest open cases (lowest id on a tie); counts the new one."""
    if not loads:
        return None
    handler = min(loads, key=lambda user_id: (loads[user_id], user_id))
    loads[handler] += 1
    return handler


@dataclass
class _Ready:
    index: int
    item: WarningIn
    rule: Any
    region_id: int
    org_unit_id: int
    raised_at: datetime
    level: Level
    duty_due_on: date | None
    assignee_id: int | None = None


def import_warnings(session: Session, *, actor: Actor, items: list[Any], as_of: datetime) -> ImportResult:
    """Create routed cases for a batch of warnings; report duplicates, whitelisted and bad items."""
    if not isinstance(items, list):
        raise InvalidInput.single("body", "list_type", "请求内容应为预警数组")
    if len(items) > MAX_ITEMS:
        raise InvalidInput.single(
            "body", "too_many", f"一次最多导入 {MAX_ITEMS:,} 条预警，本次 {len(items):,} 条，请分批发送"
        )
    with _collector_paused():
        return _import(session, actor=actor, items=items, as_of=as_of)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for one batch: the batch allocates hundreds of thousands
    of objects (models, rows) and none of them in cycles, so the collector's full passes over
    a growing heap were a tenth of the time. Process-wide; other threads only skip
    collecting cycles for those seconds."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _import(session: Session, *, actor: Actor, items: list[Any], as_of: datetime) -> ImportResult:
    result = ImportResult()
    settings = get_settings()
    window = _Window.of(settings, as_of)
    parsed: list[tuple[int, WarningIn]] = []
    for index, raw in enumerate(items):
        raw, stripped = strip_controls(raw)
        result.stripped += stripped
        try:
            item = _ADAPTER.validate_python(raw)
        except ValidationError as error:
            _schema_errors(result, index, error)
            continue
        if _out_of_window(result, index, item, window):
            continue
        if (item.payload or item.facts.payload) and _payload_size(item) > settings.import_payload_max_bytes:
            limit = settings.import_payload_max_bytes // 1024
            result.error(index, "payload", "too_large", f"其他要素过大（每条预警上限 {limit} KB）")
            continue
        parsed.append((index, item))

    rules: dict[str, Rule] = {}
    for chunk in _chunks(sorted({w.rule_code for _, w in parsed})):
        rules.update((r.code, r) for r in session.exec(select(Rule).where(Rule.code.in_(chunk))))
    regions = _lookup(session, [Region.code, Region.id, Region.path, Region.name], Region.code,
                      {w.region_code for _, w in parsed})
    departments = _lookup(
        session, [OrgUnit.code, OrgUnit.id, Region.path], OrgUnit.code,
        {w.department_code for _, w in parsed if w.department_code},
        join=(Region, Region.id == OrgUnit.region_id),
    )
    calendar = load_calendar(session)
    routes: dict[tuple[int, WarningType], tuple[int, None] | DomainError] = {}

    ready: list[_Ready] = []
    for index, item in parsed:
        before = len(result.errors)
        raised_at = item.raised_at if item.raised_at.tzinfo else item.raised_at.replace(tzinfo=LOCAL_TZ)
        raised_on = local_date(raised_at)
        rule = rules.get(item.rule_code)
        if rule is None:
            result.error(index, "rule_code", "unknown_rule", f"规则编码 {item.rule_code} 不存在")
        elif not rule.is_active or rule.active_from > raised_on or (
            rule.active_until is not None and rule.active_until < raised_on
        ):
            result.error(index, "rule_code", "rule_not_in_force", f"规则 {rule.code} 在预警产生日未生效或已停用")
        region = regions.get(item.region_code)
        if region is None:
            result.error(index, "region_code", "unknown_region", f"区划代码 {item.region_code} 不存在")
        elif not actor.sees_region(region.path):
            # A county's account must not open cases elsewhere; the same words as an unknown
            # code would hide other regions, but codes are public, so say what is wrong.
            result.error(index, "region_code", "out_of_scope",
                         f"区划 {item.region_code} 不在本账户的管辖范围内")
            region = None
        level = item.level or (rule.level if rule else None)
        if level is not None and level not in INITIAL:
            result.error(index, "level", "invalid_level", "预警级别须为黄色警铃、黄灯或红灯")
        org_unit_id = None
        if item.department_code:
            unit = departments.get(item.department_code)
            if unit is None:
                result.error(index, "department_code", "unknown_department", f"处室编码 {item.department_code} 不存在")
            elif region is not None and not region.path.startswith(unit.path):
                result.error(index, "department_code", "not_in_region",
                             f"处室 {item.department_code} 不属于区划 {item.region_code} 或其上级")
            else:
                org_unit_id = unit.id
        elif region is not None and rule is not None:
            warning_type = item.warning_type or WarningType(rule.warning_type)
            key = (region.id, warning_type)
            if key not in routes:
                try:
                    routes[key] = route(session, region_id=region.id, warning_type=warning_type)
                except DomainError as error:
                    routes[key] = error
            routed = routes[key]
            if isinstance(routed, DomainError):
                result.error(index, "department_code", "no_department", routed.message)
            else:
                org_unit_id = routed[0]
        if len(result.errors) > before:
            continue
        duty_due_on = item.duty_due_on
        if level == Level.YELLOW_BELL and duty_due_on is None:
            lead = rule.bell_lead_days if rule.bell_lead_days is not None else settings.default_bell_lead_days
            duty_due_on = calendar.add_working_days(raised_on, lead)
        ready.append(_Ready(index, item, rule, region.id, org_unit_id, raised_at, level, duty_due_on))

    existing = _existing_ids(session, {(r.item.source, r.item.external_id) for r in ready})
    whitelist = whitelist_index(session, on=local_date(as_of))
    loads = _handler_loads(session, {r.org_unit_id for r in ready})
    todo: list[_Ready] = []
    for r in ready:
        key = (r.item.source, r.item.external_id)
        if key in existing:
            result.duplicates += 1
            continue
        facts = r.item.facts
        if whitelist.covers(rule_id=r.rule.id, payee_name=facts.payee_name, payee_account=facts.payee_account):
            result.whitelisted += 1
            continue
        existing.add(key)
        r.assignee_id = _pick_handler(loads[r.org_unit_id])
        todo.append(r)

    def new_case(r: _Ready) -> NewCase:
        facts = r.item.facts.model_dump(exclude={"payload"}, exclude_none=True)
        payload = {**(r.item.facts.payload or {}), **(r.item.payload or {})}
        return NewCase(
            rule=r.rule, region_id=r.region_id, org_unit_id=r.org_unit_id,
            assignee_id=r.assignee_id, source=r.item.source, external_id=r.item.external_id,
            raised_at=r.raised_at, facts=facts, payload=_jsonable(payload),
            duty_due_on=r.duty_due_on, level=r.level, warning_type=r.item.warning_type,
        )

    def create_all(chunk: list[_Ready]) -> bool:
        """All of `chunk` in one set-based call inside one SAVEPOINT; False if it was refused."""
        try:
            with session.begin_nested():
                ids = raise_cases(session, items=[new_case(r) for r in chunk], as_of=as_of,
                                  actor=actor, calendar=calendar)
        except (DomainError, sa.exc.IntegrityError):
            return False
        result.case_ids += ids
        return True

    def create_one(r: _Ready) -> None:
        try:
            with session.begin_nested():
                c = new_case(r)
                result.case_ids.append(raise_case(
                    session, rule=c.rule, region_id=c.region_id, org_unit_id=c.org_unit_id,
                    assignee_id=c.assignee_id, source=c.source, external_id=c.external_id,
                    raised_at=c.raised_at, as_of=as_of, actor=actor, facts=c.facts,
                    payload=c.payload, duty_due_on=c.duty_due_on, level=c.level, calendar=calendar,
                    warning_type=c.warning_type,
                ))
        except (DuplicateWarning, sa.exc.IntegrityError):
            result.duplicates += 1  # sent concurrently by another request: it landed there
        except DomainError as error:
            for e in error.errors or [FieldError("item", error.code, error.message)]:
                result.error(r.index, e.field, e.code, e.message)

    # The whole batch in one set-based call, in one SAVEPOINT: a fixed number of statements
    # whatever its size. Should it be refused (e.g. a warning sent concurrently by another
    # request landed in between), retry in chunks, and a chunk that still fails item by item,
    # each in its own SAVEPOINT, so a failing warning leaves nothing and the others land.
    # Not one SAVEPOINT per item from the start: on PostgreSQL every savepoint that writes
    # is a subtransaction, and thousands in one transaction make each later statement slower.
    if todo and not create_all(todo):
        for chunk in _chunks(todo, _SAVEPOINT_CHUNK):
            if len(chunk) < len(todo) and create_all(chunk):
                continue
            for r in chunk:
                create_one(r)
    result.created = len(result.case_ids)
    result.errors.sort(key=lambda e: e["index"])
    return result


def _jsonable(value: Any) -> Any:
    """Payload values as JSON can store them (dates and decimals as strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime | Decimal):
        return str(value)
    return value
