"""`make demo` from a fresh copy of the project: it installs, loads the demo and serves."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_copy(target: Path) -> None:
    """The files a clone would have: tracked plus new ones not ignored (so uncommitted work counts)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())


def wait_for_health(url: str, process: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make demo exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


@pytest.mark.slow
def test_make_demo_serves_from_a_fresh_copy(tmp_path):
    project = tmp_path / "warnflow"
    fresh_copy(project)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARNFLOW_", "VIRTUAL_ENV"))}
    env["WARNFLOW_PORT"] = str(port)
    log = (tmp_path / "demo.log").open("w+")
    process = subprocess.Popen(
        ["make", "demo"], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}/healthz", process, timeout=300)
    except AssertionError:
        log.seek(0)
        raise AssertionError(log.read()[-4000:]) from None
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert health["status"] == "ok" and health["database"] == "sqlite"
    assert health["schema"]["up_to_date"] is True
    assert (project / "var" / "warnflow.sqlite3").exists()
    log.seek(0)
    printed = log.read()
    assert f"http://127.0.0.1:{port}" in printed
    for username in ("admin", "handler", "supervisor", "auditor"):
        assert username in printed
