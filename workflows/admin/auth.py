"""Logging in: password check, lock-out after repeated failures, and an audit row for each try.

A failed attempt must be recorded even though the login is refused, so `authenticate()`
returns its outcome instead of raising: the caller commits, then answers.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from models import AuditEvent, User
from models.enums import AuditKind, Role
from workflows.admin.accounts import (
    check_password_strength,
    hash_password,
    set_password,
    verify_password,
)
from workflows.core.audit import record
from workflows.core.calendar import LOCAL_TZ
from workflows.core.errors import DomainError, FieldError, InvalidInput, NotFound
from workflows.core.roles import NO_BROWSER_LOGIN

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)


class LoginRefused(DomainError):
    code = "login_failed"
    status = 401


class AccountLocked(DomainError):
    code = "account_locked"
    status = 423


class TooManyAttempts(DomainError):
    """Too many wrong passwords for this account from this address (the account stays open)."""

    code = "too_many_attempts"
    status = 429


class PasswordChangeRequired(DomainError):
    """A one-time password is in use: nothing but changing it is allowed."""

    code = "password_change_required"
    status = 403


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    error: DomainError | None = None


def authenticate(
    session: Session, *, username: str, password: str, as_of: datetime, client: str = ""
) -> LoginOutcome:
    """Check a username and password; count failures and lock the account after five."""
    username = (username or "").strip()
    user = session.exec(select(User).where(User.username == username)).first()
    wrong = LoginRefused(f"用户名或密码错误（连续错误 {MAX_FAILED_LOGINS} 次将锁定 15 分钟）")
    if user is None or not user.is_active or user.role in NO_BROWSER_LOGIN:
        # Same answer as a wrong password, in the same time (a hash is checked either way):
        # no hint about which accounts exist.
        verify_password(_dummy_hash(), password or "")
        record(session, AuditKind.LOGIN_FAILED, as_of=as_of, username=username, client=client,
               user_id=user.id if user else None, reason="unknown_or_inactive")
        return LoginOutcome(None, wrong)
    if user.locked_until is not None and user.locked_until > as_of:
        record(session, AuditKind.LOGIN_FAILED, as_of=as_of, user_id=user.id, username=username,
               client=client, reason="locked")
        return LoginOutcome(None, _locked(user.locked_until))
    if user.role == Role.INTEGRATION:
        return _platform_login(session, user, password, as_of, client, wrong)
    if not verify_password(user.password_hash, password or ""):
        # Counted in SQL so that simultaneous attempts are all counted.
        failures = session.connection().execute(
            sa.update(User.__table__)
            .where(User.__table__.c.id == user.id)
            .values(failed_login_count=User.__table__.c.failed_login_count + 1)
            .returning(User.__table__.c.failed_login_count)
        ).scalar_one()
        record(session, AuditKind.LOGIN_FAILED, as_of=as_of, user_id=user.id, username=username,
               client=client, reason="wrong_password", failures=failures)
        if failures >= MAX_FAILED_LOGINS:
            until = as_of + LOCK_DURATION
            session.connection().execute(
                sa.update(User.__table__).where(User.__table__.c.id == user.id)
                .values(locked_until=until, failed_login_count=0)
            )
            record(session, AuditKind.LOCKED, as_of=as_of, user_id=user.id, username=username,
                   client=client, until=until.isoformat())
            session.expire(user)
            return LoginOutcome(None, _locked(until))
        session.expire(user)
        return LoginOutcome(None, wrong)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = as_of
    session.add(user)
    record(session, AuditKind.LOGIN, as_of=as_of, user_id=user.id, username=username, client=client)
    return LoginOutcome(user)


def _platform_login(session: Session, user: User, password: str, as_of: datetime, client: str,
                    wrong: DomainError) -> LoginOutcome:  # fmt: skip
    """The monitoring platform's account is never locked: wrong passwords from anywhere would
    stop intake. Attempts are throttled per address instead (the audit trail counts them)."""
    since = as_of - LOCK_DURATION
    recent = session.exec(
        select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.kind == AuditKind.LOGIN_FAILED, AuditEvent.user_id == user.id,
            AuditEvent.at >= since, AuditEvent.client == client[:64],
        )
    ).one()
    if recent >= MAX_FAILED_LOGINS:
        record(session, AuditKind.LOGIN_FAILED, as_of=as_of, user_id=user.id, username=user.username,
               client=client, reason="throttled")  # fmt: skip
        return LoginOutcome(None, TooManyAttempts("该地址登录失败次数过多，请 15 分钟后再试"))
    if not verify_password(user.password_hash, password or ""):
        record(session, AuditKind.LOGIN_FAILED, as_of=as_of, user_id=user.id, username=user.username,
               client=client, reason="wrong_password")  # fmt: skip
        return LoginOutcome(None, wrong)
    user.last_login_at = as_of
    session.add(user)
    record(session, AuditKind.LOGIN, as_of=as_of, user_id=user.id, username=user.username, client=client)
    return LoginOutcome(user)


_dummy: list[str] = []


def _dummy_hash() -> str:
    # Made on first use with the hasher in force (tests use a cheaper one).
    if not _dummy:
        _dummy.append(hash_password("no such account: a hash to spend the same time on"))
    return _dummy[0]


def _locked(until: datetime) -> AccountLocked:
    local = until.astimezone(LOCAL_TZ)
    return AccountLocked(f"连续登录失败次数过多，账户已锁定至 {local:%H:%M}，请稍后再试或联系管理员")


def log_out(session: Session, *, user_id: int, as_of: datetime, client: str = "") -> None:
    """End every session of the account (each device's token, not only this one)."""
    session.execute(sa.update(User).where(User.id == user_id)
                    .values(session_epoch=User.session_epoch + 1))  # fmt: skip
    record(session, AuditKind.LOGOUT, as_of=as_of, user_id=user_id, actor_id=user_id, client=client)


def change_own_password(
    session: Session, *, user_id: int, current_password: str, new_password: str, as_of: datetime,
    client: str = "",
) -> None:
    """A user changes their own password (and so ends a one-time password): the current one
    must be right and the new one strong and different."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("用户不存在或已停用")
    errors: list[FieldError] = []
    if not verify_password(user.password_hash, current_password or ""):
        errors.append(FieldError("current_password", "wrong", "当前密码不正确"))
    try:
        check_password_strength(new_password or "", field="new_password")
    except InvalidInput as error:
        errors.extend(error.errors)
    if not errors and new_password == current_password:
        errors.append(FieldError("new_password", "unchanged", "新密码不能与当前密码相同"))
    if errors:
        raise InvalidInput("密码未修改，请按提示更正", errors=errors)
    was_one_time = user.must_change_password
    set_password(session, user=user, password=new_password)
    user.must_change_password = False
    session.add(user)
    session.flush()
    record(session, AuditKind.PASSWORD_CHANGED, as_of=as_of, user_id=user.id,
           username=user.username, actor_id=user.id, client=client, one_time=was_one_time)
