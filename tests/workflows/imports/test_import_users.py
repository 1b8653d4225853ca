"""A province goes live with its handlers from one sheet (kind=users), loaded on the server
by its operator: opened, changed, refused. Afterwards accounts go by application: neither
the administrator Sun Hao nor the integration account may import them."""

import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from models import User
from models.enums import Role
from tests.factories import NOW, id_number
from tests.workflows.imports.importfiles import sessions_of, xlsx
from workflows.core.errors import RoleNotAllowed
from workflows.imports.catalog import KINDS
from workflows.imports.reports import template
from workflows.imports.runs import error_report_of, queue_import, run_import
from workflows.imports.users import id_number_ok

HEADER = ["用户名", "姓名", "处室编码", "角色", "身份证号", "职务", "联系电话"]


def upload(session, world, lines, who="system", dry_run=False):
    data = xlsx(lines)
    run = queue_import(session, actor=world.actors[who], kind="users", file_name="账户.xlsx",
                       data=data, source=None, dry_run=dry_run, as_of=NOW)
    session.commit()
    return run_import(sessions_of(session), run.id, data, actor=world.actors[who])


def test_the_operator_opens_two_handlers_changes_wang_fang_and_gets_the_bad_rows_back(session, world):
    lines = [["安县新任经办人名单"], HEADER,
             ["anxian_h4", "陈静", "410121-NC", "经办人", "11010519491231002X", "科员", "0371-60000001"],
             ["anxian_h5", "刘洋", "410121-NC", "handler", id_number(55), "", ""],
             ["wang_fang", "王芳", "410121-YS", "经办人", "", "副股长", ""],
             ["anxian_h6", "赵敏", "999999-XX", "经办人", "", "", ""],
             ["anxian_h7", "钱进", "410121-NC", "局长", "110105194912310021", "", ""]]
    run = upload(session, world, lines)
    assert (run.created, run.updated, run.refused) == (2, 1, 2), error_report_of(session, run.id)
    users = {u.username: u for u in session.exec(select(User)).all()}
    assert users["anxian_h4"].role == Role.HANDLER and users["anxian_h4"].phone == "0371-60000001"
    assert users["wang_fang"].org_unit_id == world.units["anxian_budget"].id
    assert users["wang_fang"].position == "副股长"
    report = list(load_workbook(io.BytesIO(error_report_of(session, run.id)[1])).active.values)
    assert [r[:2] for r in report[1:]] == [(6, "处室编码"), (7, "角色、身份证号")]
    assert "单位编码 999999-XX 不存在" in report[1][3]
    assert "身份证号：不是有效的 18 位身份证号" in report[2][3]

    again = upload(session, world, lines)
    assert (again.created, again.updated, again.duplicates, again.refused) == (0, 0, 3, 2)


@pytest.mark.parametrize("who", ["sun_hao", "platform"])
def test_neither_the_administrator_nor_the_integration_account_imports_accounts(session, world, who):
    with pytest.raises(RoleNotAllowed, match="须提交账户申请"):
        upload(session, world, [HEADER, ["anxian_h4", "陈静", "410121-NC", "经办人", id_number(44), "", ""]],
               who=who)
    assert session.exec(select(User).where(User.username == "anxian_h4")).first() is None


def test_id_numbers_are_checked_by_their_check_digit_and_the_template_imports():
    assert id_number_ok("11010519491231002X") and not id_number_ok("110105194912310021")
    sheet = load_workbook(io.BytesIO(template(KINDS["users"]))).active
    assert [c.value for c in sheet[1]][:4] == ["用户名", "姓名", "单位编码", "角色"]
