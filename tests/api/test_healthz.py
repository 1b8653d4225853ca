"""GET /healthz: what an operator checks after `make demo` or a deployment."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from models.settings import Settings


def client_for(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, demo=True)))


def test_healthz_reports_version_database_schema_and_calendar(database_url, backend):
    response = client_for(database_url).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == "0.1.0"
    assert body["database"] == backend
    assert body["schema"]["up_to_date"] is True
    calendar = body["calendar"]
    assert calendar["official_first_year"] <= 2026 <= calendar["official_last_year"]
    if 2027 in calendar["fallback_years"]:
        assert "周一至周五" in calendar["warning"]


def test_healthz_says_the_schema_is_behind_on_an_unmigrated_database(tmp_path):
    body = client_for(f"sqlite:///{tmp_path / 'blank.sqlite3'}").get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["schema"] == {"revision": None, "up_to_date": False}


def test_healthz_answers_503_in_chinese_when_the_database_is_down():
    # Port 9 (discard) has no PostgreSQL: the connection is refused at once.
    response = client_for("postgresql://postgres@127.0.0.1:9/none").get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert "数据库不可用" in response.json()["error"]


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_the_api_documentation_is_served(tmp_path, path):
    assert client_for(f"sqlite:///{tmp_path / 'x.sqlite3'}").get(path).status_code == 200
