"""Slips through the API: list, read, amend with history, attach scans, download, print."""

from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlmodel import select

from models import Case
from models.enums import Conclusion, Event
from models.settings import Settings
from tests.factories import NOW, new_case, verification_slip
from workflows.cases.transition import transition

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50)
LIMIT = 2048


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # A small upload limit so "too large" needs no 20 MB of test data.
    return Settings(database_url=database_url, demo=True, var_dir=tmp_path / "var",
                    upload_max_bytes=LIMIT)


@pytest.fixture
def filed(session, world):
    """Li Na has verified an Anxian yellow-light case as a violation: (case number, slip id)."""
    case_id = new_case(session, world, "yellow")
    slip_id = transition(
        session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"],
        version=session.get(Case, case_id).version, as_of=NOW, slip=verification_slip(),
    ).slip_id
    session.flush()
    return session.get(Case, case_id).number, slip_id


def slip_body(**changes) -> dict:
    slip = verification_slip(Conclusion.VIOLATION).model_dump(mode="json")
    slip.update(changes)
    return slip


def upload(client, headers, slip_id, *files):
    return client.post(
        f"/api/v1/slips/{slip_id}/attachments", headers=headers,
        files=[("attachments", (name, data, "application/octet-stream")) for name, data in files],
    )


def test_li_na_lists_the_slips_of_her_case_and_opens_one(client, login, filed):
    number, slip_id = filed
    headers = login("li_na")
    listed = client.get(f"/api/v1/cases/{number}/slips", headers=headers)
    assert listed.status_code == 200, listed.text
    [slip] = listed.json()
    assert slip["id"] == slip_id and slip["kind"] == "verification" and slip["kind_label"] == "核实处理单"
    assert slip["fields"]["conclusion"] == "violation"
    assert slip["fields"]["amount_involved"] == "12345.67"
    assert slip["cases"] == [{"id": slip["cases"][0]["id"], "number": number}]
    assert slip["filed_by_name"] == "李娜"
    one = client.get(f"/api/v1/slips/{slip_id}", headers=headers).json()
    assert one["versions"][0]["version"] == 1 and one["pdf_url"] == f"/api/v1/slips/{slip_id}/pdf"


def test_wang_fang_amends_the_slip_and_every_version_stays(client, login, filed):
    _, slip_id = filed
    headers = login("wang_fang")
    first = client.post(f"/api/v1/slips/{slip_id}/amend", headers=headers, json={
        "version": 1, "reason": "补充实地核查结果",
        "slip": slip_body(findings="经实地核查，资金被挪用于村部办公楼维修。", amount_involved="8000.00"),
    })
    assert first.status_code == 200, first.text
    second = client.post(f"/api/v1/slips/{slip_id}/amend", headers=login("li_na"), json={
        "version": 2, "reason": "更正联系电话", "slip": slip_body(filler_phone="0371-87654321"),
    })
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["version"] == 3 and body["fields"]["filler_phone"] == "0371-87654321"
    assert [(v["version"], v["author_name"], v["reason"]) for v in body["versions"]] == [
        (1, "李娜", None), (2, "王芳", "补充实地核查结果"), (3, "李娜", "更正联系电话"),
    ]
    assert body["versions"][1]["fields"]["amount_involved"] == "8000.00"
    assert Decimal(body["versions"][0]["fields"]["amount_involved"]) == Decimal("12345.67")


def test_amending_a_version_someone_already_amended_is_a_conflict(client, login, filed):
    _, slip_id = filed
    ok = client.post(f"/api/v1/slips/{slip_id}/amend", headers=login("li_na"),
                     json={"version": 1, "reason": "第一次修改", "slip": slip_body()})
    assert ok.status_code == 200
    stale = client.post(f"/api/v1/slips/{slip_id}/amend", headers=login("wang_fang"),
                        json={"version": 1, "reason": "第二次修改", "slip": slip_body()})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert len(client.get(f"/api/v1/slips/{slip_id}", headers=login("li_na")).json()["versions"]) == 2


def test_the_conclusion_and_bad_input_are_refused_with_field_paths(client, login, filed):
    _, slip_id = filed
    headers = login("li_na")
    changed = client.post(f"/api/v1/slips/{slip_id}/amend", headers=headers, json={
        "version": 1, "reason": "改判", "slip": slip_body(conclusion="normal", violation_type=None,
                                                         amount_involved=None)})
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "slip.conclusion"
    no_reason = client.post(f"/api/v1/slips/{slip_id}/amend", headers=headers,
                            json={"version": 1, "reason": " ", "slip": slip_body()})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    typo = client.post(f"/api/v1/slips/{slip_id}/amend", headers=headers,
                       json={"version": 1, "reason": "x", "slip": slip_body(amount_involved="很多")})
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"] == "slip.amount_involved"
    assert len(client.get(f"/api/v1/slips/{slip_id}", headers=headers).json()["versions"]) == 1


def test_li_na_attaches_a_pdf_and_a_photo_and_zhang_wei_downloads_them(client, login, filed, settings):
    _, slip_id = filed
    answer = upload(client, login("li_na"), slip_id, ("核查报告.pdf", PDF), ("现场照片.png", PNG))
    assert answer.status_code == 201, answer.text
    stored = answer.json()["attachments"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in stored] == [
        ("核查报告.pdf", "application/pdf", len(PDF)), ("现场照片.png", "image/png", len(PNG)),
    ]
    download = client.get(stored[0]["url"], headers=login("zhang_wei"))
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert f"filename*=UTF-8''{quote('核查报告.pdf')}" in download.headers["content-disposition"]
    assert (settings.files_dir).is_dir()
    slip = client.get(f"/api/v1/slips/{slip_id}", headers=login("li_na")).json()
    assert [a["filename"] for a in slip["attachments"]] == ["核查报告.pdf", "现场照片.png"]


def test_the_same_scan_uploaded_twice_is_kept_once(client, login, filed, settings):
    _, slip_id = filed
    assert upload(client, login("li_na"), slip_id, ("a.pdf", PDF)).status_code == 201
    assert upload(client, login("wang_fang"), slip_id, ("b.pdf", PDF)).status_code == 201
    assert len([p for p in settings.files_dir.rglob("*") if p.is_file()]) == 1


@pytest.mark.parametrize(
    ("name", "data", "code", "message"),
    [
        ("x.exe", EXE, "type_not_allowed", "文件“x.exe”的类型不允许，只能上传 PDF、JPG、PNG、OFD、DOCX、XLSX"),
        ("发票.pdf", EXE, "content_mismatch", "文件“发票.pdf”的内容与扩展名 PDF 不符，只能上传 PDF、JPG、PNG、OFD、DOCX、XLSX"),
        ("大.pdf", PDF + bytes(LIMIT), "too_large", "文件“大.pdf”超过 2 KB 上限"),
    ],
)
def test_files_that_are_not_allowed_are_refused_and_nothing_is_kept(
    client, login, filed, settings, name, data, code, message
):
    _, slip_id = filed
    answer = upload(client, login("li_na"), slip_id, ("好.pdf", PDF), (name, data))
    assert answer.status_code == 422
    assert answer.json()["errors"] == [{"field": "attachments", "code": code, "message": message}]
    assert client.get(f"/api/v1/slips/{slip_id}", headers=login("li_na")).json()["attachments"] == []
    assert not settings.files_dir.exists() or not any(p.is_file() for p in settings.files_dir.rglob("*"))


def test_an_upload_without_files_is_refused(client, login, filed):
    _, slip_id = filed
    answer = client.post(f"/api/v1/slips/{slip_id}/attachments", headers=login("li_na"))
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "attachments"


def test_outside_ones_scope_slips_do_not_exist_and_cannot_be_touched(client, login, filed):
    number, slip_id = filed
    attachment = upload(client, login("li_na"), slip_id, ("a.pdf", PDF)).json()["attachments"][0]
    for who in ("zhao_lei", "chen_jie", "ningxian_boss"):
        headers = login(who)
        assert client.get(f"/api/v1/cases/{number}/slips", headers=headers).status_code == 404
        assert client.get(f"/api/v1/slips/{slip_id}", headers=headers).status_code == 404
        assert client.get(attachment["url"], headers=headers).status_code == 404
        assert upload(client, headers, slip_id, ("b.pdf", PDF)).status_code in (403, 404)
        amend = client.post(f"/api/v1/slips/{slip_id}/amend", headers=headers,
                            json={"version": 1, "reason": "越权", "slip": slip_body()})
        assert amend.status_code in (403, 404)
    assert client.get(f"/api/v1/slips/{slip_id + 999}", headers=login("li_na")).status_code == 404


def test_the_administrator_and_the_platform_never_see_slips(client, login, filed):
    number, slip_id = filed
    attachment = upload(client, login("li_na"), slip_id, ("a.pdf", PDF)).json()["attachments"][0]
    for who in ("sun_hao", "platform"):
        headers = login(who)
        assert client.get(f"/api/v1/cases/{number}/slips", headers=headers).status_code == 403
        assert client.get(f"/api/v1/slips/{slip_id}", headers=headers).status_code == 403
        assert client.get(attachment["url"], headers=headers).status_code == 403
        assert upload(client, headers, slip_id, ("b.pdf", PDF)).status_code == 403
        amend = client.post(f"/api/v1/slips/{slip_id}/amend", headers=headers,
                            json={"version": 1, "reason": "越权", "slip": slip_body()})
        assert amend.status_code == 403


def test_the_auditor_reads_but_does_not_write(client, login, filed):
    number, slip_id = filed
    headers = login("liu_yang")
    assert client.get(f"/api/v1/cases/{number}/slips", headers=headers).status_code == 200
    assert upload(client, headers, slip_id, ("b.pdf", PDF)).status_code == 403


def test_without_login_nothing_is_served(client, filed):
    _, slip_id = filed
    assert client.get(f"/api/v1/slips/{slip_id}").status_code == 401


def test_zhang_wei_prints_the_slip_as_a_pdf(client, login, filed, session):
    number, slip_id = filed
    case_id = session.exec(select(Case.id).where(Case.number == number)).one()
    answer = client.get(f"/api/v1/slips/{slip_id}/pdf", headers=login("zhang_wei"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
    assert "filename*=UTF-8''HS-" in answer.headers["content-disposition"]
    for_case = client.get(f"/api/v1/slips/{slip_id}/pdf", params={"case_id": case_id},
                          headers=login("li_na"))
    assert for_case.status_code == 200 and for_case.content.startswith(b"%PDF")
    assert client.get(f"/api/v1/slips/{slip_id}/pdf", params={"case_id": case_id + 999},
                      headers=login("li_na")).status_code == 404
    assert client.get(f"/api/v1/slips/{slip_id}/pdf", headers=login("zhao_lei")).status_code == 404
    assert client.get(f"/api/v1/slips/{slip_id}/pdf", headers=login("sun_hao")).status_code == 403
