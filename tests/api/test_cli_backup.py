"""`warnflow backup DEST` and `warnflow restore ARCHIVE` at the console, both databases.

Sun Hao backs up Anxian county's deployment every night into /srv/backups (here a temporary
directory); when the server is replaced he restores the newest archive onto the new, empty
deployment and `warnflow audit verify` passes there. A wrong archive or a deployment that
already has data answers in Chinese with exit code 2.
"""

import json

from typer.testing import CliRunner

from api.cli import app
from tests.runtime.test_backup import anxian, attachment_hashes, rewrite  # noqa: F401  (fixture)

runner = CliRunner()


def warnflow(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_sun_hao_backs_up_restores_and_the_chain_verifies(anxian, tmp_path, monkeypatch):  # noqa: F811
    source, target = anxian
    said = warnflow("backup", str(tmp_path / "backups")).output
    [archive] = (tmp_path / "backups").glob("warnflow-backup-*.tar.gz")
    assert "备份完成" in said and "附件存储 2 个文件" in said and "链尾文件已包含" in said

    target.use(monkeypatch)
    said = warnflow("restore", str(archive)).output
    assert "恢复完成" in said and "各表行数与行校验和、每个文件的 SHA-256 全部一致" in said
    assert target.digests() == source.digests()
    assert attachment_hashes(target) == attachment_hashes(source)
    assert "审计链校验通过" in warnflow("audit", "verify").output


def test_a_second_restore_is_refused_with_exit_code_2(anxian, tmp_path, monkeypatch):  # noqa: F811
    _, target = anxian
    archive = tmp_path / "anxian.tar.gz"
    warnflow("backup", str(archive))
    said = warnflow("backup", str(archive), code=2).output
    assert "已存在，不覆盖" in said
    target.use(monkeypatch)
    warnflow("restore", str(archive))
    said = warnflow("restore", str(archive), code=2).output
    assert "附件存储" in said and "不是空的，拒绝恢复" in said


def test_a_tampered_manifest_answers_in_chinese_with_exit_code_2(anxian, tmp_path, monkeypatch):  # noqa: F811
    _, target = anxian
    warnflow("backup", str(tmp_path / "anxian.tar.gz"))

    def fewer_rows(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["tables"]["audit_link"]["rows"] -= 1
        return json.dumps(manifest).encode()

    damaged = rewrite(tmp_path / "anxian.tar.gz", fewer_rows)
    target.use(monkeypatch)
    said = warnflow("restore", str(damaged), code=2).output
    assert "错误：备份清单 manifest.json 的校验和与 manifest.sha256 不符" in said
    assert not target.files_dir.exists()
    said = warnflow("restore", str(tmp_path / "nowhere.tar.gz"), code=2).output
    assert "不存在" in said
