"""`warnflow import` killed with SIGKILL halfway leaves whole chunks only; run again, it
finishes: nothing twice, nothing missing. A real process, on both databases."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models.db import make_engine
from models.migrate import upgrade
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database, require_postgres
from tests.factories import build_world
from tests.workflows.imports.importfiles import csv_bytes, table, warning_row
from workflows.imports.warnings import WARNINGS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
ROWS = 20_000
CHUNK = WARNINGS.chunk


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'killed.sqlite3'}"
        return
    require_postgres()
    made = create_pg_database("warnflow_test_killed")
    yield made
    drop_pg_database(made)


def counts(engine) -> tuple[int, int, str | None, int]:
    with engine.connect() as connection:
        cases = connection.execute(sa.text("SELECT count(*) FROM warning_case")).scalar_one()
        events = connection.execute(sa.text("SELECT count(*) FROM case_event")).scalar_one()
        run = connection.execute(sa.text("SELECT state, done FROM import_run ORDER BY id DESC LIMIT 1")).first()
    return cases, events, run.state if run else None, run.done if run else 0


def test_an_import_killed_halfway_keeps_whole_chunks_and_a_second_run_finishes_it(url, tmp_path):
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        build_world(session)
        session.commit()
    export = tmp_path / "夜间导出.csv"
    export.write_bytes(csv_bytes(table([warning_row(f"K-{i:05d}") for i in range(ROWS)]), "gbk"))
    env = {**os.environ, "WARNFLOW_DATABASE_URL": url, "WARNFLOW_SCHEDULER": "off"}
    command = [sys.executable, "-m", "api.cli", "import", "warnings", str(export)]

    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # Kill as soon as the first chunk is committed (not a timing assertion: an event).
        deadline = time.monotonic() + 300
        while counts(engine)[3] == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    cases, events, state, done = counts(engine)
    assert state == "running" and 0 < done < ROWS, (state, done)
    assert cases == events == done and cases % CHUNK == 0

    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert f"新建 {ROWS - cases}，重复 {cases}" in finished.stdout
    assert counts(engine)[:3] == (ROWS, ROWS, "done")
    engine.dispose()
