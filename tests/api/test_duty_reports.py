"""A yellow bell's duty reported done by a person, over the API and on the case page: the day
it was done and the evidence; the supervisor's review queue shows the note and signs it off."""

import re

import pytest
import sqlalchemy as sa

from models import Case, CaseEvent
from models.enums import Conclusion, Event
from tests.api.test_lifecycle_api import Api
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import NOW, new_case, verification_slip
from workflows.cases.transition import transition

PDF = b"%PDF-1.4 receipt of the indicator file"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    # Monday 23 Nov 2026, 09:00 in Shanghai; the bells' duty is due Monday 30 Nov.
    monkeypatch.setattr("api.routes.cases.now_utc", lambda: NOW)
    monkeypatch.setattr("api.pages.cases.now_utc", lambda: NOW)


@pytest.fixture
def world(world, session):
    session.commit()  # a refused request rolls the shared session back; the world stays
    return world


@pytest.fixture
def api(client, login):
    return Api(client, login)


def a_bell(session, world, rule="bell") -> str:
    number = session.get(Case, new_case(session, world, rule)).number
    session.commit()
    return number


def test_li_na_reports_a_duty_over_the_api_and_zhang_wei_clears_it(api, session, world):
    number = a_bell(session, world)
    missing = api.act("li_na", number, "complete_duty", comment="已导入指标文件")
    assert missing.status_code == 422
    [error] = missing.json()["errors"]
    assert error["field"] == "done_at" and "履职完成日期" in error["message"]
    future = api.act("li_na", number, "complete_duty", comment="已导入", done_at="2026-11-24")
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "done_at"
    stray = api.act("li_na", number, "start_verify", done_at="2026-11-23")
    assert stray.status_code == 422 and stray.json()["errors"][0]["field"] == "done_at"
    body = api.ok("li_na", number, "complete_duty", comment="已导入指标文件，文号豫财农〔2026〕12号",
                  done_at="2026-11-23")  # fmt: skip
    assert body["state"] == "clearance_review" and body["state_label"] == "解除警铃待审核"
    assert body["timeline"][-1]["event"] == "complete_duty"
    assert [e["event"] for e in body["allowed_events"]] == []  # the handler waits
    cleared = api.ok("zhang_wei", number, "approve_clearance", comment="凭证齐全")
    assert (cleared["state"], cleared["resolution"]) == ("cleared", "cleared")


def test_a_duty_li_na_did_late_converts_over_the_api(api, session, world, monkeypatch):
    number = a_bell(session, world, "bell_red")
    later = NOW.replace(day=2, month=12)
    monkeypatch.setattr("api.routes.cases.now_utc", lambda: later)
    body = api.ok("li_na", number, "complete_duty", comment="12月1日才导入", done_at="2026-12-01")
    assert body["state"] == "red_light" and body["resolution"] is None
    assert body["timeline"][-1]["event"] == "bell_deadline_passed"


def test_the_openapi_schema_says_what_a_duty_report_needs(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["api__routes__case_schemas__TransitionIn"]
    assert schema["properties"]["done_at"]["anyOf"][0] == {"type": "string", "format": "date"}
    rules = {r["if"]["properties"]["event"]["const"]: r["then"]["required"] for r in schema["allOf"]}
    assert rules["complete_duty"] == ["done_at", "comment"]
    assert rules["reject_clearance"] == ["comment"] and rules["submit_verification"] == ["slip"]


def post_form(client, number, event, data=None, files=None):
    page = client.get(f"/cases/{number}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    body = {"csrf_token": csrf_of(page.text), "version": version, "event": event, **(data or {})}
    return client.post(f"/cases/{number}/transitions", data=body, files=files, follow_redirects=False)


def test_on_the_case_page_li_na_dates_the_duty_attaches_a_scan_and_zhang_wei_reviews_it(client, session, world):
    number = a_bell(session, world)
    page_login(client, "li_na")
    page = client.get(f"/cases/{number}")
    assert 'name="done_at"' in page.text and 'id="complete-duty-form"' in page.text
    refused = post_form(client, number, "complete_duty", {"comment": "已导入指标文件"})
    assert refused.status_code == 422 and "履职完成日期" in refused.text
    assert "已导入指标文件" in refused.text  # the input is kept
    done = post_form(client, number, "complete_duty", {"comment": "已导入指标文件", "done_at": "2026-11-23"},
                     files=[("attachments", ("指标文件回执.pdf", PDF, "application/pdf"))])  # fmt: skip
    assert done.status_code == 303, done.text
    page = client.get(f"/cases/{number}")
    assert "解除警铃待审核" in page.text and "履职完成：2026-11-23" in page.text
    link = re.search(rf'href="(/cases/{number}/evidence/[0-9a-f]{{64}})">指标文件回执.pdf', page.text).group(1)
    assert client.get(link).content == PDF
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    page_login(client, "zhang_wei")
    queue = client.get("/review")
    assert number in queue.text and "解除警铃待审核" in queue.text
    assert "说明：已导入指标文件" in queue.text and "履职完成：2026-11-23，凭证 1 个" in queue.text
    assert client.get(link).content == PDF
    approved = post_form(client, number, "approve_clearance", {"comment": "凭证齐全"})
    assert approved.status_code == 303
    assert "警铃已解除" in client.get(f"/cases/{number}").text
    assert number not in client.get("/review").text


def test_zhang_weis_queue_shows_a_large_normal_conclusion_with_its_findings(client, session, world):
    large = new_case(session, world, "yellow", amount="500000.00")
    small = new_case(session, world, "yellow", amount="99999.99")
    for case_id in (large, small):
        transition(session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"],
                   version=1, as_of=NOW, slip=verification_slip(Conclusion.NORMAL))  # fmt: skip
    session.commit()
    page_login(client, "zhang_wei")
    queue = client.get("/review").text
    assert session.get(Case, large).number in queue and session.get(Case, small).number not in queue
    assert "认定正常待审核" in queue and "核实情况：" + verification_slip(Conclusion.NORMAL).findings in queue


def test_li_na_sends_her_duty_report_with_a_scan_over_the_api(client, login, session, world):
    number = a_bell(session, world)
    url = f"/api/v1/cases/{number}/duty-report"
    form = {"version": "1", "comment": "已导入指标文件", "done_at": "2026-11-23"}
    scan = [("attachments", ("回执.pdf", PDF, "application/pdf"))]
    assert client.post(url, headers=login("zhang_wei"), data=form, files=scan).status_code == 403
    bad = client.post(url, headers=login("li_na"), data=form,
                      files=[("attachments", ("回执.exe", b"MZ", "application/octet-stream"))])  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "attachments"
    body = client.post(url, headers=login("li_na"), data=form, files=scan)
    assert body.status_code == 200, body.text
    assert body.json()["state"] == "clearance_review"
    data = session.execute(
        sa.select(CaseEvent.data).join(Case, Case.id == CaseEvent.case_id)
        .where(Case.number == number, CaseEvent.event == Event.COMPLETE_DUTY)
    ).scalar_one()  # fmt: skip
    sha = data["evidence"][0]["sha256"]
    got = client.get(f"/api/v1/cases/{number}/evidence/{sha}", headers=login("zhang_wei"))
    assert got.status_code == 200 and got.content == PDF
    schema = client.get("/openapi.json").json()["paths"]["/api/v1/cases/{number}/duty-report"]["post"]
    ref = schema["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    required = client.get("/openapi.json").json()["components"]["schemas"][ref]["required"]
    assert sorted(required) == ["comment", "done_at", "version"]
