"""People who mistype a page address get a Chinese page, programs keep getting JSON."""


def test_an_unknown_page_address_shows_a_chinese_not_found_page(world, client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "页面不存在" in response.text


def test_an_unknown_api_address_answers_json(world, client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")


def test_a_malformed_page_parameter_shows_the_field_in_chinese(world, client, login):
    response = client.get("/slips/abc/pdf", headers=login("li_na"))
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
    assert "提交的内容有误" in response.text and "应为整数" in response.text
