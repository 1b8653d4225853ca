"""The case lifecycle driven over the API by each persona: handler, supervisor, admin,
colleagues outside the case's department or county; stale versions and all-or-none batches."""

import pytest
import sqlalchemy as sa

from models import Case, CaseEvent, Slip
from models.enums import Conclusion
from tests.factories import NOW, new_case, rectification_slip, verification_slip


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr("api.routes.cases.now_utc", lambda: NOW)


def slip_json(slip) -> dict:
    return slip.model_dump(mode="json")


VIOLATION = slip_json(verification_slip(Conclusion.VIOLATION))
RECTIFICATION = slip_json(rectification_slip())


@pytest.fixture
def yellow(session, world) -> str:
    return session.get(Case, new_case(session, world, "yellow")).number


class Api:
    def __init__(self, client, login):
        self.client, self.login = client, login

    def read(self, who, number):
        return self.client.get(f"/api/v1/cases/{number}", headers=self.login(who))

    def act(self, who, number, event, version=None, **body):
        if version is None:
            version = self.read(who, number).json()["version"]
        return self.client.post(
            f"/api/v1/cases/{number}/transitions",
            headers=self.login(who),
            json={"event": event, "version": version, **body},
        )

    def ok(self, who, number, event, **body) -> dict:
        response = self.act(who, number, event, **body)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(client, login):
    return Api(client, login)


def test_li_na_verifies_a_violation_and_zhang_wei_approves_the_rectification(api, yellow):
    case = api.ok("li_na", yellow, "start_verify")
    assert case["state"] == "verifying" and case["version"] == 2

    case = api.ok("li_na", yellow, "submit_verification", slip=VIOLATION)
    assert case["state"] == "red_light" and case["level"] == "red_light"
    assert case["level_label"] == "红灯" and case["slips"][0]["number"].startswith("HS-")
    assert case["slips"][0]["conclusion"] == "violation"

    case = api.ok("li_na", yellow, "start_rectify")
    assert case["state"] == "rectifying"
    case = api.ok("li_na", yellow, "submit_rectification", slip=RECTIFICATION)
    assert case["state"] == "rectification_review"
    assert [e["event"] for e in case["allowed_events"]] == []

    supervisor_view = api.read("zhang_wei", yellow).json()
    assert {e["event"] for e in supervisor_view["allowed_events"]} >= {
        "approve_rectification", "reject_rectification",
    }  # fmt: skip
    case = api.ok("zhang_wei", yellow, "approve_rectification")
    assert case["state"] == "green" and case["level_label"] == "绿灯"
    assert case["resolution"] == "rectified" and case["due_on"] is None
    assert [e["event"] for e in case["timeline"]] == [
        "raise", "start_verify", "submit_verification", "start_rectify",
        "submit_rectification", "approve_rectification",
    ]  # fmt: skip
    assert case["timeline"][-1]["actor_name"] == "张伟"


def test_zhang_wei_rejects_a_rectification_with_a_reason_and_it_goes_back(api, yellow):
    api.ok("li_na", yellow, "submit_verification", slip=VIOLATION)
    api.ok("li_na", yellow, "submit_rectification", slip=RECTIFICATION)
    no_reason = api.act("zhang_wei", yellow, "reject_rectification")
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "comment"
    case = api.ok("zhang_wei", yellow, "reject_rectification", comment="缺少收回资金的银行回单")
    assert case["state"] == "rectifying"
    assert case["timeline"][-1]["comment"] == "缺少收回资金的银行回单"


def test_a_stale_version_is_refused_with_409_and_nothing_changes(api, yellow):
    api.ok("li_na", yellow, "start_verify")
    response = api.act("li_na", yellow, "submit_verification", version=1, slip=VIOLATION)
    assert response.status_code == 409 and response.json()["code"] == "stale_version"
    case = api.read("li_na", yellow).json()
    assert case["state"] == "verifying" and case["version"] == 2 and case["slips"] == []


def test_chen_jie_from_another_department_may_not_act(api, yellow):
    response = api.act("chen_jie", yellow, "start_verify", version=1)
    assert response.status_code == 403 and response.json()["code"] == "out_of_scope"
    assert api.read("li_na", yellow).json()["version"] == 1


def test_zhao_lei_from_another_county_cannot_even_see_the_case(api, yellow):
    assert api.read("zhao_lei", yellow).status_code == 404
    assert api.act("zhao_lei", yellow, "start_verify", version=1).status_code == 403


def test_sun_hao_the_admin_may_not_act_or_list(api, client, login, yellow):
    assert api.act("sun_hao", yellow, "start_verify", version=1).status_code == 403
    assert client.get("/api/v1/cases", headers=login("sun_hao")).status_code == 403
    batch = client.post(
        "/api/v1/transitions/batch", headers=login("sun_hao"),
        json={"event": "start_verify", "cases": [{"number": yellow, "version": 1}]},
    )  # fmt: skip
    assert batch.status_code == 403


def test_the_auditor_may_read_but_not_act(api, yellow):
    assert api.read("liu_yang", yellow).status_code == 200
    assert api.act("liu_yang", yellow, "start_verify", version=1).status_code == 403


def test_a_handler_may_not_approve_and_a_supervisor_may_not_verify(api, yellow):
    response = api.act("zhang_wei", yellow, "start_verify")
    assert response.status_code == 403 and response.json()["code"] == "role_not_allowed"
    api.ok("li_na", yellow, "submit_verification", slip=VIOLATION)
    assert api.act("li_na", yellow, "approve_rectification").status_code == 409


def test_a_slip_without_a_conclusion_answers_422_naming_slip_conclusion(api, yellow):
    slip = {k: v for k, v in VIOLATION.items() if k != "conclusion"}
    response = api.act("li_na", yellow, "submit_verification", slip=slip)
    assert response.status_code == 422
    assert "slip.conclusion" in [e["field"] for e in response.json()["errors"]]
    bad = api.act("li_na", yellow, "submit_verification", slip={**VIOLATION, "conclusion": "maybe"})
    assert bad.status_code == 422
    assert "slip.conclusion" in [e["field"] for e in bad.json()["errors"]]
    assert api.read("li_na", yellow).json()["version"] == 1


def test_an_unknown_event_and_a_stray_field_are_refused(api, yellow):
    response = api.act("li_na", yellow, "fly_away", version=1)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "event"
    stray = api.act("li_na", yellow, "start_verify", version=1, colour="red")
    assert stray.status_code == 422 and stray.json()["errors"][0]["field"] == "colour"


def batch(client, login, who, event, cases, **body):
    return client.post(
        "/api/v1/transitions/batch", headers=login(who),
        json={"event": event, "cases": [{"number": n, "version": v} for n, v in cases], **body},
    )  # fmt: skip


def test_a_batch_with_one_case_in_the_wrong_state_changes_none_of_them(
    api, client, login, session, world
):
    numbers = [session.get(Case, new_case(session, world, "yellow")).number for _ in range(3)]
    api.ok("li_na", numbers[2], "submit_verification", slip=VIOLATION)  # now red: wrong state
    before = {n: api.read("li_na", n).json() for n in numbers}
    slips_before = session.scalar(sa.select(sa.func.count()).select_from(Slip))

    response = batch(client, login, "li_na", "submit_verification",
                     [(n, before[n]["version"]) for n in numbers], slip=VIOLATION)  # fmt: skip
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "batch_refused"
    assert [(i["number"], i["code"]) for i in body["items"]] == [(numbers[2], "invalid_state")]
    for n in numbers:
        after = api.read("li_na", n).json()
        assert (after["state"], after["version"]) == (before[n]["state"], before[n]["version"])
    assert session.scalar(sa.select(sa.func.count()).select_from(Slip)) == slips_before


def test_a_batch_reports_foreign_cases_as_missing_and_stale_ones_by_number(
    api, client, login, session, world
):
    mine = session.get(Case, new_case(session, world, "yellow")).number
    foreign = session.get(Case, new_case(session, world, "yellow", unit="anxian_budget")).number
    response = batch(client, login, "li_na", "start_verify", [(mine, 7), (foreign, 1)])
    assert response.status_code == 409
    items = {i["number"]: i["code"] for i in response.json()["items"]}
    # Another section's case reads as a missing one: a batch must not reveal that it exists.
    assert items == {foreign: "not_found"}
    stale = batch(client, login, "li_na", "start_verify", [(mine, 7)])
    assert [i["code"] for i in stale.json()["items"]] == ["stale_version"]
    assert api.read("li_na", mine).json()["version"] == 1


def test_a_batch_that_succeeds_files_one_slip_for_every_case(api, client, login, session, world):
    numbers = [session.get(Case, new_case(session, world, "yellow")).number for _ in range(3)]
    response = batch(client, login, "li_na", "submit_verification",
                     [(n, 1) for n in numbers], slip={**VIOLATION, "amount_basis": "per_case"})  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert [i["number"] for i in body["items"]] == numbers
    assert {i["state"] for i in body["items"]} == {"red_light"}
    assert {i["version"] for i in body["items"]} == {2}
    slip_ids = {api.read("li_na", n).json()["slips"][0]["id"] for n in numbers}
    assert slip_ids == {body["slip_id"]}
    events = session.scalar(sa.select(sa.func.count()).where(CaseEvent.slip_id == body["slip_id"]))
    assert events == 3


def test_a_batch_needs_at_least_one_case(client, login, world):
    response = batch(client, login, "li_na", "start_verify", [])
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cases"


def test_zhang_wei_reassigns_a_case_to_wang_fang_and_transfers_a_red_one(api, world, yellow):
    bad = api.act("zhang_wei", yellow, "reassign", assignee_id=world.users["chen_jie"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "assignee_id"
    case = api.ok("zhang_wei", yellow, "reassign", assignee_id=world.users["wang_fang"])
    assert case["assignee_name"] == "王芳" and case["state"] == "yellow_light"
    api.ok("wang_fang", yellow, "submit_verification", slip=VIOLATION)
    case = api.ok("zhang_wei", yellow, "transfer", comment="涉嫌虚报冒领，移交县纪委监委")
    assert case["state"] == "transferred" and case["resolution_label"] == "已移交"
