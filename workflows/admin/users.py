"""Administrators manage accounts: open, change, revoke, reset passwords, unlock.

Every change is an audit row. An administrator acts only on accounts whose org unit lies in
their own region or below (a province admin manages everyone, a county admin their county),
and never revokes or demotes themselves, so a region cannot lose its last admin by accident.
Accounts are never deleted: slips and events keep pointing at the people who did them.
"""

import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from models import OrgUnit, Region, User
from models.enums import AuditKind, Role
from models.persons import Person
from workflows.admin.accounts import check_password_strength, create_user, set_password
from workflows.admin.handover import Handover, hand_over_cases
from workflows.admin.persons import check_separation, id_number_error, record_person
from workflows.core.actors import Actor
from workflows.core.audit import record
from workflows.core.errors import AlreadyExists, FieldError, InvalidInput, NotFound, OutOfScope

# Fields an administrator may change with change_user(), in the order forms show them.
CHANGEABLE = ("full_name", "role", "org_unit_id", "is_active", "position", "phone", "email")
_TEXT_LIMITS = {"full_name": 64, "position": 64, "phone": 32, "email": 254}


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    full_name: str
    role: Role
    role_label: str
    org_unit_id: int
    org_unit_code: str
    org_unit_name: str
    region_code: str
    region_name: str
    position: str | None
    phone: str | None
    email: str | None
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None
    must_change_password: bool = False
    person_id: int | None = None
    # The holder's ID number as people may see it (4101**********123X); empty before
    # persons were recorded.
    id_number_masked: str | None = None


def _user_query():
    return (
        select(User, OrgUnit.code, OrgUnit.name, Region.code, Region.name, Region.path)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .join(Region, Region.id == OrgUnit.region_id)
    )


def _row(user: User, unit_code: str, unit_name: str, region_code: str, region_name: str,
         masked: str | None = None) -> UserRow:
    return UserRow(
        id=user.id, username=user.username, full_name=user.full_name, role=Role(user.role),
        role_label=Role(user.role).label, org_unit_id=user.org_unit_id, org_unit_code=unit_code,
        org_unit_name=unit_name, region_code=region_code, region_name=region_name,
        position=user.position, phone=user.phone, email=user.email, is_active=user.is_active,
        locked_until=user.locked_until, last_login_at=user.last_login_at,
        created_at=user.created_at, revoked_at=user.revoked_at,
        must_change_password=user.must_change_password, person_id=user.person_id,
        id_number_masked=masked,
    )


def list_users(
    session: Session,
    *,
    actor: Actor,
    region: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[UserRow]:
    """Accounts in the admin's scope; `region` is a region code and includes its descendants."""
    query = _user_query().where(Region.path.startswith(actor.region_path, autoescape=True))
    if region:
        path = session.exec(select(Region.path).where(Region.code == region)).first()
        if path is None:
            raise InvalidInput.single("region", "unknown_region", f"区划 {region} 不存在")
        query = query.where(Region.path.startswith(path, autoescape=True))
    if role is not None:
        query = query.where(User.role == Role(role))
    if active is not None:
        query = query.where(User.is_active.is_(active))
    if q and q.strip():
        # autoescape: a % or _ typed in the search box is a character, not a wildcard.
        text = q.strip()
        query = query.where(sa.or_(User.username.contains(text, autoescape=True),
                                   User.full_name.contains(text, autoescape=True)))
    rows = session.exec(query.order_by(Region.path, OrgUnit.code, User.username)).all()
    masks = _masks(session, {u.person_id for u, *_ in rows if u.person_id is not None})
    return [_row(u, uc, un, rc, rn, masks.get(u.person_id)) for u, uc, un, rc, rn, _ in rows]


def _masks(session: Session, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    return dict(session.exec(
        select(Person.id, Person.id_number_masked).where(Person.id.in_(person_ids))
    ).all())


def _load(session: Session, actor: Actor, user_id: int) -> tuple[User, UserRow]:
    found = session.exec(_user_query().where(User.id == user_id)).first()
    if found is None:
        raise NotFound("用户不存在")
    user, unit_code, unit_name, region_code, region_name, path = found
    if not actor.sees_region(path):
        raise OutOfScope("该用户不在您的管理范围内")
    masks = _masks(session, {user.person_id} if user.person_id is not None else set())
    return user, _row(user, unit_code, unit_name, region_code, region_name, masks.get(user.person_id))


def get_user(session: Session, *, actor: Actor, user_id: int) -> UserRow:
    """One account in the admin's scope (NotFound / OutOfScope otherwise)."""
    return _load(session, actor, user_id)[1]


def _unit_in_scope(session: Session, actor: Actor, org_unit_id: Any) -> FieldError | None:
    path = session.exec(
        select(Region.path).join(OrgUnit, OrgUnit.region_id == Region.id).where(OrgUnit.id == org_unit_id)
    ).first()
    if path is None:
        return FieldError("org_unit_id", "unknown", "所属单位不存在")
    if not actor.sees_region(path):
        return FieldError("org_unit_id", "out_of_scope", "所属单位不在您的管理范围内")
    return None


def open_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    full_name: str,
    role: Role | str,
    org_unit_id: int,
    password: str,
    as_of: datetime,
    id_number: str | None = None,
    position: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> UserRow:
    """Open an account for a person (recorded once, by ID number) in a unit of the admin's
    scope (duplicate username → AlreadyExists). The password is one-time: its holder must
    change it at first login, so the administrator never knows a working one. An
    administrator account for someone who holds an operator account (or the reverse) is
    refused (不得混岗)."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput.single("role", "invalid", "角色不是可选的值") from None
    scope_error = _unit_in_scope(session, actor, org_unit_id)
    if scope_error is not None and scope_error.code == "out_of_scope":
        raise InvalidInput(scope_error.message, errors=[scope_error])
    id_error = id_number_error(id_number)
    with session.begin_nested():
        try:
            user = create_user(
                session, username=(username or "").strip(), full_name=full_name, role=role,
                org_unit_id=org_unit_id, password=password, position=position or None,
                phone=phone or None, email=email or None, as_of=as_of,
                extra_errors=[id_error] if id_error else [],
            )
        except InvalidInput as error:
            if any(e.code == "taken" for e in error.errors):
                raise AlreadyExists(f"用户名 {username} 已被使用", errors=error.errors) from None
            raise
        person = record_person(session, full_name=user.full_name, id_number=id_number,
                               phone=user.phone, position=user.position)
        check_separation(session, role=role, person_id=person.id, full_name=user.full_name,
                         phone=user.phone, user_id=user.id)
        user.person_id, user.must_change_password = person.id, True
        session.add(user)
        session.flush()
    record(session, AuditKind.USER_CREATED, as_of=as_of, user_id=user.id, username=user.username,
           actor=actor, role=role.value, org_unit_id=org_unit_id, person_id=person.id)
    return get_user(session, actor=actor, user_id=user.id)


def change_user(
    session: Session, *, actor: Actor, user_id: int, changes: dict[str, Any], as_of: datetime,
    handover: Handover | None = None,
) -> UserRow:
    """Change full name, role, org unit, active flag or contact details; audits old → new.

    A change of role or unit, or a revocation, of someone with open cases needs `handover`
    (where the cases go), and moves them in the same transaction."""
    user, _ = _load(session, actor, user_id)
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in CHANGEABLE:
            errors.append(FieldError(field, "extra_forbidden", "不认识的字段"))
        elif field == "role":
            try:
                value = Role(value)
            except ValueError:
                errors.append(FieldError("role", "invalid", "角色不是可选的值"))
                continue
            if value == Role.SYSTEM:
                errors.append(FieldError("role", "invalid", "不能设为“系统”角色"))
            elif user.id == actor.user_id and value != user.role:
                errors.append(FieldError("role", "self", "不能更改自己的角色"))
            clean[field] = value
        elif field == "org_unit_id":
            try:
                value = int(value)
            except (TypeError, ValueError):
                errors.append(FieldError("org_unit_id", "required", "请选择所属单位"))
                continue
            error = _unit_in_scope(session, actor, value)
            if error is not None:
                errors.append(error)
            clean[field] = value
        elif field == "is_active":
            # HTML forms post strings.
            value = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}.get(
                str(value).strip().lower(), value) if isinstance(value, str) else value
            if not isinstance(value, bool):
                errors.append(FieldError("is_active", "bool_parsing", "应为是或否"))
            elif user.id == actor.user_id and not value:
                errors.append(FieldError("is_active", "self", "不能停用自己的账户"))
            clean[field] = value
        else:
            text = (value or "").strip() if isinstance(value, str) or value is None else None
            if text is None:
                errors.append(FieldError(field, "invalid", "应为文字"))
            elif len(text) > _TEXT_LIMITS[field]:
                errors.append(FieldError(field, "string_too_long", "内容过长"))
            elif field == "full_name" and not text:
                errors.append(FieldError("full_name", "required", "请填写姓名"))
            clean[field] = text if field == "full_name" else (text or None)
    if errors:
        raise InvalidInput("账户信息有误，请按提示修改", errors=errors)
    diff = {f: [_plain(getattr(user, f)), _plain(v)] for f, v in clean.items() if getattr(user, f) != v}
    if not diff:
        return get_user(session, actor=actor, user_id=user.id)
    stays_active = clean.get("is_active", user.is_active)
    if stays_active and ({"role", "is_active", "full_name", "phone"} & diff.keys()):
        check_separation(session, role=clean.get("role", user.role), person_id=user.person_id,
                         full_name=clean.get("full_name", user.full_name),
                         phone=clean.get("phone", user.phone), user_id=user.id)
    leaves_cases = (not stays_active) or ({"role", "org_unit_id"} & diff.keys())
    moved = hand_over_cases(session, actor=actor, user=user, handover=handover, as_of=as_of) \
        if leaves_cases else []
    for field, value in clean.items():
        setattr(user, field, value)
    if "is_active" in diff:
        user.revoked_at = None if user.is_active else as_of
    session.add(user)
    session.flush()
    kind = AuditKind.USER_REVOKED if diff.get("is_active") == [True, False] else AuditKind.USER_CHANGED
    record(session, kind, as_of=as_of, user_id=user.id, username=user.username,
           actor=actor, changes=diff, **_handover_data(handover, moved))
    return get_user(session, actor=actor, user_id=user.id)


def _handover_data(handover: Handover | None, moved: list[str]) -> dict[str, Any]:
    if not moved:
        return {}
    return {"cases_moved": moved, "cases_to": handover.to_user_id if handover else None}


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Role) else value


def revoke_user(
    session: Session, *, actor: Actor, user_id: int, as_of: datetime, handover: Handover | None = None
) -> UserRow:
    """Deactivate an account (never deleted); its tokens stop working at once. Its open cases
    go where `handover` says, in the same transaction (refused without one if there are any)."""
    user, row = _load(session, actor, user_id)
    if user.id == actor.user_id:
        raise InvalidInput.single("user_id", "self", "不能停用自己的账户")
    if not user.is_active:
        return row
    moved = hand_over_cases(session, actor=actor, user=user, handover=handover, as_of=as_of)
    user.is_active, user.revoked_at = False, as_of
    user.session_epoch = (user.session_epoch or 0) + 1
    session.add(user)
    session.flush()
    record(session, AuditKind.USER_REVOKED, as_of=as_of, user_id=user.id, username=user.username,
           actor=actor, **_handover_data(handover, moved))
    return get_user(session, actor=actor, user_id=user.id)


def generate_password(length: int = 14) -> str:
    """A random password that passes the strength check (letters and digits)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isalpha() for c in candidate) and any(c.isdigit() for c in candidate):
            return candidate


def reset_password(
    session: Session, *, actor: Actor, user_id: int, as_of: datetime, password: str | None = None
) -> str | None:
    """Set a one-time password (also unlocks); with none given, returns a generated one,
    shown once. Either way its holder must change it at first login: until then every
    route but changing it answers 403 password_change_required."""
    user, _ = _load(session, actor, user_id)
    generated = None
    if password is None or password == "":
        generated = password = generate_password()
    check_password_strength(password)
    set_password(session, user=user, password=password)
    user.must_change_password = True
    session.add(user)
    session.flush()
    record(session, AuditKind.PASSWORD_RESET, as_of=as_of, user_id=user.id, username=user.username,
           actor=actor, generated=generated is not None)
    return generated


def unlock_user(session: Session, *, actor: Actor, user_id: int, as_of: datetime) -> UserRow:
    """Lift a login lock-out before its 15 minutes are over."""
    user, row = _load(session, actor, user_id)
    if user.locked_until is None and not user.failed_login_count:
        return row
    user.locked_until, user.failed_login_count = None, 0
    session.add(user)
    session.flush()
    record(session, AuditKind.USER_CHANGED, as_of=as_of, user_id=user.id, username=user.username,
           actor=actor, action="unlock")
    return get_user(session, actor=actor, user_id=user.id)
