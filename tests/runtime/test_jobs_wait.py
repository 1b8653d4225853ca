"""`warnflow jobs wait NAME`: the smoke test of a set-up returns once the scheduler ran a tick."""

import threading
import time
from datetime import timedelta

from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import app
from models.db import make_engine
from models.scheduling import JobRun
from models.types import utcnow


def finish_a_run_soon(url: str, outcome: str, delay: float = 0.5) -> threading.Thread:
    def later():
        time.sleep(delay)
        engine = make_engine(url)
        with Session(engine) as session:
            now = utcnow()
            session.add(JobRun(job_name="dispatch_notifications", scheduled_for=now, started_at=now,
                               finished_at=now, outcome=outcome, runner="prefect:abc",
                               message="发送 0 条"))
            session.commit()
        engine.dispose()

    thread = threading.Thread(target=later)
    thread.start()
    return thread


def test_wait_returns_when_the_next_run_finished_and_says_who_ran_it(cli_db):
    engine = make_engine(cli_db)
    with Session(engine) as session:  # an earlier run does not count
        old = utcnow() - timedelta(minutes=5)
        session.add(JobRun(job_name="dispatch_notifications", scheduled_for=old, started_at=old,
                           finished_at=old, outcome="ok"))
        session.commit()
    engine.dispose()
    thread = finish_a_run_soon(cli_db, "ok")
    result = CliRunner().invoke(app, ["jobs", "wait", "dispatch_notifications", "--timeout", "30"])
    thread.join()
    assert result.exit_code == 0, result.output
    assert "prefect:abc" in result.output and "成功" in result.output


def test_wait_exits_1_when_that_run_failed_and_4_when_none_came(cli_db):
    thread = finish_a_run_soon(cli_db, "error")
    failed = CliRunner().invoke(app, ["jobs", "wait", "dispatch_notifications", "--timeout", "30"])
    thread.join()
    assert failed.exit_code == 1, failed.output
    nothing = CliRunner().invoke(app, ["jobs", "wait", "sweep", "--timeout", "1"])
    assert nothing.exit_code == 4
    assert "1 秒内没有 sweep 的运行完成" in nothing.output
