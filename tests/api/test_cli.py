"""`warnflow` as an operator uses it: migrate, demo, users, and serve's refusal to start
with default secrets. Sun Hao administers the province; he opens an account for Li Na."""

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from models import OrgUnit, Region, User
from models.db import get_engine, session_scope
from models.enums import OrgKind, RegionLevel
from models.settings import get_settings

runner = CliRunner()


def warnflow(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


@pytest.fixture
def anxian(cli_db):
    """Anxian county with its agricultural-finance section, committed where the CLI looks."""
    with session_scope(get_engine(cli_db)) as session:
        county = Region(code="410121", name="安县", level=RegionLevel.COUNTY, path="/410121/")
        session.add(county)
        session.flush()
        session.add(OrgUnit(code="410121-NC", name="安县财政局农财股", kind=OrgKind.AGRI_FINANCE,
                            region_id=county.id))
    return cli_db


def stored_users(url: str) -> dict[str, User]:
    with session_scope(get_engine(url)) as session:
        return {u.username: u for u in session.scalars(sa.select(User))}


def test_migrate_builds_the_schema_of_an_empty_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    monkeypatch.setenv("WARNFLOW_DATABASE_URL", url)
    get_settings.cache_clear()
    result = warnflow("migrate")
    assert result.exit_code == 0, result.output
    assert "数据库已更新" in result.output
    assert "warning_case" in sa.inspect(get_engine(url)).get_table_names()
    get_settings.cache_clear()


def test_sun_hao_opens_an_account_for_li_na_then_revokes_it(anxian):
    result = warnflow("users", "add", "li_na", "--name", "李娜", "--role", "handler",
                      "--unit", "410121-NC", "--id-number", "410121198503120072", input="Anxian-2026!\nAnxian-2026!\n")
    assert result.exit_code == 0, result.output
    assert "已开通账户 li_na" in result.output
    listed = warnflow("users", "list")
    assert "li_na" in listed.output and "安县财政局农财股" in listed.output and "正常" in listed.output
    assert warnflow("users", "revoke", "li_na").exit_code == 0
    assert "已停用" in warnflow("users", "list").output
    assert stored_users(anxian)["li_na"].is_active is False


def test_a_bad_account_is_refused_naming_every_field_and_nothing_is_written(anxian):
    result = warnflow("users", "add", "Li Na", "--name", " ", "--role", "handler",
                      "--unit", "410121-NC", "--id-number", "410121198503120072", input="Anxian-2026!\nAnxian-2026!\n")
    assert result.exit_code == 2
    for field in ("username：", "full_name：请填写姓名"):
        assert field in result.output
    assert stored_users(anxian) == {}


def test_an_unknown_unit_is_named(anxian):
    result = warnflow("users", "add", "li_na", "--name", "李娜", "--role", "handler",
                      "--unit", "999999-XX", "--id-number", "410121198503120072", input="Anxian-2026!\nAnxian-2026!\n")
    assert result.exit_code == 2 and "unit：单位编码 999999-XX 不存在" in result.output


def test_a_password_reset_clears_a_lock(anxian):
    warnflow("users", "add", "li_na", "--name", "李娜", "--role", "handler",
             "--unit", "410121-NC", "--id-number", "410121198503120072", input="Anxian-2026!\nAnxian-2026!\n")
    with session_scope(get_engine(anxian)) as session:
        session.execute(sa.update(User).values(failed_login_count=5))
    result = warnflow("users", "set-password", "li_na", input="Another-2026!\nAnother-2026!\n")
    assert result.exit_code == 0, result.output
    assert stored_users(anxian)["li_na"].failed_login_count == 0
    missing = warnflow("users", "set-password", "nobody", input="Another-2026!\nAnother-2026!\n")
    assert missing.exit_code == 2


@pytest.mark.parametrize(
    ("secret", "message"),
    [(None, "未设置 WARNFLOW_SECRET_KEY"), ("short", "太短"),
     ("warnflow-demo-secret-do-not-use-in-production", "演示密钥")],
)
def test_serve_refuses_to_start_without_a_real_secret(cli_db, monkeypatch, secret, message):
    monkeypatch.delenv("WARNFLOW_DEMO", raising=False)
    if secret is None:
        monkeypatch.delenv("WARNFLOW_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("WARNFLOW_SECRET_KEY", secret)
    get_settings.cache_clear()
    result = warnflow("serve")
    assert result.exit_code == 1
    assert message in result.output


def test_demo_without_serving_loads_once_and_prints_a_login_per_role(cli_db, monkeypatch):
    monkeypatch.setenv("WARNFLOW_DEMO", "0")  # restored after the test; `demo` sets it to 1
    monkeypatch.setenv("WARNFLOW_DEMO_PASSWORD", "Tutorial-2026")
    first = warnflow("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "已装载演示数据" in first.output and "Tutorial-2026" in first.output
    for username in ("admin", "handler", "supervisor", "treasury", "poverty_office",
                     "supervision", "leader", "province", "auditor"):
        assert username in first.output
    assert "http://127.0.0.1:8000" in first.output
    second = warnflow("demo", "--no-serve")
    assert second.exit_code == 0 and "保留原有数据" in second.output


def test_the_command_line_refuses_an_operator_account_for_an_administrator(anxian):
    with session_scope(get_engine(anxian)) as session:
        session.add(OrgUnit(code="410121-ADM", name="安县财政局办公室", kind=OrgKind.OTHER,
                            region_id=session.scalar(sa.select(Region.id))))
    opened = warnflow("users", "add", "sun_hao", "--name", "孙浩", "--role", "admin", "--unit", "410121-ADM",
                      "--id-number", "410121198503120072", input="Anxian-2026!\nAnxian-2026!\n")
    assert opened.exit_code == 0, opened.output
    assert stored_users(anxian)["sun_hao"].must_change_password is True
    refused = warnflow("users", "add", "sunhao3", "--name", "孙浩", "--role", "handler", "--unit", "410121-NC",
                       "--id-number", "410121198503120072", input="Anxian-2026!\nAnxian-2026!\n")
    assert refused.exit_code == 2 and "不得混岗" in refused.output
    assert "sunhao3" not in stored_users(anxian)
