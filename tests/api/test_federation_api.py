"""/api/v1/federation: 安县's deployment posts its signed report (no login: the token is the
credential); refusals answer 401/403/409 with a code and a Chinese message. Sun Hao, the
administrator, shows our key, registers peers and sees dead pushes; nobody else may."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import AuditEvent
from models.enums import AuditKind
from models.federation import (
    FederationPeer,
    FederationPush,
    PeerRelation,
    PushStatus,
    ReceivedReport,
)
from models.reports import MonthlyReport, ReportStatus
from models.settings import Settings
from tests.factories import NOW
from tests.workflows.federation.test_exchange import Pair, claims
from workflows.core.actors import Actor
from workflows.federation.keys import PeerInput, generate_key, register_peer, verify

OPERATOR = Actor.operator("测试操作员")


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, demo=True, var_dir=tmp_path / "var",
                    deployment_id="zhongyuan-province")  # fmt: skip


@pytest.fixture
def county(session, world, monkeypatch):
    monkeypatch.setattr("api.routes.federation.now_utc", lambda: NOW)
    pair = Pair()
    register_peer(session, actor=OPERATOR, data=PeerInput(
        deployment_id="anxian-county", name="安县财政局", relation=PeerRelation.CHILD,
        public_pem=pair.public_pem, region_code="410121"), as_of=NOW)  # fmt: skip
    session.commit()
    return pair


def test_anxian_posts_its_report_and_gets_a_signed_receipt(session, world, client, county):
    key = generate_key(session, actor=OPERATOR, as_of=NOW)
    session.commit()
    response = client.post("/api/v1/federation/reports", json={"token": county.sign(claims())})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "已接收安县2026年11月月报（第1版）"
    receipt = verify(body["receipt"], public_pem=key.public_pem)
    assert (receipt["aud"], receipt["jti"]) == ("anxian-county", claims()["jti"])
    assert session.get(ReceivedReport, body["received_id"]).region_id == world.regions["anxian"].id
    # The same token again is a replay.
    again = client.post("/api/v1/federation/reports", json={"token": county.sign(claims())})
    assert again.status_code == 409 and again.json()["code"] == "replay"


@pytest.mark.parametrize(("token", "status", "code"), [
    (lambda c: Pair().sign(claims(iss="stranger")), 401, "unknown_sender"),
    (lambda c: Pair().sign(claims()), 401, "bad_signature"),
    (lambda c: c.sign(claims(aud="elsewhere")), 403, "wrong_audience"),
    (lambda c: c.sign(claims(exp=int((NOW - timedelta(hours=1)).timestamp()))), 401, "stale"),
])  # fmt: skip
def test_refusals_answer_with_a_code_and_a_chinese_message(
    session, world, client, county, token, status, code
):
    generate_key(session, actor=OPERATOR, as_of=NOW)
    session.commit()
    response = client.post("/api/v1/federation/reports", json={"token": token(county)})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["message"]
    assert session.execute(sa.select(sa.func.count()).select_from(ReceivedReport)).scalar() == 0


def test_without_a_token_the_body_is_refused_as_invalid(client, world):
    response = client.post("/api/v1/federation/reports", json={})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "token"


def test_sun_hao_manages_the_key_and_the_peers(session, world, client, login):
    admin = login("sun_hao")
    assert client.get("/api/v1/federation/key", headers=admin).json()["public_pem"] is None
    made = client.post("/api/v1/federation/key", headers=admin)
    assert made.status_code == 201 and made.json()["public_pem"].startswith("-----BEGIN PUBLIC KEY")
    assert made.json()["deployment_id"] == "zhongyuan-province"
    peer = client.post("/api/v1/federation/peers", headers=admin, json={
        "deployment_id": "ningxian-county", "name": "宁县财政局", "relation": "child",
        "public_pem": Pair().public_pem, "region_code": "410122"})  # fmt: skip
    assert peer.status_code == 201, peer.text
    bad = client.post("/api/v1/federation/peers", headers=admin, json={
        "deployment_id": "henan", "name": "省厅", "relation": "parent", "public_pem": "x"})  # fmt: skip
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"public_pem", "base_url"}
    assert [p["deployment_id"] for p in client.get("/api/v1/federation/peers", headers=admin).json()] == [
        "ningxian-county"]  # fmt: skip
    # Both changes are audited as Sun Hao's; the refused one left nothing.
    audited = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.FEDERATION_CHANGED)
                              .order_by(AuditEvent.id)).all()
    assert [(e.data["action"], e.actor_id) for e in audited] == [
        ("keygen", world.users["sun_hao"]), ("add_peer", world.users["sun_hao"])]


def test_dead_pushes_are_listed_for_the_admin_and_can_be_sent_again(session, world, client, login):
    peer = FederationPeer(deployment_id="zhongyuan-province", name="中原省财政厅",
                          relation=PeerRelation.PARENT, kid="k", public_pem="-",
                          base_url="https://yj.example.cn")  # fmt: skip
    report = MonthlyReport(region_id=world.regions["anxian"].id, month=NOW.date().replace(day=1),
                           status=ReportStatus.SENT)  # fmt: skip
    session.add_all([peer, report])
    session.flush()
    push = FederationPush(report_id=report.id, peer_id=peer.id, status=PushStatus.DEAD,
                          next_attempt_at=NOW, attempts=8, last_error="上级系统拒收（HTTP 401）")  # fmt: skip
    session.add(push)
    session.commit()
    admin = login("sun_hao")
    dead = client.get("/api/v1/federation/pushes?status=dead", headers=admin).json()
    assert [(d["id"], d["region_name"], d["last_error"]) for d in dead] == [
        (push.id, "安县", "上级系统拒收（HTTP 401）")]  # fmt: skip
    assert (
        client.post(f"/api/v1/federation/pushes/{push.id}/retry", headers=admin).status_code == 202
    )
    assert (
        client.post(f"/api/v1/federation/pushes/{push.id}/retry", headers=admin).status_code == 409
    )
    page = client.get("/admin/federation", headers=admin)
    assert page.status_code == 200 and "中原省财政厅" in page.text and "待推送" in page.text


def test_only_the_admin_sees_the_federation_settings(client, world, login):
    assert client.get("/api/v1/federation/peers", headers=login("xu_qing")).status_code == 403
    assert client.get("/api/v1/federation/key").status_code == 401


def test_without_our_own_key_the_sender_is_told_to_try_again(session, world, client, county):
    from tests.workflows.federation.test_exchange import claims as report_claims

    response = client.post(
        "/api/v1/federation/reports", json={"token": county.sign(report_claims())}
    )
    assert response.status_code == 503 and response.json()["code"] == "no_receipt_key"
    assert session.execute(sa.select(sa.func.count()).select_from(ReceivedReport)).scalar() == 0
