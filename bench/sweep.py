"""The deadline sweep over the 1,000,000-case database: 100,000 newly overdue, then nothing to do.

    python bench/sweep.py [--url …/warnflow_bench] [--overdue 100000] [--level2 20000] [--runs 3]

Uses the database bench/generate.py made (migrated first: models.migrate.upgrade). The
generated due dates start on 2025-10-30, so the sweep runs "as of" Monday 2025-10-27 09:00
Shanghai, when no generated deadline has passed and none is within the reminder lead. The
scenario then makes exactly `--overdue` open cases (spread over the table, in the states the
ladder escalates) newly overdue at that moment, committed before timing:

  * overdue - level2 of them at level 0 with the previous working day as deadline → level 1
    (event + notices to the handler and the department's supervisors);
  * `--level2` of them at level 1, past the grace days → level 2 (event + escalation request
    + notices to the supervisors).

Each run times `workflows.escalation.sweep.sweep(session, as_of=…, commit=True)` end to end (fresh
session, batches committed, outbox rows included), then resets the scenario (deletes the
run's events, requests and outbox rows, restores the cases; VACUUM ANALYZE; CHECKPOINT).
With --baseline, each run is preceded by the bare one-statement bound on the same scenario
(timed_bound), and each run's sweep/bound ratio is printed.
After the runs, the same sweep again with nothing to do (`--runs` times). Prints the counts,
the medians, and EXPLAIN (ANALYZE, BUFFERS) summaries of each distinct statement the sweep
sent (executed in a transaction that is rolled back).
"""

import argparse
import os
import re
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import common  # noqa: F401  (puts the repository on sys.path)
import psycopg
import sqlalchemy as sa
from common import DEFAULT_URL, machine, median, psycopg_url
from sqlmodel import Session

from models.db import make_engine
from models.migrate import upgrade
from workflows.core.calendar import load_calendar
from workflows.escalation.sweep import LADDER_STATES, sweep, thresholds, working_days_before

AS_OF = datetime(2025, 10, 27, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SCENARIO = "bench_sweep_scenario"


def setup(pg: str, engine, overdue: int, level2: int, clustered: bool = False) -> tuple[date, date]:
    """Pick the scenario's cases once (kept in a scratch table with their original version
    and updated_at); returns (level-1 deadline, level-2 deadline)."""
    with Session(engine) as session:
        calendar = load_calendar(session)
        t = thresholds(calendar, AS_OF)
        grace = session.execute(sa.text(
            "SELECT DISTINCT escalation_grace_days FROM rule")).scalars().all()
    if any(g is not None for g in grace):
        raise SystemExit("rules with their own grace days: the level-2 deadline would differ")
    from models.settings import get_settings

    due1 = working_days_before(calendar, t.passed, 1)
    due2 = working_days_before(calendar, t.passed, get_settings().escalation_grace_days + 1)
    states = [s.value for s in LADDER_STATES]
    with psycopg.connect(pg, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (SCENARIO,)).fetchone()[0]
        count = conn.execute(f"SELECT count(*) FROM {SCENARIO}").fetchone()[0] if exists else 0
        order = "id" if clustered else "md5(id::text)"
        if count != overdue or (exists and conn.execute(
                f"SELECT count(*) FILTER (WHERE level = 1), min(order_by) FROM {SCENARIO}"
                ).fetchone() != (level2, order)):
            if exists:  # give the previous scenario's cases their deadlines back
                conn.execute(
                    f"""UPDATE warning_case c SET escalation_level = 0, due_on = s.due_on
                        FROM {SCENARIO} s WHERE c.id = s.id""")
            conn.execute(f"DROP TABLE IF EXISTS {SCENARIO}")
            # Default: spread over the heap (md5 order), each case on its own page — the worst
            # case; --clustered takes consecutive ids (cases raised around the same days).
            conn.execute(
                f"""CREATE TABLE {SCENARIO} AS
                    SELECT id, version, updated_at, due_on, %s AS order_by,
                           CASE WHEN row_number() OVER (ORDER BY {order}) <= %s
                                THEN 1 ELSE 0 END AS level
                    FROM warning_case WHERE state = ANY(%s)
                    ORDER BY {order} LIMIT %s""",
                (order, level2, states, overdue),
            )  # fmt: skip
            conn.execute(f"ALTER TABLE {SCENARIO} ADD PRIMARY KEY (id)")
    return due1, due2


def reset(pg: str, due1: date, due2: date) -> None:
    """Undo a run: the scenario's cases newly overdue again, the run's rows gone."""
    with psycopg.connect(pg) as conn:
        conn.execute("DELETE FROM notification WHERE created_at = %s", (AS_OF,))
        conn.execute(
            f"DELETE FROM case_event e USING {SCENARIO} s WHERE e.case_id = s.id AND e.at = %s",
            (AS_OF,))
        conn.execute("DELETE FROM escalation_request WHERE requested_at = %s", (AS_OF,))
        conn.execute("DELETE FROM deadline_reminder WHERE at = %s", (AS_OF,))
        conn.execute(
            f"""UPDATE warning_case c
                SET escalation_level = s.level, version = s.version, updated_at = s.updated_at,
                    due_on = CASE WHEN s.level = 1 THEN %s::date ELSE %s::date END
                FROM {SCENARIO} s WHERE c.id = s.id""",
            (due2, due1),
        )  # fmt: skip
    with psycopg.connect(pg, autocommit=True) as conn:
        for table in ("warning_case", "case_event", "escalation_request", "notification",
                      "deadline_reminder"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        conn.execute("CHECKPOINT")


def counts(pg: str) -> dict[str, int]:
    with psycopg.connect(pg) as conn:
        one = lambda sql: conn.execute(sql, (AS_OF,)).fetchone()[0]  # noqa: E731
        return {
            "events": one("SELECT count(*) FROM case_event WHERE at = %s"),
            "requests": one("SELECT count(*) FROM escalation_request WHERE requested_at = %s"),
            "outbox rows": one("SELECT count(*) FROM notification WHERE created_at = %s"),
        }


class Breakdown:
    """Seconds spent in the database per kind of statement during one sweep."""

    def __init__(self, engine):
        self.engine, self.seconds, self.calls = engine, {}, {}
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        context._bench_start = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        words = " ".join(statement.split())
        label = re.sub(r"%\(\w+\)s(::\w+)?", "?", words)[:70]
        self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - context._bench_start
        self.calls[label] = self.calls.get(label, 0) + 1

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)

    def print(self, total: float) -> None:
        for label, sec in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            print(f"    {sec:7.3f} s  {self.calls[label]:4d}×  {label}")
        print(f"    {total - sum(self.seconds.values()):7.3f} s  outside statements (Python, commits)")


class Recorder:
    """The statements the sweep sends, first occurrence of each text, with its parameters."""

    def __init__(self, engine):
        self.statements: dict[str, object] = {}
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.split(None, 1)[0].upper() in ("SELECT", "UPDATE", "INSERT", "WITH"):
            self.statements.setdefault(statement, parameters)


def timed_bound(pg: str, due_passed: date, due_level2: date) -> tuple[float, int]:
    """The bare one-statement bound: the scenario's cases found by the same predicates
    (ladder state, level, deadline), UPDATE … RETURNING feeding INSERT … SELECT of their
    events into case_event (its foreign keys and indexes included), one commit — no batches,
    no escalation requests, no notices. Returns (seconds, events written)."""
    states = [s.value for s in LADDER_STATES]
    start = time.perf_counter()
    with psycopg.connect(pg) as conn:
        written = conn.execute(
            """WITH changed AS (
                   UPDATE warning_case SET escalation_level = escalation_level + 1,
                          version = version + 1, updated_at = %(at)s
                   WHERE state = ANY(%(states)s)
                     AND ((escalation_level = 0 AND due_on < %(passed)s)
                          OR (escalation_level = 1 AND due_on < %(level2)s))
                   RETURNING id, version, state, due_on, escalation_level)
               INSERT INTO case_event (case_id, seq, event, from_state, to_state, actor_role, at,
                                       due_on, data)
               SELECT id, version, 'escalate', state, state, 'system', %(at)s, due_on,
                      json_build_object('level', escalation_level)
               FROM changed""",
            {"at": AS_OF, "states": states, "passed": due_passed, "level2": due_level2},
        ).rowcount
    return time.perf_counter() - start, written


def timed_sweep(engine, batch_size: int) -> tuple[float, object]:
    start = time.perf_counter()
    with Session(engine) as session:
        result = sweep(session, as_of=AS_OF, commit=True, batch_size=batch_size)
        session.commit()
    return time.perf_counter() - start, result


_SCAN = re.compile(r"((?:Parallel )?(?:Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan|Seq Scan)"
                   r"(?: Backward)?(?: using \S+)? on \S+).*actual time=[\d.]+\.\.([\d.]+) rows=(\d+)")


def explain(pg: str, statements: dict[str, object]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement on the freshly reset scenario, rolled back."""
    for sql, params in statements.items():
        with psycopg.connect(pg) as conn:
            try:
                with conn.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    lines = [r[0] for r in cur.fetchall()]
            finally:
                conn.rollback()
        head = " ".join(sql.split())[:110]
        total = next((ln for ln in lines if ln.startswith("Execution Time")), "?")
        print(f"\n  {head} …\n    {total}")
        buffers = next((ln.strip() for ln in lines if "Buffers:" in ln), None)
        if buffers:
            print(f"    top node {buffers}")
        for ln in lines:
            m = _SCAN.search(ln)
            if m:
                print(f"    {m.group(1)}  ({m.group(3)} rows, {m.group(2)} ms)")
            elif ln.startswith("Trigger"):  # foreign-key checks of the INSERTs
                print(f"    {ln}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--overdue", type=int, default=100_000)
    parser.add_argument("--level2", type=int, default=20_000, help="of --overdue, how many reach level 2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=20_000, help="sweep()'s batch_size")
    parser.add_argument("--clustered", action="store_true", help="overdue cases with consecutive ids")
    parser.add_argument("--baseline", action="store_true",
                        help="before each sweep run, time the bare one-statement bound on the same scenario")
    parser.add_argument("--no-plans", action="store_true", help="skip the EXPLAIN ANALYZE part")
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args()
    pg = psycopg_url(args.url)
    if not args.no_migrate:
        upgrade(args.url.replace("postgresql://", "postgresql+psycopg://", 1))
    engine = make_engine(args.url)
    with psycopg.connect(pg) as conn:
        cases, open_ = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state <> ALL(%s)) FROM warning_case",
            (["cleared", "transferred", "green"],),
        ).fetchone()
    print(f"{machine()}\ndatabase: {cases} cases, {open_} not cleared/transferred/green; as_of {AS_OF}")
    due1, due2 = setup(pg, engine, args.overdue, args.level2, args.clustered)
    print(f"scenario ({'consecutive ids' if args.clustered else 'spread over the table'}): "
          f"{args.overdue - args.level2} cases level 0 due {due1} (→ level 1), "
          f"{args.level2} level 1 due {due2} (→ level 2)")

    reset(pg, due1, due2)
    # The bound's thresholds: the sweep's own (a deadline before `passed` → level 1; before
    # the grace's working day → level 2).
    with Session(engine) as session:
        calendar = load_calendar(session)
    t = thresholds(calendar, AS_OF)
    from models.settings import get_settings

    before2 = working_days_before(calendar, t.passed, get_settings().escalation_grace_days)
    busy, quiet, bounds = [], [], []
    recorder_busy = recorder_quiet = None
    for run in range(args.runs):
        if args.baseline:
            bound, written = timed_bound(pg, t.passed, before2)
            bounds.append(bound)
            print(f"bound {run + 1}: {bound:.3f} s  ({written} events; load average {os.getloadavg()[0]:.1f})")
            reset(pg, due1, due2)
        if run == 0:
            recorder_busy = Recorder(engine)
        breakdown = Breakdown(engine) if run == args.runs - 1 else None
        seconds, result = timed_sweep(engine, args.batch_size)
        if run == 0:
            sa.event.remove(engine, "before_cursor_execute", recorder_busy._record)
        found = counts(pg)
        busy.append(seconds)
        ratio = f"  = {seconds / bounds[-1]:.2f}× the bound" if args.baseline else ""
        print(f"run {run + 1}: {seconds:.3f} s{ratio}  {result.counts()}  in the database: {found}"
              f"  load average {os.getloadavg()[0]:.1f}")
        if breakdown:
            breakdown.close()
            breakdown.print(seconds)
        reset(pg, due1, due2)
    # Nothing to do: the scenario swept once (untimed), then the same as_of again.
    timed_sweep(engine, args.batch_size)
    for run in range(args.runs):
        if run == 0:
            recorder_quiet = Recorder(engine)
        seconds, result = timed_sweep(engine, args.batch_size)
        if run == 0:
            sa.event.remove(engine, "before_cursor_execute", recorder_quiet._record)
        quiet.append(seconds)
        print(f"nothing to do, run {run + 1}: {seconds:.3f} s  {result.counts()}")
    print(f"\nbatch_size {args.batch_size}; median with {args.overdue} newly overdue: {median(busy):.3f} s  (runs: "
          f"{', '.join(f'{s:.3f}' for s in busy)})")
    if args.baseline:
        ratios = [s / b for s, b in zip(busy, bounds, strict=True)]
        print(f"bound (one statement, no batches/requests/notices): median {median(bounds):.3f} s  (runs: "
              f"{', '.join(f'{s:.3f}' for s in bounds)}); sweep/bound per run: "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; median ratio {median(ratios):.2f}; "
              f"ratio of medians {median(busy) / median(bounds):.2f}")
    print(f"median with nothing to do: {median(quiet):.3f} s  (runs: {', '.join(f'{s:.3f}' for s in quiet)})")

    if args.no_plans:
        reset(pg, due1, due2)  # leave the scenario ready for the next invocation
        return
    print("\nplans, nothing to do (EXPLAIN ANALYZE, BUFFERS):")
    explain(pg, recorder_quiet.statements)
    reset(pg, due1, due2)
    print("\nplans, first batch of the busy sweep (each statement alone, rolled back):")
    explain(pg, recorder_busy.statements)
    reset(pg, due1, due2)


if __name__ == "__main__":
    main()
