"""The scaled-out mode against a real Prefect server: flows run the same jobs on PostgreSQL.

A `prefect server start` subprocess (its own PREFECT_HOME, analytics off) serves the session;
each flow runs in a subprocess pointed at it, as a Prefect worker would run it, against a
fresh migrated PostgreSQL database. The test checks both sides: the job_run row in our
database and the flow run's state on the Prefect server.
"""

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models.db import make_engine
from models.migrate import upgrade
from models.scheduling import JobRun
from runtime.jobs import JOBS
from tests.conftest import create_pg_database, drop_pg_database, require_postgres

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PREFECT = Path(sys.executable).with_name("prefect")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect_home")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_ENABLED": "false",
    }
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prefect server did not start: {(home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield {"api_url": api_url, "env": env}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def flows_database():
    require_postgres()
    url = create_pg_database("warnflow_prefect")
    upgrade(url)
    yield url
    drop_pg_database(url)


def run_in_worker(prefect_server, database_url: str, script: str) -> dict:
    """Run a script as a Prefect worker would: our settings and Prefect's in the environment."""
    env = {**prefect_server["env"], "WARNFLOW_DATABASE_URL": database_url,
           "WARNFLOW_SCHEDULER": "prefect"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def flow_run(prefect_server, flow_run_id: str) -> dict:
    return httpx.get(f"{prefect_server['api_url']}/flow_runs/{flow_run_id}", timeout=10).json()


NAIVE_AS_OF = """
import json
from runtime.flows import FLOWS
state = FLOWS["prune_job_history"].with_options(retries=0)(as_of="2026-12-07T09:00:00", return_state=True)
print(json.dumps({"state": state.type.value, "result": state.result()}))
"""


def test_a_flow_given_a_time_without_offset_runs_for_that_time_in_shanghai(prefect_server, flows_database):
    result = run_in_worker(prefect_server, flows_database, NAIVE_AS_OF)
    assert result["state"] == "COMPLETED"
    assert result["result"]["scheduled_for"] == "2026-12-07T01:00:00+00:00"


RUN_FLOW = """
import json
from datetime import datetime
from runtime.flows import FLOWS
flow = FLOWS[{name!r}].with_options(retries=0)
state = flow(as_of=datetime.fromisoformat({as_of!r}), return_state=True)
print(json.dumps({{"flow_run_id": str(state.state_details.flow_run_id),
                   "state": state.type.value, "message": state.message}}))
"""


def test_the_prune_flow_runs_on_the_prefect_server_against_postgresql(prefect_server, flows_database):
    engine = make_engine(flows_database)
    as_of = datetime(2026, 11, 23, 19, 15, tzinfo=UTC)
    old = as_of - timedelta(days=400)
    with Session(engine) as session:
        session.add(JobRun(job_name="sweep", scheduled_for=old, started_at=old, outcome="ok"))
        session.commit()
    result = run_in_worker(prefect_server, flows_database,
                           RUN_FLOW.format(name="prune_job_history", as_of=as_of.isoformat()))
    assert result["state"] == "COMPLETED"
    assert flow_run(prefect_server, result["flow_run_id"])["state_type"] == "COMPLETED"
    with Session(engine) as session:
        runs = session.exec(select(JobRun)).all()
    engine.dispose()
    assert [(r.job_name, r.outcome) for r in runs] == [("prune_job_history", "ok")]
    assert runs[0].scheduled_for == as_of
    assert runs[0].runner == f"prefect:{result['flow_run_id']}"
    assert "已清理 1 条运行记录" in runs[0].message


def test_the_sweep_flow_records_its_run_and_the_flow_state_says_the_same(prefect_server, flows_database):
    as_of = datetime(2026, 11, 23, 1, 5, tzinfo=UTC)
    result = run_in_worker(prefect_server, flows_database,
                           RUN_FLOW.format(name="sweep", as_of=as_of.isoformat()))
    engine = make_engine(flows_database)
    with Session(engine) as session:
        run = session.exec(select(JobRun).where(JobRun.job_name == "sweep")).one()
    engine.dispose()
    server_side = flow_run(prefect_server, result["flow_run_id"])
    assert run.outcome == "ok", run.message
    assert (result["state"], server_side["state_type"]) == ("COMPLETED", "COMPLETED")
    assert run.scheduled_for == as_of


FAILING_WITH_RETRY = """
import json
from datetime import datetime
from prefect import flow
from runtime import jobs
from runtime.flows import run_job_flow
def vanished(session, *, as_of):
    raise LookupError("本县的预警表不在这里")

jobs.JOBS["ghost"] = jobs.Job("ghost", vanished, "* * * * *", "test")

@flow(name="warnflow-ghost", retries=1, retry_delay_seconds=0)
def ghost_flow(as_of: datetime | None = None):
    return run_job_flow("ghost", as_of)

state = ghost_flow(as_of={as_of!r}, return_state=True)
print(json.dumps({{"flow_run_id": str(state.state_details.flow_run_id), "state": state.type.value}}))
"""


def test_a_failing_job_is_retried_by_prefect_and_each_try_is_recorded(prefect_server, flows_database):
    as_of = "2026-11-23T09:00:00+08:00"
    result = run_in_worker(prefect_server, flows_database, FAILING_WITH_RETRY.format(as_of=as_of))
    assert result["state"] == "FAILED"
    server_side = flow_run(prefect_server, result["flow_run_id"])
    assert server_side["state_type"] == "FAILED" and server_side["run_count"] == 2
    engine = make_engine(flows_database)
    with Session(engine) as session:
        runs = session.exec(select(JobRun).where(JobRun.job_name == "ghost")).all()
    engine.dispose()
    assert [r.outcome for r in runs] == ["error", "error"]
    assert "本县的预警表不在这里" in runs[0].message


def test_every_job_has_a_flow_named_for_it_at_module_level():
    script = ("import json, runtime.flows as f; "
              "print(json.dumps(sorted(n for n in f.FLOWS if getattr(f, n + '_flow') is f.FLOWS[n])))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert json.loads(done.stdout) == sorted(JOBS)


def test_the_embedded_path_does_not_import_prefect():
    script = ("import sys, api.cli, runtime.scheduler, runtime.jobs; "
              "print('prefect' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr


@pytest.fixture(autouse=True)
def _clean_runs(request):
    yield
    if "flows_database" in request.fixturenames:
        engine = make_engine(request.getfixturevalue("flows_database"))
        with engine.begin() as connection:
            connection.execute(sa.delete(JobRun.__table__))
        engine.dispose()
