"""Sun Hao keeps the whitelist, but an entry is approved by a section head or above, never
expires in the past and holds what its kind says (issue 14 §4)."""

from sqlmodel import select

from models import WhitelistEntry
from tests.api.test_pages_auth import page_login

WHITELIST = "/api/v1/admin/whitelist"


def entry(world, **overrides):
    body = {"kind": "account", "value": "6217 0000 1001 2345 678", "reason": "村级报账员代领账户，已备案",
            "approved_by_id": world.users["zhang_wei"]}
    return body | overrides


def errors(response):
    assert response.status_code == 422, response.text
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


def test_an_expiry_in_the_past_is_refused(world, client, login):
    admin = login("sun_hao")
    assert ("valid_until", "in_the_past") in errors(
        client.post(WHITELIST, json=entry(world, valid_until="2020-01-31"), headers=admin))
    assert client.post(WHITELIST, json=entry(world, valid_until="2099-12-31"), headers=admin).status_code == 201


def test_entries_are_checked_by_their_kind(world, client, login, session):
    admin = login("sun_hao")
    assert ("value", "invalid_account") in errors(
        client.post(WHITELIST, json=entry(world, value="安县城关镇敬老院"), headers=admin))
    assert ("value", "invalid_account") in errors(
        client.post(WHITELIST, json=entry(world, value="62170"), headers=admin))
    assert ("value", "invalid_payee") in errors(
        client.post(WHITELIST, json=entry(world, kind="payee", value="6217000010012345678"), headers=admin))
    made = client.post(WHITELIST, json=entry(world, value="6217-0000-1001-2345-678"), headers=admin)
    assert made.status_code == 201 and made.json()["value"] == "6217000010012345678"
    assert session.exec(select(WhitelistEntry)).one().value == "6217000010012345678"


def test_only_section_heads_and_above_may_approve(world, client, login):
    admin = login("sun_hao")
    for approver in ("li_na", "sun_hao", "liu_yang"):
        found = errors(client.post(WHITELIST, json=entry(world, approved_by_id=world.users[approver]), headers=admin))
        assert ("approved_by_id", "not_an_approver") in found, approver
    missing = client.post(WHITELIST, json={k: v for k, v in entry(world).items() if k != "approved_by_id"},
                          headers=admin)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "approved_by_id"
    for approver in ("zhang_wei", "gao_jun", "ma_lin"):
        assert client.post(WHITELIST, json=entry(world, approved_by_id=world.users[approver],
                                                 value=f"62170000100123{world.users[approver]:05d}"),
                           headers=admin).status_code == 201


def test_the_whitelist_form_offers_only_section_heads_and_above(world, client):
    page_login(client, "sun_hao")
    page = client.get("/admin/whitelist").text
    select_box = page.split('name="approved_by_id"', 1)[1].split("</select>", 1)[0]
    for offered in ("张伟", "周敏", "高军", "马林", "徐青"):
        assert offered in select_box
    for not_offered in ("李娜", "孙浩", "刘洋", "钱丽", "监控平台接口"):
        assert not_offered not in select_box
