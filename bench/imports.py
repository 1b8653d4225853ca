"""Importing a nightly batch of warnings: workflows.intake.imports.import_warnings, 10,000 at once.

    python bench/imports.py [--items 10000] [--runs 3] [--backend postgresql,sqlite]
                            [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]
                            [--conflict] [--profile]

Each run gets a fresh database seeded with the tests' small province (tests.factories
.build_world: two counties, their departments and handlers, the four rules): on PostgreSQL
a database of our own (warnflow_bench_imports_<random>, cloned per run from a seeded
template, all dropped at the end); on SQLite a copy of a seeded file. A run times one call
of import_warnings over `--items` warnings as the platform's JSON body gives them (plain
dicts: a mix of yellow-light, red-light and yellow-bell rules over both counties, some with a
department code), plus the commit, in one transaction as the API route does. Prints each
run and the median. `--conflict` makes one warning look new to the batch's own duplicate
check while it is already on file (a concurrent request), so the set-based insert is
refused and the fallback (chunks of 250, the failing one item by item) is what is timed.
"""

import argparse
import cProfile
import io
import pstats
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path)
import psycopg
from common import machine, median
from sqlmodel import Session, func, select

from models import Case, CaseEvent, User
from models.db import make_engine
from models.migrate import upgrade
from tests.factories import NOW, build_world
from workflows.core.actors import load_actor
from workflows.intake import imports
from workflows.intake.imports import import_warnings

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
RULES = ["ZC-001", "ZC-001", "ZC-002", "ZB-001", "ZB-002"]  # yellow light, red light, two bells
REGIONS = ["410121", "410122", "410121001"]


def warnings(n: int, batch: str) -> list[dict]:
    items = []
    for i in range(n):
        rule = RULES[i % len(RULES)]
        item = {
            "rule_code": rule,
            "region_code": REGIONS[i % len(REGIONS)],
            "source": "henan-platform",
            "external_id": f"{batch}-{i:06d}",
            "raised_at": f"2026-11-{1 + i % 22:02d}T{8 + i % 9:02d}:30:00+08:00",
            "facts": {
                "fund_name": "中央财政衔接推进乡村振兴补助资金",
                "indicator_doc_no": f"豫财农〔2026〕{i % 97 + 1}号",
                "payer_name": "安县财政局",
                "payee_name": f"安县第{i % 500}农民专业合作社",
                "payee_account": f"62220202{i:011d}",
                "amount": f"{1000 + i * 7 % 90000}.{i % 100:02d}",
                "payment_date": f"2026-11-{1 + i % 18:02d}",
                "purpose": "产业扶持资金",
                "payload": {"voucher_no": f"PZ{i:08d}"},
            },
        }
        if rule == "ZB-002":
            item["duty_due_on"] = "2026-12-04"
        if i % 10 == 0 and item["region_code"] == "410121":
            item["department_code"] = "410121-YS"
        items.append(item)
    return items


def seed(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        build_world(session)
        session.commit()
    engine.dispose()


def run_once(url: str, items: list[dict], *, conflict: bool, profile: bool) -> float:
    engine = make_engine(url)
    real_existing = imports._existing_ids
    try:
        with Session(engine, expire_on_commit=False) as session:
            platform = session.exec(select(User.id).where(User.username == "platform")).one()
            actor = load_actor(session, platform)
            if conflict:
                # Already on file, as if another request had just committed it.
                import_warnings(session, actor=actor, items=items[len(items) // 2:][:1], as_of=NOW)
                session.commit()
                imports._existing_ids = lambda session, pairs: set()
            profiler = cProfile.Profile() if profile else None
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            result = import_warnings(session, actor=actor, items=items, as_of=NOW)
            session.commit()
            elapsed = time.perf_counter() - started
            if profiler:
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
                print(out.getvalue())
            expected = len(items) - 1 if conflict else len(items)
            if result.created != expected or result.errors:
                raise SystemExit(f"unexpected result: created {result.created}, errors {result.errors[:3]}")
            cases = session.exec(select(func.count(Case.id))).one()
            events = session.exec(select(func.count(CaseEvent.id))).one()
            assert cases == events == len(items), (cases, events)
    finally:
        imports._existing_ids = real_existing
        engine.dispose()
    return elapsed


def bench_postgresql(admin: str, items, runs: int, conflict: bool, profile: bool) -> list[float]:
    base = admin.rsplit("/", 1)[0]
    prefix = f"warnflow_bench_imports_{uuid.uuid4().hex[:8]}"
    template = f"{prefix}_seed"
    made = []

    def create(name: str, template_name: str | None = None) -> str:
        with psycopg.connect(admin, autocommit=True) as conn:
            clause = f' TEMPLATE "{template_name}"' if template_name else ""
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        made.append(name)
        return f"{base}/{name}"

    try:
        seed(create(template))
        times = []
        for run in range(runs + (1 if profile else 0)):
            url = create(f"{prefix}_run{run}", template)
            times.append(run_once(url, items, conflict=conflict, profile=profile and run == runs))
        return times[:runs]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in reversed(made):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_sqlite(items, runs: int, conflict: bool, profile: bool) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="warnflow_bench_imports_") as folder:
        seeded = Path(folder) / "seed.sqlite3"
        seed(f"sqlite:///{seeded}")
        times = []
        for run in range(runs + (1 if profile else 0)):
            copy = Path(folder) / f"run{run}.sqlite3"
            shutil.copyfile(seeded, copy)
            times.append(run_once(f"sqlite:///{copy}", items, conflict=conflict, profile=profile and run == runs))
        return times[:runs]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", default="postgresql,sqlite")
    parser.add_argument("--pg-admin", default=PG_ADMIN, help="URL of the server's postgres database")
    parser.add_argument("--conflict", action="store_true", help="time the fallback path")
    parser.add_argument("--profile", action="store_true", help="one more run under cProfile")
    args = parser.parse_args(argv)

    print(machine())
    items = warnings(args.items, "NIGHT")
    mode = "fallback (one concurrent duplicate)" if args.conflict else "set-based"
    for backend in [b.strip() for b in args.backend.split(",") if b.strip()]:
        if backend == "postgresql":
            times = bench_postgresql(args.pg_admin, items, args.runs, args.conflict, args.profile)
        elif backend == "sqlite":
            times = bench_sqlite(items, args.runs, args.conflict, args.profile)
        else:
            raise SystemExit(f"unknown backend {backend}")
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"{backend}: {args.items:,} warnings, {mode}: runs {runs} s; "
              f"median {median(times):.2f} s ({args.items / median(times):,.0f} warnings/s)")


if __name__ == "__main__":
    main()
