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


# -- what a new user tried (issue 16): each refused per item or per request, never a 500 ----

def test_a_control_character_is_stripped_at_import_and_counted(world, client, login, session):
    item = warning("ESC-1", facts={"payee_name": "安县\x1b[1m合作社\x00", "purpose": "用途\x07"})
    body = client.post(URL, json=[item], headers=login("platform")).json()
    assert (body["created"], body["stripped"]) == (1, 2)
    case = session.exec(select(Case).where(Case.external_id == "ESC-1")).one()
    assert (case.payee_name, case.purpose) == ("安县[1m合作社", "用途")


def test_absurd_or_future_raised_at_is_refused_per_item_naming_the_field(world, client, login, session):
    items = [warning("D-1", raised_at="0001-01-01T00:00:00+08:00"),
             warning("D-2", raised_at="9999-12-31T23:59:59+08:00"),
             warning("D-3", raised_at="2999-01-01T08:00:00"),
             warning("D-4")]
    response = client.post(URL, json=items, headers=login("platform"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] == 1
    assert [(e["index"], e["field"], e["code"]) for e in body["errors"]] == [
        (0, "raised_at", "out_of_range"), (1, "raised_at", "out_of_range"), (2, "raised_at", "out_of_range")]
    assert body["errors"][0]["message"].startswith("预警产生时间：须在 2000-01-01 至 ")


def test_an_external_id_with_surrounding_spaces_is_the_same_warning(world, client, login, session):
    headers = login("platform")
    client.post(URL, json=[warning("W-7")], headers=headers)
    again = client.post(URL, json=[warning("  W-7 ")], headers=headers).json()
    assert (again["created"], again["duplicates"]) == (0, 1)


def test_a_huge_payload_is_refused_for_its_warning_and_a_huge_body_with_413(world, client, login, settings):
    headers = login("platform")
    big = warning("P-1", payload={"blob": "x" * (65 * 1024)})
    body = client.post(URL, json=[big, warning("P-2")], headers=headers).json()
    assert body["created"] == 1
    assert [(e["index"], e["field"], e["code"]) for e in body["errors"]] == [(0, "payload", "too_large")]
    assert "64 KB" in body["errors"][0]["message"]

    settings.import_body_max_bytes = 100_000
    response = client.post(URL, content=b"[" + b" " * 200_000 + b"]", headers={
        **headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["message"] == "请求内容过大：上限 97.7 KB，请分批发送或拆分文件"


def test_a_body_without_a_length_is_counted_as_it_arrives(world, client, login, settings):
    settings.import_body_max_bytes = 10_000

    def chunks():
        for _ in range(50):
            yield b" " * 1000

    response = client.post(URL, content=chunks(), headers={
        **login("platform"), "Content-Type": "application/json"})
    assert response.status_code == 413, response.text


def test_a_control_character_stored_before_imports_stripped_them_does_not_break_the_export(
        world, client, login, session):
    from openpyxl import load_workbook

    from tests.factories import new_case

    case = session.get(Case, new_case(session, world))
    case.payee_name = "安县\x1b[31m合作社\x07"  # (PostgreSQL cannot store NUL at all)
    session.add(case)
    session.commit()
    response = client.get("/api/v1/cases/export.xlsx", headers=login("li_na"))
    assert response.status_code == 200, response.text
    import io
    values = [v for row in load_workbook(io.BytesIO(response.content)).active.values for v in row]
    assert "安县[31m合作社" in values


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
