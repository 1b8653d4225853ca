"""The calendar re-plan over the 1,000,000-case database: an administrator marks one day a
holiday and 100,000 open deadlines move (then the day is removed and they move back).

    python bench/replan.py [--url …/warnflow_bench] [--moved 100000] [--runs 3]

Uses the database bench/generate.py made (migrated first). Every open case gets the basis the
migration gives older cases (due_from = due_on, due_days = 0). The scenario then gives
`--moved` open cases (spread over the table) deadlines counted across a far-future Tuesday,
2031-03-04: 200 distinct bases (20 start days × 10 day counts), deadlines from that Tuesday
to two weeks after it. No other open deadline crosses that day.

Each run times, end to end with a fresh session and the commit,
workflows.admin.calendar.set_calendar_day(2031-03-04, holiday) (every scenario case moves one
working day later, with its event), then unset_calendar_day (they move back). The bound,
measured in the same run on the same rows: the bare UPDATE of those cases' due_on and version
plus the INSERT ... SELECT of one event each — what any re-plan must at least write. Between
runs the events are deleted and versions restored; VACUUM ANALYZE; CHECKPOINT.
"""

import argparse
import time
from datetime import UTC, date, datetime, timedelta

import common  # noqa: F401  (puts the repository on sys.path)
import psycopg
from common import DEFAULT_URL, machine, median, psycopg_url
from sqlmodel import Session

from models.db import make_engine
from models.enums import DayKind
from models.migrate import upgrade
from workflows.admin.calendar import set_calendar_day, unset_calendar_day
from workflows.core.actors import Actor
from workflows.core.calendar import WorkingCalendar

DAY = date(2031, 3, 4)  # a Tuesday; 2031 has no official data, so Monday–Friday applies
AS_OF = datetime(2025, 10, 27, 1, 0, tzinfo=UTC)
SCENARIO = "bench_replan_scenario"
OPEN = ("yellow_bell", "yellow_light", "verifying", "red_light", "rectifying",
        "rectification_review", "reverify_review", "normal_review", "clearance_review")  # fmt: skip


def bases() -> list[tuple[date, int, date]]:
    """(due_from, due_days, due_on) of the scenario: 200 bases whose count crosses DAY."""
    calendar = WorkingCalendar()
    starts, d = [], DAY
    while len(starts) < 20:
        d -= timedelta(days=1)
        if calendar.is_working_day(d):
            starts.append(d)
    out = []
    for start in starts:
        to_day = calendar.working_days_between(start, DAY)
        for extra in range(10):
            days = to_day + extra
            out.append((start, days, calendar.add_working_days(start, days)))
    return out


def setup(pg: str, moved: int) -> None:
    with psycopg.connect(pg) as conn:
        conn.execute("UPDATE warning_case SET due_from = due_on, due_days = 0 "
                     "WHERE due_on IS NOT NULL AND due_from IS NULL")  # fmt: skip
        conn.execute("DELETE FROM calendar_day WHERE day = %s", (DAY,))
        # A previous scenario's cases get their own deadlines back.
        if conn.execute("SELECT to_regclass(%s)", (SCENARIO,)).fetchone()[0]:
            conn.execute(f"""UPDATE warning_case c SET due_on = s.due_on, due_from = s.due_on, due_days = 0
                             FROM {SCENARIO} s WHERE c.id = s.id""")  # fmt: skip
        conn.execute(f"DROP TABLE IF EXISTS {SCENARIO}")
        conn.execute(
            f"""CREATE TABLE {SCENARIO} AS
                SELECT id, version, updated_at, due_on,
                       (row_number() OVER (ORDER BY md5(id::text))) %% 200 AS b
                FROM warning_case WHERE state = ANY(%s) AND due_on IS NOT NULL
                ORDER BY md5(id::text) LIMIT %s""",
            (list(OPEN), moved),
        )  # fmt: skip
        conn.execute(f"ALTER TABLE {SCENARIO} ADD PRIMARY KEY (id)")
        conn.execute("CREATE TEMP TABLE basis (b int, due_from date, due_days int, due_on date)")
        with conn.cursor().copy("COPY basis FROM STDIN") as copy:
            for b, (start, days, due) in enumerate(bases()):
                copy.write_row((b, start, days, due))
        conn.execute(f"""UPDATE warning_case c SET due_from = x.due_from, due_days = x.due_days,
                         due_on = x.due_on FROM {SCENARIO} s JOIN basis x ON x.b = s.b
                         WHERE c.id = s.id""")  # fmt: skip
    vacuum(pg)


def reset(pg: str) -> None:
    with psycopg.connect(pg) as conn:
        conn.execute("DELETE FROM case_event WHERE event = 'deadline_replanned' OR event = 'bench_bound'")
        conn.execute("DELETE FROM audit_event WHERE kind = 'calendar_changed' AND at = %s", (AS_OF,))
        conn.execute(f"""UPDATE warning_case c SET version = s.version, updated_at = s.updated_at
                         FROM {SCENARIO} s WHERE c.id = s.id""")  # fmt: skip
    vacuum(pg)


def vacuum(pg: str) -> None:
    with psycopg.connect(pg, autocommit=True) as conn:
        for table in ("warning_case", "case_event", "calendar_day"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        conn.execute("CHECKPOINT")


def timed_bound(pg: str) -> float:
    """The writes any re-plan needs, as bare SQL on the same rows (rolled back)."""
    with psycopg.connect(pg) as conn:
        start = time.perf_counter()
        conn.execute(f"""WITH moved AS (
                UPDATE warning_case c SET due_on = c.due_on + 1, version = c.version + 1
                FROM {SCENARIO} s WHERE c.id = s.id RETURNING c.id, c.version, c.state, c.due_on)
            INSERT INTO case_event (case_id, seq, event, from_state, to_state, actor_role, at,
                                    comment, due_on, data)
            SELECT id, version, 'bench_bound', state, state, 'system', %s,
                   '节假日调整，期限由 X 调整为 Y', due_on, '{{}}'::json FROM moved""",
                     (AS_OF,))  # fmt: skip
        seconds = time.perf_counter() - start
        conn.rollback()
    return seconds


def timed(engine, action) -> tuple[float, int]:
    start = time.perf_counter()
    with Session(engine) as session:
        result = action(session)
        session.commit()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--moved", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args()
    pg = psycopg_url(args.url)
    if not args.no_migrate:
        upgrade(args.url.replace("postgresql://", "postgresql+psycopg://", 1))
    engine = make_engine(args.url)
    setup(pg, args.moved)
    with psycopg.connect(pg) as conn:
        cases, open_ = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = ANY(%s)) FROM warning_case", (list(OPEN),)
        ).fetchone()
    print(f"{machine()}\ndatabase: {cases} cases, {open_} open; scenario: {args.moved} open "
          f"deadlines counted across {DAY}")  # fmt: skip
    admin = Actor.system()
    add = lambda s: set_calendar_day(s, actor=admin, day=DAY, kind=DayKind.HOLIDAY,  # noqa: E731
                                     name="临时放假", as_of=AS_OF).replanned.moved
    remove = lambda s: unset_calendar_day(s, actor=admin, day=DAY, as_of=AS_OF).moved  # noqa: E731
    adds, removes, bounds = [], [], []
    for run in range(args.runs):
        bound = timed_bound(pg)
        seconds_add, moved_add = timed(engine, add)
        seconds_remove, moved_remove = timed(engine, remove)
        assert moved_add == moved_remove == args.moved, (moved_add, moved_remove)
        adds.append(seconds_add)
        removes.append(seconds_remove)
        bounds.append(bound)
        print(f"run {run + 1}: holiday added {seconds_add:.3f} s, removed {seconds_remove:.3f} s "
              f"({moved_add} deadlines moved each way); bound {bound:.3f} s; "
              f"ratio {seconds_add / bound:.2f}×")  # fmt: skip
        reset(pg)
    print(f"median: added {median(adds):.3f} s, removed {median(removes):.3f} s, "
          f"bound {median(bounds):.3f} s over {args.runs} runs")  # fmt: skip


if __name__ == "__main__":
    main()
