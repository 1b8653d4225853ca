"""Every route refuses a body over its limit with 413 naming the limit, JSON or multipart,
API or page, declared length or not."""

import pytest

from api.app import create_app


@pytest.fixture
def small_client(app, settings):
    from fastapi.testclient import TestClient
    settings.body_max_bytes = 2048
    settings.upload_max_bytes = 1024
    with TestClient(app) as client:
        yield client


def test_a_json_body_over_the_limit_is_refused_with_the_limit_in_the_message(world, small_client, login):
    headers = login("sun_hao")
    big = {"kind": "holiday", "name": "节" * 2000}
    answer = small_client.put("/api/v1/admin/calendar/2026-11-24", json=big, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["code"] == "too_large" and "上限 2 KB" in answer.json()["message"]
    assert small_client.put("/api/v1/admin/calendar/2026-11-24", json={"kind": "holiday", "name": "防汛"},
                            headers=headers).status_code == 200


def test_attachments_over_twenty_files_worth_are_refused_before_they_are_read(world, small_client, login):
    # 20 files of 1 KB and the envelope's 1 MB of room: 30 files of 60 KB are over.
    files = [("attachments", (f"f{i}.pdf", b"%PDF-" + b"x" * 60 * 1024, "application/pdf")) for i in range(30)]
    answer = small_client.post("/api/v1/slips/1/attachments", files=files, headers=login("wang_fang"))
    assert answer.status_code == 413 and "上限" in answer.json()["message"]


def test_a_page_form_over_the_limit_is_refused_too(world, small_client):
    answer = small_client.post("/login", data={"username": "x" * 5000, "password": "y"})
    assert answer.status_code == 413


def test_the_default_limits_leave_ordinary_bodies_alone(settings):
    assert settings.body_max_bytes >= 1024 * 1024
    assert create_app(settings) is not None
