"""transition() on PostgreSQL: the read and the write with fixed SQL straight on psycopg
(prepared by the server after a few calls), the write as one statement of data-modifying
CTEs — per action a read, a write and the commit, where SQLAlchemy's per-execute CPU and one
round trip per row would cost 3× more. The same rows as the portable path
(workflows/cases/transition.py; proven by tests/workflows/cases/test_parity.py); SQLite has
no data-modifying CTEs, and transition_many() always writes row by row."""

import functools
from datetime import datetime

import psycopg
from psycopg.types.json import Json
from sqlmodel import Session

from models import Case, CaseEvent
from models.db import PG_DIALECT, pg_cast
from models.enums import Event
from workflows.cases.lifecycle import CASE_MACHINE
from workflows.cases.plan import (
    CONTEXT_BY_ID,
    CONTEXT_BY_NUMBER,
    ContextRow,
    Plan,
    TransitionResult,
    case_values,
    decision,
    event_values,
    result,
    who,
)
from workflows.cases.slips import (
    SlipInput,
    pg_file_slip_ctes,
    pg_file_slip_params,
    pg_sign_latest_slip_cte,
    pg_sign_latest_slip_params,
)
from workflows.core import machine
from workflows.core.actors import Actor
from workflows.core.errors import NotFound, StaleVersion

CASES = Case.__table__
EVENTS = CaseEvent.__table__
_CONTEXT_SQL = str(CONTEXT_BY_ID.compile(dialect=PG_DIALECT))
_CONTEXT_BY_NUMBER_SQL = str(CONTEXT_BY_NUMBER.compile(dialect=PG_DIALECT))
# The event row's columns but case_id, seq and slip_id (which the statement supplies).
_EVENT_COLUMNS = ("event", "from_state", "to_state", "actor_id", "actor_role", "at", "comment",
                  "due_on", "data")  # fmt: skip


def driver(session: Session) -> psycopg.Connection | None:
    """The psycopg connection under the session's transaction, on PostgreSQL only."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    return connection.connection.driver_connection


def load(driver: psycopg.Connection, case_id: int) -> ContextRow:
    row = driver.execute(_CONTEXT_SQL, {"case_id": case_id}).fetchone()
    if row is None:
        raise NotFound("案件不存在")
    return ContextRow._make(row)


def load_by_number(driver: psycopg.Connection, number: str) -> ContextRow | None:
    """The case with this number, None when there is none (the caller decides what to say)."""
    row = driver.execute(_CONTEXT_BY_NUMBER_SQL, {"number": number}).fetchone()
    return None if row is None else ContextRow._make(row)


@functools.cache
def _write_sql(columns: tuple[str, ...], files_slip: bool, signs: bool) -> str:
    """The guarded UPDATE, then — only for the row it returns, so a lost race writes
    nothing — the slip it files or signs and the event row, which returns (seq, slip_id)."""
    sets = ", ".join(f"{c} = %(v_{c})s::{pg_cast(CASES.c[c])}" for c in columns)
    state = pg_cast(CASES.c.state)
    parts = [
        f"""changed AS (
    UPDATE warning_case SET version = version + 1, {sets}
    WHERE id = %(w_id)s::INTEGER AND version = %(w_version)s::INTEGER AND state = %(w_state)s::{state}
    RETURNING id, version)"""
    ]
    sources, slip_id = "changed", "NULL::INTEGER"
    if signs:
        parts.append(pg_sign_latest_slip_cte("changed"))
    if files_slip:
        parts.append(pg_file_slip_ctes("changed"))
        sources, slip_id = "changed, new_slip", "new_slip.id"
    values = ", ".join(f"%(e_{c})s::{pg_cast(EVENTS.c[c])}" for c in _EVENT_COLUMNS)
    return f"""WITH {", ".join(parts)}
INSERT INTO case_event (case_id, seq, slip_id, {", ".join(_EVENT_COLUMNS)})
SELECT changed.id, changed.version, {slip_id}, {values} FROM {sources}
RETURNING seq, slip_id"""


def write(
    session: Session, driver: psycopg.Connection, plan: Plan, version: int, event: Event,
    actor: Actor, as_of: datetime, slip: SlipInput | None, comment: str | None,
    assignee_id: int | None,
) -> TransitionResult:  # fmt: skip
    """What the portable path's UPDATE, file_slip/sign_latest_slip and event row write."""
    context, step = plan.context, plan.step
    values = case_values(plan, as_of, assignee_id)
    columns = tuple(sorted(values))
    # The values go to psycopg as they are (enums are StrEnums: psycopg sends their value);
    # only JSON needs wrapping.
    params = {"w_id": context.id, "w_version": version, "w_state": context.state}
    params.update({f"v_{c}": values[c] for c in columns})
    row = event_values(plan, event, actor, as_of, comment, assignee_id)
    row["data"] = Json(row["data"])
    params.update({f"e_{c}": row[c] for c in _EVENT_COLUMNS})
    if step.slip is not None:
        params.update(pg_file_slip_params(slip, actor, as_of))
    if step.signs is not None:
        params.update(pg_sign_latest_slip_params(step.signs, actor, decision(event), comment, as_of))
    written = driver.execute(_write_sql(columns, step.slip is not None, step.signs is not None), params).fetchone()
    if written is None:
        raise StaleVersion(CASE_MACHINE.wording.lost_race.format(who=who(context)))
    machine.forget(session, CASE_MACHINE, context.id)
    return result(plan, event, written[0], written[1])
