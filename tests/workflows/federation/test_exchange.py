"""Report exchange between deployments, inside one database: this test plays the province
(its own key in the database) and a county deployment 安县 whose key it holds only as a
registered peer. Xu Qing at the province is told when 安县's report arrives."""

import base64
import json
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jws

from models.federation import (
    FederationPeer,
    FederationPush,
    PeerRelation,
    PushStatus,
    ReceivedReport,
)
from models.notifications import Channel, Notification
from models.reports import MonthlyReport, ReportStatus
from models.settings import Settings
from notifications import federation as worker
from tests.factories import NOW
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput
from workflows.federation import exchange as federation
from workflows.federation.keys import (
    FederationRefused,
    PeerInput,
    generate_key,
    key_id,
    register_peer,
    sha256_of,
    sign,
    verify,
)

OPERATOR = Actor.operator("测试操作员")

PROVINCE = Settings(_env_file=None, deployment_id="zhongyuan-province")
COUNTY = Settings(_env_file=None, deployment_id="anxian-county")


class Pair:
    """A key pair that lives outside our database (the other deployment's)."""

    def __init__(self):
        private = ec.generate_private_key(ec.SECP256R1())
        self.private_pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()  # fmt: skip
        self.public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()  # fmt: skip
        self.kid = key_id(self.public_pem)

    def sign(self, claims: dict) -> str:
        return jws.sign(claims, self.private_pem, headers={"kid": self.kid}, algorithm="ES256")


FIGURES = {"schema": "warnflow.monthly/1", "headline": {"cases": 7, "amount_involved_wan": "1.23"}}


def claims(**over) -> dict:
    iat = int(NOW.timestamp())
    body = {"iss": "anxian-county", "aud": "zhongyuan-province", "iat": iat, "exp": iat + 300,
            "jti": "0123456789abcdef0123456789abcdef",
            "report": {"schema": federation.SCHEMA,
                       "region": {"code": "410121", "name": "安县", "level": "county"},
                       "month": "2026-11", "version": 1, "reason": None, "figures": FIGURES,
                       "figures_sha256": sha256_of(FIGURES)}}  # fmt: skip
    body.update(over)
    return body


@pytest.fixture
def county():
    return Pair()


@pytest.fixture
def province(session, world, county):
    """Our own key, and 安县's deployment registered as a child."""
    key = generate_key(session, actor=OPERATOR, as_of=NOW)
    register_peer(session, actor=OPERATOR, data=PeerInput(
        deployment_id="anxian-county", name="安县财政局", relation=PeerRelation.CHILD,
        public_pem=county.public_pem, region_code="410121"), as_of=NOW)  # fmt: skip
    return key


def receive(session, token, at=NOW):
    return federation.receive_report(session, token=token, as_of=at, settings=PROVINCE)


def test_xu_qing_receives_anxians_signed_report_with_a_receipt(session, world, county, province):
    received = receive(session, county.sign(claims()))
    row = session.get(ReceivedReport, received.id)
    assert (row.region_id, row.month.isoformat(), row.version) == (
        world.regions["anxian"].id, "2026-11-01", 1)  # fmt: skip
    assert row.payload["figures"] == FIGURES
    receipt = verify(received.receipt, public_pem=province.public_pem)
    assert receipt["iss"] == "zhongyuan-province" and receipt["aud"] == "anxian-county"
    assert receipt["jti"] == "0123456789abcdef0123456789abcdef"
    told = session.execute(sa.select(Notification.subject, Notification.link).where(
        Notification.user_id == world.users["xu_qing"], Notification.channel == Channel.INBOX)).all()  # fmt: skip
    assert told == [("收到安县2026年11月预警情况月报（第1版）", f"/ledger/received/{received.id}")]


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["report"]["figures"]["headline"]["cases"] = 0
    data["report"]["figures_sha256"] = sha256_of(data["report"]["figures"])
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(("case", "code", "status"), [
    ("tampered", "bad_signature", 401),
    ("other_key", "bad_signature", 401),
    ("unknown_sender", "unknown_sender", 401),
    ("wrong_audience", "wrong_audience", 403),
    ("stale", "stale", 401),
    ("from_the_future", "stale", 401),
    ("bad_digest", "bad_digest", 400),
    ("not_a_token", "malformed_token", 400),
])  # fmt: skip
def test_refusals_say_why_and_store_nothing(session, world, county, province, case, code, status):
    token = {
        "tampered": lambda: _tamper(county.sign(claims())),
        "other_key": lambda: Pair().sign(claims()),
        "unknown_sender": lambda: Pair().sign(claims(iss="stranger")),
        "wrong_audience": lambda: county.sign(claims(aud="henan-province")),
        "stale": lambda: county.sign(claims(iat=int((NOW - timedelta(hours=1)).timestamp()),
                                            exp=int((NOW - timedelta(minutes=55)).timestamp()))),
        "from_the_future": lambda: county.sign(claims(iat=int((NOW + timedelta(hours=1)).timestamp()),
                                                      exp=int((NOW + timedelta(hours=2)).timestamp()))),
        "bad_digest": lambda: county.sign(claims(report={**claims()["report"], "figures_sha256": "0" * 64})),
        "not_a_token": lambda: "not.a.token",
    }[case]()  # fmt: skip
    with pytest.raises(FederationRefused) as refused:
        receive(session, token)
    assert (refused.value.code, refused.value.status) == (code, status)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)  # Chinese words
    assert session.execute(sa.select(sa.func.count()).select_from(ReceivedReport)).scalar() == 0


def test_a_replayed_token_is_refused(session, world, county, province):
    token = county.sign(claims())
    receive(session, token)
    with pytest.raises(FederationRefused) as refused:
        receive(session, token, at=NOW + timedelta(seconds=5))
    assert (refused.value.code, refused.value.status) == ("replay", 409)


def test_a_parent_or_a_stopped_child_may_not_send_to_us(session, world, county, province):
    peer = session.execute(sa.select(FederationPeer)).scalar_one()
    peer.relation, peer.base_url = PeerRelation.PARENT, "https://yj.example.cn"
    session.flush()
    with pytest.raises(FederationRefused) as refused:
        receive(session, county.sign(claims()))
    assert refused.value.code == "not_a_child"
    peer.relation, peer.active = PeerRelation.CHILD, False
    session.flush()
    with pytest.raises(FederationRefused) as refused:
        receive(session, county.sign(claims()))
    assert (refused.value.code, refused.value.status) == ("sender_inactive", 403)


def test_registering_a_peer_checks_the_key_the_address_and_the_region(session, world):
    with pytest.raises(InvalidInput) as refused:
        register_peer(session, actor=OPERATOR, data=PeerInput(
            deployment_id="", name="", relation=PeerRelation.PARENT, public_pem="not a key"),
            as_of=NOW)  # fmt: skip
    fields = {e.field for e in refused.value.errors}
    assert fields == {"deployment_id", "name", "public_pem", "base_url"}
    with pytest.raises(InvalidInput) as refused:
        register_peer(session, actor=OPERATOR, data=PeerInput(
            deployment_id="x", name="某县", relation=PeerRelation.CHILD,
            public_pem=Pair().public_pem, region_code="999999"), as_of=NOW)  # fmt: skip
    assert refused.value.errors[0].field == "region_code" and "不存在" in refused.value.message


def test_sun_hao_stops_trusting_a_child_and_trusts_it_again_and_each_change_is_audited(session, world):
    from models import AuditEvent
    from models.enums import AuditKind
    from workflows.federation.keys import set_peer_active

    sun_hao = world.actors["sun_hao"]
    peer = register_peer(session, actor=sun_hao, data=PeerInput(
        deployment_id="ningxian-county", name="宁县财政局", relation=PeerRelation.CHILD,
        public_pem=Pair().public_pem, region_code="410122"), as_of=NOW)  # fmt: skip
    assert set_peer_active(session, actor=sun_hao, peer_id=peer.id, active=False, as_of=NOW).active is False
    set_peer_active(session, actor=sun_hao, peer_id=peer.id, active=False, as_of=NOW)  # no change
    set_peer_active(session, actor=sun_hao, peer_id=peer.id, active=True, as_of=NOW)
    audited = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.FEDERATION_CHANGED)
                              .order_by(AuditEvent.id)).all()
    assert [(e.data["action"], e.actor_id) for e in audited] == [
        ("add_peer", sun_hao.user_id), ("disable_peer", sun_hao.user_id), ("enable_peer", sun_hao.user_id)]


# ---------------------------------------------------------------- the push worker


@pytest.fixture
def sent_report(session, world, monkeypatch):
    """Our side is 安县 now: a sent report and a parent (the province) to push it to."""
    monkeypatch.setattr(federation, "get_settings", lambda: COUNTY)
    generate_key(session, actor=OPERATOR, as_of=NOW)
    parent = Pair()
    peer = register_peer(session, actor=OPERATOR, data=PeerInput(
        deployment_id="zhongyuan-province", name="中原省财政厅", relation=PeerRelation.PARENT,
        public_pem=parent.public_pem, base_url="https://yj.czt.example.cn/"), as_of=NOW)  # fmt: skip
    report = MonthlyReport(region_id=world.regions["anxian"].id, month=NOW.date().replace(day=1),
                           status=ReportStatus.SENT, figures=FIGURES,
                           figures_sha256=sha256_of(FIGURES), sent_at=NOW)  # fmt: skip
    session.add(report)
    session.flush()
    assert (
        federation.queue_pushes(session, report_id=report.id, region_code="410121", as_of=NOW) == 1
    )
    return parent, peer, report


def _drain(session, poster, at=NOW):
    from contextlib import nullcontext

    return worker.drain(lambda: nullcontext(session), as_of=at, settings=COUNTY, poster=poster)


def _push(session) -> FederationPush:
    push = session.execute(sa.select(FederationPush)).scalar_one()
    session.refresh(push)
    return push


def test_the_push_is_signed_for_the_parent_and_its_receipt_is_kept(session, world, sent_report):
    parent, peer, report = sent_report
    seen = {}

    def province_answers(url, token, timeout):
        seen["url"] = url
        seen["claims"] = json.loads(jws.get_unverified_claims(token))
        receipt = parent.sign({"iss": "zhongyuan-province", "aud": "anxian-county",
                               "jti": seen["claims"]["jti"], "iat": 1, "received_at": "now"})  # fmt: skip
        return httpx.Response(200, json={"receipt": receipt})

    assert _drain(session, province_answers).sent == 1
    assert seen["url"] == "https://yj.czt.example.cn/api/v1/federation/reports"
    c = seen["claims"]
    assert (c["iss"], c["aud"], c["exp"] - c["iat"]) == ("anxian-county", "zhongyuan-province", 300)
    assert c["report"]["figures_sha256"] == report.figures_sha256
    push = _push(session)
    assert push.status == PushStatus.SENT and push.receipt and push.sent_at == NOW


def test_a_receipt_for_another_report_is_not_proof(session, world, sent_report):
    parent, _, _ = sent_report
    forged = parent.sign({"iss": "zhongyuan-province", "aud": "anxian-county", "jti": "other"})
    assert _drain(session, lambda *a: httpx.Response(200, json={"receipt": forged})).dead == 1
    assert "jti" in _push(session).last_error


def test_a_temporary_failure_is_retried_with_backoff_then_dead(
    session, world, sent_report, monkeypatch
):
    def down(*args):
        raise httpx.ConnectError("connection refused")

    assert _drain(session, down).retrying == 1
    push = _push(session)
    assert (push.status, push.attempts, push.next_attempt_at) == (
        PushStatus.PENDING, 1, NOW + timedelta(minutes=1))  # fmt: skip
    assert _drain(session, lambda *a: httpx.Response(503)).claimed == 0  # not due yet
    assert (
        _drain(session, lambda *a: httpx.Response(503), at=NOW + timedelta(minutes=1)).retrying == 1
    )
    monkeypatch.setattr(COUNTY, "federation_max_attempts", 3)
    assert _drain(session, down, at=NOW + timedelta(hours=1)).dead == 1
    assert _push(session).status == PushStatus.DEAD


def test_a_refusal_is_dead_with_the_parents_reason_and_an_admin_may_retry(
    session, world, sent_report
):
    refusal = {"code": "unknown_sender", "message": "未登记的报送方：anxian-county", "errors": []}
    assert _drain(session, lambda *a: httpx.Response(401, json=refusal)).dead == 1
    push = _push(session)
    assert push.status == PushStatus.DEAD and "未登记的报送方" in push.last_error
    assert [r.id for r in federation.list_pushes(session, status=PushStatus.DEAD)] == [push.id]
    federation.retry_push(session, push_id=push.id, as_of=NOW + timedelta(hours=1))
    assert _push(session).status == PushStatus.PENDING


def test_our_own_signature_verifies_with_our_public_key(session):
    key = generate_key(session, actor=OPERATOR, as_of=NOW)
    token = sign({"hello": "安县"}, key=key)
    assert verify(token, public_pem=key.public_pem) == {"hello": "安县"}
    with pytest.raises(FederationRefused):
        verify(token, public_pem=Pair().public_pem)
