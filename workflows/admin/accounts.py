"""User accounts: creating them, setting passwords and checking them (argon2id).

These are the primitives; administrators' acts on accounts, audited whichever door they
come through (API, page, CLI), are in workflows.admin.users."""

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlmodel import Session, select

from models import OrgUnit, User
from models.enums import Role
from workflows.core.errors import FieldError, InvalidInput, NotFound

_hasher = PasswordHasher()
USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password) < 8 or not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise InvalidInput.single(field, "weak_password", "密码至少 8 位，且须同时包含字母和数字")


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: Role,
    org_unit_id: int,
    password: str,
    position: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    as_of: datetime | None = None,
    password_hash: str | None = None,
    extra_errors: list[FieldError] = (),
) -> User:
    """Open an account (flushes, never commits).

    `password_hash` lets a bulk load that gives many accounts one password hash it once.
    """
    errors: list[FieldError] = list(extra_errors)
    if not USERNAME.match(username or ""):
        errors.append(
            FieldError("username", "invalid", "用户名须以小写字母开头，3–64 位小写字母、数字或 _ . -")
        )
    elif session.exec(select(User.id).where(User.username == username)).first():
        errors.append(FieldError("username", "taken", f"用户名 {username} 已被使用"))
    if not (full_name or "").strip():
        errors.append(FieldError("full_name", "required", "请填写姓名"))
    if role == Role.SYSTEM:
        errors.append(FieldError("role", "invalid", "不能创建“系统”角色的账户"))
    if session.get(OrgUnit, org_unit_id) is None:
        errors.append(FieldError("org_unit_id", "unknown", "所属单位不存在"))
    try:
        check_password_strength(password)
    except InvalidInput as error:
        errors.extend(error.errors)
    if errors:
        raise InvalidInput("账户信息有误，请按提示修改", errors=errors)
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        org_unit_id=org_unit_id,
        password_hash=password_hash or hash_password(password),
        position=position,
        phone=phone,
        email=email,
    )
    if as_of is not None:
        user.created_at = as_of
    session.add(user)
    session.flush()
    return user


def get_user_by_username(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return user


def set_password(session: Session, *, user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    # A new password ends the sessions opened with the old one (a stolen token with them).
    user.session_epoch = (user.session_epoch or 0) + 1
    session.add(user)
    session.flush()


def find_unit(session: Session, code: str) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def list_users(session: Session) -> list[tuple[User, OrgUnit]]:
    return list(
        session.exec(
            select(User, OrgUnit).join(OrgUnit, OrgUnit.id == User.org_unit_id).order_by(User.username)
        ).all()
    )
