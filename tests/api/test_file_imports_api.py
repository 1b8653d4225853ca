"""数据导入 over the API: POST /api/v1/imports (202), progress, history, error report, template."""

import io

from openpyxl import load_workbook
from sqlmodel import func, select

from models import Case
from tests.api.test_pages_auth import csrf_of, page_login
from tests.workflows.imports.importfiles import csv_bytes, table, warning_row, xls, xlsx

URL = "/api/v1/imports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def post(client, headers, data, name, **form):
    return client.post(URL, headers=headers, data={"kind": "warnings", **form},
                       files={"file": (name, data, "application/octet-stream")})


def cases(session):
    return session.exec(select(func.count(Case.id))).one()


def test_the_platform_uploads_a_gbk_csv_and_reads_its_progress_and_error_report(world, client, login, session):
    headers = login("platform")
    rows = [warning_row("W-1"), warning_row("W-2"), warning_row("W-3", 规则编码="NOPE")]
    queued = post(client, headers, csv_bytes(table(rows), "gbk"), "每日预警.csv", source="henan-file")
    assert queued.status_code == 202, queued.text
    assert queued.json()["state"] == "queued"
    import_id = queued.json()["id"]

    status = client.get(f"{URL}/{import_id}", headers=headers).json()
    assert {k: status[k] for k in ("kind", "state", "rows", "done", "created", "updated", "duplicates",
                                   "suppressed", "refused", "encoding", "source")} == {
        "kind": "warnings", "state": "done", "rows": 3, "done": 3, "created": 2, "updated": 0,
        "duplicates": 0, "suppressed": 0, "refused": 1, "encoding": "gb18030", "source": "henan-file"}
    assert status["started_at"] and status["finished_at"] and status["has_errors"]
    assert cases(session) == 2

    report = client.get(f"{URL}/{import_id}/errors.xlsx", headers=headers)
    assert report.status_code == 200 and report.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in report.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert list(sheet.values)[1][:4] == (4, "规则编码", "NOPE", "规则编码 NOPE 不存在")

    history = client.get(URL, headers=headers).json()
    assert history["total"] == 1 and history["items"][0]["id"] == import_id
    assert history["items"][0]["created_by"] == "监控平台接口"


def test_the_same_xls_again_creates_nothing_and_a_dry_run_writes_nothing(world, client, login, session):
    headers = login("sun_hao")
    data = xls(table([warning_row("W-1"), warning_row("W-2")]))
    dry = post(client, headers, data, "导出.xls", dry_run="true").json()
    assert client.get(f"{URL}/{dry['id']}", headers=headers).json()["created"] == 2
    assert cases(session) == 0
    first = post(client, headers, data, "导出.xls").json()
    again = post(client, headers, data, "导出.xls").json()
    assert client.get(f"{URL}/{first['id']}", headers=headers).json()["created"] == 2
    second = client.get(f"{URL}/{again['id']}", headers=headers).json()
    assert (second["created"], second["duplicates"], second["has_errors"]) == (0, 2, False)
    assert client.get(f"{URL}/{again['id']}/errors.xlsx", headers=headers).status_code == 404
    assert cases(session) == 2


def test_bad_files_answer_a_chinese_4xx_and_never_a_500(world, client, login, settings):
    headers = login("platform")
    good = xlsx(table([warning_row("W-1")]))
    refusals = [
        (post(client, headers, b"%PDF-1.4", "a.pdf"), 422, "不支持的文件类型"),
        (post(client, headers, b"not a workbook", "a.xlsx"), 422, "不是 Excel 工作簿"),
        (post(client, headers, b"PK\x03\x04garbage", "a.xlsx"), 422, "已损坏"),
        (post(client, headers, "甲,乙\n1,2\n".encode(), "a.csv"), 422, "找不到表头"),
        (post(client, headers, "预警编号\nW-1\n".encode(), "a.csv"), 422, "缺少必填列"),
        (client.post(URL, headers=headers, data={"kind": "ledger"},
                     files={"file": ("a.xlsx", good, XLSX)}), 422, "导入类别须为"),
        (client.post(URL, headers=headers, data={"kind": "warnings"}), 422, "提交的内容有误"),
    ]
    for response, status, words in refusals:
        assert response.status_code == status, response.text
        assert words in response.json()["message"], response.json()
    settings.import_file_max_bytes = 2048
    too_big = post(client, headers, good + b"\x00" * 4096, "a.xlsx")
    assert too_big.status_code == 413 and "文件过大" in too_big.json()["message"]
    assert client.get(URL, headers=headers).json()["total"] == 0


def test_the_template_downloads_with_chinese_headers_and_li_na_may_not_import(world, client, login):
    template = client.get(f"{URL}/templates/warnings.xlsx", headers=login("platform"))
    assert template.status_code == 200
    assert load_workbook(io.BytesIO(template.content)).active["A1"].value == "预警编号"
    assert client.get(f"{URL}/templates/ledger.xlsx", headers=login("platform")).status_code == 422
    assert post(client, login("li_na"), b"x", "a.csv").status_code == 403
    assert client.get(URL, headers=login("li_na")).status_code == 403
    assert client.get(f"{URL}/12345", headers=login("platform")).status_code == 404


def test_the_page_uploads_and_shows_the_import_in_its_history(world, client, session):
    assert page_login(client, "sun_hao").status_code == 303
    html = client.get("/imports").text
    assert "数据导入" in html and "下载预警导入模板" in html
    # Accounts are not offered: they go by application.
    assert 'value="users"' not in html and "下载账户导入模板" not in html
    token = csrf_of(html)
    response = client.post("/imports", data={"csrf_token": token, "kind": "warnings"},
                           files={"file": ("安县.xlsx", xlsx(table([warning_row("W-1")])), XLSX)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    shown = client.get(response.headers["location"]).text
    assert "安县.xlsx" in shown and "已完成" in shown
    refused = client.post("/imports", data={"csrf_token": token, "kind": "warnings"},
                          files={"file": ("安县.pdf", b"%PDF", "application/pdf")})
    assert refused.status_code == 422 and "不支持的文件类型" in refused.text
    assert cases(session) == 1


def test_accounts_are_not_imported_over_the_web_they_go_by_application(world, client, login, session):
    from models import User
    from tests.factories import id_number

    sheet = xlsx([["用户名", "姓名", "单位编码", "角色", "身份证号"],
                  ["anxian_h9", "陈静", "410121-NC", "经办人", id_number(99)]])
    for who in ("platform", "sun_hao"):
        refused = client.post(URL, headers=login(who), data={"kind": "users"},
                              files={"file": ("账户.xlsx", sheet, XLSX)})
        assert refused.status_code == 403, who
        assert "须提交账户申请" in refused.json()["message"]
    assert session.exec(select(User).where(User.username == "anxian_h9")).first() is None
