"""The bound under the intake figures: inserting the same case and event rows with no domain
logic, by COPY (what workflows.intake.intake._insert does on PostgreSQL) and by the former
INSERT … SELECT FROM json_to_recordset(one JSON text), alternately, in one run.

    python bench/imports_insert.py [--rows 50000] [--runs 3]
                                   [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]

Each run gets a fresh database (seeded with tests.factories.build_world, cloned from a
template) per method; the rows are what raise_cases writes for `--rows` yellow-light
warnings (every column given, numbers unique), the case rows then one `raise` event each.
Prints each run, the medians and the rows/s (cases + events counted as one warning).
"""

import argparse
import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import common  # noqa: F401  (puts the repository on sys.path)
import psycopg
import sqlalchemy as sa
from common import machine, median
from sqlmodel import Session, select

from models import Case, CaseEvent, OrgUnit, Region, Rule
from models.db import make_engine
from models.migrate import upgrade
from tests.factories import build_world
from workflows.intake.intake import FACT_FIELDS, _insert

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
AS_OF = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def json_recordset_insert(connection, table, rows: list[dict], *, returning) -> list:
    """The former PostgreSQL path of intake._insert, kept here to compare against."""
    quote = connection.dialect.identifier_preparer.quote
    names = list(rows[0])
    columns = ", ".join(quote(name) for name in names)
    shape = ", ".join(f"{quote(n)} {table.c[n].type.compile(connection.dialect)}" for n in names)
    statement = sa.text(
        f"INSERT INTO {quote(table.name)} ({columns}) "
        f"SELECT {columns} FROM json_to_recordset(CAST(:rows AS json)) AS r({shape}) "
        f"RETURNING {', '.join(quote(c.name) for c in returning)}"
    )

    def plain(value: Any) -> Any:
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value

    text = json.dumps([{k: plain(v) for k, v in row.items()} for row in rows], ensure_ascii=False)
    return connection.execute(statement, {"rows": text}).all()


def case_rows(n: int, rule_id: int, region_id: int, unit_id: int) -> list[dict]:
    rows = []
    for i in range(n):
        rows.append({
            **dict.fromkeys(FACT_FIELDS),
            "fund_name": "中央财政衔接推进乡村振兴补助资金", "payee_name": f"安县第{i % 500}合作社",
            "payee_account": f"62220202{i:011d}", "amount": f"{1000 + i % 9000}.50",
            "payment_date": date(2026, 11, 18), "purpose": "产业扶持资金",
            "number": f"YJ-202611-{i + 1:06d}", "rule_id": rule_id, "raised_level": "yellow_light",
            "state": "yellow_light", "region_id": region_id, "org_unit_id": unit_id,
            "assignee_id": None, "payload": {"voucher_no": f"PZ{i:08d}"}, "source": "bench",
            "external_id": f"B-{i:06d}", "raised_at": AS_OF - timedelta(hours=i % 48),
            "duty_due_on": None, "due_on": date(2026, 11, 30), "entered_step_at": AS_OF,
            "version": 1, "escalation_level": 0, "resolution": None, "closed_at": None,
            "created_at": AS_OF, "updated_at": AS_OF,
        })
    return rows


def event_rows(ids: list[int]) -> list[dict]:
    return [{"case_id": case_id, "seq": 1, "event": "raise", "from_state": None,
             "to_state": "yellow_light", "actor_id": None, "actor_role": "integration", "at": AS_OF,
             "comment": None, "slip_id": None, "due_on": date(2026, 11, 30),
             "data": {"level": "yellow_light"}} for case_id in ids]


def run_once(url: str, n: int, method) -> float:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rule_id = session.exec(select(Rule.id).where(Rule.code == "ZC-001")).one()
            region_id = session.exec(select(Region.id).where(Region.code == "410121")).one()
            unit_id = session.exec(select(OrgUnit.id).where(OrgUnit.code == "410121-NY")).first() or \
                session.exec(select(OrgUnit.id)).first()
            rows = case_rows(n, rule_id, region_id, unit_id)
            connection = session.connection()
            cases, events = Case.__table__, CaseEvent.__table__
            started = time.perf_counter()
            returned = method(connection, cases, rows, returning=(cases.c.id, cases.c.number))
            method(connection, events, event_rows([r.id for r in returned]), returning=(events.c.id,))
            session.commit()
            return time.perf_counter() - started
    finally:
        engine.dispose()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    args = parser.parse_args(argv)
    print(machine())
    base = args.pg_admin.rsplit("/", 1)[0]
    prefix = f"warnflow_bench_insert_{uuid.uuid4().hex[:8]}"
    made: list[str] = []

    def create(name: str, template: str | None = None) -> str:
        with psycopg.connect(args.pg_admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        made.append(name)
        return f"{base}/{name}"

    methods = {"COPY": _insert, "json_to_recordset": json_recordset_insert}
    times: dict[str, list[float]] = {name: [] for name in methods}
    try:
        seed = create(f"{prefix}_seed")
        upgrade(seed)
        engine = make_engine(seed)
        with Session(engine) as session:
            build_world(session)
            session.commit()
        engine.dispose()
        for run in range(args.runs):
            for name, method in methods.items():
                url = create(f"{prefix}_{run}_{name.lower()}", f"{prefix}_seed")
                times[name].append(run_once(url, args.rows, method))
                print(f"run {run + 1} {name}: {times[name][-1]:.2f} s")
    finally:
        with psycopg.connect(args.pg_admin, autocommit=True) as conn:
            for name in reversed(made):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for name, values in times.items():
        m = median(values)
        print(f"{name}: {args.rows:,} cases + {args.rows:,} events: runs "
              f"{', '.join(f'{t:.2f}' for t in values)} s; median {m:.2f} s ({args.rows / m:,.0f} warnings/s)")


if __name__ == "__main__":
    main()
