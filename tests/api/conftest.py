"""The web app against the test's own rolled-back session, and logging in as a persona.

Requests share the test's session (join_transaction_mode="create_savepoint"), so a route's
commit is a savepoint release and everything it wrote is rolled back after the test.
"""

from collections.abc import Iterator
from contextlib import nullcontext

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_session
from api.routes.imports import get_import_sessions
from models.settings import Settings
from tests.factories import PASSWORD


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, demo=True, var_dir=tmp_path / "var")


@pytest.fixture
def app(session, settings):
    app = create_app(settings)

    def test_session() -> Iterator:
        # What the test built so far counts as committed before the request, so a request
        # that fails rolls back only its own work.
        session.commit()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise

    app.dependency_overrides[get_session] = test_session
    # A file import's background work runs in the test's session too (TestClient runs it
    # before the call returns), so it is rolled back with the rest.
    app.dependency_overrides[get_import_sessions] = lambda: (lambda: nullcontext(session))
    return app


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def token_for(client: TestClient, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def login(client):
    """`login("li_na")` → headers carrying Li Na's bearer token."""

    def headers_for(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(client, username)}"}

    return headers_for
