"""A sweep process killed with SIGKILL halfway (PostgreSQL): no case is half-escalated, and
the next run finishes the job.

The sweep runs in a real child process. It prints a line after each committed batch and,
inside each batch's transaction, pauses after the escalation UPDATE; the test kills it with
SIGKILL during the fourth batch's pause — the UPDATE done, its notifications not yet
written, nothing committed.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models import Case, CaseEvent
from models.db import make_engine, session_scope
from models.enums import Event
from models.migrate import upgrade
from models.notifications import Notification
from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.factories import build_world, new_case

ROOT = Path(__file__).resolve().parents[3]
AS_OF = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tuesday 09:00 Shanghai: Monday's deadlines passed
CASES = 20
BATCH = 2

CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    import sqlalchemy as sa
    from sqlmodel import Session
    from models.db import make_engine
    from workflows.escalation.sweep import sweep

    engine = make_engine(sys.argv[1])

    escalating = []

    @sa.event.listens_for(engine, "after_cursor_execute")
    def pause_inside_the_batch(conn, cursor, statement, *args):
        if "UPDATE warning_case SET escalation_level" in statement:
            escalating.append(True)
            time.sleep(0.3)

    @sa.event.listens_for(engine, "commit")
    def tell_parent(conn):
        if escalating:  # a batch that escalated cases (not the empty bell/reminder steps)
            escalating.clear()
            print("committed", flush=True)

    with Session(engine) as session:
        sweep(session, as_of=datetime.fromisoformat(sys.argv[2]), batch_size=int(sys.argv[3]), commit=True)
    print("finished", flush=True)
    """
)


def _state(engine, ids: list[int]) -> dict:
    with Session(engine) as s:
        levels = dict(s.execute(sa.select(Case.id, Case.escalation_level).where(Case.id.in_(ids))).all())
        escalations = dict(
            s.execute(
                sa.select(CaseEvent.case_id, sa.func.count())
                .where(CaseEvent.case_id.in_(ids), CaseEvent.event == Event.ESCALATE)
                .group_by(CaseEvent.case_id)
            ).all()
        )
        bodies = s.scalars(
            sa.select(Notification.body).where(Notification.kind == "overdue", Notification.channel == "inbox")
        ).all()
        numbers = dict(s.execute(sa.select(Case.id, Case.number).where(Case.id.in_(ids))).all())
    return {"levels": levels, "escalations": escalations, "bodies": bodies, "numbers": numbers}


def _others_in_database(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ).scalar_one()


@pytest.fixture
def own_database():
    """A database of this test's own: it commits, and other tests expect theirs empty."""
    require_postgres()
    url = create_pg_database("warnflow_sigkill")
    yield url
    drop_pg_database(url)


@pytest.mark.slow
def test_li_nas_cases_are_never_half_escalated_by_a_killed_sweep(own_database):
    pg_database = own_database
    upgrade(pg_database)
    engine = make_engine(pg_database)
    with session_scope(engine) as s:
        world = build_world(s)
        ids = [new_case(s, world, "yellow") for _ in range(CASES)]

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, pg_database, AS_OF.isoformat(), str(BATCH)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    committed = 0
    while committed < 3:
        line = child.stdout.readline()
        assert line, f"the sweep ended before it could be killed: {child.stderr.read()}"
        committed += line.strip() == "committed"
    time.sleep(0.15)  # inside the fourth batch: its UPDATE ran, its commit has not
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    # PostgreSQL rolls the dead connection's transaction back as soon as it notices.
    deadline = time.monotonic() + 20
    while _others_in_database(engine) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _others_in_database(engine) == 0

    after_kill = _state(engine, ids)
    escalated = {i for i, level in after_kill["levels"].items() if level == 1}
    assert len(escalated) == 3 * BATCH, "exactly the committed batches are escalated"
    assert set(after_kill["escalations"]) == escalated, "an event for every escalated case, none for the rest"
    assert all(n == 1 for n in after_kill["escalations"].values())
    told = " ".join(after_kill["bodies"])
    assert all(after_kill["numbers"][i] in told for i in escalated), "the committed batches' notices are there"
    assert not any(after_kill["numbers"][i] in told for i in set(ids) - escalated)

    # The next run (the next tick) finishes the job, once.
    with Session(engine) as s:
        from workflows.escalation.sweep import sweep

        result = sweep(s, as_of=AS_OF, batch_size=BATCH, commit=True)
    assert result.level1 == CASES - len(escalated)
    final = _state(engine, ids)
    assert set(final["levels"].values()) == {1}
    assert final["escalations"] == {i: 1 for i in ids}
    for i in ids:  # Li Na is told about each case exactly once
        li_na_bodies = [b for b in final["bodies"] if final["numbers"][i] in b]
        assert len(li_na_bodies) == 2, "one message for Li Na and one for Zhang Wei"
    engine.dispose()
