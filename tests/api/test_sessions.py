"""Li Na is logged in on two machines. Logging out, changing her password, or Sun Hao
resetting it ends both sessions at once; a token without an expiry or audience is refused."""

from datetime import UTC, datetime, timedelta

from jose import jwt

from tests.api.conftest import token_for
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import PASSWORD

ME = "/api/v1/me"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_logging_out_ends_every_session_of_the_account(world, client):
    office, home = token_for(client, "li_na"), token_for(client, "li_na")
    assert client.get(ME, headers=bearer(home)).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=bearer(office)).status_code == 204
    for token in (office, home):
        refused = client.get(ME, headers=bearer(token))
        assert refused.status_code == 401 and "登录已失效" in refused.json()["message"]
    assert client.get(ME, headers=bearer(token_for(client, "li_na"))).status_code == 200
    # Wang Fang, another account, is not logged out.
    assert client.get(ME, headers=bearer(token_for(client, "wang_fang"))).status_code == 200


def test_changing_the_password_ends_the_sessions_opened_with_the_old_one(world, client):
    old = token_for(client, "li_na")
    changed = client.post("/api/v1/auth/password", headers=bearer(old),
                          json={"current_password": PASSWORD, "new_password": "Anxian-2027-new"})  # fmt: skip
    assert changed.status_code == 204, changed.text
    assert client.get(ME, headers=bearer(old)).status_code == 401
    assert client.get(ME, headers=bearer(token_for(client, "li_na", "Anxian-2027-new"))).status_code == 200


def test_an_administrators_reset_ends_the_holders_sessions(world, client, login):
    li_na = token_for(client, "li_na")
    reset = client.post(f"/api/v1/admin/users/{world.users['li_na']}/password", json={"password": None},
                        headers=login("sun_hao"))  # fmt: skip
    assert reset.status_code == 200, reset.text
    # Not even the password page: whoever held the token must log in with the new password.
    assert client.get(ME, headers=bearer(li_na)).status_code == 401


def test_a_token_without_expiry_or_audience_is_refused(world, client, settings):
    key = settings.signing_key()
    now = datetime.now(UTC)
    good = {"sub": str(world.users["li_na"]), "aud": "warnflow", "iat": now,
            "exp": now + timedelta(minutes=5), "sep": 0}  # fmt: skip
    assert client.get(ME, headers=bearer(jwt.encode(good, key, algorithm="HS256"))).status_code == 200
    for missing in ("exp", "aud", "sep", "iat"):
        forged = jwt.encode({k: v for k, v in good.items() if k != missing}, key, algorithm="HS256")
        assert client.get(ME, headers=bearer(forged)).status_code == 401, missing


def test_the_page_that_changes_the_password_keeps_this_browser_logged_in(world, client):
    assert page_login(client, "li_na").status_code == 303
    other = token_for(client, "li_na")
    form = client.get("/account/password").text
    response = client.post("/account/password", follow_redirects=False, data={
        "csrf_token": csrf_of(form), "current_password": PASSWORD, "new_password": "Anxian-2027-new"})
    assert response.status_code == 303
    assert client.get("/work").status_code == 200  # this browser: a new session
    assert client.get(ME, headers=bearer(other)).status_code == 401  # the other: ended
