"""The JSON API against the benchmark database (issue 4): list, case page, transitions.

    python bench/api.py [--url …/warnflow_bench] [--requests 200] [--clients 20] [--workers 2]

Starts the app with uvicorn in a subprocess (WARNFLOW_DATABASE_URL = the benchmark database
bench/generate.py made, a random 64-character WARNFLOW_SECRET_KEY) and drives it with httpx
from this process:

- GET /api/v1/cases (first page, 50 rows, default order; then the next page by cursor) as a
  county handler (one department of one county) and as the province viewer (all cases);
  target p95 < 100 ms. One client, sequential requests.
- GET /api/v1/cases/{number} for cases in the handler's department; target p95 < 150 ms.
- POST /api/v1/cases/{number}/transitions from `--clients` concurrent clients (threads), each
  a different county handler walking its own fresh yellow-light cases through start_verify →
  submit_verification (slip) → start_rectify → submit_rectification (slip) → approve (its
  supervisor); target p95 < 50 ms.

Latencies are wall-clock from the client, including HTTP and JSON.
"""

import argparse
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path)
import httpx
import psycopg
from common import DEFAULT_URL, ROOT, machine, percentile, psycopg_url
from world import PASSWORD

TARGETS = {"list": 100.0, "detail": 150.0, "transition": 50.0}  # p95, milliseconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """uvicorn serving api.app:create_app on the benchmark database, in a subprocess."""

    def __init__(self, url: str, workers: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.var_dir = tempfile.mkdtemp(prefix="warnflow-bench-")
        env = {**os.environ, "WARNFLOW_DATABASE_URL": url, "WARNFLOW_SECRET_KEY": secrets.token_hex(32),
               "WARNFLOW_VAR_DIR": self.var_dir, "WARNFLOW_DEMO": "false"}
        self.log = open(Path(self.var_dir) / "uvicorn.log", "w")  # noqa: SIM115  (lives as long as the server)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"uvicorn exited; see {self.log.name}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"uvicorn did not answer /healthz in {timeout} s; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def login(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def timed(client: httpx.Client, method: str, path: str, **kwargs) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = client.request(method, path, **kwargs)
    return (time.perf_counter() - start) * 1000, response


def summary(name: str, ms: list[float], target: float | None) -> dict:
    p50, p95 = percentile(ms, 50), percentile(ms, 95)
    verdict = "" if target is None else (" ok" if p95 < target else f" ABOVE the {target:.0f} ms target")
    print(f"  {name:<52} n={len(ms):4}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {max(ms):7.1f} ms{verdict}")
    return {"name": name, "n": len(ms), "p50": p50, "p95": p95, "max": max(ms)}


def list_pages(client, headers, n: int, params: dict | None = None) -> tuple[list[float], list[float]]:
    """n first pages and n second pages (by cursor); returns their latencies."""
    first, second = [], []
    for _ in range(n):
        ms, response = timed(client, "GET", "/api/v1/cases", headers=headers, params={"limit": 50, **(params or {})})
        response.raise_for_status()
        first.append(ms)
        cursor = response.json().get("next_cursor")
        if cursor:
            ms, response = timed(client, "GET", "/api/v1/cases", headers=headers,
                                 params={"limit": 50, "cursor": cursor, **(params or {})})
            response.raise_for_status()
            second.append(ms)
    return first, second


def pick_handlers(url: str, count: int, per_handler: int) -> list[tuple[str, str, list[str]]]:
    """(handler username, supervisor username, fresh yellow-light case numbers) for `count`
    handlers in different departments, each with `per_handler` untouched cases."""
    with psycopg.connect(psycopg_url(url)) as conn:
        rows = conn.execute(
            """
            SELECT h.username, s.username, array_agg(c.number ORDER BY c.id)
            FROM app_user h
            JOIN app_user s ON s.org_unit_id = h.org_unit_id AND s.role = 'supervisor'
            JOIN LATERAL (SELECT id, number FROM warning_case c
                          WHERE c.assignee_id = h.id AND c.state = 'yellow_light' AND c.version = 1
                          ORDER BY id LIMIT %s) c ON true
            WHERE h.role = 'handler' AND h.username LIKE '%%_h1'
            GROUP BY h.username, s.username, h.org_unit_id
            HAVING count(*) = %s
            ORDER BY h.org_unit_id LIMIT %s
            """,
            (per_handler, per_handler, count),
        ).fetchall()
    if len(rows) < count:
        raise SystemExit(f"only {len(rows)} handlers with {per_handler} fresh cases; regenerate the data")
    return rows


def slip(kind: str, name: str) -> dict:
    if kind == "verification":
        return {"kind": "verification", "methods": ["documents"], "findings": "经调阅拨付凭证，资金用途与批复不符。",
                "conclusion": "violation", "violation_type": "misappropriation", "amount_involved": "12800.00",
                "filler_name": name, "filler_phone": "0371-66668888"}
    return {"kind": "rectification", "measures": ["corrected"], "measures_detail": "已按规定完成整改。",
            "completed_on": date.today().isoformat(), "filler_name": name, "filler_phone": "0371-66668888"}


STEPS = [("start_verify", "handler", None), ("submit_verification", "handler", "verification"),
         ("start_rectify", "handler", None), ("submit_rectification", "handler", "rectification"),
         ("approve_rectification", "supervisor", None)]


def transitions(
    base: str, handlers, cases_per_client: int, think_ms: float = 0
) -> tuple[list[float], list[str], float]:
    """Every client walks its cases through STEPS at once; returns latencies, errors, seconds."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(handlers) + 1)

    def client_thread(handler: str, supervisor: str, numbers: list[str]) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            who = {"handler": login(client, handler), "supervisor": login(client, supervisor)}
            barrier.wait()
            time.sleep(random.uniform(0, think_ms / 1000))
            for number in numbers[:cases_per_client]:
                for version, (event, role, slip_kind) in enumerate(STEPS, start=1):
                    body = {"event": event, "version": version}
                    if slip_kind:
                        body["slip"] = slip(slip_kind, handler)
                    ms, response = timed(client, "POST", f"/api/v1/cases/{number}/transitions",
                                         headers=who[role], json=body)
                    if think_ms:  # jittered, so that clients do not move in lockstep
                        time.sleep(random.uniform(0.5, 1.5) * think_ms / 1000)
                    with lock:
                        if response.status_code == 200:
                            latencies.append(ms)
                        else:
                            errors.append(f"{number} {event}: {response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client_thread, args=h) for h in handlers]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - start


def reads(client: httpx.Client, username: str, numbers: list[str], n: int) -> list[dict]:
    """The list (both scopes, two pages, a filtered order) and the case page, one client."""
    results = []
    handler, province = login(client, username), login(client, "province")
    list_pages(client, handler, 5)  # warm-up: connections, caches
    list_pages(client, province, 5)
    for who, headers in ((f"county handler {username}", handler), ("province viewer", province)):
        first, second = list_pages(client, headers, n)
        results.append(summary(f"GET /cases, {who}, page 1", first, TARGETS["list"]))
        if second:
            results.append(summary(f"GET /cases, {who}, page 2 (cursor)", second, TARGETS["list"]))
    first, _ = list_pages(client, province, n // 2, {"state": "red_light", "sort": "-raised_at"})
    results.append(summary("GET /cases?state=red_light&sort=-raised_at, province", first, TARGETS["list"]))
    detail = []
    for number in numbers:
        ms, response = timed(client, "GET", f"/api/v1/cases/{number}", headers=handler)
        response.raise_for_status()
        detail.append(ms)
    results.append(summary(f"GET /cases/{{number}}, {username}", detail, TARGETS["detail"]))
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=200, help="requests per read measurement")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients for transitions")
    parser.add_argument("--cases-per-client", type=int, default=5, help="cases each client walks (5 actions each)")
    parser.add_argument("--think-ms", type=float, default=0,
                        help="pause of each client between its actions (0: back to back)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--handler", default="nc410121_h1", help="the county handler whose lists are timed")
    parser.add_argument("--only-transitions", action="store_true", help="skip the read measurements")
    args = parser.parse_args(argv)

    with psycopg.connect(psycopg_url(args.url)) as conn:
        total = conn.execute("SELECT count(*) FROM warning_case").fetchone()[0]
        numbers = [r[0] for r in conn.execute(
            "SELECT c.number FROM warning_case c JOIN app_user u ON u.org_unit_id = c.org_unit_id"
            " WHERE u.username = %s ORDER BY md5(c.number) LIMIT %s", (args.handler, args.requests)
        )]
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    print(f"{args.url}: {total:,} cases; uvicorn with {args.workers} worker(s)")
    server = Server(args.url, args.workers)
    results = []
    try:
        server.wait()
        if not args.only_transitions:
            with httpx.Client(base_url=server.base, timeout=60) as client:
                results += reads(client, args.handler, numbers, args.requests)
        handlers = pick_handlers(args.url, args.clients, args.cases_per_client)
        latencies, errors, seconds = transitions(server.base, handlers, args.cases_per_client, args.think_ms)
        pause = f", {args.think_ms:.0f} ms pauses" if args.think_ms else ", back to back"
        results.append(summary(f"POST …/transitions, {args.clients} clients{pause}", latencies,
                               TARGETS["transition"]))
        print(f"  transitions: {len(latencies):,} in {seconds:.1f} s = {len(latencies) / seconds:,.0f}/s,"
              f" {len(errors)} refused")
        for error in errors[:5]:
            print(f"    {error}")
    finally:
        server.stop()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
