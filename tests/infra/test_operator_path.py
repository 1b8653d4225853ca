"""infra/README.md's by-hand path, run as written: databases, settings, migrate, Prefect server,
set-up, worker, serve, and the smoke test that a tick ran through Prefect's own schedule.

The blocks of the section run in order in one bash, as an operator pastes them, with only the
variables of step 0 set to this test's names and ports. Then two `serve` behind
infra/haproxy.cfg: one is killed, the proxy keeps answering.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_ADMIN_DSN, drop_pg_database, require_postgres
from tests.infra.prefect_support import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "infra" / "README.md"
SECTION = "## Scaled out by hand"


def section_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:end if end > 0 else None]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_section_has_every_step_and_only_commands_that_exist():
    script = "\n".join(section_blocks())
    for step in ("createdb", "warnflow migrate", "prefect server start", "infra/prefect-setup.sh",
                 "prefect worker start --pool warnflow", "warnflow serve", "warnflow jobs wait",
                 "WARNFLOW_SECRET_KEY", "WARNFLOW_ID_NUMBER_KEY", "PREFECT_API_URL", "WARNFLOW_PROJECT_DIR"):
        assert step in script, step
    text = README.read_text(encoding="utf-8")
    assert "jobs deploy" not in text and "jobs prefect-serve" not in text and "../shared" not in text
    listed = set(re.findall(r"^\| `(\w+)` \|", text, flags=re.M))
    from runtime.jobs import JOBS

    assert listed == set(JOBS)


def own_environment() -> dict:
    """The machine's environment, less any warnflow or Prefect setting a test run may carry."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("WARNFLOW_", "PREFECT_"))}


def wait_ok(url: str, seconds: float = 60) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer 200")
        time.sleep(0.5)


@pytest.fixture
def operator(tmp_path):
    require_postgres()
    suffix = uuid.uuid4().hex[:8]
    host = PG_ADMIN_DSN.split("@", 1)[1].split("/", 1)[0].split(":")[0]
    user = PG_ADMIN_DSN.split("://", 1)[1].split("@", 1)[0]
    names = {
        "PGHOST": host, "PGUSER": user,
        "APP_DB": f"warnflow_op_{suffix}", "PREFECT_DB": f"prefect_op_{suffix}",
        "PREFECT_PORT": str(free_port()), "WARNFLOW_PORT": str(free_port()),
        "WARNFLOW_VAR": str(tmp_path / "var"), "WARNFLOW_ENV_FILE": str(tmp_path / "etc" / "warnflow.env"),
    }
    started: list[subprocess.Popen] = []
    yield names, started
    for process in started:  # each in a session of its own: its group is what it started
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    time.sleep(1)
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    for db in (names["APP_DB"], names["PREFECT_DB"]):
        drop_pg_database(f"{base}/{db}")


def bash(script: str, env: dict, log: Path, started: list) -> subprocess.Popen:
    with log.open("w") as out:
        process = subprocess.Popen(["bash", "-c", "set -euo pipefail\n" + script], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    started.append(process)
    return process


def test_the_by_hand_path_runs_as_written_and_a_tick_runs_through_prefect(operator, tmp_path):
    names, started = operator
    env = {**own_environment(), **names}
    log = tmp_path / "operator.log"
    # The processes the README starts in the background stay in this bash's process group.
    path = bash("\n".join(section_blocks()) + "\nwait_for_nothing=1\n", env, log, started)
    try:
        path.wait(timeout=600)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the path did not finish: {log.read_text()[-4000:]}")
    output = log.read_text()
    var = Path(names["WARNFLOW_VAR"])
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in var.glob("*.log"))
    assert path.returncode == 0, output[-4000:] + tails
    # `jobs wait` printed the run, done by a Prefect flow run; `jobs list` exited 0 (nothing late).
    assert re.search(r"dispatch_notifications（.*prefect:[0-9a-f-]+）：成功", output), output[-3000:]
    assert "已装载演示数据" in output
    health = wait_ok(f"http://127.0.0.1:{names['WARNFLOW_PORT']}/healthz").json()
    assert (health["database"], health["jobs"]) == ("postgresql", {"late": []})

    settings = dict(line.split("=", 1) for line in Path(names["WARNFLOW_ENV_FILE"]).read_text().splitlines())
    run_env = {**env, **settings}
    # The set-up runs again after an upgrade without doubling anything.
    again = subprocess.run(["bash", "infra/prefect-setup.sh"], cwd=ROOT, env=run_env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    api = settings["PREFECT_API_URL"]
    automations = httpx.post(f"{api}/automations/filter", json={}, timeout=20).json()
    assert [a["name"] for a in automations] == ["warnflow-crashed-runs"]
    deployments = httpx.post(f"{api}/deployments/filter", json={}, timeout=20).json()
    from runtime.jobs import JOBS

    assert len(deployments) == len({d["name"] for d in deployments}) == len(JOBS)

    two_instances_behind_haproxy(names, run_env, tmp_path, started)


def two_instances_behind_haproxy(names: dict, env: dict, tmp_path: Path, started: list) -> None:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert Path(haproxy).exists(), "haproxy is installed by infra/setup/system-packages.sh test"
    first, second, front = names["WARNFLOW_PORT"], str(free_port()), str(free_port())
    second_serve = bash(f'exec .venv/bin/warnflow serve --host 127.0.0.1 --port {second}',
                        env, tmp_path / "serve2.log", started)
    config = (ROOT / "infra" / "haproxy.cfg").read_text()
    config = (config.replace("127.0.0.1:8000", f"127.0.0.1:{front}")
                    .replace("127.0.0.1:8001", f"127.0.0.1:{first}")
                    .replace("127.0.0.1:8002", f"127.0.0.1:{second}"))
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(config)
    checked = subprocess.run([haproxy, "-c", "-f", str(cfg)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    bash(f"exec {haproxy} -db -f {cfg}", env, tmp_path / "haproxy.log", started)
    wait_ok(f"http://127.0.0.1:{second}/healthz")
    wait_ok(f"http://127.0.0.1:{front}/healthz")
    os.killpg(second_serve.pid, signal.SIGKILL)
    second_serve.wait()
    # Within its health-check window the proxy retries the refused connection on the other.
    statuses = [httpx.get(f"http://127.0.0.1:{front}/healthz", timeout=10).status_code
                for _ in range(20)]
    assert statuses == [200] * 20
