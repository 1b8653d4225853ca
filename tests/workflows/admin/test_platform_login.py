"""The monitoring platform's account logs in by password too; wrong passwords from anywhere
must never lock it (intake would stop): they are throttled per address instead. An unknown
user name costs the same hash check as a wrong password."""

from datetime import UTC, datetime, timedelta

from workflows.admin import auth
from workflows.admin.auth import MAX_FAILED_LOGINS, authenticate

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
PLATFORM_PASSWORD = "Platform-2026"


def test_wrong_passwords_throttle_one_address_and_never_lock_the_platform(session, world):
    from models import User
    from workflows.admin.accounts import set_password

    platform = session.get(User, world.users["platform"])
    set_password(session, user=platform, password=PLATFORM_PASSWORD)
    for n in range(MAX_FAILED_LOGINS):
        refused = authenticate(session, username="platform", password="guess", as_of=NOW + timedelta(seconds=n),
                               client="10.0.0.66")  # fmt: skip
        assert refused.error.code == "login_failed"
    throttled = authenticate(session, username="platform", password=PLATFORM_PASSWORD,
                             as_of=NOW + timedelta(minutes=1), client="10.0.0.66")  # fmt: skip
    assert throttled.error.code == "too_many_attempts" and throttled.error.status == 429
    session.refresh(platform)
    assert platform.locked_until is None
    # The platform's own server, elsewhere, goes on logging in.
    ok = authenticate(session, username="platform", password=PLATFORM_PASSWORD,
                      as_of=NOW + timedelta(minutes=1), client="10.0.0.5")  # fmt: skip
    assert ok.error is None and ok.user.id == platform.id
    # After the quarter hour the throttled address may try again.
    later = authenticate(session, username="platform", password=PLATFORM_PASSWORD,
                         as_of=NOW + timedelta(minutes=16), client="10.0.0.66")  # fmt: skip
    assert later.error is None


def test_an_unknown_user_name_checks_a_hash_like_a_wrong_password(session, world, monkeypatch):
    checked = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda h, p: checked.append(h) or real(h, p))
    unknown = authenticate(session, username="nobody", password="x", as_of=NOW, client="1.2.3.4")
    wrong = authenticate(session, username="li_na", password="x", as_of=NOW, client="1.2.3.4")
    assert unknown.error.message == wrong.error.message
    assert len(checked) == 2  # one hash check each
