"""Handlers ask for more time through the API; supervisors decide requests from their queue."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from models import Case, CaseEvent
from models.enums import Event
from tests.factories import new_case
from workflows.escalation.sweep import sweep


def at(y, m, d, hour=9) -> datetime:
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


# The factories' yellow case is due Monday 30 Nov: on 1 Dec it is overdue.
OVERDUE = at(2026, 12, 1)


@pytest.fixture
def clock(monkeypatch):
    now = {"at": OVERDUE}
    monkeypatch.setattr("api.routes.escalations.now_utc", lambda: now["at"])
    return now


def case_of(session, case_id) -> Case:
    case = session.get(Case, case_id)
    session.refresh(case)
    return case


def timeline(session, case_id) -> list[Event]:
    return list(session.scalars(
        sa.select(CaseEvent.event).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    ))  # fmt: skip


def ask(client, login, session, case_id, **body):
    case = case_of(session, case_id)
    return client.post(
        f"/api/v1/cases/{case.number}/extension-requests", headers=login("li_na"),
        json={"version": case.version, "reason": "需调阅乡镇拨付凭证，档案在外地", **body},
    )  # fmt: skip


def test_li_na_asks_for_more_time_and_zhang_wei_approves_a_new_date(client, login, session, world, clock):
    case_id = new_case(session, world, "yellow")
    asked = ask(client, login, session, case_id, requested_due_on="2026-12-04")
    assert asked.status_code == 201, asked.text
    queue = client.get("/api/v1/escalations", headers=login("zhang_wei"))
    assert queue.status_code == 200
    [item] = queue.json()
    number = case_of(session, case_id).number
    assert (item["case_number"], item["kind"], item["level"]) == (number, "extension", None)
    assert item["reason"] == "需调阅乡镇拨付凭证，档案在外地" and item["requested_due_on"] == "2026-12-04"
    assert item["created_at"]
    decided = client.post(
        f"/api/v1/escalations/{item['id']}/decision", headers=login("zhang_wei"),
        json={"version": item["case_version"], "decision": "approve", "new_due_on": "2026-12-08"},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    assert decided.json()["due_on"] == "2026-12-08"
    assert str(case_of(session, case_id).due_on) == "2026-12-08"
    assert timeline(session, case_id)[-2:] == [Event.REQUEST_EXTENSION, Event.APPROVE_EXTENSION]
    assert client.get("/api/v1/escalations", headers=login("zhang_wei")).json() == []


def test_zhang_wei_cannot_reject_an_extension_without_a_reason(client, login, session, world, clock):
    case_id = new_case(session, world, "yellow")
    assert ask(client, login, session, case_id).status_code == 201
    [item] = client.get("/api/v1/escalations", headers=login("zhang_wei")).json()
    refused = client.post(
        f"/api/v1/escalations/{item['id']}/decision", headers=login("zhang_wei"),
        json={"version": item["case_version"], "decision": "reject"},
    )  # fmt: skip
    assert refused.status_code == 422, refused.text
    assert "reason" in {e["field"] for e in refused.json()["errors"]}
    stale = client.post(
        f"/api/v1/escalations/{item['id']}/decision", headers=login("zhang_wei"),
        json={"version": item["case_version"] - 1, "decision": "reject", "reason": "理由不充分"},
    )  # fmt: skip
    assert stale.status_code == 409
    rejected = client.post(
        f"/api/v1/escalations/{item['id']}/decision", headers=login("zhang_wei"),
        json={"version": item["case_version"], "decision": "reject", "reason": "理由不充分"},
    )  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    assert timeline(session, case_id)[-1] == Event.REJECT_EXTENSION


def test_zhang_wei_sends_a_level_2_escalation_to_the_supervision_bureau(client, login, session, world, clock):
    case_id = new_case(session, world, "yellow")
    sweep(session, as_of=at(2026, 12, 1))
    sweep(session, as_of=at(2026, 12, 3))
    clock["at"] = at(2026, 12, 3, 10)
    [item] = client.get("/api/v1/escalations", headers=login("zhang_wei")).json()
    assert (item["kind"], item["level"]) == ("escalation", 2)
    decided = client.post(
        f"/api/v1/escalations/{item['id']}/decision", headers=login("zhang_wei"),
        json={"version": item["case_version"], "decision": "escalate", "reason": "多次催办未果"},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    assert decided.json()["escalation_level"] == 3
    assert case_of(session, case_id).escalation_level == 3


def test_chen_jie_and_the_admin_cannot_touch_li_nas_requests(client, login, session, world, clock):
    case_id = new_case(session, world, "yellow")
    assert ask(client, login, session, case_id).status_code == 201
    [item] = client.get("/api/v1/escalations", headers=login("zhang_wei")).json()
    number = case_of(session, case_id).number
    decision = {"version": item["case_version"], "decision": "approve", "new_due_on": "2026-12-08"}
    # Chen Jie handles another section: not his case, not his queue.
    chen = client.post(f"/api/v1/cases/{number}/extension-requests", headers=login("chen_jie"),
                       json={"version": item["case_version"], "reason": "x"})
    assert chen.status_code in (403, 404)
    assert client.get("/api/v1/escalations", headers=login("chen_jie")).status_code == 403
    assert client.post(f"/api/v1/escalations/{item['id']}/decision", headers=login("chen_jie"),
                       json=decision).status_code == 403
    # Ningxian's supervisor does not see Anxian's queue.
    boss = client.post(f"/api/v1/escalations/{item['id']}/decision", headers=login("ningxian_boss"),
                       json=decision)
    assert boss.status_code == 404
    assert client.get("/api/v1/escalations", headers=login("sun_hao")).status_code == 403
    assert client.post(f"/api/v1/escalations/{item['id']}/decision", headers=login("sun_hao"),
                       json=decision).status_code == 403
    assert timeline(session, case_id)[-1] == Event.REQUEST_EXTENSION
