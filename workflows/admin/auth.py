"""Logging in: password check, lock-out after repeated failures, and an audit row for each try.

A failed attempt must be recorded even though the login is refused, so `authenticate()`
returns its outcome instead of raising: the caller commits, then answers.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from models import User
from models.enums import AuditKind
from workflows.admin.accounts import verify_password
from workflows.core.audit import record
from workflows.core.calendar import LOCAL_TZ
from workflows.core.errors import DomainError
from workflows.core.roles import NO_BROWSER_LOGIN

MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)


class LoginRefused(DomainError):
    code = "login_failed"
    status = 401


class AccountLocked(DomainError):
    code = "account_locked"
    status = 423


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
        # Same answer as a wrong password: no hint about which accounts exist.
        record(session, AuditKind.LOGIN_FAILED, as_of=as_of, username=username, client=client,
               user_id=user.id if user else None, reason="unknown_or_inactive")
        return LoginOutcome(None, wrong)
    if user.locked_until is not None and user.locked_until > as_of:
        record(session, AuditKind.LOGIN_FAILED, as_of=as_of, user_id=user.id, username=username,
               client=client, reason="locked")
        return LoginOutcome(None, _locked(user.locked_until))
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


def _locked(until: datetime) -> AccountLocked:
    local = until.astimezone(LOCAL_TZ)
    return AccountLocked(f"连续登录失败次数过多，账户已锁定至 {local:%H:%M}，请稍后再试或联系管理员")
