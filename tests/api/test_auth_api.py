"""Programs log in with the OAuth2 password form and carry a bearer token."""


def test_li_na_gets_a_token_and_sees_who_she_is(world, client, login):
    body = client.get("/api/v1/me", headers=login("li_na")).json()
    assert body["username"] == "li_na"
    assert body["role_label"] == "经办人"
    assert body["region"]["name"] == "安县"


def test_a_wrong_password_is_refused_in_chinese(world, client):
    response = client.post("/api/v1/auth/token", data={"username": "li_na", "password": "x"})
    assert response.status_code == 401
    assert "用户名或密码" in response.json()["message"]


def test_without_a_token_the_api_asks_to_log_in(world, client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["message"] == "请先登录"
