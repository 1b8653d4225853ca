"""Handlers and supervisors work cases through the pages: lists, the case page, slip forms."""

import re

import pytest

from models import Case
from models.enums import Event
from tests.api.test_pages_auth import csrf_of, page_login
from tests.factories import NOW, new_case, verification_slip
from workflows.cases.transition import transition


@pytest.fixture
def world(world, session):
    # A refused request rolls the shared session back; commit the world so that it stays.
    session.commit()
    return world


def number_of(session, case_id: int) -> str:
    return session.get(Case, case_id).number


def version_of(html: str, form_id: str | None = None) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def post_action(client, number: str, event: str, data: dict | None = None, files=None):
    page = client.get(f"/cases/{number}")
    body = {"csrf_token": csrf_of(page.text), "version": version_of(page.text), "event": event,
            **(data or {})}
    return client.post(f"/cases/{number}/transitions", data=body, files=files,
                       follow_redirects=False)


VIOLATION = {
    "methods": ["phone", "documents"],
    "findings": "经电话核实并调阅拨付凭证，资金用途与批复不符。",
    "conclusion": "violation",
    "violation_type": "misappropriation",
    "amount_involved": "12,345.67",
    "filler_name": "李娜",
    "filler_phone": "0371-12345678",
}


def test_my_work_lists_li_nas_cases_and_not_zhao_leis(world, session, client):
    mine = number_of(session, new_case(session, world, "yellow"))
    theirs = number_of(session, new_case(session, world, "yellow", region="ningxian",
                                         unit="ningxian_agri", assignee="zhao_lei"))
    session.commit()
    page_login(client, "li_na")
    page = client.get("/work")
    assert mine in page.text and theirs not in page.text
    assert "badge-yellow_light" in page.text and "黄灯" in page.text
    assert "工作日" in page.text or "今日到期" in page.text  # working days left


def test_the_tracking_list_filters_and_exports(world, session, client):
    yellow = number_of(session, new_case(session, world, "yellow"))
    red = number_of(session, new_case(session, world, "red"))
    session.commit()
    page_login(client, "zhang_wei")
    listing = client.get("/cases?level=red_light")
    assert red in listing.text and yellow not in listing.text
    assert "当前节点" in listing.text and "在本节点天数" in listing.text
    bad = client.get("/cases?days_at_step_min=abc")
    assert bad.status_code == 200 and "在本节点天数：请填写整数" in bad.text
    export = client.get("/cases/export.xlsx?level=red_light")
    assert export.status_code == 200
    assert export.content[:2] == b"PK"
    from io import BytesIO

    from openpyxl import load_workbook
    sheet = load_workbook(BytesIO(export.content)).active
    assert sheet["A1"].value == "中原省财政扶贫资金动态监控预警跟踪表" and sheet["A3"].value == "预警编号"


def test_a_case_outside_li_nas_scope_is_a_404_page(world, session, client):
    theirs = number_of(session, new_case(session, world, "yellow", region="ningxian",
                                         unit="ningxian_agri", assignee="zhao_lei"))
    session.commit()
    page_login(client, "li_na")
    response = client.get(f"/cases/{theirs}")
    assert response.status_code == 404
    assert "不存在" in response.text and theirs not in response.text
    assert client.get("/cases/YJ-000000-000000").status_code == 404


def test_li_na_starts_verification_and_files_a_violation_slip_and_the_badge_turns_red(
    world, session, client, tmp_path
):
    number = number_of(session, new_case(session, world, "yellow"))
    session.commit()
    page_login(client, "li_na")
    page = client.get(f"/cases/{number}")
    assert "badge-yellow_light" in page.text and "开始核实" in page.text
    assert "6222 **** **** 3445" in page.text and "6222020200112233445" not in page.text
    assert "豫财办〔2018〕33号" in page.text
    started = post_action(client, number, "start_verify")
    assert started.status_code == 303
    page = client.get(started.headers["location"])
    assert "已办理：开始核实" in page.text and "核实中" in page.text
    pdf = b"%PDF-1.4\n%test\n"
    filed = post_action(client, number, "submit_verification", VIOLATION,
                        files=[("attachments", ("核实材料.pdf", pdf, "application/pdf"))])
    assert filed.status_code == 303, filed.text[:2000]
    page = client.get(f"/cases/{number}")
    assert "badge-red_light" in page.text
    assert "核实材料.pdf" in page.text and "打印处理单" in page.text
    assert "开始整改" in page.text
    attachment = re.search(r'href="(/attachments/\d+)"', page.text).group(1)
    assert client.get(attachment).content == pdf
    slip_pdf = re.search(r'href="(/slips/\d+/pdf\?case_id=\d+)"', page.text).group(1)
    printed = client.get(slip_pdf)
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")


def test_a_slip_without_a_conclusion_comes_back_with_the_message_and_the_typed_findings(
    world, session, client
):
    case_id = new_case(session, world, "yellow")
    number = number_of(session, case_id)
    session.commit()
    page_login(client, "li_na")
    data = {**VIOLATION, "conclusion": "", "findings": "已电话联系收款单位，待补充材料。"}
    response = post_action(client, number, "submit_verification", data)
    assert response.status_code == 422
    html = response.text
    assert "请选择认定结论（正常或违规）" in html
    # The message sits with the conclusion field, and what she typed is still there.
    field = html[html.index("认定结论<span"):html.index("违规类型")]
    assert "请选择认定结论" in field
    assert "已电话联系收款单位，待补充材料。" in html
    assert 'value="phone" checked' in html
    assert 'value="12,345.67"' in html
    assert "badge-yellow_light" in html
    session.expire_all()
    assert session.get(Case, case_id).version == 1


def test_html_in_the_findings_is_shown_as_text(world, session, client):
    number = number_of(session, new_case(session, world, "yellow"))
    session.commit()
    page_login(client, "li_na")
    script = "<script>alert('x')</script><b>粗体</b>"
    filed = post_action(client, number, "submit_verification", {**VIOLATION, "findings": script})
    assert filed.status_code == 303
    html = client.get(f"/cases/{number}").text
    assert "<script>alert" not in html and "<b>粗体</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;粗体&lt;/b&gt;" in html


def test_a_forbidden_file_type_saves_nothing(world, session, client):
    number = number_of(session, new_case(session, world, "yellow"))
    session.commit()
    page_login(client, "li_na")
    response = post_action(client, number, "submit_verification", VIOLATION,
                           files=[("attachments", ("病毒.exe", b"MZ...", "application/octet-stream"))])
    assert response.status_code == 422
    assert "类型不允许" in response.text
    assert "badge-yellow_light" in response.text
    assert "经电话核实并调阅拨付凭证" in response.text


def test_a_stale_form_is_refused_with_409_and_keeps_the_input(world, session, client):
    case_id = new_case(session, world, "yellow")
    number = number_of(session, case_id)
    session.commit()
    page_login(client, "li_na")
    page = client.get(f"/cases/{number}")
    # Wang Fang acts on the case meanwhile.
    transition(session, case_id=case_id, event=Event.START_VERIFY, actor=world.actors["wang_fang"],
               version=1, as_of=NOW)
    session.commit()
    response = client.post(f"/cases/{number}/transitions", data={
        "csrf_token": csrf_of(page.text), "version": "1", "event": "submit_verification", **VIOLATION,
    }, follow_redirects=False)
    assert response.status_code == 409
    assert "已被他人办理" in response.text
    assert "经电话核实并调阅拨付凭证" in response.text


def test_zhang_wei_rejects_with_a_reason_then_approves(world, session, client):
    from tests.factories import rectification_slip

    case_id = new_case(session, world, "yellow")
    li_na = world.actors["li_na"]
    transition(session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=li_na, version=1,
               as_of=NOW, slip=verification_slip())
    transition(session, case_id=case_id, event=Event.SUBMIT_RECTIFICATION, actor=li_na, version=2,
               as_of=NOW, slip=rectification_slip())
    number = number_of(session, case_id)
    session.commit()
    page_login(client, "zhang_wei")
    queue = client.get("/review")
    assert number in queue.text
    empty_reason = post_action(client, number, "reject_rectification", {"comment": " "})
    assert empty_reason.status_code == 422 and "请填写原因或意见" in empty_reason.text
    rejected = post_action(client, number, "reject_rectification", {"comment": "收回凭证不全"})
    assert rejected.status_code == 303
    page = client.get(f"/cases/{number}")
    assert "整改中" in page.text and "收回凭证不全" in page.text
    assert number not in client.get("/review").text
    # Li Na files again; Zhang Wei approves and the case is green.
    transition(session, case_id=case_id, event=Event.SUBMIT_RECTIFICATION, actor=li_na, version=4,
               as_of=NOW, slip=rectification_slip())
    session.commit()
    approved = post_action(client, number, "approve_rectification", {"comment": "整改到位"})
    assert approved.status_code == 303
    assert "badge-green" in client.get(f"/cases/{number}").text


def test_a_handler_cannot_approve(world, session, client):
    case_id = new_case(session, world, "yellow")
    number = number_of(session, case_id)
    session.commit()
    page_login(client, "li_na")
    response = post_action(client, number, "approve_rectification")
    assert response.status_code in (403, 409)


def test_li_na_amends_a_slip_and_the_old_version_is_kept(world, session, client):
    case_id = new_case(session, world, "yellow")
    result = transition(session, case_id=case_id, event=Event.SUBMIT_VERIFICATION,
                        actor=world.actors["li_na"], version=1, as_of=NOW, slip=verification_slip())
    number = number_of(session, case_id)
    session.commit()
    page_login(client, "li_na")
    form = client.get(f"/slips/{result.slip_id}/amend")
    assert number in form.text
    assert form.status_code == 200 and "经电话核实并调阅拨付凭证" in form.text
    body = {"csrf_token": csrf_of(form.text), "version": "1", **VIOLATION,
            "findings": "补充：另调阅了合同。"}
    missing_reason = client.post(f"/slips/{result.slip_id}/amend", data=body)
    assert missing_reason.status_code == 422 and "请填写修改原因" in missing_reason.text
    assert "补充：另调阅了合同。" in missing_reason.text
    done = client.post(f"/slips/{result.slip_id}/amend", data={**body, "reason": "补充核实材料"},
                       follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "第 2 版" in page.text and "补充核实材料" in page.text and "历史版本" in page.text


def test_zhang_wei_reassigns_a_case_to_wang_fang_and_transfers_another(world, session, client):
    case_id = new_case(session, world, "yellow")
    red_id = new_case(session, world, "red")
    number, red = number_of(session, case_id), number_of(session, red_id)
    session.commit()
    page_login(client, "zhang_wei")
    page = client.get(f"/cases/{number}")
    assert "改派经办人" in page.text and "王芳" in page.text and "开始核实" not in page.text
    nobody = post_action(client, number, "reassign", {"assignee_id": ""})
    assert nobody.status_code == 422 and "请选择新的经办人" in nobody.text
    moved = post_action(client, number, "reassign",
                        {"assignee_id": str(world.users["wang_fang"]), "comment": "李娜休假"})
    assert moved.status_code == 303
    session.expire_all()
    assert session.get(Case, case_id).assignee_id == world.users["wang_fang"]
    transferred = post_action(client, red, "transfer", {"comment": "涉嫌违纪，移交纪检监察"})
    assert transferred.status_code == 303
    assert "已移交" in client.get(f"/cases/{red}").text


def test_the_tracking_list_pages_with_next_page_links(world, session, client, monkeypatch):
    import api.pages.cases

    monkeypatch.setattr(api.pages.cases, "PAGE_SIZE", 2)
    numbers = {number_of(session, new_case(session, world, "yellow")) for _ in range(3)}
    session.commit()
    page_login(client, "li_na")
    first = client.get("/cases?level=yellow_light")
    link = re.search(r'href="(/cases\?[^"]*cursor=[^"]+)"', first.text).group(1).replace("&amp;", "&")
    assert "level=yellow_light" in link
    second = client.get(link)
    shown = {n for n in numbers if n in first.text} | {n for n in numbers if n in second.text}
    assert shown == numbers
    assert "下一页" not in second.text and "回到第一页" in second.text
