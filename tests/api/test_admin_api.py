"""Sun Hao administers accounts, rules, the calendar, the whitelist and routing over the API."""

from sqlmodel import select

from models import AuditEvent, User
from models.enums import AuditKind
from tests.api.account_flow import APPS, through_application
from tests.factories import PASSWORD, id_number

USERS = "/api/v1/admin/users"


def new_handler(world, **overrides):
    body = {"kind": "open", "username": "zhou_qiang", "full_name": "周强", "id_number": id_number(7),
            "role": "handler", "org_unit_id": world.units["anxian_agri"].id, "position": "科员",
            "phone": "0371-5550007"}
    return body | overrides


def test_sun_hao_opens_a_handler_account_for_anxian_by_application_and_the_handler_logs_in(
        world, client, login):
    answer = through_application(client, login, world, new_handler(world))
    assert answer.status_code == 200, answer.text
    assert answer.json()["application"]["region_name"] == "安县"
    password = answer.json()["generated_password"]
    token = client.post("/api/v1/auth/token", data={"username": "zhou_qiang", "password": password})
    assert token.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["full_name"] == "周强" and me.json()["must_change_password"] is True


def test_the_direct_doors_are_closed_and_gone_from_the_openapi(world, client, login):
    """Opening, changing (role, unit, name, phone) and revoking go by application only."""
    admin, wang = login("sun_hao"), world.users["wang_fang"]
    assert client.post(USERS, json={"username": "zhou_qiang"}, headers=admin).status_code == 405
    assert client.post(f"{USERS}/{wang}/revoke", headers=admin).status_code == 404
    for field, value in (("role", "supervisor"), ("is_active", False), ("full_name", "王芳芳"),
                         ("org_unit_id", world.units["anxian_budget"].id), ("phone", "1")):
        refused = client.patch(f"{USERS}/{wang}", json={field: value}, headers=admin)
        assert refused.status_code == 422, field
        assert refused.json()["errors"][0] == {"field": field, "code": "extra_forbidden", "message": "不认识的字段"}
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert set(paths[USERS]) == {"get"}
    assert set(paths[USERS + "/{user_id}"]) == {"get", "patch"}
    assert USERS + "/{user_id}/revoke" not in paths
    body = paths[USERS + "/{user_id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    ref = body["$ref"].rsplit("/", 1)[1]
    assert set(schema.json()["components"]["schemas"][ref]["properties"]) == {"email"}
    assert {"post"} <= set(paths["/api/v1/account-applications"])


def test_a_taken_username_conflicts_when_approved_and_nothing_is_opened(world, client, login, session):
    taken = through_application(client, login, world, new_handler(world, username="li_na"))
    assert taken.status_code == 409
    [error] = taken.json()["errors"]
    assert error["field"] == "username" and "已被使用" in error["message"]
    assert session.exec(select(User).where(User.full_name == "周强")).first() is None
    unknown = client.post(APPS, json=new_handler(world, colour="red"), headers=login("li_na"))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {"field": "colour", "code": "extra_forbidden", "message": "不认识的字段"}


def test_a_revoked_account_can_no_longer_log_in(world, client, login):
    li_na = world.users["li_na"]
    her_token = login("li_na")
    response = through_application(client, login, world, {"kind": "revoke", "user_id": li_na},
                                   submitter="wang_fang")
    assert response.status_code == 200, response.text
    refused = client.post("/api/v1/auth/token", data={"username": "li_na", "password": PASSWORD})
    assert refused.status_code == 401
    assert client.get("/api/v1/me", headers=her_token).status_code == 401


def test_sun_hao_resets_a_password_and_unlocks_an_account(world, client, login):
    admin, li_na = login("sun_hao"), world.users["li_na"]
    generated = client.post(f"{USERS}/{li_na}/password", json={}, headers=admin).json()["generated_password"]
    assert client.post("/api/v1/auth/token", data={"username": "li_na", "password": generated}).status_code == 200
    chosen = client.post(f"{USERS}/{li_na}/password", json={"password": "NewPass-2027"}, headers=admin)
    assert chosen.json() == {"generated_password": None}
    for _ in range(5):
        client.post("/api/v1/auth/token", data={"username": "li_na", "password": "wrong-1"})
    assert client.post("/api/v1/auth/token", data={"username": "li_na", "password": "NewPass-2027"}).status_code == 423
    assert client.post(f"{USERS}/{li_na}/unlock", headers=admin).status_code == 200
    assert client.post("/api/v1/auth/token", data={"username": "li_na", "password": "NewPass-2027"}).status_code == 200


def test_users_are_listed_changed_and_unknown_ids_are_404(world, client, login):
    admin = login("sun_hao")
    listed = client.get(USERS, params={"region": "410121", "role": "handler"}, headers=admin).json()
    assert {u["username"] for u in listed} == {"li_na", "wang_fang", "chen_jie"}
    changed = client.patch(f"{USERS}/{world.users['wang_fang']}", json={"email": "wangfang@anxian.cn"},
                           headers=admin)
    assert changed.json()["email"] == "wangfang@anxian.cn"
    assert client.get(f"{USERS}/999999", headers=admin).status_code == 404
    assert client.patch(f"{USERS}/999999", json={}, headers=admin).status_code == 404


def test_li_na_the_handler_may_not_call_admin_routes(world, client, login):
    handler = login("li_na")
    assert client.get(USERS, headers=handler).status_code == 403
    assert client.patch(f"{USERS}/{world.users['wang_fang']}", json={"email": "x@y.cn"},
                        headers=handler).status_code == 403
    assert client.get("/api/v1/admin/rules", headers=handler).status_code == 403
    assert client.put("/api/v1/admin/routing/fund_risk", json={"org_kind": "treasury"},
                      headers=handler).status_code == 403


RULE = {"code": "ZC-101", "name": "单笔提现金额超过5万元", "category": "expenditure", "level": "yellow_light",
        "warning_type": "cash_expenditure", "basis": "长财库〔2019〕1918号", "verify_days": 5,
        "active_from": "2027-01-01"}


def test_sun_hao_creates_and_changes_a_rule_with_audit_rows(world, client, login, session):
    admin = login("sun_hao")
    created = client.post("/api/v1/admin/rules", json=RULE, headers=admin)
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    changed = client.patch(f"/api/v1/admin/rules/{rule_id}", json={"rectify_days": 20}, headers=admin)
    assert changed.json()["rectify_days"] == 20
    audits = session.exec(select(AuditEvent).where(AuditEvent.kind == AuditKind.RULE_CHANGED)).all()
    assert [a.data["action"] for a in audits] == ["create", "change"]
    assert client.post("/api/v1/admin/rules", json=RULE, headers=admin).status_code == 409
    bad = client.patch(f"/api/v1/admin/rules/{rule_id}", json={"bell_becomes": "red_light", "verify_days": 99},
                       headers=admin)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"bell_becomes", "verify_days"}
    assert client.get("/api/v1/admin/rules/999999", headers=admin).status_code == 404
    codes = [r["code"] for r in client.get("/api/v1/admin/rules", params={"category": "expenditure"},
                                           headers=admin).json()]
    assert codes == ["ZC-001", "ZC-002", "ZC-101"]


def test_sun_hao_sets_and_unsets_a_calendar_day(world, client, login):
    admin = login("sun_hao")
    put = client.put("/api/v1/admin/calendar/2026-11-24", json={"kind": "holiday", "name": "防汛"}, headers=admin)
    assert put.status_code == 200 and put.json()["kind"] == "holiday"
    listed = client.get("/api/v1/admin/calendar", params={"year": 2026}, headers=admin).json()
    assert [d["day"] for d in listed] == ["2026-11-24"]
    assert client.delete("/api/v1/admin/calendar/2026-11-24", headers=admin).status_code == 204
    assert client.delete("/api/v1/admin/calendar/2026-11-24", headers=admin).status_code == 404
    bad = client.put("/api/v1/admin/calendar/2026-11-24", json={"kind": "party"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"


def test_sun_hao_whitelists_an_account_and_withdraws_it(world, client, login):
    admin = login("sun_hao")
    body = {"kind": "account", "value": "6217000010012345678", "reason": "村级报账员代领账户，已备案",
            "rule_code": "ZC-001", "approved_by_id": world.users["zhang_wei"]}
    created = client.post("/api/v1/admin/whitelist", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["approved_by_name"] == "张伟"
    entry = created.json()["id"]
    withdrawn = client.patch(f"/api/v1/admin/whitelist/{entry}", json={"is_active": False}, headers=admin)
    assert withdrawn.json()["is_active"] is False
    assert client.get("/api/v1/admin/whitelist", params={"active": True}, headers=admin).json() == []
    assert client.get("/api/v1/admin/whitelist/999999", headers=admin).status_code == 404


def test_a_routing_change_affects_the_next_import(world, client, login, session):
    from models import Case

    admin = login("sun_hao")
    put = client.put("/api/v1/admin/routing/fund_risk", json={"org_kind": "treasury"}, headers=admin)
    assert put.status_code == 200 and put.json()["is_default"] is False
    routes = {r["warning_type"]: r["org_kind"] for r in client.get("/api/v1/admin/routing", headers=admin).json()}
    assert routes["fund_risk"] == "treasury"
    item = {"rule_code": "ZC-001", "region_code": "410121", "source": "p", "external_id": "R-1",
            "raised_at": "2026-11-23T08:30:00+08:00"}
    assert client.post("/api/v1/warnings/import", json=[item], headers=login("platform")).json()["created"] == 1
    case = session.exec(select(Case).where(Case.external_id == "R-1")).one()
    assert case.org_unit_id == world.units["anxian_treasury"].id
