"""Oversight with its own checks (issue 14 §3): Gao Jun inspects Anxian, Wu Tao approves his
report; the papers print as official PDFs in Chinese; the inspection page lists the warnings
whose months made the streak."""

import subprocess

import pytest

from tests.api.test_pages_auth import page_login
from tests.workflows.oversight.test_cases import (
    REPORT,
    act,
    at,
    bureau_director,
    close_inspection,
    counting_month,
    m,
    open_inspection,
    oversight,
    run_job_for,
)


@pytest.fixture
def world(world, session):
    session.commit()
    return world


@pytest.fixture
def inspection(session, world):
    case = open_inspection(session, world)
    bureau_director(session, world)
    session.commit()
    return case


def doc_url(case, doc):
    return f"/api/v1/oversight/{case.id}/documents/{doc}"


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_inspection_notice_names_the_streak_and_its_warnings(client, login, inspection, tmp_path):
    response = client.get(doc_url(inspection, "inspection_notice"), headers=login("gao_jun"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = text_of(response.content, tmp_path)
    for words in ("督查通知书", "中原省财政厅监督检查局", "安县财政局", "连续 3 个月", "2026年8月", "2026年10月", "（盖章）"):
        assert words in text, words
    # Three months, one red light each.
    assert text.count("YJ-") == 3
    # The report is not written yet; an interview's papers are not an inspection's.
    early = client.get(doc_url(inspection, "inspection_report"), headers=login("gao_jun"))
    assert early.status_code == 409 and "督查报告" in early.json()["message"]
    assert client.get(doc_url(inspection, "interview_record"), headers=login("gao_jun")).status_code == 404
    assert client.get(doc_url(inspection, "inspection_notice"), headers=login("li_na")).status_code == 403


def test_the_report_prints_with_its_author_and_approver(client, login, session, world, inspection, tmp_path):
    act(session, world, inspection, "start", "gao_jun")
    act(session, world, inspection, "submit_report", "gao_jun", record=REPORT)
    act(session, world, inspection, "close", "wu_tao", when=at(2026, 11, 20))
    session.commit()
    text = text_of(client.get(doc_url(inspection, "inspection_report"), headers=login("qian_li")).content, tmp_path)
    for words in ("督查报告", "一、督查范围", "五、督查结论", REPORT["conclusion"], "撰写人", "高军", "审定人", "吴涛"):
        assert words in text, words


def test_the_interview_notice_and_record_print(client, login, session, world, inspection, tmp_path):
    close_inspection(session, world, inspection, at(2026, 11, 20))
    for month in (m(2026, 12), m(2027, 1)):
        counting_month(session, world, month)
        run_job_for(session, month)
    (_, interview) = oversight(session)
    arranged = {"interview_date": "2027-02-20", "place": "省财政厅 301 会议室", "interviewee": "王建国"}
    act(session, world, interview, "arrange", "ma_lin", record=arranged)
    session.commit()
    assert client.get(doc_url(interview, "interview_record"), headers=login("ma_lin")).status_code == 409
    notice = text_of(client.get(doc_url(interview, "interview_notice"), headers=login("ma_lin")).content, tmp_path)
    for words in ("约谈通知书", "王建国：", "2027年2月20日", "301 会议室"):
        assert words in notice, words
    act(session, world, interview, "hold", "ma_lin",
        record={**arranged, "attendees": "马林、王建国", "minutes": "王建国同志说明了逾期原因。"})
    act(session, world, interview, "record_commitments", "ma_lin",
        record={"commitments": [{"content": "一个月内完成3笔预警整改", "due_on": "2027-03-20"}]})
    session.commit()
    record = text_of(client.get(doc_url(interview, "interview_record"), headers=login("ma_lin")).content, tmp_path)
    for words in ("约谈记录", "马林、王建国", "逾期原因", "一个月内完成3笔预警整改", "未完成", "被约谈人（签字）"):
        assert words in record, words


def test_the_inspection_page_lists_the_warnings_of_the_streak_and_its_papers(client, inspection):
    page_login(client, "gao_jun")
    page = client.get(f"/oversight/{inspection.id}").text
    section = page.split('id="streak-warnings"', 1)[1].split("</section>", 1)[0]
    for month in ("2026年8月", "2026年9月", "2026年10月"):
        assert month in section
    assert section.count('href="/cases/YJ-') == 3
    assert f"/api/v1/oversight/{inspection.id}/documents/inspection_notice" in page
    assert "documents/inspection_report" not in page


PDF = ("签收的督查通知书.pdf", b"%PDF-1.4\n%oversight\n", "application/pdf")


def test_gao_jun_attaches_the_signed_notice_and_the_treasury_reads_it(client, login, session, world, inspection):
    url = f"/api/v1/oversight/{inspection.id}/attachments"
    refused = client.post(url, headers=login("gao_jun"), files=[("attachments", ("x.exe", b"MZ...", "application/pdf"))])
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "type_not_allowed"
    assert client.post(url, headers=login("qian_li"), files=[("attachments", PDF)]).status_code == 403
    added = client.post(url, headers=login("gao_jun"), files=[("attachments", PDF)])
    assert added.status_code == 201, added.text
    [attachment] = added.json()
    assert attachment["filename"] == "签收的督查通知书.pdf" and attachment["uploaded_by_name"] == "高军"
    read = client.get(f"{url}/{attachment['id']}", headers=login("qian_li"))
    assert read.status_code == 200 and read.content == PDF[1]
    assert client.get(f"{url}/{attachment['id']}", headers=login("li_na")).status_code == 403
    # Closed, the file stays and no more can be added.
    act(session, world, inspection, "start", "gao_jun")
    act(session, world, inspection, "submit_report", "gao_jun", record=REPORT)
    act(session, world, inspection, "close", "wu_tao")
    session.commit()
    late = client.post(url, headers=login("wu_tao"), files=[("attachments", PDF)])
    assert late.status_code == 409
    assert [a["id"] for a in client.get(url, headers=login("qian_li")).json()] == [attachment["id"]]


def test_the_inspection_page_takes_attachments(client, session, world, inspection):
    from tests.api.test_pages_auth import csrf_of

    page_login(client, "gao_jun")
    page = client.get(f"/oversight/{inspection.id}")
    assert 'id="attach-form"' in page.text
    done = client.post(f"/oversight/{inspection.id}/attachments", follow_redirects=False,
                       data={"csrf_token": csrf_of(page.text)}, files=[("attachments", PDF)])
    assert done.status_code == 303
    assert "签收的督查通知书.pdf" in client.get(f"/oversight/{inspection.id}").text
