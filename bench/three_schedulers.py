"""Three `warnflow serve` processes on one PostgreSQL database for a while: did every periodic
job run exactly once per period?

    python bench/three_schedulers.py [--minutes 15] [--url …/warnflow_reliability]

Creates the database afresh (its name must contain "reliability"), migrates it, loads the demo
province (so the sweep and the outbox have work), starts three real `warnflow serve` processes
with the embedded scheduler (ports 8101–8103), lets them run, stops them with SIGTERM, then
reads `job_lease` and `job_run`: for every job, the cron ticks that fell inside the window, the
periods that ran, any period run twice, ticks nobody ran, and how the runs spread over the three
processes. Exit status 1 if a period ran twice or a tick in the window was not run.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path)
import psycopg
from common import ROOT, machine, psycopg_url, split_url
from sqlmodel import Session

from models.db import make_engine
from models.migrate import upgrade
from runtime.jobs import JOBS
from workflows.demo import load_demo

DEFAULT = "postgresql://postgres@127.0.0.1:5432/warnflow_reliability"


def fresh_database(url: str) -> None:
    admin, name = split_url(url)
    if "reliability" not in name:
        raise SystemExit(f"refusing to drop {name}: the name must contain 'reliability'")
    with psycopg.connect(psycopg_url(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        report = load_demo(session, password="Reliability-2026")
        session.commit()
    engine.dispose()
    print(f"demo data: {report.summary}")


def start(url: str, port: int, var_dir: Path, log: Path) -> subprocess.Popen:
    env = os.environ | {
        "WARNFLOW_DATABASE_URL": url,
        "WARNFLOW_SECRET_KEY": secrets.token_hex(32),
        "WARNFLOW_SCHEDULER": "embedded",
        "WARNFLOW_VAR_DIR": str(var_dir),
        "WARNFLOW_DEMO": "0",
    }
    env.pop("WARNFLOW_SMTP_HOST", None)
    warnflow = Path(sys.executable).with_name("warnflow")
    return subprocess.Popen(
        [str(warnflow), "serve", "--port", str(port)], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def ticks(job, start: datetime, end: datetime) -> list[datetime]:
    trigger = job.trigger()
    found, tick = [], trigger.get_next_fire_time(None, start)
    while tick is not None and tick <= end:
        found.append(tick.astimezone(UTC))
        tick = trigger.get_next_fire_time(tick, tick + timedelta(microseconds=1))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT)
    parser.add_argument("--minutes", type=float, default=15)
    args = parser.parse_args()
    print(machine())
    fresh_database(args.url)
    work = Path(tempfile.mkdtemp(prefix="warnflow-three-"))
    processes = [start(args.url, 8101 + i, work / f"var{i}", work / f"serve{i}.log") for i in range(3)]
    began = datetime.now(UTC)
    print(f"3 serve processes started at {began:%H:%M:%S} UTC (pids {[p.pid for p in processes]}), "
          f"running {args.minutes} min; logs in {work}")
    try:
        time.sleep(args.minutes * 60)
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            p.wait(timeout=120)
    ended = datetime.now(UTC)
    print(f"stopped at {ended:%H:%M:%S} UTC; exit codes {[p.returncode for p in processes]}")

    with psycopg.connect(psycopg_url(args.url)) as conn:
        runs = conn.execute(
            "SELECT job_name, scheduled_for, runner, outcome FROM job_run ORDER BY id").fetchall()
    per_period: dict[tuple[str, datetime], list] = defaultdict(list)
    for name, scheduled_for, runner, outcome in runs:
        per_period[(name, scheduled_for)].append((runner, outcome))
    failed = False
    print(f"\n{'job':<24}{'ticks in window':>16}{'periods run':>13}{'run twice':>11}{'missed':>8}  runs per process")
    for name, job in JOBS.items():
        # A tick in the last minute may still have been running at SIGTERM: not counted missed.
        expected = ticks(job, began, ended - timedelta(minutes=1))
        ran = {when: who for (n, when), who in per_period.items() if n == name}
        twice = [when for when, who in ran.items() if len(who) > 1]
        missed = [t for t in expected if t not in ran]
        spread = Counter(runner.rsplit(":", 1)[-1] for who in ran.values() for runner, _ in who)
        outcomes = Counter(outcome for who in ran.values() for _, outcome in who)
        failed |= bool(twice or missed)
        print(f"{name:<24}{len(expected):>16}{len(ran):>13}{len(twice):>11}{len(missed):>8}  "
              f"{dict(spread)} {dict(outcomes)}")
    print("\nRESULT:", "a period ran twice or a tick was missed" if failed else
          "every tick in the window ran exactly once")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
