"""Sun Hao's searches in the admin lists take % and _ literally, not as wildcards."""

import pytest


@pytest.mark.parametrize("path", ["/api/v1/admin/users", "/api/v1/admin/rules", "/api/v1/admin/whitelist"])
def test_a_percent_sign_finds_nothing_instead_of_everything(world, client, login, path):
    admin = login("sun_hao")
    client.post("/api/v1/admin/whitelist", headers=admin, json={
        "kind": "account", "value": "6217000010012345678", "reason": "村级报账员代领账户，已备案",
        "approved_by_id": world.users["zhang_wei"]})
    assert client.get(path, headers=admin).json() != []
    for q in ("%", "%%", "%_%"):
        found = client.get(path, params={"q": q}, headers=admin)
        assert found.status_code == 200
        assert found.json() == [], q


def test_an_underscore_matches_only_an_underscore(world, client, login):
    admin = login("sun_hao")
    users = "/api/v1/admin/users"
    # As a wildcard "a_g" would match the "ang" of wang_fang and zhang_wei.
    assert client.get(users, params={"q": "a_g"}, headers=admin).json() == []
    [wang] = client.get(users, params={"q": "wang_f"}, headers=admin).json()
    assert wang["username"] == "wang_fang"
