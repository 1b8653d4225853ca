"""`warnflow backup`: one consistent archive of a deployment.

The archive (.tar.gz) holds the database (SQLite: a copy made with the online backup API;
PostgreSQL: `pg_dump -Fc`), the attachment store (settings.files_dir), the audit chain head,
the settings' checksum and manifest.json, which records the row count and row checksum of
every table and the SHA-256 of every member; manifest.sha256 guards the manifest itself.

Consistency: the head file is read before the database snapshot (a seal in between leaves the
head behind the chain, which verifies; the other order could leave it ahead, which does not),
and the store is copied after it (blobs are write-once, so every file a snapshot row names is
already there). On PostgreSQL the row checksums are read in the very snapshot pg_dump dumps.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from models.db import make_engine
from models.settings import Settings, get_settings
from runtime.backup_digest import file_sha256, settings_sha256, table_digests
from workflows.core.clock import now_utc

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
SETTINGS_SUM = "settings.sha256"
SQLITE_MEMBER = "database/warnflow.sqlite3"
PG_MEMBER = "database/warnflow.dump"
HEAD_MEMBER = "audit/audit-head.json"
FILES_PREFIX = "files/"


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message (Chinese) says why."""


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    manifest: dict

    @property
    def summary(self) -> str:
        tables = self.manifest["tables"]
        files = sum(1 for name in self.manifest["files"] if name.startswith(FILES_PREFIX))
        return (f"备份完成：{self.archive}（{self.manifest['backend']}，{len(tables)} 张表，"
                f"{sum(t['rows'] for t in tables.values())} 行，附件存储 {files} 个文件，"
                f"链尾文件{'已包含' if HEAD_MEMBER in self.manifest['files'] else '不存在，未包含'}）")


def archive_path(dest: Path, moment: datetime) -> Path:
    """DEST itself when it names a .tar.gz, else a timestamped archive inside directory DEST."""
    if dest.name.endswith(".tar.gz"):
        return dest
    return dest / f"warnflow-backup-{moment.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def warnflow_version() -> str:
    try:
        return version("warnflow")
    except PackageNotFoundError:  # pragma: no cover - a source tree without its metadata
        return "unknown"


def pg_command_env(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (which would show in `ps`) and the environment that
    carries the password instead."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端（Debian：apt-get install postgresql-client，"
                          "或运行 infra/setup/system-packages.sh）")
    return path


def _alembic_revision(connection) -> str | None:
    try:
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except sa.exc.DBAPIError:
        return None


def _snapshot_sqlite(url: str, target: Path) -> tuple[dict, str | None]:
    source_path = url.split("///", 1)[-1]
    if not Path(source_path).is_file():
        raise BackupError(f"数据库文件 {source_path} 不存在")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
        # One self-contained file in the archive, whatever the live database's journal mode.
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()
        source.close()
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return _digests_json(connection), _alembic_revision(connection)
    finally:
        engine.dispose()


def _snapshot_postgres(url: str, target: Path) -> tuple[dict, str | None]:
    pg_dump = pg_tool("pg_dump")
    uri, env = pg_command_env(url)
    engine = make_engine(url)
    try:
        repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with repeatable as connection, connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            done = subprocess.run(
                [pg_dump, "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                 "-f", str(target), f"--dbname={uri}"],
                env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BackupError(f"pg_dump 失败：{done.stderr.strip()}")
            return _digests_json(connection), _alembic_revision(connection)
    finally:
        engine.dispose()


def _digests_json(connection) -> dict:
    return {name: {"rows": d.rows, "sha256": d.sha256} for name, d in table_digests(connection).items()}


def backup(dest: Path, *, settings: Settings | None = None, moment: datetime | None = None) -> BackupResult:
    """Write the archive; nothing is left at its path unless the whole archive was written."""
    settings = settings or get_settings()
    moment = moment or now_utc()
    archive = archive_path(Path(dest), moment)
    if archive.exists():
        raise BackupError(f"备份文件 {archive} 已存在，不覆盖")
    archive.parent.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    backend = settings.database_kind
    with tempfile.TemporaryDirectory(prefix=".warnflow-backup-", dir=archive.parent) as work:
        stage = Path(work) / "stage"
        (stage / "database").mkdir(parents=True)
        head = settings.resolved_audit_head_path
        if head.is_file():
            (stage / "audit").mkdir()
            shutil.copyfile(head, stage / HEAD_MEMBER)
        member = SQLITE_MEMBER if backend == "sqlite" else PG_MEMBER
        snapshot = _snapshot_sqlite if backend == "sqlite" else _snapshot_postgres
        tables, revision = snapshot(url, stage / member)
        store = settings.files_dir
        if store.is_dir():
            shutil.copytree(store, stage / "files", symlinks=False)
        (stage / SETTINGS_SUM).write_text(settings_sha256(settings) + "\n", encoding="utf-8")
        files = {path.relative_to(stage).as_posix(): file_sha256(path)
                 for path in sorted(stage.rglob("*")) if path.is_file()}
        manifest = {
            "format": FORMAT,
            "created_at": moment.isoformat(),
            "warnflow_version": warnflow_version(),
            "alembic_revision": revision,
            "backend": backend,
            "settings_sha256": settings_sha256(settings),
            "tables": tables,
            "files": files,
        }
        body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
        (stage / MANIFEST).write_bytes(body)
        (stage / MANIFEST_SUM).write_text(file_sha256(stage / MANIFEST) + "\n", encoding="utf-8")
        partial = Path(work) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            for name in (MANIFEST, MANIFEST_SUM, *files):
                tar.add(stage / name, arcname=name, recursive=False)
        os.replace(partial, archive)
    return BackupResult(archive, manifest)
