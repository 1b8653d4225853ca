"""The audit chain's jobs: sealed every minute, verified nightly; /healthz tells the outcome.

The jobs run for real against a committed database (cleaned afterwards): Li Na logs in, the
seal job links her row, the verify job passes; her row is changed in SQL, the next night's
verify fails, /healthz says so.
"""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from models import AuditCheck, AuditEvent, AuditLink
from models.enums import AuditKind
from models.scheduling import JobRun
from models.settings import Settings, get_settings
from runtime.jobs import JOBS, next_run, run_now
from workflows.core.audit import record

NIGHT = datetime(2026, 12, 8, 18, 30, tzinfo=UTC)  # 02:30 on the 9th in Shanghai


@pytest.fixture
def committing_engine(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("WARNFLOW_AUDIT_HEAD_PATH", str(tmp_path / "audit-head.json"))
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()
    with engine.begin() as connection:
        for table in (JobRun, AuditCheck, AuditLink, AuditEvent):
            connection.execute(sa.delete(table.__table__))


def test_the_seal_runs_every_minute_and_the_verify_at_half_past_two_in_shanghai():
    assert next_run(JOBS["audit_seal"], datetime(2026, 12, 8, 1, 0, 5, tzinfo=UTC)) == datetime(
        2026, 12, 8, 1, 1, tzinfo=UTC)
    assert next_run(JOBS["audit_verify"], datetime(2026, 12, 8, 12, 0, tzinfo=UTC)) == NIGHT


def test_the_jobs_seal_verify_and_health_shows_the_outcome(committing_engine, database_url):
    with Session(committing_engine) as session:
        record(session, AuditKind.LOGIN, as_of=NIGHT, username="li_na", client="10.0.0.7")
        session.commit()
    sealed = run_now(committing_engine, JOBS["audit_seal"], as_of=NIGHT)
    assert (sealed.outcome, sealed.message) == ("ok", "封存 1 条审计记录，链尾第 1 环")
    checked = run_now(committing_engine, JOBS["audit_verify"], as_of=NIGHT)
    assert checked.outcome == "ok" and "审计链校验通过" in checked.message

    client = TestClient(create_app(Settings(database_url=database_url, demo=True)))
    audit = client.get("/healthz").json()["audit"]
    assert audit["passed"] is True and audit["last_verified_at"] == NIGHT.isoformat()

    with committing_engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_event SET client = '10.6.6.6'"))
    later = NIGHT.replace(day=9)
    failed = run_now(committing_engine, JOBS["audit_verify"], as_of=later)
    assert failed.outcome == "error" and "AuditChainBroken: 审计链校验未通过" in failed.message
    body = client.get("/healthz").json()
    assert body["status"] == "degraded" and "被改动" in body["audit_warning"]
    assert body["audit"]["passed"] is False
    assert body["audit"]["last_verified_at"] == later.isoformat()
    assert body["audit"]["last_passed_at"] == NIGHT.isoformat()
