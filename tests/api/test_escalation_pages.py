"""Li Na asks for more time on the case page; Zhang Wei decides on 督办申请 (/escalations)."""

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from models import Case, CaseEvent, EscalationRequest
from models.enums import Event
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import new_case
from workflows.escalation.sweep import sweep


def at(y, m, d, hour=9) -> datetime:
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


@pytest.fixture
def world(world, session):
    # A refused request rolls the shared session back; commit the world so that it stays.
    session.commit()
    return world


@pytest.fixture
def clock(monkeypatch):
    now = {"at": at(2026, 12, 1)}  # the factories' yellow case was due 30 Nov
    monkeypatch.setattr("api.pages.escalations.now_utc", lambda: now["at"])
    monkeypatch.setattr("api.pages.cases.now_utc", lambda: now["at"])
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


def version_in(html: str, form_id: str) -> str:
    form = html[html.index(f'id="{form_id}"'):]
    return re.search(r'name="version" value="(\d+)"', form).group(1)


def ask_on_case_page(client, number, **data):
    page = client.get(f"/cases/{number}")
    assert "申请延期" in page.text
    body = {"csrf_token": csrf_of(page.text), "version": version_in(page.text, "extension-form"), **data}
    return client.post(f"/cases/{number}/extension-requests", data=body, follow_redirects=False)


def decide_on_queue_page(client, request_id, **data):
    page = client.get("/escalations")
    body = {"csrf_token": csrf_of(page.text), "version": version_in(page.text, f"request-{request_id}"), **data}
    return client.post(f"/escalations/{request_id}/decision", data=body, follow_redirects=False)


def pending_id(session, case_id) -> int:
    return session.scalars(sa.select(EscalationRequest.id).where(
        EscalationRequest.case_id == case_id, EscalationRequest.decided_at.is_(None))).one()


def test_li_na_asks_for_more_time_and_zhang_wei_approves_on_his_queue(world, session, client, clock):
    case_id = new_case(session, world, "yellow")
    session.commit()
    number = case_of(session, case_id).number
    page_login(client, "li_na")
    missing = ask_on_case_page(client, number, reason="  ", requested_due_on="2026-12-04")
    assert missing.status_code == 422 and "请填写申请延期的理由" in missing.text
    assert 'value="2026-12-04"' in missing.text  # what she typed is kept
    asked = ask_on_case_page(client, number, reason="需调阅乡镇拨付凭证", requested_due_on="2026-12-04")
    assert asked.status_code == 303, asked.text
    client.cookies.clear()
    page_login(client, "zhang_wei")
    queue = client.get("/escalations")
    assert queue.status_code == 200 and number in queue.text and "需调阅乡镇拨付凭证" in queue.text
    assert "督办申请" in queue.text
    request_id = pending_id(session, case_id)
    bad = decide_on_queue_page(client, request_id, decision="reject", reason="")
    assert bad.status_code == 422 and "驳回延期申请须填写理由" in bad.text
    done = decide_on_queue_page(client, request_id, decision="approve", new_due_on="2026-12-08")
    assert done.status_code == 303, done.text
    assert str(case_of(session, case_id).due_on) == "2026-12-08"
    assert timeline(session, case_id)[-2:] == [Event.REQUEST_EXTENSION, Event.APPROVE_EXTENSION]
    assert "没有待审批的申请" in client.get("/escalations").text


def test_zhang_wei_escalates_a_level_2_request_to_the_bureau_on_the_page(world, session, client, clock):
    case_id = new_case(session, world, "yellow")
    sweep(session, as_of=at(2026, 12, 1))
    sweep(session, as_of=at(2026, 12, 3))
    session.commit()
    clock["at"] = at(2026, 12, 3, 10)
    page_login(client, "zhang_wei")
    page = client.get("/escalations")
    assert "王芳" in page.text  # the reassign choices: the section's handlers
    done = decide_on_queue_page(client, pending_id(session, case_id), decision="escalate",
                                reason="多次催办未果")
    assert done.status_code == 303, done.text
    assert case_of(session, case_id).escalation_level == 3


def test_chen_jie_and_the_admin_cannot_open_the_queue(world, session, client, clock):
    page_login(client, "chen_jie")
    assert client.get("/escalations").status_code == 403
    client.cookies.clear()
    page_login(client, "sun_hao")
    assert client.get("/escalations").status_code == 403
