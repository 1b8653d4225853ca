"""Logging in: Li Na's password, five wrong tries lock her out for 15 minutes, every try audited."""

from datetime import timedelta

import sqlalchemy as sa

from models import AuditEvent, User
from models.enums import AuditKind
from tests.factories import NOW, PASSWORD
from workflows.admin.auth import MAX_FAILED_LOGINS, AccountLocked, LoginRefused, authenticate


def audit(session, username):
    return [row.kind for row in session.connection().execute(
        sa.select(AuditEvent.kind).where(AuditEvent.username == username).order_by(AuditEvent.id))]


def test_li_na_logs_in_and_it_is_audited(session, world):
    outcome = authenticate(session, username="li_na", password=PASSWORD, as_of=NOW, client="10.0.0.8")
    assert outcome.error is None and outcome.user.id == world.users["li_na"]
    assert outcome.user.last_login_at == NOW
    assert audit(session, "li_na") == [AuditKind.LOGIN]


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(session, world):
    for _ in range(MAX_FAILED_LOGINS - 1):
        outcome = authenticate(session, username="li_na", password="guess-1234", as_of=NOW)
        assert isinstance(outcome.error, LoginRefused)
    locked = authenticate(session, username="li_na", password="guess-1234", as_of=NOW)
    assert isinstance(locked.error, AccountLocked) and "锁定" in locked.error.message
    # Even the right password is refused while locked ...
    during = authenticate(session, username="li_na", password=PASSWORD, as_of=NOW + timedelta(minutes=14))
    assert isinstance(during.error, AccountLocked)
    # ... and accepted once the 15 minutes are over.
    after = authenticate(session, username="li_na", password=PASSWORD, as_of=NOW + timedelta(minutes=16))
    assert after.error is None
    kinds = audit(session, "li_na")
    assert kinds.count(AuditKind.LOGIN_FAILED) == MAX_FAILED_LOGINS + 1
    assert kinds.count(AuditKind.LOCKED) == 1 and kinds[-1] == AuditKind.LOGIN
    user = session.get(User, world.users["li_na"])
    session.refresh(user)
    assert user.failed_login_count == 0 and user.locked_until is None


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(session, world):
    unknown = authenticate(session, username="nobody", password="x", as_of=NOW)
    wrong = authenticate(session, username="li_na", password="x", as_of=NOW)
    assert unknown.error.message == wrong.error.message
    assert audit(session, "nobody") == [AuditKind.LOGIN_FAILED]


def test_a_revoked_account_cannot_log_in(session, world):
    session.connection().execute(
        sa.update(User).where(User.id == world.users["wang_fang"]).values(is_active=False))
    outcome = authenticate(session, username="wang_fang", password=PASSWORD, as_of=NOW)
    assert isinstance(outcome.error, LoginRefused)
