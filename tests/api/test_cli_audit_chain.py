"""`warnflow audit seal` and `warnflow audit verify` against a committed database, both backends.

Sun Hao, at the server's console, opens accounts for Li Na and Wang Fang (audited), seals the
chain and verifies it; then someone edits, deletes and slips in rows with plain SQL, and the
verify says where, in Chinese, with exit code 1.
"""

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from models import AuditCheck, AuditEvent
from models.db import get_engine, session_scope
from tests.api.test_cli_audit import console_db  # noqa: F401  (the fixture)
from tests.factories import id_number

runner = CliRunner()


def warnflow(*args: str, input: str | None = None, code: int = 0):
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def sealed(console_db, tmp_path, monkeypatch):  # noqa: F811
    from models.settings import get_settings

    monkeypatch.setenv("WARNFLOW_AUDIT_HEAD_PATH", str(tmp_path / "head" / "audit-head.json"))
    get_settings.cache_clear()
    for serial, username in enumerate(("li_na", "zhang_wei", "wang_fang"), start=1):
        warnflow("users", "add", username, "--name", "李娜", "--role", "handler", "--unit",
                 "410121-NC", "--id-number", id_number(serial), input="Spring-2026!\nSpring-2026!\n")
    # Zhang Wei's row goes before the seal: the gap a rolled-back transaction leaves.
    tamper(console_db, f"DELETE FROM audit_event WHERE id = {ids(console_db)[1]}")
    assert "封存 2 条审计记录" in warnflow("audit", "seal").output
    assert (tmp_path / "head" / "audit-head.json").exists()
    return console_db


def tamper(url: str, statement: str) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(sa.text(statement))


def ids(url: str) -> list[int]:
    with session_scope(get_engine(url)) as session:
        return sorted(session.scalars(sa.select(AuditEvent.id)))


def test_an_untouched_chain_verifies_and_the_check_is_kept(sealed):
    assert "审计链校验通过：共 2 环" in warnflow("audit", "verify").output
    assert "封存 0 条审计记录" in warnflow("audit", "seal").output
    with session_scope(get_engine(sealed)) as session:
        [check] = session.scalars(sa.select(AuditCheck))
        assert check.passed and check.links == 2


def test_an_update_in_sql_fails_the_verify_with_exit_code_1(sealed):
    first = ids(sealed)[0]
    tamper(sealed, f"UPDATE audit_event SET username = 'zhang_wei' WHERE id = {first}")
    result = warnflow("audit", "verify", code=1)
    assert f"审计日志（audit_event）第 {first} 行的内容在封存后被改动" in result.output
    with session_scope(get_engine(sealed)) as session:
        [check] = session.scalars(sa.select(AuditCheck))
        assert not check.passed and "被改动" in check.message


def test_a_delete_of_the_newest_row_and_link_fails_on_the_head_file(sealed):
    last = ids(sealed)[-1]
    tamper(sealed, "DELETE FROM audit_link WHERE seq = 2")
    tamper(sealed, f"DELETE FROM audit_event WHERE id = {last}")
    result = warnflow("audit", "verify", code=1)
    assert "链尾文件记录到第 2 环，数据库中只有 1 环" in result.output


def test_an_insert_into_a_gap_fails_the_verify(sealed):
    first, last = ids(sealed)
    tamper(sealed, "INSERT INTO audit_event (id, at, kind, username, client, data) VALUES"
                   f" ({first + 1}, '2026-11-20 01:00:00', 'login', 'zhang_wei', '', '{{}}')")
    result = warnflow("audit", "verify", code=1)
    assert f"审计日志（audit_event）第 {first + 1} 行不在审计链中" in result.output


def test_a_link_moved_to_another_row_breaks_the_chain(sealed):
    first, last = ids(sealed)
    tamper(sealed, f"UPDATE audit_link SET row_id = {first + 1} WHERE row_id = {last}")
    assert "第 2 环的散列与其内容不符" in warnflow("audit", "verify", code=1).output
