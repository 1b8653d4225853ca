"""Two warnflow deployments on localhost, each its own uvicorn server, database and key:
安县's county system and 中原省's province system. An admin on each side registered the
other's public key. 安县's people run November's report through the chain on their own
server; the county's `dispatch_federation` job (a `warnflow jobs run` process) pushes it to
the province, which verifies and stores it and answers with a signed receipt; Xu Qing finds
it on the province's server. Then the province refuses a tampered payload, a replay and an
unknown sender."""

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models.db import make_engine
from models.federation import FederationPush, PeerRelation, PushStatus, ReceivedReport
from models.migrate import upgrade
from models.notifications import Channel, Notification
from models.reports import MonthlyReport, ReportStatus
from tests.factories import PASSWORD, build_world
from tests.monthly_scenario import DRAFT_AT, MONTH, build_november
from tests.workflows.federation.test_exchange import Pair
from workflows.core.actors import Actor
from workflows.federation.keys import PeerInput, generate_key, register_peer, verify
from workflows.reporting.drafts import draft_monthly_reports

OPERATOR = Actor.operator("测试操作员")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WARNFLOW = Path(sys.executable).with_name("warnflow")
COUNTY, PROVINCE = "anxian-county", "zhongyuan-province"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Instance:
    """One deployment: a migrated SQLite database with the personas, a key, a server."""

    def __init__(self, root: Path, deployment_id: str, populate=None):
        root.mkdir(parents=True, exist_ok=True)
        self.deployment_id = deployment_id
        self.url = f"sqlite:///{root / 'warnflow.sqlite3'}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "WARNFLOW_DATABASE_URL": self.url, "WARNFLOW_DEMO": "1",
                    "WARNFLOW_DEPLOYMENT_ID": deployment_id, "WARNFLOW_SCHEDULER": "off",
                    "WARNFLOW_VAR_DIR": str(root / "var")}  # fmt: skip
        self.log_path = root / "server.log"
        upgrade(self.url)
        self.engine = make_engine(self.url)
        with self.session() as session:
            self.world = build_world(session)
            self.public_pem = generate_key(session, actor=OPERATOR, as_of=DRAFT_AT).public_pem
            if populate is not None:
                populate(session, self.world)
            session.commit()
        self.process = None

    def start(self) -> None:
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"{self.deployment_id} did not start: {self.log_path.read_text()[-2000:]}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.log.close()
        self.engine.dispose()

    def login(self, username: str) -> dict:
        answer = httpx.post(f"{self.base}/api/v1/auth/token",
                            data={"username": username, "password": PASSWORD})  # fmt: skip
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def _november(session: Session, world) -> None:
    """安县's November (tests/monthly_scenario.py), drafted on 1 December."""
    build_november(session, world)
    draft_monthly_reports(session, as_of=DRAFT_AT)


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    root = tmp_path_factory.mktemp("federation")
    county = Instance(root / "county", COUNTY, populate=_november)
    province = Instance(root / "province", PROVINCE)
    try:
        for instance in (county, province):
            instance.start()
        with province.session() as session:
            register_peer(session, actor=OPERATOR, data=PeerInput(
                deployment_id=COUNTY, name="安县财政局", relation=PeerRelation.CHILD,
                public_pem=county.public_pem, region_code="410121"), as_of=DRAFT_AT)  # fmt: skip
            session.commit()
        with county.session() as session:
            register_peer(session, actor=OPERATOR, data=PeerInput(
                deployment_id=PROVINCE, name="中原省财政厅", relation=PeerRelation.PARENT,
                public_pem=province.public_pem, base_url=province.base), as_of=DRAFT_AT)  # fmt: skip
            session.commit()
        yield county, province
    finally:
        county.stop()
        province.stop()


def _chain(county: Instance) -> int:
    """安县's people run the chain on the county's own server; the report's id."""
    with county.session() as session:
        report_id = session.execute(sa.select(MonthlyReport.id).where(
            MonthlyReport.region_id == county.world.regions["anxian"].id,
            MonthlyReport.month == MONTH)).scalar_one()  # fmt: skip
    steps = [("li_na", "confirm_part"), ("chen_jie", "confirm_part"), ("qian_li", "confirm_part"),
             ("qian_li", "compile"), ("he_min", "countersign"), ("qian_li", "send")]  # fmt: skip
    for who, event in steps:
        headers = county.login(who)
        chain = httpx.get(f"{county.base}/api/v1/reports/{report_id}/chain", headers=headers).json()
        answer = httpx.post(f"{county.base}/api/v1/reports/{report_id}/transitions", headers=headers,
                            json={"event": event, "version": chain["lock_version"]})  # fmt: skip
        assert answer.status_code == 200, f"{who} {event}: {answer.text}"
    return report_id


@pytest.fixture(scope="module")
def delivered(instances):
    county, province = instances
    report_id = _chain(county)
    run = subprocess.run([str(WARNFLOW), "jobs", "run", "dispatch_federation"], env=county.env,
                         cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    with province.session() as session:
        token = session.execute(sa.select(ReceivedReport.token)).scalar_one()
    return report_id, token, run.stdout


def test_the_county_push_is_accepted_with_a_verified_receipt(instances, delivered):
    county, province = instances
    report_id, _, output = delivered
    assert "已送达 1" in output
    with county.session() as session:
        push = session.execute(sa.select(FederationPush)).scalar_one()
        report = session.get(MonthlyReport, report_id)
        assert (push.status, push.last_error, report.status) == (
            PushStatus.SENT,
            None,
            ReportStatus.SENT,
        )
        receipt = verify(push.receipt, public_pem=province.public_pem)
        digest = report.figures_sha256
    assert (receipt["iss"], receipt["aud"]) == (PROVINCE, COUNTY)
    with province.session() as session:
        received = session.execute(sa.select(ReceivedReport)).scalar_one()
        assert received.jti == receipt["jti"]
        assert received.region_id == province.world.regions["anxian"].id
        assert received.payload["figures_sha256"] == digest
        told = session.execute(sa.select(Notification.subject).where(
            Notification.user_id == province.world.users["xu_qing"],
            Notification.channel == Channel.INBOX)).scalars().all()  # fmt: skip
    assert told == ["收到安县2026年11月预警情况月报（第1版）"]
    # Xu Qing sees it on the province's own pages.
    headers = province.login("xu_qing")
    ledger = httpx.get(f"{province.base}/ledger", headers=headers)
    assert ledger.status_code == 200 and "安县财政局" in ledger.text
    page = httpx.get(f"{province.base}/ledger/received/{received.id}", headers=headers)
    assert page.status_code == 200 and digest in page.text


def _post(province: Instance, token: str) -> httpx.Response:
    return httpx.post(f"{province.base}/api/v1/federation/reports", json={"token": token})


def test_a_tampered_payload_is_refused(instances, delivered):
    _, province = instances
    header, payload, signature = delivered[1].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["report"]["figures"]["headline"]["cases"] = 0
    claims["jti"] = "f" * 32
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    answer = _post(province, f"{header}.{forged}.{signature}")
    assert answer.status_code == 401 and answer.json()["code"] == "bad_signature"
    assert "篡改" in answer.json()["message"]


def test_a_replay_is_refused(instances, delivered):
    _, province = instances
    answer = _post(province, delivered[1])
    assert answer.status_code == 409 and answer.json()["code"] == "replay"
    with province.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(ReceivedReport)).scalar() == 1


def test_an_unknown_sender_is_refused(instances, delivered):
    _, province = instances
    now = int(time.time())
    stranger = Pair().sign({"iss": "some-county", "aud": PROVINCE, "iat": now, "exp": now + 300,
                            "jti": "0" * 32, "report": {}})  # fmt: skip
    answer = _post(province, stranger)
    assert answer.status_code == 401 and answer.json()["code"] == "unknown_sender"
    assert "未登记" in answer.json()["message"]
