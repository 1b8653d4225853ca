"""The monitoring platform sends warnings in: POST /api/v1/warnings/import."""

from sqlmodel import func, select

from models import Case
from workflows.intake.imports import MAX_ITEMS

URL = "/api/v1/warnings/import"


def warning(external_id, **overrides):
    item = {"rule_code": "ZC-001", "region_code": "410121", "source": "henan-platform",
            "external_id": external_id, "raised_at": "2026-11-23T08:30:00+08:00",
            "facts": {"payee_name": "安县城关镇农民专业合作社", "payee_account": "6222020200112233445",
                      "amount": 50000.5, "payment_date": "2026-11-18", "purpose": "产业扶持资金"}}
    return item | overrides


BATCH = [warning("W-1"), warning("W-2"), warning("W-3"), warning("W-4", region_code="999999"), warning("W-1")]


def cases(session):
    return session.exec(select(func.count(Case.id))).one()


def test_the_platform_sends_three_good_one_bad_and_one_repeated_warning(world, client, login, session):
    response = client.post(URL, json=BATCH, headers=login("platform"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["duplicates"], body["whitelisted"]) == (3, 1, 0)
    assert [(e["index"], e["field"], e["code"]) for e in body["errors"]] == [(3, "region_code", "unknown_region")]
    assert cases(session) == 3


def test_resending_the_same_batch_creates_nothing(world, client, login, session):
    headers = login("platform")
    client.post(URL, json=BATCH, headers=headers)
    again = client.post(URL, json=BATCH, headers=headers).json()
    assert (again["created"], again["duplicates"]) == (0, 4)
    assert cases(session) == 3


def test_sun_hao_may_import_but_li_na_may_not(world, client, login):
    assert client.post(URL, json=[warning("A-1")], headers=login("sun_hao")).json()["created"] == 1
    refused = client.post(URL, json=[warning("A-2")], headers=login("li_na"))
    assert refused.status_code == 403


def test_more_than_ten_thousand_warnings_are_refused_whole(world, client, login, session):
    response = client.post(URL, json=[warning("T")] * (MAX_ITEMS + 1), headers=login("platform"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "too_many"
    assert cases(session) == 0


def test_a_body_that_is_not_a_list_is_refused(world, client, login):
    response = client.post(URL, json={"rule_code": "ZC-001"}, headers=login("platform"))
    assert response.status_code == 422


def test_the_platform_reports_a_bell_duty_done_and_a_person_may_not(world, client, login, session):
    from tests.factories import new_case

    case = session.get(Case, new_case(session, world, "bell"))  # duty due Monday 30 Nov
    session.commit()
    body = {"source": case.source, "external_id": case.external_id,
            "done_at": "2026-11-24T10:00:00+08:00"}
    assert client.post("/api/v1/duties/complete", headers=login("li_na"), json=body).status_code == 403
    naive = client.post("/api/v1/duties/complete", headers=login("platform"),
                        json={**body, "done_at": "2026-11-24T10:00:00"})
    assert naive.status_code == 422
    done = client.post("/api/v1/duties/complete", headers=login("platform"), json=body)
    assert done.status_code == 200, done.text
    assert done.json()["on_time"] is True and done.json()["state"] == "cleared"
    again = client.post("/api/v1/duties/complete", headers=login("platform"), json=body)
    assert again.status_code == 409 and "不是待履职的黄色警铃" in again.json()["message"]
