"""The PostgreSQL fast path (workflows/cases/transition_pg.py, and the sweep's one-statement
batches) writes the same rows as the portable path: the same story is played on SQLite and on
PostgreSQL, and the cases, events, slips and their versions, links and escalation requests
are compared row by row. Surrogate ids are replaced by what people know the rows by (case and
slip numbers, user names, codes), so the comparison does not depend on sequences."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import partial

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel

from models import Case, EscalationRequest
from models.db import make_engine
from models.enums import AmountBasis, Conclusion, Event, Role
from models.migrate import upgrade
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database, require_postgres
from tests.factories import NOW, build_world, new_case, rectification_slip, verification_slip
from workflows.cases.actions import act_on_case, act_on_cases
from workflows.cases.lifecycle import events_allowed
from workflows.cases.transition import transition, transition_many
from workflows.core.errors import DomainError
from workflows.escalation.extensions import decide_extension, request_extension
from workflows.escalation.sweep import sweep

COMPARED = ("warning_case", "case_event", "slip", "slip_version", "case_slip", "escalation_request",
            "deadline_reminder")  # fmt: skip
# What a row of a table is known by, for the foreign keys that point to it.
NATURAL = {"warning_case": "number", "slip": "number", "app_user": "username", "rule": "code",
           "region": "code", "org_unit": "code"}  # fmt: skip
# Set from a counter of the test process, not by the code under test.
IGNORED = {"warning_case": {"external_id"}}
# Ids inside an event's data, and the table they name.
DATA_IDS = {"from_assignee_id": "app_user", "to_assignee_id": "app_user", "request_id": "escalation_request"}


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL is not among WARNFLOW_TEST_BACKENDS")
    require_postgres()
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('parity') / 'parity.sqlite3'}"
    pg_url = create_pg_database("warnflow_parity")
    upgrade(sqlite_url)
    upgrade(pg_url)
    engines = {"sqlite": make_engine(sqlite_url), "postgresql": make_engine(pg_url)}
    yield engines
    for engine in engines.values():
        engine.dispose()
    drop_pg_database(pg_url)


@pytest.fixture
def pair(engines):
    """A session and its world on each database, rolled back after the test."""
    opened = []
    for name, engine in engines.items():
        connection = engine.connect()
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        opened.append((name, connection, transaction, session, build_world(session)))
    yield [(name, session, world) for name, _, _, session, world in opened]
    for _, connection, transaction, session, _ in opened:
        session.close()
        transaction.rollback()
        connection.close()


def _normal(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value


def snapshot(session: Session) -> dict[str, list[dict]]:
    connection = session.connection()
    tables = SQLModel.metadata.tables
    names = {
        table: dict(connection.execute(sa.select(tables[table].c.id, tables[table].c[column])).all())
        for table, column in NATURAL.items()
    }
    requests = tables["escalation_request"]
    names["escalation_request"] = {
        request_id: f"{names['warning_case'][case_id]}/{kind}/{level}"
        for request_id, case_id, kind, level in connection.execute(
            sa.select(requests.c.id, requests.c.case_id, requests.c.kind, requests.c.level)
        )
    }
    shot = {}
    for table_name in COMPARED:
        table = tables[table_name]
        rows = []
        for row in connection.execute(sa.select(table)).mappings():
            line = {}
            for column in table.columns:
                if column.name == "id" or column.name in IGNORED.get(table_name, ()):
                    continue
                value = row[column.name]
                target = next(iter(column.foreign_keys), None)
                if target is not None and value is not None:
                    value = names[target.column.table.name][value]
                if column.name == "data" and value:
                    value = {k: names[DATA_IDS[k]].get(v, v) if k in DATA_IDS else v for k, v in value.items()}
                line[column.name] = _normal(value)
            rows.append(line)
        shot[table_name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return shot


def outcome(call) -> tuple:
    """What an action answered: its result's fields, or the refusal's code and message."""
    try:
        result = call()
    except DomainError as refused:
        return ("refused", refused.as_dict())
    results = result if isinstance(result, list) else [result]
    return ("done", [{k: _normal(v) for k, v in vars(r).items() if k not in ("case_id", "slip_id", "request_id")}
                     for r in results])  # fmt: skip


def story(session: Session, world) -> list[tuple]:
    """Every kind of step: raise, verify either way, start, rectify, review both ways,
    reassign, transfer, a bell done and one expired, batches by id and by number, refusals,
    an extension asked for and granted, and the sweep escalating what is late."""
    actors = world.actors
    at = iter(NOW + timedelta(minutes=7 * i) for i in range(1000))

    def version(case_id: int) -> int:
        return session.connection().execute(sa.select(Case.version).where(Case.id == case_id)).scalar_one()

    def number(case_id: int) -> str:
        return session.connection().execute(sa.select(Case.number).where(Case.id == case_id)).scalar_one()

    def step(case_id, event, who="li_na", **kw):
        return outcome(lambda: transition(
            session, case_id=case_id, event=event, actor=actors[who], version=version(case_id),
            as_of=next(at), **kw,
        ))  # fmt: skip

    violated, normal, red, bell, expiring, batch1, batch2, late = (
        new_case(session, world, rule, at=NOW - timedelta(days=days))
        for rule, days in [("yellow", 0), ("yellow", 0), ("red", 0), ("bell", 0), ("bell_red", 40),
                           ("yellow", 0), ("yellow", 0), ("red", 30)]
    )  # fmt: skip
    out = [
        step(violated, Event.START_VERIFY),
        step(violated, Event.SUBMIT_VERIFICATION, slip=verification_slip(Conclusion.VIOLATION)),
        step(violated, Event.START_RECTIFY),
        step(violated, Event.SUBMIT_RECTIFICATION, slip=rectification_slip()),
        step(violated, Event.REJECT_RECTIFICATION, "zhang_wei", comment="缺少收回资金的银行回单"),
        step(violated, Event.SUBMIT_RECTIFICATION, slip=rectification_slip()),
        step(violated, Event.APPROVE_RECTIFICATION, "zhang_wei", comment="材料齐全"),
        step(normal, Event.SUBMIT_VERIFICATION, slip=verification_slip(Conclusion.NORMAL)),
        step(red, Event.REASSIGN, "zhang_wei", assignee_id=world.users["wang_fang"]),
        step(red, Event.TRANSFER, "zhang_wei", comment="涉嫌违纪，移交纪检监察机关"),
        step(bell, Event.COMPLETE_DUTY, comment="未写完成日期"),
        step(bell, Event.COMPLETE_DUTY, comment="已按时拨付，附拨付凭证", data={"done_at": "2026-11-23"}),
        step(bell, Event.APPROVE_CLEARANCE, "zhang_wei", comment="凭证齐全"),
        step(expiring, Event.BELL_DEADLINE_PASSED, "system"),
        # Refusals write nothing, on either database, with the same words.
        step(normal, Event.START_VERIFY),
        step(batch1, Event.SUBMIT_VERIFICATION, "zhang_wei", slip=verification_slip()),
        step(batch1, Event.SUBMIT_VERIFICATION),
        outcome(lambda: transition(session, case_id=batch1, event=Event.START_VERIFY, actor=actors["li_na"],
                                   version=version(batch1) + 1, as_of=next(at))),
        outcome(lambda: transition_many(
            session, cases=[(batch1, version(batch1)), (batch2, version(batch2))],
            event=Event.SUBMIT_VERIFICATION, actor=actors["li_na"], as_of=next(at),
            slip=verification_slip(basis=AmountBasis.PER_CASE),
        )),
        outcome(lambda: act_on_cases(
            session, actor=actors["li_na"], cases=[(number(batch1), version(batch1)), (number(batch2), version(batch2))],
            event=Event.SUBMIT_RECTIFICATION, as_of=next(at), slip=rectification_slip(AmountBasis.PER_CASE),
        )),
        outcome(lambda: act_on_case(
            session, actor=actors["zhang_wei"], number=number(batch1), event=Event.APPROVE_RECTIFICATION,
            version=version(batch1), as_of=next(at),
        )),
        outcome(lambda: act_on_case(
            session, actor=actors["chen_jie"], number=number(batch2), event=Event.APPROVE_RECTIFICATION,
            version=version(batch2), as_of=next(at),
        )),
        outcome(lambda: request_extension(
            session, case_id=late, actor=actors["li_na"], version=version(late), as_of=next(at),
            reason="需调取银行流水，申请延期", requested_due_on=date(2026, 12, 31),
        )),
    ]  # fmt: skip
    request_id = session.connection().execute(
        sa.select(EscalationRequest.id).where(EscalationRequest.case_id == late)
    ).scalar_one()
    out.append(outcome(lambda: decide_extension(
        session, request_id=request_id, actor=actors["zhang_wei"], version=version(late), as_of=next(at),
        approve=True, new_due_on=date(2026, 12, 28),
    )))  # fmt: skip
    # Raised later, with deadlines that pass: the sweep escalates them (level 1, then 2).
    for _ in range(3):
        new_case(session, world, "red", at=NOW - timedelta(days=60))
    for days in (0, 30, 45):
        out.append(("swept", sweep(session, as_of=NOW + timedelta(days=days)).counts()))
    return out


def test_the_same_story_writes_the_same_rows_on_sqlite_and_postgresql(pair):
    played = {name: (story(session, world), snapshot(session)) for name, session, world in pair}
    (lite_out, lite_rows), (pg_out, pg_rows) = played["sqlite"], played["postgresql"]
    assert lite_out == pg_out
    # The story's refusals did refuse, each for its reason.
    assert [answer["code"] for kind, answer in lite_out if kind == "refused"] == [
        "invalid_input", "invalid_state", "role_not_allowed", "invalid_input", "stale_version", "out_of_scope",
    ]
    for table in COMPARED:
        assert lite_rows[table] == pg_rows[table], table
    assert len(lite_rows["case_event"]) > 30 and lite_rows["slip_version"] and lite_rows["escalation_request"]


ROLES = {Role.HANDLER: "li_na", Role.SUPERVISOR: "zhang_wei", Role.SYSTEM: "system"}


def _arguments(world, event: Event, conclusion: Conclusion) -> dict:
    if event == Event.SUBMIT_VERIFICATION:
        return {"slip": verification_slip(conclusion)}
    if event == Event.SUBMIT_RECTIFICATION:
        return {"slip": rectification_slip()}
    if event in (Event.REJECT_RECTIFICATION, Event.TRANSFER):
        return {"comment": "请补充材料"}
    if event == Event.REASSIGN:
        return {"assignee_id": world.users["wang_fang"]}
    return {}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rules=st.lists(st.sampled_from(["yellow", "red", "bell", "bell_red"]), min_size=1, max_size=3),
    moves=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 20), st.sampled_from(list(Conclusion)), st.booleans()),
        max_size=12,
    ),
)
def test_random_walks_write_the_same_rows_on_both_databases(pair, rules, moves):
    """Any walk through the table — the chosen role's allowed events, sometimes with a stale
    version — answers and writes alike on both databases."""
    shots = {}
    for name, session, world in pair:
        walk = session.begin_nested()
        try:
            cases = [new_case(session, world, rule) for rule in rules]
            answers = []
            for i, (pick, choice, conclusion, stale) in enumerate(moves):
                case_id = cases[pick % len(cases)]
                case = session.connection().execute(
                    sa.select(Case.state, Case.version).where(Case.id == case_id)
                ).one()
                options = [(e, r) for r, who in ROLES.items() for e in events_allowed(case.state, r)]
                if not options:
                    continue
                event, role = options[choice % len(options)]
                answers.append(outcome(partial(
                    transition, session, case_id=case_id, event=event, actor=world.actors[ROLES[role]],
                    version=case.version - 1 if stale else case.version,
                    as_of=NOW + timedelta(hours=i), **_arguments(world, event, conclusion),
                )))  # fmt: skip
            shots[name] = (answers, snapshot(session))
        finally:
            walk.rollback()
    assert shots["sqlite"] == shots["postgresql"]
