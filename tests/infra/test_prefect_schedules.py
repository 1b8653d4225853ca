"""Prefect runs the jobs by itself: a real server's scheduler creates the runs, a real worker runs them.

Every job is deployed from the same prefect.yaml the operator uses (runtime.deployments), its
cron replaced by "every minute" so that one test sees each job's scheduled run: the server's
scheduler service creates the flow runs (no `prefect deployment run`), a process worker on
the `warnflow` pool runs them through the pull step's WARNFLOW_PROJECT_DIR, and each leaves a
job_run row whose tick is the run's scheduled start time. Then a second run for an already
done tick ends in the state "Skipped", and a run by hand with a naive `as_of` means Shanghai.
"""

import time
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from models.db import make_engine
from models.migrate import upgrade
from models.scheduling import JobRun
from runtime.deployments import prefect_yaml
from runtime.jobs import JOBS
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.infra.prefect_support import ROOT, PrefectServer, start_worker, stop

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture(scope="module")
def scaled_out(tmp_path_factory):
    require_postgres()
    home = tmp_path_factory.mktemp("prefect")
    app_db = create_pg_database("warnflow_prefect_app")
    upgrade(app_db)
    server = PrefectServer(home)
    worker = None
    try:
        server.prefect("work-pool", "create", "warnflow", "--type", "process")
        spec = home / "prefect.yaml"
        spec.write_text(prefect_yaml(cron="* * * * *"), encoding="utf-8")
        env = {"WARNFLOW_DATABASE_URL": app_db, "WARNFLOW_SCHEDULER": "prefect",
               "WARNFLOW_PROJECT_DIR": str(ROOT), "WARNFLOW_VAR_DIR": str(home / "var")}
        server.prefect("--no-prompt", "deploy", "--all", "--prefect-file", str(spec), env=env)
        worker = start_worker(server, env, home / "worker.log")
        yield server, app_db, home
    finally:
        if worker is not None:
            stop(worker)
        server.close()
        drop_pg_database(app_db)


def deployments(server) -> dict[str, dict]:
    return {d["name"]: d for d in server.post("/deployments/filter", {})}


def wait_for(condition, seconds: float, what: str, logs=()):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (found := condition()) is not None:
            return found
        time.sleep(2)
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def test_the_servers_scheduler_creates_each_jobs_run_and_the_worker_runs_it(scaled_out):
    server, app_db, home = scaled_out
    by_name = deployments(server)
    assert sorted(by_name) == sorted(JOBS)
    # The pull step names the project directory from the variable, not a fixed /app.
    pull = next(iter(by_name.values()))["pull_steps"][0]
    assert pull["prefect.deployments.steps.set_working_directory"]["directory"] == str(ROOT)
    names = {d["id"]: name for name, d in by_name.items()}

    def first_completed_scheduled_run_of_each_job():
        runs = server.flow_runs(state={"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}})
        done = {}
        for run in sorted(runs, key=lambda r: r["expected_start_time"]):
            assert run["state_type"] == "COMPLETED", (names.get(run["deployment_id"]), run["state"])
            if run["auto_scheduled"]:
                done.setdefault(names[run["deployment_id"]], run)
        return done if len(done) == len(JOBS) else None

    done = wait_for(first_completed_scheduled_run_of_each_job, 300, "a scheduled run of every job",
                    logs=(home / "worker.log", home / "server.log"))
    engine = make_engine(app_db)
    with Session(engine) as session:
        rows = {row.runner: row for row in session.exec(select(JobRun))}
    engine.dispose()
    for name, run in done.items():
        row = rows[f"prefect:{run['id']}"]
        assert row.job_name == name
        # The tick is the scheduled start, to the microsecond, not when the run happened to start.
        assert row.scheduled_for == parse(run["expected_start_time"]), name
        assert row.outcome in ("ok", "skipped"), (name, row.message)
    # Working-day-only jobs say so where the UI shows the schedule.
    assert "仅工作日" in by_name["daily_digest"]["tags"]
    assert "每月第一个工作日" in by_name["evaluate_streaks"]["tags"]


def test_a_second_run_for_a_tick_that_ran_ends_skipped_not_plain_completed(scaled_out):
    server, app_db, home = scaled_out
    prune = deployments(server)["prune_job_history"]
    engine = make_engine(app_db)
    with Session(engine) as session:
        done = session.exec(select(JobRun).where(JobRun.job_name == "prune_job_history",
                                                 JobRun.outcome == "ok")).first()
    engine.dispose()
    assert done is not None
    tick = done.scheduled_for.isoformat()
    rerun = server.post(f"/deployments/{prune['id']}/create_flow_run",
                        {"state": {"type": "SCHEDULED", "state_details": {"scheduled_time": tick}}})

    def finished():
        run = server.get(f"/flow_runs/{rerun['id']}")
        return run if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED") else None

    run = wait_for(finished, 300, "the re-run of a done tick", logs=(home / "worker.log",))
    assert (run["state_type"], run["state_name"]) == ("COMPLETED", "Skipped")
    assert "未重复运行" in run["state"]["message"]


def test_a_run_by_hand_with_a_time_without_offset_means_shanghai_time(scaled_out):
    server, app_db, home = scaled_out
    prune = deployments(server)["prune_job_history"]
    by_hand = server.prefect("deployment", "run", "warnflow-prune-job-history/prune_job_history",
                             "--param", "as_of=2026-12-07T09:00:00")
    assert "Created flow run" in by_hand
    engine = make_engine(app_db)

    def recorded():
        with Session(engine) as session:
            return session.exec(select(JobRun).where(
                JobRun.scheduled_for == datetime(2026, 12, 7, 1, 0, tzinfo=UTC))).first()

    try:
        row = wait_for(recorded, 300, "the run by hand", logs=(home / "worker.log",))
    finally:
        engine.dispose()
    assert row.job_name == "prune_job_history" and row.runner.startswith("prefect:")
    runs = server.flow_runs(deployment_id={"any_": [prune["id"]]})
    assert any(r["parameters"].get("as_of") == "2026-12-07T09:00:00" for r in runs)
