"""Sun Hao, at the server's console, enters 2027 from the State Council's notice with
`warnflow calendar import-notice`: the table first, then a question, then the overrides; a
file that is missing, not text, or not a notice is refused in Chinese (exit 2), saving nothing."""

from datetime import date

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from models import AuditEvent, CalendarDay
from models.db import get_engine, session_scope
from models.enums import AuditKind, DayKind
from models.migrate import upgrade
from models.settings import get_settings
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database, require_postgres
from tests.workflows.admin.notice_texts import NOTICE_2025, NOTICE_2027

runner = CliRunner()


@pytest.fixture(params=BACKENDS)
def console_db(request, tmp_path, monkeypatch):
    """A migrated database of its own where the CLI, which commits, looks."""
    if request.param == "postgresql":
        require_postgres()
        url = create_pg_database("warnflow_cli_calendar")
    else:
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("WARNFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    get_engine(url).dispose()
    if request.param == "postgresql":
        drop_pg_database(url)


def saved(url: str) -> dict[date, tuple[DayKind, str]]:
    with session_scope(get_engine(url)) as session:
        return {r.day: (DayKind(r.kind), r.name) for r in session.scalars(sa.select(CalendarDay))}


def imports_audited(url: str) -> list[dict]:
    with session_scope(get_engine(url)) as session:
        rows = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.CALENDAR_CHANGED))
        return [r.data for r in rows if r.data["action"] == "import_notice"]


def notice_file(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "国务院办公厅关于2027年部分节假日安排的通知.txt"
    path.write_bytes(text.encode(encoding))
    return path


def test_sun_hao_imports_2027_after_reading_the_table_and_saying_yes(console_db, tmp_path):
    result = runner.invoke(app, ["calendar", "import-notice", str(notice_file(tmp_path, NOTICE_2027))],
                           input="y\n")
    assert result.exit_code == 0, result.output
    assert "2027 年节假日安排（国务院办公厅通知）" in result.output
    assert "2027-02-20（周六）" in result.output and "春节调休上班" in result.output
    assert "共放假 29 天、调休上班 6 天" in result.output
    assert "已保存 2027 年节假日安排：放假 29 天，调休上班 6 天。" in result.output
    days = saved(console_db)
    assert len(days) == 35
    assert days[date(2027, 2, 8)] == (DayKind.HOLIDAY, "春节")
    assert days[date(2027, 10, 9)] == (DayKind.WORKDAY, "国庆节调休上班")
    [audit] = imports_audited(console_db)
    assert (audit["year"], audit["holidays"], audit["workdays"], audit["replaced"]) == (2027, 29, 6, 0)


def test_saying_no_saves_nothing_and_yes_flag_does_not_ask(console_db, tmp_path):
    path = notice_file(tmp_path, NOTICE_2027, "gb18030")
    declined = runner.invoke(app, ["calendar", "import-notice", str(path)], input="n\n")
    assert declined.exit_code == 1 and "已取消，未作更改。" in declined.output
    assert saved(console_db) == {}
    runner.invoke(app, ["calendar", "set", "2027-10-01", "holiday", "--name", "国庆"])
    again = runner.invoke(app, ["calendar", "import-notice", str(path), "--yes"])
    assert again.exit_code == 0, again.output
    assert "确认" not in again.output
    assert "（替换原有设置 1 天）" in again.output
    assert saved(console_db)[date(2027, 10, 1)] == (DayKind.HOLIDAY, "国庆节")


@pytest.mark.parametrize("content, message", [
    (None, "错误：文件（FILE）不存在"),
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe\x00", "编码既不是 UTF-8 也不是 GB18030/GBK"),
    (b"", "通知无法识别：请粘贴国务院办公厅节假日安排通知的全文"),
    ("一、元旦：1月1日（周五）放假1天。".encode(), "通知无法识别：未找到年份"),
    (NOTICE_2025.replace("4月27日（周日）", "4月27日（周六）").encode(),
     "2025年4月27日是周日，通知中写的是周六"),
])
def test_a_file_that_is_missing_or_not_a_notice_is_refused_and_nothing_is_saved(
        console_db, tmp_path, content, message):
    path = tmp_path / "通知.txt"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["calendar", "import-notice", str(path), "--yes"])
    assert result.exit_code == 2
    assert message in result.output
    assert saved(console_db) == {} and imports_audited(console_db) == []


def test_a_folder_is_not_a_notice_file(console_db, tmp_path):
    result = runner.invoke(app, ["calendar", "import-notice", str(tmp_path), "--yes"])
    assert result.exit_code == 2 and "不是普通文件" in result.output
