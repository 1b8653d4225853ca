"""`warnflow import warnings FILE` in a terminal: counts, the error report, --dry-run."""

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select
from typer.testing import CliRunner

from api.cli import app
from models import Case, ImportRun
from models.db import get_engine, session_scope
from tests.factories import build_world
from tests.workflows.imports.importfiles import csv_bytes, table, warning_row, xls

runner = CliRunner()


@pytest.fixture
def province(cli_db):
    with session_scope(get_engine(cli_db)) as session:
        build_world(session)
    return cli_db


def count(url, model):
    with session_scope(get_engine(url)) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_the_operator_imports_a_gbk_csv_and_gets_the_error_report_beside_it(province, tmp_path):
    export = tmp_path / "安县预警.csv"
    export.write_bytes(csv_bytes(table([warning_row("C-1"), warning_row("C-2", 规则编码="NOPE")]), "gbk"))
    result = runner.invoke(app, ["import", "warnings", str(export), "--source", "county-file"])
    assert result.exit_code == 1, result.output
    assert "导入完成：共 2 行，新建 1，重复 0，白名单 0，拒绝 1；编码 gb18030" in result.output
    report = tmp_path / "安县预警-错误报告-1.xlsx"
    assert f"错误报告：{report}" in result.output
    rows = list(load_workbook(io.BytesIO(report.read_bytes())).active.values)
    assert rows[1][:4] == (3, "规则编码", "NOPE", "规则编码 NOPE 不存在")
    assert count(province, Case) == 1

    again = runner.invoke(app, ["import", "warnings", str(export), "--source", "county-file"])
    assert "新建 0，重复 1" in again.output


def test_a_dry_run_writes_no_case_and_a_bad_file_is_a_clear_error(province, tmp_path):
    export = tmp_path / "导出.xls"
    export.write_bytes(xls(table([warning_row("D-1")])))
    result = runner.invoke(app, ["import", "warnings", str(export), "--dry-run", "--user", "sun_hao"])
    assert result.exit_code == 0, result.output
    assert "检查完毕（未写入）：共 1 行，新建 1" in result.output
    assert count(province, Case) == 0 and count(province, ImportRun) == 1

    bad = tmp_path / "导出.xlsx"
    bad.write_bytes(b"not a workbook")
    refused = runner.invoke(app, ["import", "warnings", str(bad)])
    assert refused.exit_code == 2
    assert "内容却不是 Excel 工作簿" in refused.output


def test_the_operator_loads_the_go_live_roster_but_not_as_an_administrator(province, tmp_path):
    from models import User
    from tests.factories import id_number
    from tests.workflows.imports.importfiles import xlsx

    roster = tmp_path / "账户.xlsx"
    roster.write_bytes(xlsx([["用户名", "姓名", "单位编码", "角色", "身份证号"],
                             ["anxian_h9", "陈静", "410121-NC", "经办人", id_number(99)]]))
    refused = runner.invoke(app, ["import", "users", str(roster), "--user", "sun_hao"])
    assert refused.exit_code != 0 and "须提交账户申请" in refused.output
    done = runner.invoke(app, ["import", "users", str(roster)])
    assert done.exit_code == 0, done.output
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == "anxian_h9")).one()
        assert user.full_name == "陈静" and user.person_id is not None and user.must_change_password
