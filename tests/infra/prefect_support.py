"""A real Prefect server (and worker) for the tests, started as an operator would start them.

The server keeps its state in a PostgreSQL database of its own (as infra/README.md says to
run it), under a PREFECT_HOME of its own, analytics and UI off. Its scheduler service loops
every few seconds instead of every 60 s, so a deployment's first scheduled runs exist at once;
the worker polls every 2 s. Nothing else differs from production.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import create_pg_database, drop_pg_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREFECT = BIN / "prefect"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer: {log.read_text()[-3000:]}")
        time.sleep(0.3)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class PrefectServer:
    def __init__(self, home: Path):
        self.home = home
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.database = create_pg_database("warnflow_prefect_server")
        asyncpg_url = self.database.replace("postgresql://", "postgresql+asyncpg://", 1)
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_URL": self.api_url,
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_API_DATABASE_CONNECTION_URL": asyncpg_url,
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "3",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
        }
        self.log = home / "server.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=home,
            )
        wait_healthy(f"{self.api_url}/health", self.process, self.log)

    def get(self, path: str) -> dict | list:
        response = httpx.get(f"{self.api_url}{path}", timeout=20)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict) -> dict | list:
        response = httpx.post(f"{self.api_url}{path}", json=body, timeout=20)
        response.raise_for_status()
        return response.json()

    def flow_runs(self, **flow_run_filter) -> list[dict]:
        return self.post("/flow_runs/filter", {"flow_runs": flow_run_filter, "limit": 200})

    def prefect(self, *args: str, env: dict | None = None, timeout: float = 180) -> str:
        done = subprocess.run([str(PREFECT), *args], env={**self.env, **(env or {})}, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"prefect {' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
        return done.stdout

    def close(self) -> None:
        stop(self.process)
        drop_pg_database(self.database)


def start_worker(server: PrefectServer, env: dict, log: Path, pool: str = "warnflow") -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [str(PREFECT), "worker", "start", "--pool", pool, "--type", "process", "--limit", "4"],
            env={**server.env, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=server.home,
        )
