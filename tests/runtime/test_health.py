"""An operator notices a scheduler that runs nothing: late jobs in `warnflow jobs list` and /healthz."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from models.db import make_engine
from models.scheduling import JobRun
from models.settings import Settings
from models.types import utcnow
from runtime.health import job_health
from runtime.jobs import DEAD_AFTER, JOBS


@pytest.fixture
def committing_engine(engine):
    yield engine
    with engine.begin() as connection:
        connection.execute(sa.delete(JobRun.__table__))


def add_run(engine, name: str, finished_ago: timedelta, outcome: str = "ok", **extra) -> None:
    now = utcnow()
    with Session(engine) as session:
        session.add(JobRun(job_name=name, scheduled_for=now - finished_ago, outcome=outcome,
                           started_at=now - finished_ago, finished_at=now - finished_ago, **extra))
        session.commit()


def all_recently_fine(engine) -> None:
    for name in JOBS:
        add_run(engine, name, timedelta(seconds=30))


def late(engine) -> list[str]:
    with Session(engine) as session:
        return [row.name for row in job_health(session, now=utcnow()) if row.late]


def test_the_periods_are_those_of_the_crons():
    now = utcnow()
    assert JOBS["sweep"].period(now) == timedelta(minutes=5)
    assert JOBS["dispatch_notifications"].period(now) == timedelta(minutes=1)
    assert JOBS["daily_digest"].period(now) == timedelta(days=1)


def test_a_job_whose_last_success_is_older_than_twice_its_period_is_late(committing_engine):
    assert late(committing_engine) == [], "no job ever ran: nothing to compare with yet"
    all_recently_fine(committing_engine)
    assert late(committing_engine) == []
    # The sweep ran 9 minutes ago (< 10 = 2 × 5): not late. 11 minutes: late.
    add_run(committing_engine, "sweep", timedelta(minutes=11), outcome="ok")
    assert late(committing_engine) == []
    with committing_engine.begin() as connection:
        connection.execute(sa.delete(JobRun.__table__).where(JobRun.job_name == "sweep",
                                                             JobRun.finished_at > utcnow() - timedelta(minutes=1)))
    assert late(committing_engine) == ["sweep"]


def test_failures_do_not_count_as_success_and_calendar_skips_do(committing_engine):
    add_run(committing_engine, "daily_digest", timedelta(days=3), outcome="ok")
    add_run(committing_engine, "daily_digest", timedelta(hours=2), outcome="skipped")  # a holiday
    add_run(committing_engine, "sweep", timedelta(days=3), outcome="ok")
    add_run(committing_engine, "sweep", timedelta(minutes=1), outcome="error")
    assert "sweep" in late(committing_engine)
    assert "daily_digest" not in late(committing_engine)


def test_jobs_list_names_the_late_job_and_exits_3(cli_db):
    engine = make_engine(cli_db)
    all_recently_fine(engine)
    runner = CliRunner()
    fine = runner.invoke(app, ["jobs", "list"])
    assert fine.exit_code == 0, fine.output
    with engine.begin() as connection:
        connection.execute(sa.delete(JobRun.__table__).where(JobRun.job_name == "dispatch_notifications"))
    add_run(engine, "dispatch_notifications", timedelta(minutes=30))
    # A run whose process died: still "running", its heartbeat 5 minutes old.
    add_run(engine, "sweep", timedelta(minutes=5), outcome="running",
            heartbeat_at=utcnow() - DEAD_AFTER * 5)
    engine.dispose()
    listed = runner.invoke(app, ["jobs", "list"])
    assert listed.exit_code == 3, listed.output
    assert "已延误：超过 2 分钟 未成功运行" in listed.output
    assert "延误的任务：dispatch_notifications" in listed.output
    assert "有 1 次运行已中断" in listed.output
    assert "仅法定工作日执行" in listed.output


def test_healthz_lists_late_jobs_and_stays_200_for_the_load_balancer(database_url, committing_engine):
    client = TestClient(create_app(Settings(database_url=database_url, demo=True)))
    all_recently_fine(committing_engine)
    body = client.get("/healthz").json()
    assert (body["status"], body["jobs"]) == ("ok", {"late": []})
    with committing_engine.begin() as connection:
        connection.execute(sa.delete(JobRun.__table__).where(JobRun.job_name == "sweep"))
    add_run(committing_engine, "sweep", timedelta(hours=1))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["jobs"] == {"late": ["sweep"]}
    assert "sweep（超过 10 分钟 未成功运行）" in body["warning"]
