"""The oversight JSON API: Gao Jun moves Anxian's special inspection through /api/v1, stale
versions and incomplete reports are refused with Chinese field messages."""

import pytest

from tests.workflows.oversight.test_cases import (
    REPORT,
    bureau_director,
    counting_month,
    m,
    open_inspection,
    run_job_for,
)


@pytest.fixture
def world(world, session):
    # A refused request rolls the shared session back; commit the world so that it stays.
    session.commit()
    return world


@pytest.fixture
def inspection(session, world):
    case = open_inspection(session, world)
    bureau_director(session, world)
    session.commit()
    return case


def url(case, tail=""):
    return f"/api/v1/oversight/{case.id}{tail}"


def test_gao_jun_lists_and_reads_anxians_inspection(client, login, inspection):
    listed = client.get("/api/v1/oversight", headers=login("gao_jun"))
    assert listed.status_code == 200
    (row,) = listed.json()
    assert (row["number"], row["kind_label"], row["state_label"], row["region_name"]) == (
        inspection.number, "专项督查", "待督查", "安县",
    )  # fmt: skip
    detail = client.get(url(inspection), headers=login("gao_jun")).json()
    assert detail["allowed_events"] == ["start"]
    assert [e["event"] for e in detail["timeline"]] == ["open"]


def test_who_reads_oversight(client, login, inspection):
    # Anxian's treasury sees its own county's inspection; a handler works on warnings only.
    assert client.get(url(inspection), headers=login("qian_li")).status_code == 200
    assert client.get(url(inspection), headers=login("xu_qing")).status_code == 200
    assert client.get("/api/v1/oversight", headers=login("li_na")).status_code == 403
    assert client.get(url(inspection), headers=login("zhang_wei")).status_code == 403


def test_gao_jun_starts_reports_and_closes(client, login, inspection):
    headers = login("gao_jun")
    started = client.post(url(inspection, "/transitions"), headers=headers,
                          json={"event": "start", "expected_version": 1})  # fmt: skip
    assert started.status_code == 200, started.text
    assert (started.json()["to_state"], started.json()["version"]) == ("inspecting", 2)
    reported = client.post(url(inspection, "/transitions"), headers=headers,
                           json={"event": "submit_report", "expected_version": 2, "record": REPORT})  # fmt: skip
    assert reported.json()["to_state"] == "reported"
    own = client.post(url(inspection, "/transitions"), headers=headers,
                      json={"event": "close", "expected_version": 3})  # fmt: skip
    assert own.status_code == 422 and own.json()["errors"][0]["code"] == "own_report"
    closed = client.post(url(inspection, "/transitions"), headers=login("wu_tao"),
                         json={"event": "close", "expected_version": 3})  # fmt: skip
    assert closed.json()["to_state"] == "closed"
    detail = client.get(url(inspection), headers=headers).json()
    assert detail["record"]["problems"] == REPORT["problems"]
    assert detail["closed_at"] is not None and detail["allowed_events"] == []


def test_a_stale_version_answers_409(client, login, inspection):
    headers = login("gao_jun")
    client.post(
        url(inspection, "/transitions"),
        headers=headers,
        json={"event": "start", "expected_version": 1},
    )
    stale = client.post(url(inspection, "/transitions"), headers=headers,
                        json={"event": "submit_report", "expected_version": 1, "record": REPORT})  # fmt: skip
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version" and "刷新" in stale.json()["message"]


def test_an_incomplete_report_answers_422_naming_the_fields(client, login, inspection):
    headers = login("gao_jun")
    client.post(
        url(inspection, "/transitions"),
        headers=headers,
        json={"event": "start", "expected_version": 1},
    )
    bad = client.post(url(inspection, "/transitions"), headers=headers,
                      json={"event": "submit_report", "expected_version": 2,
                            "record": {"scope": "安县", "findings": "发现问题"}})  # fmt: skip
    assert bad.status_code == 422
    errors = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert errors == {"record.problems": "请填写存在问题", "record.rectifications": "请填写整改要求",
                      "record.conclusion": "请填写督查结论"}  # fmt: skip


def test_ma_lin_may_not_run_the_inspection(client, login, inspection):
    refused = client.post(url(inspection, "/transitions"), headers=login("ma_lin"),
                          json={"event": "start", "expected_version": 1})  # fmt: skip
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"


def test_the_streak_warnings_as_json(client, login, session, world):
    for month in (m(2026, 9), m(2026, 10)):
        counting_month(session, world, month)
        run_job_for(session, month)
    session.commit()
    rows = client.get("/api/v1/oversight/streaks", headers=login("li_na")).json()
    assert [(r["region_name"], r["streak"], r["streak_start"]) for r in rows] == [
        ("安县", 2, "2026-09-01")
    ]
