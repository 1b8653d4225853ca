"""Administrators keep the monitoring rules: every field of the rule application form
(Changchun annex 2), each change audited with its old and new values.

Input may come from JSON (typed values) or an HTML form (strings); both go through the same
coercion and validation so the two front ends refuse the same things with the same words.
"""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from models import Rule
from models.enums import AuditKind, Level, RuleCategory, WarningType
from workflows.core.actors import Actor
from workflows.core.audit import record
from workflows.core.errors import AlreadyExists, FieldError, InvalidInput, NotFound

# Field → (Chinese name, kind, limits). The order is the application form's.
_TEXT, _LONG_TEXT, _INT, _DATE, _BOOL = "text", "long_text", "int", "date", "bool"
FIELDS: dict[str, tuple[str, Any, Any]] = {
    "code": ("规则编码", _TEXT, 32),
    "name": ("规则名称", _TEXT, 128),
    "category": ("规则分类", RuleCategory, None),
    "level": ("预警级别", Level, None),
    "warning_type": ("预警类型", WarningType, None),
    "theme": ("监控主题", _TEXT, 64),
    "description": ("规则描述", _LONG_TEXT, 4000),
    "basis": ("规则依据", _LONG_TEXT, 4000),
    "scope": ("适用范围", _TEXT, 255),
    "handling_party": ("预警处理人", _TEXT, 128),
    "verify_days": ("核实期限（工作日）", _INT, (1, 60)),
    "rectify_days": ("整改期限（工作日）", _INT, (1, 120)),
    "review_days": ("审核期限（工作日）", _INT, (1, 30)),
    "bell_lead_days": ("警铃提前天数（工作日）", _INT, (0, 30)),
    "bell_becomes": ("警铃到期转为", Level, None),
    "active_from": ("生效日期", _DATE, None),
    "active_until": ("失效日期", _DATE, None),
    "is_active": ("是否启用", _BOOL, None),
}
REQUIRED = ("code", "name", "category", "level", "warning_type", "active_from")
RAISED_LEVELS = (Level.YELLOW_BELL, Level.YELLOW_LIGHT, Level.RED_LIGHT)
BELL_OUTCOMES = (Level.YELLOW_LIGHT, Level.RED_LIGHT)
_DEFAULTS: dict[str, Any] = {
    "theme": "", "description": "", "basis": "", "scope": "", "handling_party": "",
    "verify_days": None, "rectify_days": None, "review_days": None, "bell_lead_days": None,
    "bell_becomes": None, "active_until": None, "is_active": True,
}


def _coerce(field: str, value: Any) -> tuple[Any, FieldError | None]:
    label, kind, limit = FIELDS[field]
    if value is None or (isinstance(value, str) and not value.strip() and kind not in (_TEXT, _LONG_TEXT)):
        return None, None
    if kind in (_TEXT, _LONG_TEXT):
        if not isinstance(value, str):
            return None, FieldError(field, "invalid", f"{label}应为文字")
        value = value.strip()
        if len(value) > limit:
            return None, FieldError(field, "string_too_long", f"{label}不能超过 {limit} 个字符")
        return value, None
    if kind is _INT:
        try:
            number = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or (isinstance(value, float) and value != number):
            return None, FieldError(field, "int_parsing", f"{label}应为整数")
        low, high = limit
        if not low <= number <= high:
            return None, FieldError(field, "out_of_range", f"{label}须在 {low}–{high} 之间")
        return number, None
    if kind is _DATE:
        if isinstance(value, datetime):
            return None, FieldError(field, "date_parsing", f"{label}应为日期（YYYY-MM-DD）")
        if isinstance(value, date):
            return value, None
        try:
            return date.fromisoformat(str(value).strip()), None
        except ValueError:
            return None, FieldError(field, "date_parsing", f"{label}应为日期（YYYY-MM-DD）")
    if kind is _BOOL:
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        if text in ("true", "1", "on", "yes"):
            return True, None
        if text in ("false", "0", "off", "no"):
            return False, None
        return None, FieldError(field, "bool_parsing", f"{label}应为是或否")
    try:
        return kind(value), None
    except ValueError:
        choices = "、".join(m.label for m in kind)
        return None, FieldError(field, "enum", f"{label}不是可选的值（{choices}）")


def _validate(session: Session, merged: dict[str, Any], *, rule_id: int | None) -> list[FieldError]:
    """Whole-rule checks once every field has its type."""
    errors = []
    for field in REQUIRED:
        if merged.get(field) in (None, ""):
            errors.append(FieldError(field, "required", f"请填写{FIELDS[field][0]}"))
    level = merged.get("level")
    if level is not None and level not in RAISED_LEVELS:
        errors.append(FieldError("level", "invalid_level", "预警级别须为黄色警铃、黄灯或红灯"))
    if level is not None and level != Level.YELLOW_BELL:
        for field in ("bell_becomes", "bell_lead_days"):
            if merged.get(field) is not None:
                errors.append(FieldError(field, "bell_only", f"只有黄色警铃规则才能填写{FIELDS[field][0]}"))
    becomes = merged.get("bell_becomes")
    if becomes is not None and becomes not in BELL_OUTCOMES:
        errors.append(FieldError("bell_becomes", "invalid", "警铃到期只能转为黄灯或红灯"))
    start, end = merged.get("active_from"), merged.get("active_until")
    if start and end and end < start:
        errors.append(FieldError("active_until", "before_start", "失效日期不能早于生效日期"))
    code = merged.get("code")
    if code:
        taken = session.exec(select(Rule.id).where(Rule.code == code)).first()
        if taken is not None and taken != rule_id:
            errors.append(FieldError("code", "taken", f"规则编码 {code} 已存在"))
    return errors


def _parse(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    clean, errors = {}, []
    for field, value in values.items():
        if field not in FIELDS:
            errors.append(FieldError(field, "extra_forbidden", "不认识的字段"))
            continue
        clean[field], error = _coerce(field, value)
        if error is not None:
            errors.append(error)
    return clean, errors


def _refuse(errors: list[FieldError]) -> None:
    if any(e.code == "taken" for e in errors):
        raise AlreadyExists(next(e.message for e in errors if e.code == "taken"), errors=errors)
    raise InvalidInput("规则信息有误，请按提示修改", errors=errors)


def _plain(value: Any) -> Any:
    if isinstance(value, Level | RuleCategory | WarningType):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def list_rules(
    session: Session,
    *,
    category: RuleCategory | None = None,
    level: Level | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[Rule]:
    """Rules by code, optionally filtered; `q` matches code or name."""
    query = select(Rule)
    if category is not None:
        query = query.where(Rule.category == RuleCategory(category))
    if level is not None:
        query = query.where(Rule.level == Level(level))
    if active is not None:
        query = query.where(Rule.is_active.is_(active))
    if q and q.strip():
        # autoescape: a % or _ typed in the search box is a character, not a wildcard.
        text = q.strip()
        query = query.where(Rule.code.contains(text, autoescape=True) | Rule.name.contains(text, autoescape=True))
    return list(session.exec(query.order_by(Rule.code)).all())


def get_rule(session: Session, *, rule_id: int) -> Rule:
    """One rule (NotFound otherwise)."""
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise NotFound("规则不存在")
    return rule


def create_rule(session: Session, *, actor: Actor, values: Mapping[str, Any], as_of: datetime) -> Rule:
    """Add a rule from the application form's fields (duplicate code → AlreadyExists)."""
    clean, errors = _parse(values)
    merged = {**_DEFAULTS, **{k: v for k, v in clean.items() if v is not None or k not in _DEFAULTS}}
    for field in ("theme", "description", "basis", "scope", "handling_party"):
        merged[field] = merged.get(field) or ""
    if merged.get("is_active") is None:
        merged["is_active"] = True
    errors += [e for e in _validate(session, merged, rule_id=None) if e.field not in {x.field for x in errors}]
    if errors:
        _refuse(errors)
    rule = Rule(**merged, created_at=as_of, updated_at=as_of)
    session.add(rule)
    session.flush()
    record(session, AuditKind.RULE_CHANGED, as_of=as_of, actor=actor, action="create",
           rule_id=rule.id, rule_code=rule.code, values={k: _plain(v) for k, v in merged.items()})
    return rule


def change_rule(
    session: Session, *, actor: Actor, rule_id: int, changes: Mapping[str, Any], as_of: datetime
) -> Rule:
    """Change some fields of a rule; the audit row keeps [old, new] of each changed field."""
    rule = get_rule(session, rule_id=rule_id)
    clean, errors = _parse(changes)
    for field in ("theme", "description", "basis", "scope", "handling_party"):
        if field in clean and clean[field] is None:
            clean[field] = ""
    if "is_active" in clean and clean["is_active"] is None:
        errors.append(FieldError("is_active", "required", "请选择是否启用"))
    merged = {field: getattr(rule, field) for field in FIELDS} | clean
    # Turning a bell rule into another level drops its bell settings unless they were sent.
    if merged.get("level") not in (None, Level.YELLOW_BELL):
        for field in ("bell_becomes", "bell_lead_days"):
            if field not in clean:
                merged[field] = None
    errors += [e for e in _validate(session, merged, rule_id=rule.id) if e.field not in {x.field for x in errors}]
    if errors:
        _refuse(errors)
    diff = {f: [_plain(getattr(rule, f)), _plain(v)] for f, v in merged.items() if getattr(rule, f) != v}
    if not diff:
        return rule
    for field in diff:
        setattr(rule, field, merged[field])
    rule.updated_at = as_of
    session.add(rule)
    session.flush()
    record(session, AuditKind.RULE_CHANGED, as_of=as_of, actor=actor, action="change",
           rule_id=rule.id, rule_code=rule.code, changes=diff)
    return rule
