"""People are people (issue 14 §4): a person recorded once by ID number, administrators are not
operators, one-time passwords, and an account's open cases handed over when it changes.

Personas: Sun Hao (孙浩) administers the province; Li Na and Wang Fang are Anxian's
agricultural-finance handlers; Chen Jie is a handler of Anxian's budget section.
"""

import re

import pytest
import sqlalchemy as sa
from sqlmodel import select

from models import AuditEvent, Case, CaseEvent, User
from models.enums import AuditKind, Event
from models.persons import Person
from tests.api.account_flow import APPS, opened_user_id, through_application
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import PASSWORD, id_number, new_case

USERS = "/api/v1/admin/users"


def account(world, **overrides):
    body = {"kind": "open", "username": "zhou_qiang", "full_name": "周强", "id_number": id_number(11),
            "role": "handler", "org_unit_id": world.units["anxian_agri"].id, "position": "科员",
            "phone": "0371-5550001"}
    return body | overrides


def office(world, **overrides):
    """An account of the province office (where the administrators are)."""
    return account(world, org_unit_id=world.units["province_office"].id, **overrides)


def revoke(client, login, world, user_id, unit="anxian_agri", **decision):
    return through_application(client, login, world, {"kind": "revoke", "user_id": user_id},
                               unit=unit, **decision)


def bearer(client, username, password=PASSWORD):
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# -- separation of duties -----------------------------------------------------------------


def test_sun_hao_cannot_have_sunhao3_opened_as_a_handler_with_his_own_name_and_phone(world, client, login, session):
    session.get(User, world.users["sun_hao"]).phone = "0371-65550000"
    session.commit()
    response = through_application(client, login, world, account(
        world, username="sunhao3", full_name="孙浩", phone="0371-65550000", id_number=id_number(3)))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("role", "separation_of_duties")
    assert "不得混岗" in error["message"] and "sun_hao" in error["message"]
    assert session.exec(select(User).where(User.username == "sunhao3")).first() is None
    assert session.exec(select(Person)).first() is None


def test_the_same_id_number_cannot_hold_an_administrator_and_an_operator_account(world, client, login, session):
    opened = through_application(client, login, world, office(world, username="zhou_admin", role="admin"))
    admin_id = opened_user_id(opened)
    # Another phone, another unit: the ID number alone says it is the same person.
    refused = through_application(client, login, world, account(world, phone="13800000000"))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "separation_of_duties"
    assert "zhou_admin" in refused.json()["errors"][0]["message"]
    # A supervisor account is an operator account too.
    supervisor = through_application(client, login, world, account(world, username="zhou_sup", role="supervisor"))
    assert supervisor.status_code == 422
    # Once the admin account is revoked, the person may hold an operator account.
    assert revoke(client, login, world, admin_id, unit="province_office").status_code == 200
    assert through_application(client, login, world, account(world)).status_code == 200
    assert session.exec(select(sa.func.count()).select_from(Person)).one() == 1


def test_promoting_into_both_kinds_is_refused_and_nobody_reactivates_directly(world, client, login):
    handler = opened_user_id(through_application(client, login, world, account(world)))
    auditor = opened_user_id(through_application(client, login, world, office(
        world, username="zhou_audit", role="auditor")))
    promotion = {"kind": "change", "user_id": auditor, "role": "admin", "reason": "任系统管理员"}
    promoted = through_application(client, login, world, promotion, unit="province_office")
    assert promoted.status_code == 422 and promoted.json()["errors"][0]["code"] == "separation_of_duties"
    # With the handler account revoked the promotion goes through.
    assert revoke(client, login, world, handler).status_code == 200
    assert through_application(client, login, world, promotion, unit="province_office").status_code == 200
    # Reactivating the handler account is no administrator's door either.
    back = client.patch(f"{USERS}/{handler}", headers=login("sun_hao"), json={"is_active": True})
    assert back.status_code == 422 and back.json()["errors"][0]["code"] == "extra_forbidden"


def test_the_id_number_is_kept_as_a_keyed_hash_and_shown_masked(world, client, login, session):
    admin = login("sun_hao")
    number = id_number(11)
    user_id = opened_user_id(through_application(client, login, world, account(world)))
    row = client.get(f"{USERS}/{user_id}", headers=admin).json()
    assert row["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    person = session.exec(select(Person)).one()
    assert number not in (person.id_number_hash, person.id_number_masked)
    assert re.fullmatch(r"[0-9a-f]{64}", person.id_number_hash)
    assert session.get(User, user_id).person_id == person.id
    listed = client.get(USERS, headers=admin, params={"q": "zhou"}).json()
    assert listed[0]["id_number_masked"] == row["id_number_masked"]
    # Checked by its check character; another name under a recorded number is refused.
    bad = through_application(client, login, world, account(world, username="bad_one", id_number=number[:-1] + "0"))
    assert bad.status_code == 422 and bad.json()["errors"][0] == {
        "field": "id_number", "code": "checksum", "message": "身份证号校验位不符，请核对"}
    other = through_application(client, login, world, office(world, username="other_one", full_name="周强强",
                                                              role="auditor"))
    assert other.status_code == 422 and other.json()["errors"][0]["code"] == "other_person"
    missing = through_application(client, login, world,
                                  {k: v for k, v in account(world).items() if k != "id_number"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "id_number"


def test_the_application_form_refuses_sunhao3_next_to_the_role_field(world, client, session):
    session.get(User, world.users["sun_hao"]).phone = "0371-65550000"
    session.commit()
    page_login(client, "li_na")
    token = csrf_of(client.get("/account-applications").text)
    response = client.post("/account-applications", data={
        "csrf_token": token, "kind": "open", "username": "sunhao3", "full_name": "孙浩",
        "id_number": id_number(3), "role": "handler", "phone": "0371-65550000", "position": "科员"})
    assert response.status_code == 422
    assert "不得混岗" in response.text
    assert id_number(3) not in response.text
    assert session.exec(select(User).where(User.username == "sunhao3")).first() is None


# -- one-time passwords -------------------------------------------------------------------


def test_a_reset_gives_a_one_time_password_that_only_opens_the_password_change(world, client, login, session):
    li_na = world.users["li_na"]
    generated = client.post(f"{USERS}/{li_na}/password", json={}, headers=login("sun_hao")).json()["generated_password"]
    hers = bearer(client, "li_na", generated)
    refused = client.get("/api/v1/cases", headers=hers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    assert client.get("/api/v1/me", headers=hers).json()["must_change_password"] is True
    wrong = client.post("/api/v1/auth/password", headers=hers,
                        json={"current_password": "nope-1234", "new_password": "Mine-2027x"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    same = client.post("/api/v1/auth/password", headers=hers,
                       json={"current_password": generated, "new_password": generated})
    assert same.status_code == 422 and same.json()["errors"][0]["code"] == "unchanged"
    changed = client.post("/api/v1/auth/password", headers=hers,
                          json={"current_password": generated, "new_password": "Mine-2027x"})
    assert changed.status_code == 204
    # The change ended the one-time session; her own password opens a full one.
    assert client.get("/api/v1/cases", headers=hers).status_code == 401
    assert client.get("/api/v1/cases", headers=bearer(client, "li_na", "Mine-2027x")).status_code == 200
    # What Sun Hao was shown no longer works: he never knew a usable password.
    assert client.post("/api/v1/auth/token", data={"username": "li_na", "password": generated}).status_code == 401
    [event] = session.exec(select(AuditEvent).where(AuditEvent.kind == AuditKind.PASSWORD_CHANGED)).all()
    assert event.user_id == li_na and event.data["one_time"] is True


def test_a_password_chosen_by_the_admin_is_one_time_too_and_the_page_forces_the_change(world, client, login):
    li_na = world.users["li_na"]
    client.post(f"{USERS}/{li_na}/password", json={"password": "Given-2026a"}, headers=login("sun_hao"))
    landed = page_login(client, "li_na", "Given-2026a", next="/work")
    assert landed.status_code == 303 and landed.headers["location"] == "/account/password"
    work = client.get("/work", follow_redirects=False)
    assert work.status_code == 303 and work.headers["location"] == "/account/password"
    page = client.get("/account/password")
    assert "一次性密码" in page.text
    weak = client.post("/account/password", data={"csrf_token": csrf_of(page.text),
                                                   "current_password": "Given-2026a", "new_password": "short"})
    assert weak.status_code == 422 and "密码至少 8 位" in weak.text
    done = client.post("/account/password", follow_redirects=False, data={
        "csrf_token": csrf_of(page.text), "current_password": "Given-2026a", "new_password": "Hers-2027b"})
    assert done.status_code == 303
    assert client.get("/work", follow_redirects=False).status_code == 200


def test_users_change_their_own_password_and_known_accounts_are_not_forced(world, client):
    hers = bearer(client, "li_na")
    assert client.get("/api/v1/cases", headers=hers).status_code == 200
    assert client.post("/api/v1/auth/password", headers=hers,
                       json={"current_password": PASSWORD, "new_password": "Li-Na-2027"}).status_code == 204
    assert client.post("/api/v1/auth/token", data={"username": "li_na", "password": "Li-Na-2027"}).status_code == 200


def test_a_new_account_s_first_password_is_one_time(world, client, login):
    answer = through_application(client, login, world, account(world))
    his = bearer(client, "zhou_qiang", answer.json()["generated_password"])
    assert client.get("/api/v1/cases", headers=his).json()["code"] == "password_change_required"


# -- open cases go somewhere --------------------------------------------------------------


@pytest.fixture
def li_nas_cases(world, session):
    ids = [new_case(session, world), new_case(session, world)]
    session.commit()
    return ids


def test_revoking_li_na_asks_where_her_cases_go_and_moves_them_in_the_same_transaction(
        world, client, login, session, li_nas_cases):
    li_na = world.users["li_na"]
    asked = revoke(client, login, world, li_na, submitter="wang_fang")
    assert asked.status_code == 422
    [error] = asked.json()["errors"]
    assert error["field"] == "handover" and "2 件未办结" in error["message"]
    session.expire_all()
    assert session.get(User, li_na).is_active is True
    foreign = through_application(client, login, world, {
        "kind": "revoke", "user_id": li_na, "handover_to_id": world.users["chen_jie"]}, submitter="wang_fang")
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "handover_to_id"
    done = through_application(client, login, world, {
        "kind": "revoke", "user_id": li_na, "handover_to_id": world.users["wang_fang"]}, submitter="wang_fang")
    assert done.status_code == 200, done.text
    session.expire_all()
    assert session.get(User, li_na).is_active is False
    for case_id in li_nas_cases:
        case = session.get(Case, case_id)
        assert case.assignee_id == world.users["wang_fang"] and case.version == 2
        event = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.seq == 2)).one()
        assert event.event == Event.REASSIGN and event.actor_id == world.users["sun_hao"]
        assert "王芳" in event.comment
    [audit] = session.exec(select(AuditEvent).where(AuditEvent.kind == AuditKind.USER_REVOKED)).all()
    assert len(audit.data["cases_moved"]) == 2


def test_changing_li_na_s_role_can_send_her_cases_back_to_the_department_queue(
        world, client, login, session, li_nas_cases):
    li_na = world.users["li_na"]
    change = {"kind": "change", "user_id": li_na, "role": "supervisor"}
    asked = through_application(client, login, world, change, submitter="wang_fang")
    assert asked.status_code == 422 and asked.json()["errors"][0]["field"] == "handover"
    # A contact change needs no handover.
    phone = {"kind": "change", "user_id": li_na, "phone": "0371-1"}
    assert through_application(client, login, world, phone, submitter="wang_fang").status_code == 200
    moved = through_application(client, login, world, change, submitter="wang_fang", handover_to_queue=True)
    assert moved.status_code == 200, moved.text
    session.expire_all()
    assert session.get(User, li_na).role == "supervisor"
    assert {session.get(Case, i).assignee_id for i in li_nas_cases} == {None}


def test_the_application_page_asks_where_the_cases_go(world, client, login, session, li_nas_cases):
    li_na = world.users["li_na"]
    app = client.post(APPS, json={"kind": "revoke", "user_id": li_na}, headers=login("wang_fang")).json()
    client.post(f"{APPS}/{app['id']}/head-decision", json={"version": 1, "approve": True},
                headers=login("zhang_wei"))
    page_login(client, "sun_hao")
    account_page = client.get(f"/admin/users/{li_na}")
    assert "2 件" in account_page.text and "在申请中指定移交去向" in account_page.text
    detail = f"/account-applications/{app['id']}"
    page = client.get(detail)
    assert "名下未办结预警的去向" in page.text and "移交给 王芳" in page.text
    decision = {"csrf_token": csrf_of(page.text), "version": "2", "approve": "1"}
    refused = client.post(detail + "/admin-decision", data=decision)
    assert refused.status_code == 422 and "请指定移交" in refused.text
    done = client.post(detail + "/admin-decision", follow_redirects=False, data={**decision, "handover": "queue"})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(User, li_na).is_active is False
    assert {session.get(Case, i).assignee_id for i in li_nas_cases} == {None}
