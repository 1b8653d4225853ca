"""Records before an auditor, through the pages: the amend page, re-verification, the
supervisor's queue after an amendment."""


from models import Case
from models.enums import Conclusion, Event
from tests.api.test_pages_auth import csrf_of, page_login
from tests.api.test_pages_cases import number_of, post_action
from tests.factories import NOW, new_case, rectification_slip, verification_slip
from workflows.cases.transition import transition


def test_the_amend_page_offers_only_the_conclusion_it_has(world, session, client):
    case_id = new_case(session, world, "yellow")
    slip_id = transition(
        session, case_id=case_id, event=Event.SUBMIT_VERIFICATION, actor=world.actors["li_na"],
        version=session.get(Case, case_id).version, as_of=NOW,
        slip=verification_slip(Conclusion.VIOLATION),
    ).slip_id  # fmt: skip
    session.commit()
    page_login(client, "li_na")
    page = client.get(f"/slips/{slip_id}/amend")
    assert 'name="conclusion" value="violation"' in page.text
    assert 'name="conclusion" value="normal"' not in page.text
    assert "申请重新核实" in page.text


def test_li_na_asks_to_verify_again_and_zhang_wei_agrees(world, session, client):
    case_id = new_case(session, world, "red")
    number = number_of(session, case_id)
    session.commit()
    page_login(client, "li_na")
    refused = post_action(client, number, "request_reverify", {"comment": ""})
    assert refused.status_code == 422 and "请填写原因或意见" in refused.text
    asked = post_action(client, number, "request_reverify", {"comment": "原认定依据有误"})
    assert asked.status_code == 303
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/work").text)})
    page_login(client, "zhang_wei")
    queue = client.get("/review")
    assert number in queue.text
    agreed = post_action(client, number, "approve_reverify")
    assert agreed.status_code == 303
    session.expire_all()
    assert session.get(Case, case_id).state.value == "verifying"


def test_the_review_queue_marks_an_amended_slip(world, session, client):
    case_id = new_case(session, world, "red")
    number = number_of(session, case_id)
    slip_id = transition(
        session, case_id=case_id, event=Event.SUBMIT_RECTIFICATION, actor=world.actors["li_na"],
        version=session.get(Case, case_id).version, as_of=NOW, slip=rectification_slip(),
    ).slip_id  # fmt: skip
    transition(session, case_id=case_id, event=Event.APPROVE_RECTIFICATION,
               actor=world.actors["zhang_wei"], version=session.get(Case, case_id).version,
               as_of=NOW)  # fmt: skip
    session.commit()
    page_login(client, "li_na")
    form = client.get(f"/slips/{slip_id}/amend")
    assert "保存修改将使签字作废" in form.text
    data = {"csrf_token": csrf_of(form.text), "version": "1", "reason": "收回金额有误",
            "measures": ["funds_recovered"], "measures_detail": "已收回", "amount_recovered": "1.00",
            "completed_on": "2026-11-23", "filler_name": "李娜", "filler_phone": "0371-1"}
    saved = client.post(f"/slips/{slip_id}/amend", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text[-2000:]
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/work").text)})
    page_login(client, "zhang_wei")
    queue = client.get("/review")
    assert number in queue.text and "处理单已修改，需重新审核" in queue.text
    case_page = client.get(f"/cases/{number}")
    assert "已作废" in case_page.text and "打印第 1 版" in case_page.text


def test_a_sent_back_case_is_marked_and_zhang_weis_work_lists_what_waits(world, session, client):
    back = new_case(session, world, "red")
    waiting = new_case(session, world, "red")
    for case_id in (back, waiting):
        transition(session, case_id=case_id, event=Event.SUBMIT_RECTIFICATION,
                   actor=world.actors["li_na"], version=session.get(Case, case_id).version,
                   as_of=NOW, slip=rectification_slip())  # fmt: skip
    transition(session, case_id=back, event=Event.REJECT_RECTIFICATION,
               actor=world.actors["zhang_wei"], version=session.get(Case, back).version,
               as_of=NOW, comment="凭证不全")  # fmt: skip
    session.commit()
    page_login(client, "li_na")
    work = client.get("/work")
    def row_of(html, case_id):
        return html.split(f">{number_of(session, case_id)}</a>")[1].split("</tr>")[0]

    assert "已退回" in row_of(work.text, back)
    assert "已退回" not in row_of(work.text, waiting)
    client.post("/logout", data={"csrf_token": csrf_of(work.text)})
    page_login(client, "zhang_wei")
    mine = client.get("/work")
    assert "待我审核" in mine.text and number_of(session, waiting) in mine.text


def test_a_pending_extension_request_shows_on_the_case_page(world, session, client):
    from workflows.escalation.extensions import request_extension

    case_id = new_case(session, world, "yellow")
    request_extension(session, case_id=case_id, actor=world.actors["li_na"],
                      version=session.get(Case, case_id).version, as_of=NOW,
                      reason="需调阅乡镇拨付凭证")  # fmt: skip
    session.commit()
    page_login(client, "li_na")
    page = client.get(f"/cases/{number_of(session, case_id)}")
    assert "待审批的申请" in page.text and "需调阅乡镇拨付凭证" in page.text
