"""transition() throughput on PostgreSQL: one client, one transaction (and commit) per action.

    python bench/transitions.py [--url …/warnflow_bench] [--actions 5000] [--runs 5] [--profile]

Uses the database bench/generate.py made. Each run takes fresh yellow-light cases and walks
each through the whole lifecycle with real actors (load_actor: the case's handler and its
department's supervisor) and real slips:

    start_verify → submit_verification (violation, slip) → start_rectify
    → submit_rectification (slip) → approve_rectification (supervisor)

The actions of different cases are interleaved (case 1 step 1, case 2 step 1, …) as
concurrent users would make them. Each action is transition() → commit() on one Session
reused across actions (one transaction per action: the connection goes back to the pool at
each commit); `--session-per-action` opens a new Session per action instead, as an API request
does. Prints each run's transitions/s and the median; `--profile` runs one more pass under
cProfile.
"""

import argparse
import cProfile
import io
import os
import pstats
import time
from decimal import Decimal

import common  # noqa: F401  (puts the repository on sys.path)
import psycopg
import sqlalchemy as sa
from common import DEFAULT_URL, machine, median, psycopg_url
from sqlmodel import Session

from models import Case, User
from models.db import make_engine
from models.enums import (
    Conclusion,
    Event,
    Measure,
    Role,
    SlipKind,
    State,
    VerifyMethod,
    ViolationType,
)
from workflows.cases.slips import SlipInput
from workflows.cases.transition import transition
from workflows.core.actors import Actor, load_actor
from workflows.core.calendar import local_date
from workflows.core.clock import now_utc

PATH = [
    (Event.START_VERIFY, Role.HANDLER, None),
    (Event.SUBMIT_VERIFICATION, Role.HANDLER, "verification"),
    (Event.START_RECTIFY, Role.HANDLER, None),
    (Event.SUBMIT_RECTIFICATION, Role.HANDLER, "rectification"),
    (Event.APPROVE_RECTIFICATION, Role.SUPERVISOR, None),
]
TARGET = 1000  # transitions/s, issue 3 part 8


def slips(filler: str) -> dict[str, SlipInput]:
    return {
        "verification": SlipInput(
            kind=SlipKind.VERIFICATION, methods=[VerifyMethod.DOCUMENTS, VerifyMethod.SITE_VISIT],
            findings="经调阅拨付凭证并实地核查，该笔资金存在与批复用途不符的情况。",
            conclusion=Conclusion.VIOLATION, violation_type=ViolationType.MISAPPROPRIATION,
            amount_involved=Decimal("12800.00"), filler_name=filler, filler_phone="0371-66668888",
        ),
        "rectification": SlipInput(
            kind=SlipKind.RECTIFICATION, measures=[Measure.CORRECTED, Measure.FUNDS_RECOVERED],
            measures_detail="违规资金已收回至专户并重新按规定拨付。", amount_recovered=Decimal("12800.00"),
            completed_on=local_date(now_utc()), filler_name=filler, filler_phone="0371-66668888",
        ),
    }


class Actors:
    """load_actor() once per user: the case's handler and its department's supervisor."""

    def __init__(self, engine):
        self.engine, self.cache = engine, {}
        with engine.connect() as conn:
            self.supervisor_of = dict(conn.execute(
                sa.select(User.org_unit_id, sa.func.min(User.id))
                .where(User.role == Role.SUPERVISOR).group_by(User.org_unit_id)
            ).all())

    def get(self, user_id: int) -> Actor:
        if user_id not in self.cache:
            with Session(self.engine) as session:
                self.cache[user_id] = load_actor(session, user_id)
        return self.cache[user_id]


def plan(engine, actors: Actors, cases: int) -> list[tuple]:
    """(case id, event, actor, slip or None) for `cases` untouched yellow-light cases, interleaved."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Case.id, Case.org_unit_id, Case.assignee_id)
            .where(Case.state == State.YELLOW_LIGHT, Case.version == 1, Case.assignee_id.is_not(None))
            .order_by(Case.id).limit(cases)
        ).all()
    if len(rows) < cases:
        raise SystemExit(f"only {len(rows)} untouched yellow-light cases left; run bench/generate.py again")
    actions = []
    for step, (event, role, slip_kind) in enumerate(PATH):
        for row in rows:
            if role == Role.HANDLER:
                actor = actors.get(row.assignee_id)
            else:
                actor = actors.get(actors.supervisor_of[row.org_unit_id])
            slip = slips(actor.name)[slip_kind] if slip_kind else None
            actions.append((row.id, step + 1, event, actor, slip))
    return actions


def backend_pids(engine) -> list[int]:
    """The server processes behind the pool's connections (to read their CPU time)."""
    with engine.connect() as conn:
        return [conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()]


def run(engine, actions, pids: list[int], session_per_action: bool = False) -> tuple[float, float, float | None]:
    """Apply the actions, one transaction each; returns (transitions/s, client CPU µs and
    server CPU µs per transition — None when the server is not on this machine)."""
    server0, client0 = server_cpu(pids), time.process_time()
    start = time.perf_counter()
    if session_per_action:
        for case_id, version, event, actor, slip in actions:
            with Session(engine) as session:
                transition(session, case_id=case_id, event=event, actor=actor, version=version,
                           as_of=now_utc(), slip=slip)
                session.commit()
    else:
        with Session(engine) as session:
            for case_id, version, event, actor, slip in actions:
                transition(session, case_id=case_id, event=event, actor=actor, version=version,
                           as_of=now_utc(), slip=slip)
                session.commit()
    elapsed = time.perf_counter() - start
    client = (time.process_time() - client0) / len(actions) * 1e6
    server1 = server_cpu(pids)
    server = None if server0 is None or server1 is None else (server1 - server0) / len(actions) * 1e6
    return len(actions) / elapsed, client, server


BASELINE_UPDATE = """
UPDATE warning_case SET state = %(to)s, version = version + 1, updated_at = %(at)s,
    entered_step_at = %(at)s, due_on = due_on
WHERE id = %(id)s AND version = %(version)s RETURNING version
"""
BASELINE_SLIP = """
INSERT INTO slip (number, kind, version, filed_by_id, filed_at, updated_at, methods, findings,
    conclusion, measures, measures_detail, filler_name, filler_phone)
VALUES (%(number)s, %(kind)s, 1, %(actor)s, %(at)s, %(at)s, '[]', '', NULL, '[]', '', %(name)s, '')
RETURNING id
"""
BASELINE_EVENT = """
INSERT INTO case_event (case_id, seq, event, from_state, to_state, actor_id, actor_role, at, slip_id, data)
VALUES (%(id)s, %(seq)s, %(event)s, %(from)s, %(to)s, %(actor)s, %(role)s, %(at)s, %(slip)s, '{}')
"""
STATES = [State.YELLOW_LIGHT, State.VERIFYING, State.RED_LIGHT, State.RECTIFYING,
          State.RECTIFICATION_REVIEW, State.GREEN]


def run_baseline(url: str, actions, sync: str) -> float:
    """The plain-SQL lower bound of issue 3: a guarded UPDATE … RETURNING plus the slip and
    event INSERTs per action, one commit each, straight through psycopg (no checks)."""
    import uuid

    with psycopg.connect(url, options=f"-c synchronous_commit={sync}") as conn:
        start = time.perf_counter()
        for case_id, version, event, actor, slip in actions:
            at = now_utc()
            with conn.transaction():
                values = {"id": case_id, "version": version, "to": STATES[version], "at": at,
                          "from": STATES[version - 1], "seq": version + 1, "event": event.value,
                          "actor": actor.user_id, "role": actor.role.value, "slip": None}
                if conn.execute(BASELINE_UPDATE, values).fetchone() is None:
                    raise RuntimeError("lost the race")
                if slip is not None:
                    values["slip"] = conn.execute(BASELINE_SLIP, {
                        "number": uuid.uuid4().hex[:20], "kind": slip.kind.value, "actor": actor.user_id,
                        "at": at, "name": actor.name}).fetchone()[0]
                conn.execute(BASELINE_EVENT, values)
        return len(actions) / (time.perf_counter() - start)


def server_cpu(pids: list[int]) -> float | None:
    """CPU seconds the PostgreSQL backends have used, if they run on this machine."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--actions", type=int, default=5000, help="transitions per run (multiple of 5)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="one more run under cProfile")
    parser.add_argument("--session-per-action", action="store_true",
                        help="a new Session per action (as an API request) instead of one reused")
    parser.add_argument("--baseline", action="store_true",
                        help="also time the plain-SQL lower bound on the same kind of actions")
    parser.add_argument(
        "--synchronous-commit", choices=["on", "off"], default="on",
        help="PostgreSQL's synchronous_commit for the benchmark's sessions (default: the server's on)",
    )
    args = parser.parse_args(argv)
    engine = make_engine(args.url, connect_args={"options": f"-c synchronous_commit={args.synchronous_commit}"})
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one()
    print(f"machine: {machine()}")
    print(f"{args.url}: {total:,} cases; {args.runs} runs of {args.actions:,} transitions,"
          f" one commit each, synchronous_commit={args.synchronous_commit},"
          f" {'a Session per action' if args.session_per_action else 'one Session reused'}")
    actors = Actors(engine)
    per_case = len(PATH)
    # Warm-up: connections, statement caches, the calendar cache.
    pids = backend_pids(engine)
    run(engine, plan(engine, actors, 20), pids, args.session_per_action)
    rates, cpu, base = [], [], []
    for n in range(1, args.runs + 1):
        actions = plan(engine, actors, args.actions // per_case)
        rate, client, server = run(engine, actions, pids, args.session_per_action)
        rates.append(rate)
        cpu.append((client, server))
        server_text = f"{server:,.0f}" if server is not None else "?"
        print(f"  run {n}: {rate:,.0f} transitions/s; CPU per transition: client {client:,.0f} µs,"
              f" server {server_text} µs; load average {os.getloadavg()[0]:.1f}")
        if args.baseline:
            # Right after each run, on the same kind of fresh cases: the ratio of the pair is
            # the figure that survives a shared machine's changing load.
            base.append(run_baseline(psycopg_url(args.url), plan(engine, actors, args.actions // per_case),
                                     args.synchronous_commit))
            print(f"  bound {n}: {base[-1]:,.0f} actions/s; transition() reaches {rate / base[-1]:.2f}×;"
                  f" load average {os.getloadavg()[0]:.1f}")
    verdict = "meets" if median(rates) >= TARGET else "BELOW"
    print(f"median {median(rates):,.0f} transitions/s ({verdict} the {TARGET:,}/s target);"
          f" runs: {', '.join(f'{r:,.0f}' for r in rates)}")
    client = median([c for c, _ in cpu])
    if all(s is not None for _, s in cpu):
        server = median([s for _, s in cpu])
        print(f"median CPU per transition: client {client:,.0f} µs + server {server:,.0f} µs"
              f" -> {1e6 / (client + server):,.0f} transitions/s if CPU were the only cost")
    if args.baseline:
        ratios = [r / b for r, b in zip(rates, base, strict=True)]
        print(f"plain-SQL lower bound: median {median(base):,.0f} actions/s;"
              f" runs: {', '.join(f'{r:,.0f}' for r in base)}; transition()/bound per run:"
              f" {', '.join(f'{r:.2f}' for r in ratios)}; median ratio {median(ratios):.2f};"
              f" ratio of medians {median(rates) / median(base):.2f} (target ≥ 0.75)")
    if args.profile:
        actions = plan(engine, actors, args.actions // per_case)
        profiler = cProfile.Profile()
        profiler.enable()
        rate, _, _ = run(engine, actions, pids, args.session_per_action)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(int(os.environ.get("BENCH_TOP", "45")))
        print(f"profiled run: {rate:,.0f} transitions/s (slowed by the profiler)")
        print(out.getvalue())


if __name__ == "__main__":
    main()
