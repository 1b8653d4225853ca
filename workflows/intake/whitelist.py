"""The monitoring whitelist (监控白名单): payees and accounts exempt from a rule, or from all
rules. Administrators keep it (every change audited); intake consults it for each warning.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import Rule, User, WhitelistEntry
from models.enums import AuditKind, WhitelistKind
from workflows.core.actors import Actor
from workflows.core.audit import record
from workflows.core.calendar import parse_date
from workflows.core.errors import FieldError, InvalidInput, NotFound


@dataclass(frozen=True)
class WhitelistRow:
    id: int
    kind: WhitelistKind
    kind_label: str
    value: str
    rule_id: int | None
    rule_code: str | None  # None: applies to every rule
    rule_name: str | None
    reason: str
    valid_until: date | None
    approved_by_id: int
    approved_by_name: str
    approved_at: datetime
    created_by_id: int
    created_by_name: str
    is_active: bool


def _whitelist_query():
    approver, creator = aliased(User), aliased(User)
    return (
        select(WhitelistEntry, Rule.code, Rule.name, approver.full_name, creator.full_name)
        .outerjoin(Rule, Rule.id == WhitelistEntry.rule_id)
        .join(approver, approver.id == WhitelistEntry.approved_by_id)
        .join(creator, creator.id == WhitelistEntry.created_by_id)
    )


def _whitelist_row(entry, rule_code, rule_name, approver, creator) -> WhitelistRow:
    kind = WhitelistKind(entry.kind)
    return WhitelistRow(
        id=entry.id, kind=kind, kind_label=kind.label, value=entry.value, rule_id=entry.rule_id,
        rule_code=rule_code, rule_name=rule_name, reason=entry.reason, valid_until=entry.valid_until,
        approved_by_id=entry.approved_by_id, approved_by_name=approver, approved_at=entry.approved_at,
        created_by_id=entry.created_by_id, created_by_name=creator, is_active=entry.is_active,
    )


def list_whitelist(
    session: Session, *, kind: WhitelistKind | None = None, active: bool | None = None, q: str | None = None
) -> list[WhitelistRow]:
    """Whitelist entries, newest first; `q` matches the payee or account."""
    query = _whitelist_query()
    if kind is not None:
        query = query.where(WhitelistEntry.kind == WhitelistKind(kind))
    if active is not None:
        query = query.where(WhitelistEntry.is_active.is_(active))
    if q and q.strip():
        query = query.where(WhitelistEntry.value.like(f"%{q.strip()}%"))
    return [_whitelist_row(*r) for r in session.exec(query.order_by(WhitelistEntry.id.desc())).all()]


def get_whitelist_entry(session: Session, *, entry_id: int) -> WhitelistRow:
    """One whitelist entry (NotFound otherwise)."""
    found = session.exec(_whitelist_query().where(WhitelistEntry.id == entry_id)).first()
    if found is None:
        raise NotFound("白名单条目不存在")
    return _whitelist_row(*found)


def normalize_value(kind: WhitelistKind, value: str) -> str:
    """Accounts compare without spaces (banks print them in groups of four)."""
    value = (value or "").strip()
    return "".join(value.split()) if kind == WhitelistKind.ACCOUNT else value


def add_whitelist_entry(
    session: Session,
    *,
    actor: Actor,
    kind: WhitelistKind | str,
    value: str,
    reason: str,
    as_of: datetime,
    rule_code: str | None = None,
    approved_by_id: int | None = None,
    valid_until: date | str | None = None,
) -> WhitelistRow:
    """Exempt a payee or account from one rule (or from all rules when `rule_code` is empty)."""
    errors: list[FieldError] = []
    try:
        kind = WhitelistKind(kind)
    except ValueError:
        errors.append(FieldError("kind", "enum", "类别应为收款人（payee）或账户（account）"))
        kind = None
    value = normalize_value(kind, value) if kind else (value or "").strip()
    if not value:
        errors.append(FieldError("value", "required", "请填写收款人名称或账户"))
    elif len(value) > 128:
        errors.append(FieldError("value", "string_too_long", "收款人名称或账户不能超过 128 个字符"))
    if not (reason or "").strip():
        errors.append(FieldError("reason", "required", "请填写加入白名单的理由"))
    rule_id = None
    if rule_code:
        rule_id = session.exec(select(Rule.id).where(Rule.code == rule_code.strip())).first()
        if rule_id is None:
            errors.append(FieldError("rule_code", "unknown_rule", f"规则 {rule_code} 不存在"))
    approved_by_id = approved_by_id or actor.user_id
    approver = session.get(User, approved_by_id)
    if approver is None or not approver.is_active:
        errors.append(FieldError("approved_by_id", "unknown", "审批人不存在或已停用"))
    until = None
    if valid_until not in (None, ""):
        try:
            until = parse_date(valid_until, "valid_until", "有效期至")
        except InvalidInput as error:
            errors.extend(error.errors)
    if errors:
        raise InvalidInput("白名单信息有误，请按提示修改", errors=errors)
    entry = WhitelistEntry(kind=kind, value=value, rule_id=rule_id, reason=reason.strip(),
                           valid_until=until, approved_by_id=approved_by_id, approved_at=as_of,
                           created_by_id=actor.user_id)
    session.add(entry)
    session.flush()
    record(session, AuditKind.WHITELIST_CHANGED, as_of=as_of, actor=actor, action="add",
           entry_id=entry.id, entry_kind=kind.value, value=value, rule_code=rule_code or None)
    return get_whitelist_entry(session, entry_id=entry.id)


def set_whitelist_entry_active(
    session: Session, *, actor: Actor, entry_id: int, active: bool, as_of: datetime
) -> WhitelistRow:
    """Withdraw an entry (kept on record) or restore it."""
    entry = session.get(WhitelistEntry, entry_id)
    if entry is None:
        raise NotFound("白名单条目不存在")
    if entry.is_active != active:
        entry.is_active = active
        session.add(entry)
        session.flush()
        record(session, AuditKind.WHITELIST_CHANGED, as_of=as_of, actor=actor,
               action="restore" if active else "withdraw", entry_id=entry.id, value=entry.value)
    return get_whitelist_entry(session, entry_id=entry.id)


@dataclass(frozen=True)
class WhitelistIndex:
    """The entries in force on one day, for checking many warnings without a query each."""

    entries: frozenset[tuple[WhitelistKind, str, int | None]]

    def covers(self, *, rule_id: int, payee_name: str | None, payee_account: str | None) -> bool:
        for kind, value in ((WhitelistKind.PAYEE, payee_name), (WhitelistKind.ACCOUNT, payee_account)):
            if value:
                value = normalize_value(kind, value)
                if (kind, value, None) in self.entries or (kind, value, rule_id) in self.entries:
                    return True
        return False


def whitelist_index(session: Session, *, on: date) -> WhitelistIndex:
    """Active entries not expired on `on` (a local date)."""
    rows = session.connection().execute(
        sa.select(WhitelistEntry.kind, WhitelistEntry.value, WhitelistEntry.rule_id).where(
            WhitelistEntry.is_active.is_(True),
            sa.or_(WhitelistEntry.valid_until.is_(None), WhitelistEntry.valid_until >= on),
        )
    )
    return WhitelistIndex(frozenset((WhitelistKind(r.kind), r.value, r.rule_id) for r in rows))
