"""The three-month rule's month evaluation over the 1,000,000-case database (issue 6: < 2 s).

    python bench/streaks.py [--url …/warnflow_bench] [--runs 5] [--month 2026-11]

Uses the database bench/generate.py made (migrated first: models.migrate.upgrade). Times
`workflows.oversight.streaks.evaluate_month` for every city and county (the 100 of the bench province)
as the monthly job runs it: on the first working day after the month, with the month before
already evaluated (evaluated untimed first, in the same transaction). Every run is rolled
back, so the database keeps no region_month rows and each run does the same work.

Also timed, once each: a cold evaluation (no earlier month stored: it evaluates the six
months before as well, as the first run after installation does) and an older month, whose
cases have mostly changed since its end (the slower path: their last event before the end).
Prints EXPLAIN (ANALYZE, BUFFERS) of the month's statement.
"""

import argparse
import time
from datetime import UTC, date, datetime, timedelta

import common  # noqa: F401  (puts the repository on sys.path)
import sqlalchemy as sa
from common import DEFAULT_URL, machine, median
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from models.db import make_engine
from models.migrate import upgrade
from workflows.oversight.streaks import _month_rows, add_months, evaluate_month, month_boundary


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def first_working_day_after(month: date) -> datetime:
    """06:00 Shanghai on the first weekday of the next month (as UTC)."""
    day = add_months(month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC) - timedelta(hours=8)


def timed(engine, month: date, *, prepare: bool) -> tuple[float, object]:
    as_of = first_working_day_after(month)
    with Session(engine) as session:
        if prepare:
            evaluate_month(session, month=add_months(month, -1), as_of=as_of, backfill=False)
        started = time.perf_counter()
        result = evaluate_month(session, month=month, as_of=as_of, backfill=not prepare)
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed, result


def explain(engine, month: date) -> str:
    as_of = first_working_day_after(month)
    statement = _month_rows(month, as_of, ["yellow_light", "red_light"])
    sql = str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    with engine.connect() as connection:
        connection.execute(sa.text("SET LOCAL jit = off"))  # as evaluate_month does
        rows = connection.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
        connection.rollback()
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--month", default="2026-11", help="the month evaluated (YYYY-MM)")
    args = parser.parse_args()
    url = (
        args.url
        if "+" in args.url
        else args.url.replace("postgresql://", "postgresql+psycopg://", 1)
    )
    upgrade(url)
    engine = make_engine(url)
    month = date.fromisoformat(args.month + "-01")
    print(machine())
    with engine.connect() as connection:
        cases, regions = connection.execute(sa.text(
            "SELECT (SELECT count(*) FROM warning_case), "
            "(SELECT count(*) FROM region WHERE level IN ('city', 'county'))")).one()  # fmt: skip
        boundary = month_boundary(month)
        changed = connection.execute(
            sa.text("SELECT count(*) FROM warning_case WHERE updated_at >= :b AND raised_at < :b"),
            {"b": boundary},
        ).scalar_one()
    print(f"{cases:,} cases, {regions} cities and counties; month {month:%Y-%m} "
          f"(boundary {boundary.isoformat()}), {changed:,} cases changed since its end")  # fmt: skip
    timed(engine, month, prepare=True)  # warm the cache once
    runs = []
    for n in range(args.runs):
        elapsed, result = timed(engine, month, prepare=True)
        runs.append(elapsed)
        print(f"run {n + 1}: {elapsed:.3f} s  (load {load()})  {result.summary}")
    print(f"median of {len(runs)}: {median(runs):.3f} s")
    cold, result = timed(engine, month, prepare=False)
    print(
        f"cold (evaluates {len(result.backfilled)} earlier months too): {cold:.3f} s  (load {load()})"
    )
    older = add_months(month, -3)
    with engine.connect() as connection:
        changed = connection.execute(
            sa.text("SELECT count(*) FROM warning_case WHERE updated_at >= :b AND raised_at < :b"),
            {"b": month_boundary(older)},
        ).scalar_one()
    elapsed, _ = timed(engine, older, prepare=True)
    print(f"older month {older:%Y-%m} ({changed:,} cases changed since its end): {elapsed:.3f} s")
    print(explain(engine, month))


if __name__ == "__main__":
    main()
