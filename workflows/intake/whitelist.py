"""The monitoring whitelist (监控白名单): payees and accounts exempt from a rule, or from all
rules. Administrators keep it (every change audited); intake consults it for each warning.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models import OrgUnit, Region, Rule, User, WhitelistEntry
from models.enums import AuditKind, Role, WhitelistKind
from workflows.core.actors import Actor
from workflows.core.audit import record
from workflows.core.calendar import local_date, parse_date
from workflows.core.errors import FieldError, InvalidInput, NotFound

# Who may approve an exemption: a section head or above, never the administrator who keys it
# in (Henan art. 10: the whitelist is approved, not just entered).
APPROVER_ROLES = frozenset({Role.SUPERVISOR, Role.SUPERVISION, Role.LEADER, Role.PROVINCE})
# A bank account number as printed: 8–32 digits once spaces and hyphens are taken out.
_ACCOUNT = re.compile(r"^\d{8,32}$")


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
        # autoescape: a % or _ typed in the search box is a character, not a wildcard.
        query = query.where(WhitelistEntry.value.contains(q.strip(), autoescape=True))
    return [_whitelist_row(*r) for r in session.exec(query.order_by(WhitelistEntry.id.desc())).all()]


def get_whitelist_entry(session: Session, *, entry_id: int) -> WhitelistRow:
    """One whitelist entry (NotFound otherwise)."""
    found = session.exec(_whitelist_query().where(WhitelistEntry.id == entry_id)).first()
    if found is None:
        raise NotFound("白名单条目不存在")
    return _whitelist_row(*found)


def normalize_value(kind: WhitelistKind, value: str) -> str:
    """Accounts compare without spaces or hyphens (banks print them in groups of four)."""
    value = (value or "").strip()
    return "".join(value.split()).replace("-", "") if kind == WhitelistKind.ACCOUNT else value


def _value_error(kind: WhitelistKind | None, value: str) -> FieldError | None:
    if not value:
        return FieldError("value", "required", "请填写收款人名称或账户")
    if len(value) > 128:
        return FieldError("value", "string_too_long", "收款人名称或账户不能超过 128 个字符")
    if kind == WhitelistKind.ACCOUNT and not _ACCOUNT.match(value):
        return FieldError("value", "invalid_account", "账户应为 8–32 位数字（可含空格或连字符分组）")
    if kind == WhitelistKind.PAYEE and (len(value) < 2 or _ACCOUNT.match(value)):
        return FieldError("value", "invalid_payee", "收款人应填写名称（至少 2 个字）；账户请选择“账户”类别")
    return None


def whitelist_approvers(session: Session, *, actor: Actor) -> list[tuple[int, str]]:
    """The people an administrator may name as approver: active section heads and above in
    their region and below, as (id, "姓名（角色 · 单位）")."""
    rows = session.exec(
        select(User.id, User.full_name, User.role, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .join(Region, Region.id == OrgUnit.region_id)
        .where(User.is_active.is_(True), User.role.in_(APPROVER_ROLES),
               Region.path.startswith(actor.region_path, autoescape=True))
        .order_by(Region.path, OrgUnit.code, User.username)
    ).all()
    return [(i, f"{n}（{Role(r).label} · {u}）") for i, n, r, u in rows]


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
    value_error = _value_error(kind, value)
    if value_error is not None:
        errors.append(value_error)
    if not (reason or "").strip():
        errors.append(FieldError("reason", "required", "请填写加入白名单的理由"))
    rule_id = None
    if rule_code:
        rule_id = session.exec(select(Rule.id).where(Rule.code == rule_code.strip())).first()
        if rule_id is None:
            errors.append(FieldError("rule_code", "unknown_rule", f"规则 {rule_code} 不存在"))
    approver = session.get(User, approved_by_id) if approved_by_id else None
    if approved_by_id is None:
        errors.append(FieldError("approved_by_id", "required", "请选择审批人（处室负责人及以上）"))
    elif approver is None or not approver.is_active:
        errors.append(FieldError("approved_by_id", "unknown", "审批人不存在或已停用"))
    elif Role(approver.role) not in APPROVER_ROLES:
        errors.append(FieldError("approved_by_id", "not_an_approver",
                                 f"{approver.full_name}（{Role(approver.role).label}）不能审批白名单，"
                                 "审批人须为处室负责人及以上"))
    until = None
    if valid_until not in (None, ""):
        try:
            until = parse_date(valid_until, "valid_until", "有效期至")
        except InvalidInput as error:
            errors.extend(error.errors)
        else:
            if until < local_date(as_of):
                errors.append(FieldError("valid_until", "in_the_past", "有效期至不能早于今天"))
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
