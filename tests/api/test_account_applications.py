"""Accounts by application (issue 14 §4): Li Na hands in an application for her new colleague
Zhou Qiang, her section head Zhang Wei reviews it, Sun Hao approves and so opens the account;
the application and its approvals are kept and print."""

import subprocess

import pytest
from sqlmodel import select

from models import Case, User
from models.persons import AccountApplication
from tests.factories import id_number, new_case

APPS = "/api/v1/account-applications"


def opening(world, **overrides):
    body = {"kind": "open", "org_unit_id": world.units["anxian_agri"].id, "full_name": "周强",
            "id_number": id_number(21), "position": "科员", "phone": "0371-5550021", "role": "handler",
            "username": "zhou_qiang", "reason": "新调入农财股，负责预警核实"}
    return body | overrides


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "application.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_an_account_is_opened_by_application_reviewed_upward_and_printable(world, client, login, session, tmp_path):
    submitted = client.post(APPS, json=opening(world), headers=login("li_na"))
    assert submitted.status_code == 201, submitted.text
    app = submitted.json()
    assert app["status"] == "submitted" and app["id_number_masked"].startswith("4101****")
    # Not Li Na's to review, and the administrator waits for the head.
    assert client.post(f"{APPS}/{app['id']}/head-decision", json={"version": 1, "approve": True},
                       headers=login("li_na")).status_code == 403
    early = client.post(f"{APPS}/{app['id']}/admin-decision", json={"version": 1, "approve": True},
                        headers=login("sun_hao"))
    assert early.status_code == 409
    head = client.post(f"{APPS}/{app['id']}/head-decision", headers=login("zhang_wei"),
                       json={"version": 1, "approve": True, "opinion": "同意开通"})
    assert head.status_code == 200 and head.json()["status"] == "head_approved"
    stale = client.post(f"{APPS}/{app['id']}/admin-decision", json={"version": 1, "approve": True},
                        headers=login("sun_hao"))
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    wrong = client.post(f"{APPS}/{app['id']}/admin-decision", headers=login("sun_hao"),
                        json={"version": 2, "approve": True, "id_number": id_number(22)})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "mismatch"
    done = client.post(f"{APPS}/{app['id']}/admin-decision", headers=login("sun_hao"),
                       json={"version": 2, "approve": True, "id_number": id_number(21)})
    assert done.status_code == 200, done.text
    assert done.json()["application"]["status"] == "approved"
    password = done.json()["generated_password"]
    user = session.exec(select(User).where(User.username == "zhou_qiang")).one()
    assert (user.role, user.must_change_password, user.position) == ("handler", True, "科员")
    token = client.post("/api/v1/auth/token", data={"username": "zhou_qiang", "password": password})
    assert token.status_code == 200
    # Kept and printable, with both approvals.
    listed = client.get(APPS, headers=login("zhang_wei")).json()
    assert [a["id"] for a in listed] == [app["id"]]
    pdf = client.get(f"{APPS}/{app['id']}/pdf", headers=login("sun_hao"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content, tmp_path)
    for words in ("用户开通申请表", "安县财政局农财股", "周强", "张伟", "孙浩", "同意开通", "已办理"):
        assert words in text, words
    assert id_number(21) not in text


def test_the_head_refuses_with_an_opinion_and_nothing_is_opened(world, client, login, session):
    app = client.post(APPS, json=opening(world), headers=login("li_na")).json()
    silent = client.post(f"{APPS}/{app['id']}/head-decision", json={"version": 1, "approve": False},
                         headers=login("zhang_wei"))
    assert silent.status_code == 422 and silent.json()["errors"][0]["field"] == "opinion"
    refused = client.post(f"{APPS}/{app['id']}/head-decision", headers=login("zhang_wei"),
                          json={"version": 1, "approve": False, "opinion": "人员尚未到岗"})
    assert refused.json()["status"] == "refused"
    assert client.post(f"{APPS}/{app['id']}/admin-decision", json={"version": 2, "approve": True},
                       headers=login("sun_hao")).status_code == 409
    assert session.exec(select(User).where(User.username == "zhou_qiang")).first() is None


def test_an_application_for_sunhao3_as_a_handler_is_refused_when_handed_in(world, client, login, session):
    session.get(User, world.users["sun_hao"]).phone = "0371-65550000"
    session.commit()
    refused = client.post(APPS, headers=login("li_na"), json=opening(
        world, full_name="孙浩", phone="0371-65550000", username="sunhao3"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "separation_of_duties"
    assert session.exec(select(AccountApplication)).first() is None


def test_other_departments_neither_hand_in_nor_see_anxian_s_applications(world, client, login):
    assert client.post(APPS, json=opening(world), headers=login("zhao_lei")).status_code == 403
    app = client.post(APPS, json=opening(world), headers=login("li_na")).json()
    assert client.get(APPS, headers=login("zhao_lei")).json() == []
    assert client.get(f"{APPS}/{app['id']}", headers=login("zhao_lei")).status_code == 404
    assert client.post(APPS, json=opening(world), headers=login("platform")).status_code == 403


@pytest.mark.parametrize("to_queue", [False, True])
def test_revoking_by_application_hands_her_cases_over(world, client, login, session, to_queue):
    case_id = new_case(session, world, assignee="wang_fang")
    session.commit()
    body = {"kind": "revoke", "user_id": world.users["wang_fang"], "reason": "调离农财股"}
    if not to_queue:
        body["handover_to_id"] = world.users["li_na"]
    app = client.post(APPS, json=body, headers=login("li_na"))
    assert app.status_code == 201, app.text
    app = app.json()
    client.post(f"{APPS}/{app['id']}/head-decision", json={"version": 1, "approve": True}, headers=login("zhang_wei"))
    decision = {"version": 2, "approve": True} | ({"handover_to_queue": True} if to_queue else {})
    done = client.post(f"{APPS}/{app['id']}/admin-decision", json=decision, headers=login("sun_hao"))
    assert done.status_code == 200, done.text
    session.expire_all()
    assert session.get(User, world.users["wang_fang"]).is_active is False
    assert session.get(Case, case_id).assignee_id == (None if to_queue else world.users["li_na"])


def test_a_role_change_by_application_goes_through_the_same_checks(world, client, login, session):
    body = {"kind": "change", "user_id": world.users["wang_fang"], "role": "supervisor", "reason": "任副股长"}
    app = client.post(APPS, json=body, headers=login("li_na")).json()
    client.post(f"{APPS}/{app['id']}/head-decision", json={"version": 1, "approve": True}, headers=login("zhang_wei"))
    done = client.post(f"{APPS}/{app['id']}/admin-decision", json={"version": 2, "approve": True},
                       headers=login("sun_hao"))
    assert done.status_code == 200, done.text
    session.expire_all()
    assert session.get(User, world.users["wang_fang"]).role == "supervisor"


def test_the_whole_application_goes_through_the_pages(world, client, session):
    from tests.api.test_pages_auth import csrf_of, page_login

    page_login(client, "li_na")
    page = client.get("/account-applications")
    assert page.status_code == 200 and "提交申请" in page.text
    form = {"csrf_token": csrf_of(page.text), "kind": "open", "full_name": "周强", "id_number": id_number(21),
            "position": "科员", "phone": "0371-5550021", "role": "handler", "username": "zhou_qiang",
            "reason": "新调入"}
    bad = client.post("/account-applications", data={**form, "id_number": "123"})
    assert bad.status_code == 422 and "身份证号应为 18 位" in bad.text
    sent = client.post("/account-applications", data=form, follow_redirects=False)
    assert sent.status_code == 303
    detail = sent.headers["location"].split("?")[0]
    client.cookies.clear()
    page_login(client, "zhang_wei")
    page = client.get(detail)
    assert "处室负责人审核" in page.text
    client.post(detail + "/head-decision", data={"csrf_token": csrf_of(page.text), "version": "1",
                                                 "approve": "1", "opinion": "同意"})
    client.cookies.clear()
    page_login(client, "sun_hao")
    page = client.get(detail)
    assert "管理员审批" in page.text
    done = client.post(detail + "/admin-decision", data={"csrf_token": csrf_of(page.text), "version": "2",
                                                         "approve": "1", "id_number": id_number(21)})
    assert done.status_code == 200 and "一次性密码" in done.text
    assert session.exec(select(User).where(User.username == "zhou_qiang")).one().must_change_password


def test_zhang_wei_the_head_hands_one_in_and_it_goes_straight_to_the_administrator(world, client, login, session):
    sent = client.post(APPS, json=opening(world), headers=login("zhang_wei"))
    assert sent.status_code == 201, sent.text
    app = sent.json()
    assert (app["status"], app["head_name"], app["head_opinion"]) == ("head_approved", "张伟", "本处室负责人提交")
    assert client.post(f"{APPS}/{app['id']}/head-decision", json={"version": app["version"], "approve": True},
                       headers=login("zhang_wei")).status_code == 409
    done = client.post(f"{APPS}/{app['id']}/admin-decision", headers=login("sun_hao"),
                       json={"version": app["version"], "approve": True, "id_number": id_number(21)})
    assert done.status_code == 200, done.text
    assert session.exec(select(User).where(User.username == "zhou_qiang")).one().role == "handler"


def test_an_application_about_the_head_himself_waits_for_someone_else(world, client, login):
    app = client.post(APPS, headers=login("zhang_wei"), json={
        "kind": "change", "user_id": world.users["zhang_wei"], "phone": "0371-1"}).json()
    assert app["status"] == "submitted"
    assert client.post(f"{APPS}/{app['id']}/head-decision", json={"version": 1, "approve": True},
                       headers=login("zhang_wei")).status_code == 403
