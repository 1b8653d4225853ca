"""Create a PostgreSQL database with N realistic warning cases, fast.

    python bench/generate.py --cases 1000000 [--url postgresql://…/warnflow_bench] [--seed 1]

The database is created afresh (dropped first if it exists and its name says "bench"),
migrated with models.migrate.upgrade, and filled with the province of bench/world.py and
N cases in every state. Each case's history is what transition() would have written: one
`raise` event plus the events of a path through the lifecycle table (workflows/cases/lifecycle.py)
to its state, the deadlines the working-day calendar gives at each step, a slip wherever an
event files one, and a version equal to its number of events. case_number_counter is set
so that numbering continues after the generated cases.

How it is fast on a small machine: Python walks the lifecycle table once per (path, rule)
and computes the working-day table, COPYs those few hundred rows into scratch tables, and
PostgreSQL expands them to N cases with INSERT … SELECT over generate_series (gen_sql.py),
two connections at a time. Secondary indexes and unique constraints are dropped for the
load and rebuilt after it; foreign keys stay declared but are not checked row by row
(session_replication_role = replica) since the data is consistent by construction.
"""

import argparse
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import common  # noqa: F401  (puts the repository on sys.path)
import gen_sql
import psycopg
import sqlalchemy as sa
from common import DEFAULT_URL, machine, psycopg_url, split_url
from sqlmodel import Session
from world import build_world, department_of, name_maker

from models.db import make_engine
from models.enums import (
    Conclusion,
    Event,
    Level,
    Role,
    SlipKind,
    State,
    VerifyMethod,
    ViolationType,
)
from models.migrate import upgrade
from models.settings import Settings
from workflows.cases.lifecycle import INITIAL, LIFECYCLE, Deadline
from workflows.core.calendar import LOCAL_TZ, WorkingCalendar, load_calendar
from workflows.core.clock import now_utc
from workflows.demo import (
    FUNDS,
    PATHS,
    PAYEES,
    PERSONS,
    PURPOSES,
    TARGET_WEIGHTS,
    V_NORMAL,
    V_VIOLATION,
)

BIG_TABLES = ["warning_case", "case_event", "slip", "slip_version", "case_slip"]
# Paths to each end state: the demo's, plus an expired bell that turns red.
BENCH_PATHS = {
    **PATHS,
    State.RED_LIGHT: [*PATHS[State.RED_LIGHT], (Level.YELLOW_BELL, [Event.BELL_DEADLINE_PASSED])],
}
COMMENTS = {
    Event.REJECT_RECTIFICATION: "整改材料不完整，请补充资金收回的银行回单后重新提交。",
    Event.TRANSFER: "涉嫌虚报冒领，移交县纪委监委处理。",
}
TEXTS = {
    "normal": "经电话核实并调阅相关材料，该笔支付用途与项目批复一致，属正常支付。",
    "violation": "经调阅拨付凭证并实地核查，该笔资金存在与批复用途不符的情况。",
    "recovered": "已责令项目单位整改，违规资金已收回至专户并重新按规定拨付。",
    "corrected": "已督促项目单位补齐手续并完成整改。",
    "phone": "0371-66668888",
}
METHODS = [[VerifyMethod.PHONE], [VerifyMethod.DOCUMENTS], [VerifyMethod.SITE_VISIT],
           [VerifyMethod.PHONE, VerifyMethod.DOCUMENTS], [VerifyMethod.DOCUMENTS, VerifyMethod.SITE_VISIT],
           [VerifyMethod.SYSTEM_DATA]]


@dataclass(frozen=True)
class StepPlan:
    k: int
    event: str
    from_state: str
    to_state: str
    actor: str  # the role: "handler" | "supervisor" | "system"
    slip: SlipKind | None
    conclusion: Conclusion | None
    comment: str | None
    # Which deadline the case has after this step: none ("clear"), the raising one
    # ("initial"), or `days` working days after the day of step `src_k` ("calc").
    due_mode: str
    src_k: int
    days: int | None


@dataclass(frozen=True)
class Template:
    """One way to reach one end state under one rule."""

    rule: sa.Row
    level: Level
    initial: State
    initial_days: int
    steps: tuple[StepPlan, ...]
    final: State
    resolution: str | None
    expired_bell: bool
    cleared_bell: bool


def rule_days(rule, kind: Deadline, defaults: dict[Deadline, int]) -> int:
    own = {Deadline.VERIFY: rule.verify_days, Deadline.RECTIFY: rule.rectify_days,
           Deadline.REVIEW: rule.review_days}.get(kind)
    return own or defaults.get(kind, 0)


def templates(rules, defaults) -> tuple[list[Template], list[float]]:
    """Every (path, rule) pair with its share of cases, by walking the lifecycle table."""
    out, weights = [], []
    for target, paths in BENCH_PATHS.items():
        for level, steps in paths:
            candidates = [r for r in rules if r.level == level]
            if Event.BELL_DEADLINE_PASSED in steps:
                candidates = [r for r in candidates if r.bell_becomes == target.level]
            for rule in candidates:
                out.append(walk(rule, level, steps, defaults, target))
                weights.append(TARGET_WEIGHTS[target] / len(paths) / len(candidates))
                assert out[-1].final == target, (target, steps)
    return out, weights


def walk(rule, level: Level, steps, defaults, target: State | None = None) -> Template:
    """Apply the lifecycle table's steps, as transition() would, and note each deadline."""
    start = INITIAL[level]
    state, plans, resolution = start.to, [], None
    due = ("initial", 0, None)  # the deadline in force: (mode, source step, days)
    for k, marker in enumerate(steps, start=1):
        event = Event.SUBMIT_VERIFICATION if marker in (V_NORMAL, V_VIOLATION) else marker
        step = LIFECYCLE[(state, event)]
        conclusion = None
        if marker in (V_NORMAL, V_VIOLATION):
            conclusion = Conclusion.NORMAL if marker == V_NORMAL else Conclusion.VIOLATION
            key = conclusion.value
            # 认定正常 above the review amount waits for the supervisor (the demo's path).
            if conclusion == Conclusion.NORMAL and target == State.NORMAL_REVIEW and k == len(steps):
                key = "normal_review"
        elif step.branch == "bell_becomes":
            key = rule.bell_becomes or Level.YELLOW_LIGHT.value
        else:
            key = ""
        outcome = step.outcomes[key]
        match outcome.deadline:
            case Deadline.KEEP:
                pass
            case Deadline.CLEAR:
                due = ("clear", 0, None)
            case Deadline.VERIFY | Deadline.RECTIFY | Deadline.REVIEW:
                due = ("calc", k, rule_days(rule, outcome.deadline, defaults))
            case other:
                raise AssertionError(f"no generator for deadline {other} after {event}")
        if Role.HANDLER in step.roles:
            actor = "handler"
        elif Role.SUPERVISOR in step.roles:
            actor = "supervisor"
        else:
            actor = "system"
        plans.append(StepPlan(k, event.value, state.value, outcome.to.value, actor, step.slip,
                              conclusion, COMMENTS.get(event), *due))
        state, resolution = outcome.to, outcome.resolution
    return Template(rule, level, start.to, rule_days(rule, start.deadline, defaults), tuple(plans),
                    state, resolution.value if resolution else None,
                    Event.BELL_DEADLINE_PASSED in steps, steps == [Event.COMPLETE_DUTY])


EPOCH = date(1970, 1, 1)


def working_days_table(calendar: WorkingCalendar, today: date, counts: set[int]) -> list[tuple]:
    """(day, n, n-th working day after it, that day's month) for every day the generator may
    need; days are numbered from 1970-01-01."""
    rows = []
    for offset in range(-480, 30):
        day = today + timedelta(days=offset)
        for n in sorted(counts):
            due = calendar.add_working_days(day, n)
            rows.append(((day - EPOCH).days, n, (due - EPOCH).days, due.year * 100 + due.month))
    return rows


def create_database(url: str, replace: bool) -> None:
    admin, name = split_url(psycopg_url(url))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            if "bench" not in name and not replace:
                raise SystemExit(f"database {name} exists; refusing to drop it (pass --replace to do so)")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def secondary_indexes(conn) -> tuple[list[str], list[str]]:
    """(drop statements, re-creations) for the big tables' unique constraints and indexes."""
    drops, creates = [], []
    for table, name, definition in conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)", (BIG_TABLES,)
    ):
        drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        creates.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (BIG_TABLES,),
    ):
        drops.append(f"DROP INDEX {name}")
        creates.append(definition)
    return drops, creates


@dataclass
class Job:
    name: str
    statements: list[tuple[str, dict | None]]
    after: tuple[str, ...] = ()


def run_parallel(url: str, jobs: list[Job], workers: int = 2) -> dict[str, float]:
    """Run jobs on `workers` connections at once, each when the jobs it comes after are done,
    in list order otherwise; returns each job's seconds."""
    pending, done, seconds = list(jobs), set(), {}
    ready = threading.Condition()
    errors: list[BaseException] = []

    def next_job() -> Job | None:
        with ready:
            while pending and not errors:
                for job in pending:
                    if done.issuperset(job.after):
                        pending.remove(job)
                        return job
                ready.wait()
            return None

    def work() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for setting in ("maintenance_work_mem = '512MB'", "work_mem = '256MB'",
                            "session_replication_role = replica", "synchronous_commit = off"):
                conn.execute(f"SET {setting}")
            while (job := next_job()) is not None:
                start = time.perf_counter()
                try:
                    for sql, params in job.statements:
                        conn.execute(sql, params)
                except BaseException as e:  # re-raised in the main thread
                    errors.append(e)
                seconds[job.name] = time.perf_counter() - start
                with ready:
                    done.add(job.name)
                    ready.notify_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return seconds


def load_scratch(conn, world, tmpls, weights, calendar, today) -> dict:
    """COPY what Python knows into bench_gen.*; return the parameters of the expansion."""
    conn.execute(gen_sql.SCHEMA)
    counts = {0, *(t.initial_days for t in tmpls), *(t.rule.bell_lead_days or 3 for t in tmpls),
              *(s.days for t in tmpls for s in t.steps if s.days is not None)}
    with conn.cursor() as cur:
        with cur.copy("COPY bench_gen.tmpl FROM STDIN") as copy:
            for i, t in enumerate(tmpls, start=1):
                last = t.steps[-1] if t.steps else None
                payload = f'{{"monitoring_platform": "财政扶贫资金动态监控平台", "rule_code": "{t.rule.code}"}}'
                copy.write_row((
                    i, t.rule.id, t.level.value, t.initial.value, t.initial_days, t.rule.bell_lead_days or 3,
                    t.final.value, t.resolution, len(t.steps), t.expired_bell, t.cleared_bell,
                    t.final.is_open, payload, department_of(t.rule).value,
                    last.due_mode if last else "initial", last.src_k if last else 0,
                    last.days if last else None,
                ))
        with cur.copy("COPY bench_gen.step FROM STDIN") as copy:
            for i, t in enumerate(tmpls, start=1):
                for s in t.steps:
                    copy.write_row((i, s.k, len(t.steps), s.event, s.from_state, s.to_state, s.actor,
                                    s.slip.value if s.slip else None,
                                    s.conclusion.value if s.conclusion else None, s.comment,
                                    s.due_mode, s.src_k, s.days))
        with cur.copy("COPY bench_gen.place FROM STDIN") as copy:
            for r, region in enumerate(world.case_regions):
                payees = [p.format(town=region.county_name + region.town_name, county=region.county_name)
                          for p in PAYEES + PERSONS]
                for (county_id, kind), unit in world.units.items():
                    if county_id == region.county_id:
                        copy.write_row((r, kind.value, region.region_id, unit.id,
                                        [h[0] for h in unit.handlers], [h[1] for h in unit.handlers],
                                        unit.supervisor[0], f"{region.county_name}财政局", payees))
        with cur.copy("COPY bench_gen.wd FROM STDIN") as copy:
            for row in working_days_table(calendar, today, counts):
                copy.write_row(row)
        with cur.copy("COPY bench_gen.months FROM STDIN") as copy:
            for offset in range(-480, 30):
                day = today + timedelta(days=offset)
                copy.write_row(((day - EPOCH).days, day.year * 100 + day.month))
    total = sum(weights)
    bounds, acc = [0.0], 0.0
    for w in weights[:-1]:
        acc += w
        bounds.append(acc / total)
    yesterday = today - timedelta(days=1)
    return {"bounds": bounds, "regions": len(world.case_regions), "today": (today - EPOCH).days,
            "yesterday_month": yesterday.year * 100 + yesterday.month}


def generate(
    url: str, cases: int, seed: int, as_of: datetime, replace: bool = False, keep_scratch: bool = False,
    counties_per_city: int = 8,
) -> dict:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    create_database(url, replace)
    upgrade(url)
    timings["create + migrate"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    import random

    engine = make_engine(url)
    with engine.begin() as connection:
        world = build_world(connection, name_maker(random.Random(seed)), counties_per_city)
    with Session(engine) as session:
        calendar = load_calendar(session, max_age=0)
    engine.dispose()
    settings = Settings(_env_file=None)
    defaults = {Deadline.VERIFY: settings.default_verify_days, Deadline.RECTIFY: settings.default_rectify_days,
                Deadline.REVIEW: settings.default_review_days}
    tmpls, weights = templates(world.rules, defaults)
    today = as_of.astimezone(LOCAL_TZ).date()
    pg = psycopg_url(url)
    with psycopg.connect(pg, autocommit=True) as conn:
        params = load_scratch(conn, world, tmpls, weights, calendar, today)
        drops, creates = secondary_indexes(conn)
        for sql in drops:
            conn.execute(sql)
    params.update(
        n=cases, seed=seed, setseed=(seed % 1000) / 1000, as_of=int(as_of.timestamp()),
        platform=world.platform_id, funds=FUNDS, nfunds=len(FUNDS), purposes=PURPOSES, npurposes=len(PURPOSES), violations=[v.value for v in ViolationType],
        methods=["[" + ", ".join(f'"{m.value}"' for m in ms) + "]" for ms in METHODS], **TEXTS,
    )
    timings["reference data"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("SET work_mem = '256MB'")
        for statement in gen_sql.STAGE_CASES.strip().split(";\n"):
            if statement.strip():
                conn.execute(statement, params if "%(" in statement else None)
    timings["stage cases"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    half = {**params, "lo": 1, "hi": cases // 2}, {**params, "lo": cases // 2 + 1, "hi": cases}
    # Longest first; slips wait for their staging.
    job_seconds = run_parallel(pg, [
        Job("stage slips", [(gen_sql.STAGE_SLIPS, params)]),
        Job("cases", [(gen_sql.CASES, params)]),
        Job("slips", [(gen_sql.SLIPS, params)], after=("stage slips",)),
        Job("slip versions", [(gen_sql.SLIP_VERSIONS, params)], after=("stage slips",)),
        Job("events 1", [(gen_sql.STEP_EVENTS, half[0])]),
        Job("events 2", [(gen_sql.STEP_EVENTS, half[1])]),
        Job("raise events", [(gen_sql.RAISE_EVENTS, params)]),
        Job("case slips", [(gen_sql.CASE_SLIPS, None)], after=("stage slips",)),
    ])
    timings["insert"] = time.perf_counter() - t3

    t4 = time.perf_counter()
    # Largest first, so the two connections finish together.
    creates.sort(key=lambda sql: ("case_event" not in sql, "warning_case" not in sql))
    job_seconds.update(run_parallel(pg, [Job(sql, [(sql, None)]) for sql in creates]))
    timings["indexes"] = time.perf_counter() - t4

    t5 = time.perf_counter()
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(gen_sql.COUNTERS)
        if not keep_scratch:
            conn.execute("DROP SCHEMA bench_gen CASCADE")
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in BIG_TABLES}
    # ANALYZE samples; VACUUM (visibility map for index-only scans) is left to autovacuum.
    run_parallel(pg, [Job(t, [(f"ANALYZE {t}", None)]) for t in BIG_TABLES]
                 + [Job("reference", [("ANALYZE region, org_unit, app_user, rule", None)])])
    timings["counters + analyze"] = time.perf_counter() - t5
    return {"timings": timings, "total": time.perf_counter() - t0, "rows": rows, "jobs": job_seconds}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--url", default=DEFAULT_URL, help=f"database to create (default {DEFAULT_URL})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--counties-per-city", type=int, default=8,
                        help="counties under each of the 10 cities (15 gives the issue's 150 counties)")
    parser.add_argument("--as-of", help="ISO timestamp with offset the data leads up to (default: now)")
    parser.add_argument("--replace", action="store_true", help="drop an existing database even if not *bench*")
    parser.add_argument("--keep-scratch", action="store_true", help="keep schema bench_gen (debugging)")
    parser.add_argument("--verbose", action="store_true", help="time every statement")
    args = parser.parse_args(argv)
    as_of = datetime.fromisoformat(args.as_of).astimezone(UTC) if args.as_of else now_utc()
    print(f"machine: {machine()}")
    print(f"generating {args.cases:,} cases into {args.url} (seed {args.seed}, as of {as_of:%Y-%m-%d %H:%M} UTC)")
    result = generate(args.url, args.cases, args.seed, as_of.replace(microsecond=0), args.replace,
                      args.keep_scratch, args.counties_per_city)
    for phase, seconds in result["timings"].items():
        print(f"  {phase:<28}{seconds:8.2f} s")
    if args.verbose:
        for job, seconds in result["jobs"].items():
            print(f"    {seconds:7.2f} s  {job[:90]}")
    rows = result["rows"]
    total_rows = sum(rows.values())
    print("  " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))
    print(f"total {result['total']:.2f} s: {args.cases / result['total']:,.0f} cases/s,"
          f" {total_rows / result['total']:,.0f} rows/s ({total_rows:,} rows)")


if __name__ == "__main__":
    main()
