"""`warnflow backup` / `warnflow restore` as functions, on both databases.

Anxian county's deployment holds a verified case with Li Na's two scanned attachments and a
sealed audit chain; Sun Hao backs it up and restores it onto a second, empty deployment: every
table has the same rows (count and checksum), every attachment the same SHA-256, and the audit
chain verifies there. A restore onto a deployment that has data, or from a damaged archive, is
refused in Chinese and writes nothing.
"""

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import Attachment
from models.db import get_engine, session_scope
from models.migrate import upgrade
from models.settings import get_settings
from runtime.backup import MANIFEST, BackupError, backup
from runtime.backup_digest import file_sha256, table_digests
from runtime.restore import restore
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database, require_postgres
from tests.factories import build_world
from tests.workflows.cases.test_attachments import DOCX, PDF, upload, verified
from workflows.audit.seal import seal
from workflows.audit.verify import verify
from workflows.cases.attachments import blob_path
from workflows.core.clock import now_utc


@dataclass
class Deployment:
    url: str
    root: Path

    def use(self, monkeypatch) -> None:
        """Point the settings (what the CLI reads) at this deployment."""
        monkeypatch.setenv("WARNFLOW_DATABASE_URL", self.url)
        monkeypatch.setenv("WARNFLOW_VAR_DIR", str(self.root / "var"))
        monkeypatch.setenv("WARNFLOW_AUDIT_HEAD_PATH", str(self.root / "var" / "audit-head.json"))
        get_settings.cache_clear()

    @property
    def files_dir(self) -> Path:
        return self.root / "var" / "files"

    def digests(self):
        with get_engine(self.url).connect() as connection:
            return table_digests(connection)


def empty_database(backend: str, path: Path) -> str:
    if backend == "postgresql":
        return create_pg_database("warnflow_restore")
    return f"sqlite:///{path / 'warnflow.sqlite3'}"


@pytest.fixture(params=BACKENDS)
def anxian(request, tmp_path, monkeypatch):
    """(source, target): a deployment with committed, sealed work and an empty one."""
    if request.param == "postgresql":
        require_postgres()
        url = create_pg_database("warnflow_backup")
        upgrade(url)
    else:
        url = request.getfixturevalue("cli_db")
    source = Deployment(url, tmp_path / "anxian")
    target = Deployment(empty_database(request.param, tmp_path / "restored"), tmp_path / "restored")
    source.use(monkeypatch)
    with session_scope(get_engine(url)) as session:
        world = build_world(session)
        slip_id = verified(session, world)
        upload(session, world, slip_id, source.files_dir, filename="核查报告.pdf", data=PDF)
        upload(session, world, slip_id, source.files_dir, filename="整改台账.docx", data=DOCX)
    with session_scope(get_engine(url)) as session:
        seal(session, as_of=now_utc())
    yield source, target
    get_settings.cache_clear()
    for deployment in (source, target):
        get_engine(deployment.url).dispose()
        if request.param == "postgresql":
            drop_pg_database(deployment.url)


def attachment_hashes(deployment: Deployment) -> dict[str, str]:
    with session_scope(get_engine(deployment.url)) as session:
        shas = list(session.scalars(sa.select(Attachment.sha256)))
    assert len(shas) == 2
    return {sha: file_sha256(blob_path(deployment.files_dir, sha)) for sha in shas}


def test_a_round_trip_keeps_every_row_and_file_and_the_chain(anxian, tmp_path, monkeypatch):
    source, target = anxian
    made = backup(tmp_path / "backups")
    assert made.archive.parent == tmp_path / "backups"
    assert made.archive.name.startswith("warnflow-backup-") and made.archive.name.endswith(".tar.gz")
    manifest = made.manifest
    assert manifest["alembic_revision"] and manifest["warnflow_version"]
    assert manifest["tables"]["attachment"]["rows"] == 2
    assert manifest["tables"]["audit_link"]["rows"] > 0
    assert "audit/audit-head.json" in manifest["files"]

    target.use(monkeypatch)
    restored = restore(made.archive)
    assert "恢复完成" in restored.summary and "全部一致" in restored.summary

    before, after = source.digests(), target.digests()
    assert after == before
    assert sum(d.rows for d in after.values()) > 40
    assert attachment_hashes(target) == attachment_hashes(source)
    assert all(sha == digest for sha, digest in attachment_hashes(target).items())
    with session_scope(get_engine(target.url)) as session:
        result = verify(session)
    assert result.passed, result.summary


def test_a_restore_onto_a_database_with_data_is_refused_and_writes_nothing(anxian, tmp_path, monkeypatch):
    source, _ = anxian
    made = backup(tmp_path / "anxian.tar.gz")
    assert made.archive == tmp_path / "anxian.tar.gz"
    before = source.digests()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("WARNFLOW_VAR_DIR", str(tmp_path / "elsewhere"))  # an empty store
    get_settings.cache_clear()
    with pytest.raises(BackupError, match="已有数据.*拒绝恢复：只能恢复到空数据库"):
        restore(made.archive)
    assert source.digests() == before
    assert not (tmp_path / "elsewhere" / "files").exists()


def test_a_restore_into_a_store_with_files_is_refused(anxian, tmp_path, monkeypatch):
    _, target = anxian
    made = backup(tmp_path / "anxian.tar.gz")
    target.use(monkeypatch)
    target.files_dir.mkdir(parents=True)
    (target.files_dir / "stray.pdf").write_bytes(PDF)
    with pytest.raises(BackupError, match="附件存储 .* 不是空的"):
        restore(made.archive)
    with get_engine(target.url).connect() as connection:
        assert sa.inspect(connection).get_table_names() == []


def rewrite(archive: Path, change) -> Path:
    """A copy of the archive with its members passed through change(name, bytes)."""
    damaged = archive.with_name("damaged.tar.gz")
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as out:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            if data is None:
                continue
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return damaged


def overwrite(archive: Path, data: bytes) -> Path:
    archive.write_bytes(data)
    return archive


def more_rows(name: str, data: bytes) -> bytes:
    if name != MANIFEST:
        return data
    manifest = json.loads(data)
    manifest["tables"]["attachment"]["rows"] = 3
    return json.dumps(manifest).encode()


def forged(archive: Path) -> Path:
    """A manifest changed together with its own checksum: only the rows can tell."""
    body = more_rows(MANIFEST, rewrite_read(archive, MANIFEST))
    return rewrite(archive, lambda name, data: body if name == MANIFEST else
                   (hashlib.sha256(body).hexdigest() + "\n").encode() if name == "manifest.sha256" else data)


def rewrite_read(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        return tar.extractfile(name).read()


def flipped_attachment(name: str, data: bytes) -> bytes:
    return data[:-1] + b"?" if name.startswith("files/") else data


@pytest.mark.parametrize(("damage", "words"), [
    (lambda archive: archive.with_name("missing.tar.gz"), "不存在"),
    (lambda archive: overwrite(archive, b"not a tar at all"), "不是有效的备份文件"),
    (lambda archive: overwrite(archive, archive.read_bytes()[: archive.stat().st_size // 2]), "不是有效的备份文件"),
    (lambda archive: rewrite(archive, lambda n, d: None if n == MANIFEST else d), "缺少备份清单 manifest.json"),
    (lambda archive: rewrite(archive, more_rows), "清单被改动或损坏"),
    (lambda archive: rewrite(archive, flipped_attachment), "SHA-256 与备份清单不符"),
    (forged, "表 attachment 有 2 行，备份清单记录 3 行"),
], ids=["missing", "not-a-tar", "cut-short", "no-manifest", "tampered-manifest", "corrupted-file",
        "forged-manifest"])
def test_a_bad_archive_is_refused_and_nothing_is_restored(anxian, tmp_path, monkeypatch, damage, words):
    _, target = anxian
    archive = damage(backup(tmp_path / "anxian.tar.gz").archive)
    target.use(monkeypatch)
    with pytest.raises(BackupError, match=words):
        restore(archive)
    assert not target.files_dir.exists()
    assert not (target.root / "var" / "audit-head.json").exists()
    if target.url.startswith("sqlite"):
        assert not Path(target.url.split("///", 1)[1]).exists()
    else:
        with get_engine(target.url).connect() as connection:
            assert sa.inspect(connection).get_table_names() == []


def test_a_migrated_target_counts_as_data_and_the_refusal_says_not_to_migrate(anxian, tmp_path, monkeypatch):
    _, target = anxian
    made = backup(tmp_path / "anxian.tar.gz")
    upgrade(target.url)
    target.use(monkeypatch)
    with pytest.raises(BackupError, match="calendar_stamp 1 行.*无需先运行 warnflow migrate"):
        restore(made.archive)
    assert not target.files_dir.exists()
