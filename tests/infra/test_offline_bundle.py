"""The offline installer: `make bundle`, then install-offline.sh on a "private network" machine.

The install runs with every way to a registry shut: pip has no index (PIP_NO_INDEX) and its
proxy, like apt's, is a closed local port; apt's source list is empty. It installs into a fresh
directory, then `serve` answers /healthz. Installing the same bundle again over it is an
upgrade: the schema is brought up (one migration undone beforehand) and the data is kept.

The first build downloads ~135 MB into ~/.cache/warnflow-bundle; later builds take the files
from there (about 20 s).
"""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.infra.prefect_support import free_port, stop, wait_healthy

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing answers there


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    built = subprocess.run(["make", "bundle"], cwd=ROOT, env={**os.environ, "BUNDLE_DIR": str(out)},
                           capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    (archive,) = out.glob("warnflow-bundle-*.tar.gz")
    checksum = (out / f"{archive.name}.sha256").read_text().split()[0]
    assert subprocess.run(["sha256sum", archive], capture_output=True, text=True).stdout.split()[0] == checksum
    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    (root,) = unpacked.iterdir()
    return root


def offline_environment(tmp_path: Path, **extra) -> dict:
    apt_config = tmp_path / "apt.conf"
    apt_config.write_text('Dir::Etc::SourceList "/dev/null";\nDir::Etc::SourceParts "/nonexistent";\n')
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("WARNFLOW_", "PREFECT_", "PIP_", "UV_", "VIRTUAL_ENV"))}
    # The test's own venv must not leak into the installed one.
    keep["PATH"] = os.pathsep.join(p for p in keep["PATH"].split(os.pathsep)
                                   if not p.startswith(str(Path(sys.executable).parent)))
    return {**keep, "PIP_NO_INDEX": "1", "APT_CONFIG": str(apt_config),
            "http_proxy": CLOSED, "https_proxy": CLOSED, "HTTP_PROXY": CLOSED, "HTTPS_PROXY": CLOSED,
            "no_proxy": "", "NO_PROXY": "", **extra}


def install(bundle: Path, target: Path, env: dict) -> str:
    done = subprocess.run(["bash", str(bundle / "install-offline.sh"), str(target)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def test_the_bundle_holds_the_locked_wheels_the_debs_and_a_manifest(bundle):
    names = {p.name for p in (bundle / "wheels").iterdir()}
    assert any(n.startswith("warnflow-0.1.0-") for n in names)
    assert any(n.startswith("prefect-3.9.1-") for n in names)
    debs = {p.name.split("_")[0] for p in (bundle / "debs").glob("*.deb")}
    assert {"fonts-wqy-microhei", "libpango-1.0-0", "python3-venv"} <= debs
    listed = {line.split(maxsplit=1)[1].strip() for line in (bundle / "SHA256SUMS").read_text().splitlines()}
    assert "install-offline.sh" in listed and "project/infra/prefect.yaml" in listed
    assert len([n for n in listed if n.startswith("wheels/")]) == len(names)


def test_it_installs_with_no_registry_serves_and_upgrades_keeping_the_data(bundle, tmp_path):
    target = tmp_path / "opt" / "warnflow"
    database = f"sqlite:///{tmp_path / 'data' / 'warnflow.sqlite3'}"
    (tmp_path / "data").mkdir()
    env = offline_environment(tmp_path, WARNFLOW_DATABASE_URL=database,
                              WARNFLOW_VAR_DIR=str(tmp_path / "data"))
    output = install(bundle, target, env)
    assert "数据库已更新到最新结构" in output
    warnflow = target / ".venv" / "bin" / "warnflow"
    assert (target / "infra" / "prefect.yaml").is_file() and (target / "runtime" / "flows.py").is_file()

    port = free_port()
    serve_env = {**env, "WARNFLOW_SECRET_KEY": "0" * 64, "WARNFLOW_ID_NUMBER_KEY": "1" * 64,
                 "WARNFLOW_SCHEDULER": "off"}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(warnflow), "serve", "--port", str(port)], cwd=target,
                                  env=serve_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", server, log)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
    finally:
        stop(server)
    assert (health["version"], health["schema"]["up_to_date"]) == ("0.1.0", True)

    # Some data, then the schema one revision behind, as an older installation would have it.
    ran = subprocess.run([str(warnflow), "jobs", "run", "prune_job_history"], env=serve_env,
                         capture_output=True, text=True, cwd=target)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    python = target / ".venv" / "bin" / "python"
    downgrade = ("from alembic import command; from models.migrate import alembic_config; "
                 f"command.downgrade(alembic_config({database!r}), '-1')")
    subprocess.run([str(python), "-c", downgrade], env=env, check=True, capture_output=True)

    upgraded = install(bundle, target, env)
    assert "数据库已更新到最新结构" in upgraded
    listed = subprocess.run([str(warnflow), "jobs", "list"], env=serve_env, capture_output=True,
                            text=True, cwd=target)
    assert "prune_job_history" in listed.stdout and "成功" in listed.stdout, listed.stdout
