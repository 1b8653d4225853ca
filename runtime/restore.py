"""`warnflow restore`: an archive written by `warnflow backup` back into an empty deployment.

Everything that can be checked before writing is checked first (the archive opens, the
manifest is intact, every member has the SHA-256 the manifest names, the targets are empty,
and on SQLite the database copy has the manifest's rows), then the database, the attachment
store and the head file are put in place and checked again against the manifest. Any failure
takes back what was placed: the deployment is left as empty as it was found.
"""

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from models.db import make_engine
from models.settings import Settings, get_settings
from runtime.backup import (
    FILES_PREFIX,
    HEAD_MEMBER,
    MANIFEST,
    MANIFEST_SUM,
    PG_MEMBER,
    SQLITE_MEMBER,
    BackupError,
    pg_command_env,
    pg_tool,
)
from runtime.backup_digest import (
    file_sha256,
    rows_in_tables,
    settings_sha256,
    table_digests,
    table_names,
)


@dataclass
class RestoreResult:
    manifest: dict
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        tables = self.manifest["tables"]
        files = sum(1 for name in self.manifest["files"] if name.startswith(FILES_PREFIX))
        head = "链尾文件" if HEAD_MEMBER in self.manifest["files"] else "（备份中没有链尾文件）"
        lines = [f"恢复完成：数据库（{self.manifest['backend']}，{len(tables)} 张表，"
                 f"{sum(t['rows'] for t in tables.values())} 行）、附件存储 {files} 个文件、{head}；"
                 "已核对备份清单：各表行数与行校验和、每个文件的 SHA-256 全部一致。",
                 "请运行 warnflow audit verify 校验审计链。"]
        return "\n".join(lines + self.notes)


def _unpack(archive: Path, into: Path) -> dict:
    if not archive.is_file():
        raise BackupError(f"备份文件 {archive} 不存在")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(f"{archive} 不是有效的备份文件（tar.gz 无法读取：{error}）") from error
    manifest_file = into / MANIFEST
    if not manifest_file.is_file():
        raise BackupError(f"备份文件 {archive} 中缺少备份清单 {MANIFEST}")
    recorded = (into / MANIFEST_SUM).read_text(encoding="utf-8").strip() if (into / MANIFEST_SUM).is_file() else ""
    if recorded != file_sha256(manifest_file):
        raise BackupError(f"备份清单 {MANIFEST} 的校验和与 {MANIFEST_SUM} 不符：清单被改动或损坏，拒绝恢复")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        listed: dict[str, str] = manifest["files"]
        manifest["tables"], manifest["backend"]  # noqa: B018 - present, or the manifest is not ours
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"备份清单 {MANIFEST} 无法读取：{error}") from error
    present = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {MANIFEST, MANIFEST_SUM}
    if missing := sorted(set(listed) - present):
        raise BackupError(f"备份文件中缺少清单所列的文件：{', '.join(missing[:5])}")
    if extra := sorted(present - set(listed)):
        raise BackupError(f"备份文件中有清单未列的文件：{', '.join(extra[:5])}")
    for name, sha in listed.items():
        if file_sha256(into / name) != sha:
            raise BackupError(f"文件 {name} 的 SHA-256 与备份清单不符：备份已损坏，拒绝恢复")
    return manifest


def _check_digests(connection, manifest: dict, where: str) -> None:
    found = {name: {"rows": d.rows, "sha256": d.sha256} for name, d in table_digests(connection).items()}
    for table, expected in manifest["tables"].items():
        got = found.get(table)
        if got is None:
            raise BackupError(f"{where}缺少表 {table}")
        if got["rows"] != expected["rows"]:
            raise BackupError(f"{where}表 {table} 有 {got['rows']} 行，备份清单记录 {expected['rows']} 行")
        if got["sha256"] != expected["sha256"]:
            raise BackupError(f"{where}表 {table} 的行校验和与备份清单不符")
    if extra := sorted(set(found) - set(manifest["tables"])):
        raise BackupError(f"{where}有备份清单未列的表：{', '.join(extra)}")


def _refuse_rows(connection, where: str) -> bool:
    """Refuse a database holding warnflow rows; True when it has (empty) tables already."""
    if rows := rows_in_tables(connection):
        listed = "、".join(f"{table} {count} 行" for table, count in sorted(rows.items())[:5])
        raise BackupError(f"目标数据库 {where} 已有数据（{listed}），拒绝恢复：只能恢复到空数据库"
                          "（新建的空库即可，无需先运行 warnflow migrate）")
    return bool(table_names(connection))


def _sqlite_path(url: str) -> Path:
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:":
        raise BackupError("WARNFLOW_DATABASE_URL 须指向 SQLite 文件，不能是内存数据库")
    return Path(path)


def _check_sqlite_target(target: Path) -> None:
    if not target.exists() or target.stat().st_size == 0:
        return
    try:
        engine = sa.create_engine(f"sqlite:///{target}")
        with engine.connect() as conn:
            _refuse_rows(conn, str(target))
        engine.dispose()
    except sa.exc.DBAPIError as error:
        raise BackupError(f"目标数据库文件 {target} 不是空文件，也无法作为 SQLite 数据库读取，拒绝恢复") from error


def _restore_sqlite(copy: Path, target: Path, manifest: dict) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(copy, partial)
    try:
        engine = sa.create_engine(f"sqlite:///{partial}")
        try:
            with engine.connect() as connection:
                _check_digests(connection, manifest, "备份中的数据库")
        finally:
            engine.dispose()
        # The write-ahead files of the empty database being replaced must not be replayed.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _restore_postgres(dump: Path, url: str, manifest: dict) -> None:
    pg_restore = pg_tool("pg_restore")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            has_tables = _refuse_rows(connection, make_url_safe(url))
        uri, env = pg_command_env(url)
        clean = ["--clean", "--if-exists"] if has_tables else []
        done = subprocess.run([pg_restore, "--no-owner", "--no-privileges", "--single-transaction",
                               "--exit-on-error", *clean, f"--dbname={uri}", str(dump)],
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore 失败（未写入任何数据）：{done.stderr.strip()}")
        try:
            with engine.connect() as connection:
                _check_digests(connection, manifest, "恢复后的数据库")
        except BaseException:
            _empty_postgres(engine)
            raise
    finally:
        engine.dispose()


def _empty_postgres(engine) -> None:
    """Take back a restore that failed its check: the database was empty before."""
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")


def make_url_safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _check_store(store: Path) -> None:
    if store.exists() and (not store.is_dir() or any(p.is_file() for p in store.rglob("*"))):
        raise BackupError(f"附件存储 {store} 不是空的，拒绝恢复：请指向空目录（WARNFLOW_VAR_DIR）")


def _place_store(files: Path, store: Path, manifest: dict) -> bool:
    if not files.is_dir():
        return False
    store.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".files-restoring-", dir=store.parent))
    try:
        shutil.copytree(files, partial, dirs_exist_ok=True)
        if store.exists():
            shutil.rmtree(store)  # empty directories only (checked)
        os.replace(partial, store)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    for name, sha in manifest["files"].items():
        if name.startswith(FILES_PREFIX) and file_sha256(store / name.removeprefix(FILES_PREFIX)) != sha:
            raise BackupError(f"恢复后的附件 {name} 的 SHA-256 与备份清单不符")
    return True


def restore(archive: Path, *, settings: Settings | None = None) -> RestoreResult:
    settings = settings or get_settings()
    url = settings.resolved_database_url
    with tempfile.TemporaryDirectory(prefix="warnflow-restore-") as work:
        unpacked = Path(work)
        manifest = _unpack(Path(archive), unpacked)
        if manifest["backend"] != settings.database_kind:
            raise BackupError(f"备份来自 {manifest['backend']} 数据库，当前配置的是 {settings.database_kind}"
                              "（WARNFLOW_DATABASE_URL），拒绝恢复")
        store = settings.files_dir
        _check_store(store)
        target = _sqlite_path(url) if manifest["backend"] == "sqlite" else None
        if target is not None:
            _check_sqlite_target(target)
            _restore_sqlite(unpacked / SQLITE_MEMBER, target, manifest)
        else:
            _restore_postgres(unpacked / PG_MEMBER, url, manifest)
        placed = False
        try:
            placed = _place_store(unpacked / "files", store, manifest)
            _place_head(unpacked / HEAD_MEMBER, settings.resolved_audit_head_path)
        except BaseException:
            if placed:
                shutil.rmtree(store, ignore_errors=True)
            if target is not None:
                target.unlink(missing_ok=True)
            else:
                _empty_postgres_url(url)
            raise
    result = RestoreResult(manifest)
    if manifest.get("settings_sha256") != settings_sha256(settings):
        result.notes.append("注意：当前设置与备份时的设置校验和不同，请核对 WARNFLOW_* 设置"
                            "（尤其是 WARNFLOW_ID_NUMBER_KEY 与 WARNFLOW_SECRET_KEY 须与原部署一致）。")
    return result


def _empty_postgres_url(url: str) -> None:
    engine = make_engine(url)
    try:
        _empty_postgres(engine)
    finally:
        engine.dispose()


def _place_head(copy: Path, head: Path) -> None:
    if not copy.is_file():
        # A head left beside an empty database names no chain; the restored one has none.
        head.unlink(missing_ok=True)
        return
    head.parent.mkdir(parents=True, exist_ok=True)
    partial = head.with_name(head.name + ".restoring")
    shutil.copyfile(copy, partial)
    os.replace(partial, head)
