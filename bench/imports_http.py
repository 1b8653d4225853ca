"""Intake end to end over HTTP (issue 16): JSON batches and file uploads, PostgreSQL.

    python bench/imports_http.py json  [--items 100000] [--batch 10000] [--workers 2] [--runs 3]
    python bench/imports_http.py xlsx  [--rows 50000] [--runs 3]
    python bench/imports_http.py csv   [--rows 50000] [--runs 3]      (GBK)
    [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]

Each run: a fresh database cloned from a template seeded with tests.factories.build_world
(two counties, their departments and handlers, the rules), uvicorn serving the app on it in
a subprocess (`--workers` processes; 1 for files, so its memory can be read), the platform
account logged in.

- json: `--items` warnings (bench/imports.py's mix) in batches of `--batch` through
  POST /api/v1/warnings/import, one client thread per worker sending its share back to back;
  timed from the first request to the last answer; every warning must be created.
- xlsx / csv: one file of `--rows` warnings (built before the run, not timed) uploaded to
  POST /api/v1/imports, then GET /api/v1/imports/{id} every 100 ms until done; timed from
  the upload to the answer saying done; prints the largest gap between two advances of
  `done` and the server's peak memory (VmHWM) after the run.

Beside each run, in the same run, the bound: the same number of cases and events inserted
with no domain logic (bench/imports_insert.py's COPY) into another fresh clone; and for files
the time to just read the file (python-calamine, and openpyxl read-only for comparison).
"""

import argparse
import io
import os
import threading
import time
import uuid

import common  # noqa: F401  (puts the repository on sys.path)
import httpx
import psycopg
from common import machine, median
from imports import warnings
from imports_insert import run_once as raw_insert
from openpyxl import Workbook, load_workbook
from sqlmodel import Session

from api import Server
from models.db import make_engine
from models.migrate import upgrade
from tests.factories import PASSWORD, build_world
from workflows.intake.intake import _insert

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
HEADER = ["预警编号", "规则编码", "区划代码", "预警产生时间", "资金名称", "指标文件号", "付款人名称",
          "收款人名称", "收款人账户", "金额（元）", "支付日期", "用途", "凭证号"]


def file_rows(n: int) -> list[list]:
    regions, rules = ["410121", "410122", "410121001"], ["ZC-001", "ZC-001", "ZC-002"]
    return [[f"F-{i:06d}", rules[i % 3], regions[i % 3], f"2026-11-{1 + i % 22:02d} {8 + i % 9:02d}:30:00",
             "中央财政衔接推进乡村振兴补助资金", f"豫财农〔2026〕{i % 97 + 1}号", "安县财政局",
             f"安县第{i % 500}农民专业合作社", f"62220202{i:011d}", f"{1000 + i * 7 % 90000:,}.{i % 100:02d}",
             f"2026-11-{1 + i % 18:02d}", "产业扶持资金", f"PZ{i:08d}"] for i in range(n)]


def build_file(kind: str, n: int) -> tuple[str, bytes]:
    rows = file_rows(n)
    if kind == "csv":
        import csv

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["安县 2026 年 11 月预警明细"])
        writer.writerow(HEADER)
        writer.writerows(rows)
        return "预警导出.csv", out.getvalue().encode("gbk")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("预警")
    sheet.append(["安县 2026 年 11 月预警明细"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return "预警导出.xlsx", out.getvalue()


def read_bounds(kind: str, data: bytes) -> dict[str, float]:
    """Seconds to only read every row: calamine, and openpyxl read-only for workbooks."""
    from workflows.imports.files import decode_text

    bounds = {}
    started = time.perf_counter()
    if kind == "csv":
        import csv

        text, _ = decode_text(data)
        sum(1 for _ in csv.reader(io.StringIO(text)))
        bounds["read (decode + csv)"] = time.perf_counter() - started
        return bounds
    import python_calamine

    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    sum(1 for _ in sheet.iter_rows())
    bounds["read (calamine)"] = time.perf_counter() - started
    started = time.perf_counter()
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    sum(1 for _ in workbook.active.iter_rows(values_only=True))
    bounds["read (openpyxl read-only)"] = time.perf_counter() - started
    return bounds


def peak_memory_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def token(base: str) -> dict[str, str]:
    response = httpx.post(f"{base}/api/v1/auth/token", data={"username": "platform", "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def run_json(base: str, items: list[dict], batch: int, workers: int) -> float:
    headers = token(base)
    batches = [items[i:i + batch] for i in range(0, len(items), batch)]
    created, failures = [], []

    def client(share: list[list[dict]]) -> None:
        with httpx.Client(base_url=base, timeout=600) as http:
            for body in share:
                response = http.post("/api/v1/warnings/import", json=body, headers=headers)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                else:
                    created.append(response.json()["created"])

    threads = [threading.Thread(target=client, args=(batches[w::workers],)) for w in range(workers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures or sum(created) != len(items):
        raise SystemExit(f"unexpected: created {sum(created)}, failures {failures[:3]}")
    return elapsed


def run_file(base: str, name: str, data: bytes, rows: int) -> tuple[float, float]:
    headers = token(base)
    with httpx.Client(base_url=base, timeout=600) as http:
        started = time.perf_counter()
        response = http.post("/api/v1/imports", headers=headers, data={"kind": "warnings"},
                             files={"file": (name, data, "application/octet-stream")})
        if response.status_code != 202:
            raise SystemExit(f"upload refused: {response.status_code} {response.text[:300]}")
        import_id = response.json()["id"]
        last_done, last_change, largest_gap = -1, time.perf_counter(), 0.0
        while True:
            status = http.get(f"/api/v1/imports/{import_id}", headers=headers).json()
            now = time.perf_counter()
            if status["done"] != last_done:
                largest_gap = max(largest_gap, now - last_change)
                last_done, last_change = status["done"], now
            if status["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        elapsed = now - started
    if status["state"] != "done" or status["created"] != rows:
        raise SystemExit(f"unexpected: {status}")
    return elapsed, largest_gap


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["json", "xlsx", "csv"])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-admin", default=PG_ADMIN)
    args = parser.parse_args(argv)
    workers = args.workers or (2 if args.what == "json" else 1)
    count = args.items if args.what == "json" else args.rows
    print(f"{machine()}; load average {os.getloadavg()[0]:.1f}")

    if args.what == "json":
        payload = warnings(args.items, "HTTP")
    else:
        name, data = build_file(args.what, args.rows)
        print(f"file: {name}, {args.rows:,} rows, {len(data) / 1024 / 1024:.1f} MB")

    base_url = args.pg_admin.rsplit("/", 1)[0]
    prefix = f"warnflow_bench_http_{uuid.uuid4().hex[:8]}"
    made: list[str] = []

    def create(db: str, template: str | None = None) -> str:
        with psycopg.connect(args.pg_admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db}"' + (f' TEMPLATE "{template}"' if template else ""))
        made.append(db)
        return f"{base_url}/{db}"

    times, gaps, memory, bounds = [], [], [], {}
    try:
        seed = create(f"{prefix}_seed")
        upgrade(seed)
        engine = make_engine(seed)
        with Session(engine) as session:
            build_world(session)
            session.commit()
        engine.dispose()
        for run in range(args.runs):
            url = create(f"{prefix}_run{run}", f"{prefix}_seed")
            server = Server(url.replace("postgresql://", "postgresql+psycopg://", 1), workers)
            try:
                server.wait()
                if args.what == "json":
                    times.append(run_json(server.base, payload, args.batch, workers))
                else:
                    elapsed, gap = run_file(server.base, name, data, args.rows)
                    times.append(elapsed)
                    gaps.append(gap)
                    memory.append(peak_memory_mb(server.process.pid))
            finally:
                server.stop()
            insert_seconds = raw_insert(create(f"{prefix}_raw{run}", f"{prefix}_seed"), count, _insert)
            bounds.setdefault("raw COPY of the same rows", []).append(insert_seconds)
            if args.what != "json":
                for key, value in read_bounds(args.what, data).items():
                    bounds.setdefault(key, []).append(value)
            extra = f", largest progress gap {gaps[-1]:.2f} s, peak RSS {memory[-1]:.0f} MB" if gaps else ""
            print(f"run {run + 1}: {times[-1]:.2f} s ({count / times[-1]:,.0f}/s){extra}; "
                  f"raw COPY {insert_seconds:.2f} s; load {os.getloadavg()[0]:.1f}")
    finally:
        with psycopg.connect(args.pg_admin, autocommit=True) as conn:
            for db in reversed(made):
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    m = median(times)
    print(f"{args.what}: {count:,} warnings, {workers} worker(s): runs {', '.join(f'{t:.2f}' for t in times)} s; "
          f"median {m:.2f} s ({count / m:,.0f} warnings/s)")
    for key, values in bounds.items():
        print(f"  bound, {key}: median {median(values):.2f} s ({count / median(values):,.0f}/s)")
    if gaps:
        print(f"  largest progress gap: median {median(gaps):.2f} s; peak RSS median {median(memory):.0f} MB")


if __name__ == "__main__":
    main()
